"""Contrastive representation learning as LightningModules over one shared base (SimCLR, MoCo v2)."""

from .base import ContrastiveMethod
from .moco import MoCo
from .simclr import SimCLR
from .train import METHODS, available_methods, build_method, evaluate, load_method, pretrain, probe, train_and_evaluate

__all__ = ["METHODS", "ContrastiveMethod", "MoCo", "SimCLR", "available_methods", "build_method", "evaluate",
           "load_method", "pretrain", "probe", "train_and_evaluate"]
