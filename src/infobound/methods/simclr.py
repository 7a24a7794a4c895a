"""SimCLR (Chen et al. 2020): two augmented views, in-batch negatives, symmetric loss, projection head."""

from __future__ import annotations

from torch import Tensor

from infobound import losses

from .base import ContrastiveMethod


class SimCLR(ContrastiveMethod):
    """Both views go through encoder and projection head; the objective (any of
    :func:`infobound.losses.available_objectives`) scores ``z1`` against ``z2`` with the other
    samples of the batch (gathered across ranks under DDP) as negatives. See
    :class:`~infobound.methods.base.ContrastiveMethod` for the options."""

    name = "simclr"

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> losses.ContrastiveOutput:
        z1, z2 = self.projector(h).chunk(2)
        return self.objective(z1, z2, progress=progress)
