"""Barlow Twins (Zbontar et al., ICML 2021): make the cross-correlation of the two views' projections the identity."""

from __future__ import annotations

from typing import Any, Sequence

from torch import Tensor

from infobound import losses
from infobound.models import ProjectionHead

from .base import ContrastiveMethod


class BarlowTwins(ContrastiveMethod):
    r"""Barlow Twins over the shared base (same probes, checkpoints, DDP, RC/LBE).

    Both views go through encoder and projector; :class:`~infobound.losses.BarlowTwinsLoss` pushes
    the cross-correlation of the batch-standardised projections to the identity
    (``Σ_k (1 − C_kk)² + λ Σ_{k≠l} C_kl²``). As the official code (facebookresearch/barlowtwins), the
    projector is (Linear without bias → BatchNorm → ReLU) × 2 → Linear without bias, run on each view
    on its own (its BatchNorms see one view's batch), and λ = 5e-3. Its width (8192 there) is 512 here
    and Adam's lr 1e-2 (LARS at 0.2 there): on MNIST-1D the base's 256 → 64 head at lr 1e-3 learned
    poor features (docs/ssl.md, "Barlow Twins").

    Args:
        lambda_offdiag: λ (paper: 5e-3; InfoCL's code uses 1e-2 on L2-normalised projections).
        proj_layers: the projector's Linear layers (paper: 3).
        proj_hidden, proj_dim: the projector's hidden and output widths.
        lr: Adam's learning rate.
        **kwargs: as :class:`~infobound.methods.base.ContrastiveMethod`; ``objective`` must be omitted
            (or ``barlow_twins``).
    """

    name = "barlow_twins"
    default_objective = "barlow_twins"

    def __init__(self, input_shape: Sequence[int], num_classes: int, lambda_offdiag: float = 5e-3,
                 proj_layers: int = 3, proj_hidden: int = 512, proj_dim: int = 512, lr: float = 1e-2,
                 **kwargs: Any) -> None:
        kwargs["objective_kwargs"] = {**(kwargs.get("objective_kwargs") or {}), "lambda_offdiag": lambda_offdiag}
        super().__init__(input_shape, num_classes, proj_hidden=proj_hidden, proj_dim=proj_dim, lr=lr, **kwargs)
        self.save_hyperparameters()
        # the official projector: (Linear without bias → BatchNorm → ReLU) × (layers − 1), then Linear without bias
        self.projector = ProjectionHead(self.encoder.output_dim, self.hparams.proj_hidden, self.hparams.proj_dim,
                                        layers=proj_layers, bias=False)

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        if name != "barlow_twins" or kwargs.get("temperature") is not None:
            raise ValueError(f"barlow_twins trains with its own redundancy-reduction loss: omit `objective` "
                             f"(got {name!r}) and `temperature`")
        kwargs = {k: v for k, v in kwargs.items() if k != "temperature"}
        self.objective = losses.BarlowTwinsLoss(**kwargs)

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> losses.ContrastiveOutput:
        # one projector pass per view, as the official code: its BatchNorms see each view's batch on its own
        h1, h2 = h.chunk(2)
        z1, z2 = self.projector(h1), self.projector(h2)
        return self.objective(z1, z2, progress=progress)
