"""Barlow Twins (Zbontar et al., ICML 2021): make the cross-correlation of the two views' projections the identity."""

from __future__ import annotations

from typing import Any, Sequence

from torch import Tensor

from infobound import losses

from .base import ContrastiveMethod


class BarlowTwins(ContrastiveMethod):
    r"""Barlow Twins over the shared base (same probes, checkpoints, DDP, RC/LBE).

    Both views go through encoder and projector; :class:`~infobound.losses.BarlowTwinsLoss` pushes
    the cross-correlation of the batch-standardised projections to the identity
    (``Σ_k (1 − C_kk)² + λ Σ_{k≠l} C_kl²``). The paper's projector is 8192-8192-8192 wide; use a
    large ``proj_dim`` / ``proj_hidden`` (the base's 2-layer head) for its regime.

    Args:
        lambda_offdiag: λ (paper: 5e-3; InfoCL's code: 1e-2 on L2-normalised projections).
        **kwargs: as :class:`~infobound.methods.base.ContrastiveMethod`; ``objective`` must be omitted
            (or ``barlow_twins``).
    """

    name = "barlow_twins"
    default_objective = "barlow_twins"

    def __init__(self, input_shape: Sequence[int], num_classes: int, lambda_offdiag: float = 5e-3,
                 **kwargs: Any) -> None:
        kwargs["objective_kwargs"] = {**(kwargs.get("objective_kwargs") or {}), "lambda_offdiag": lambda_offdiag}
        super().__init__(input_shape, num_classes, **kwargs)
        self.save_hyperparameters()

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        if name != "barlow_twins" or kwargs.get("temperature") is not None:
            raise ValueError(f"barlow_twins trains with its own redundancy-reduction loss: omit `objective` "
                             f"(got {name!r}) and `temperature`")
        kwargs = {k: v for k, v in kwargs.items() if k != "temperature"}
        self.objective = losses.BarlowTwinsLoss(**kwargs)

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> losses.ContrastiveOutput:
        z1, z2 = self.projector(h).chunk(2)
        return self.objective(z1, z2, progress=progress)
