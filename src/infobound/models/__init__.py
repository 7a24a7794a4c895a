"""Neural building blocks: MLPs, encoders, heads, flows."""

from .encoders import Encoder, available_encoders, build_encoder, default_encoder
from .heads import ProjectionHead, ReconstructionDecoder
from .mlp import mlp
from .custom import encoder_output_dim, import_object, resolve_encoder

__all__ = ["Encoder", "ProjectionHead", "ReconstructionDecoder", "available_encoders", "build_encoder",
           "default_encoder", "encoder_output_dim", "import_object", "mlp", "resolve_encoder"]
