"""Representation learning as LightningModules over one shared base (SimCLR, MoCo v2, MoCo v3, BYOL, Barlow Twins)."""

from .barlow_twins import BarlowTwins
from .base import ContrastiveMethod
from .byol import BYOL
from .moco import MoCo
from .mocov3 import MoCoV3
from .simclr import SimCLR
from .train import (METHODS, available_methods, build_method, check_finished_run, evaluate, load_method, pretrain,
                    probe, train_and_evaluate)

__all__ = ["BYOL", "METHODS", "BarlowTwins", "ContrastiveMethod", "MoCo", "MoCoV3", "SimCLR", "available_methods",
           "build_method", "check_finished_run", "evaluate", "load_method", "pretrain", "probe", "train_and_evaluate"]
