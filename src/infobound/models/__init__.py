"""Neural building blocks: MLPs, encoders, heads, flows."""

from .encoders import Encoder, available_encoders, build_encoder, default_encoder
from .heads import ProjectionHead, ReconstructionDecoder
from .mlp import mlp

__all__ = ["Encoder", "ProjectionHead", "ReconstructionDecoder", "available_encoders", "build_encoder",
           "default_encoder", "mlp"]
