"""Neural building blocks: MLPs, encoders, heads, flows."""

from .mlp import mlp

__all__ = ["mlp"]
