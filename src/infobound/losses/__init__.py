"""Training objectives built on :mod:`infobound.bounds`: building blocks for any training loop.

In-batch objectives take two views, ``forward(z1 [n, d], z2 [n, d], progress=None)``; queue
objectives (MoCo) take ``forward(query, key, queue [K, d], progress=None)``. Both return a
:class:`ContrastiveOutput` (loss, MI lower bound in nats, its ceiling); ``progress`` ∈ [0, 1]
drives α schedules. Under DDP they gather across ranks with gradients (:mod:`infobound.distributed`).

Example:
    >>> from infobound import losses
    >>> objective = losses.build_objective("ml_cpc", alpha=(10.0, 0.1))   # geometric α schedule
    >>> readout = losses.MIReadout("simclr/ml_cpc")
    >>> out = objective(z1, z2, progress=step / total_steps)              # doctest: +SKIP
    >>> out.loss.backward(); readout(out)                                 # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from .._names import canonical
from .base import Alpha, CeilingWarning, ContrastiveOutput, GeometricAlphaSchedule, MIReadout
from .contrastive import AlignmentUniformityLoss, FMICLLoss, InfoNCELoss, MLCPCLoss
from .infocl import LowerBoundRegularizer, ReconstructionRegularizer
from .noncontrastive import BarlowTwinsLoss, BYOLLoss
from .queue import QueueInfoNCELoss, QueueMLCPCLoss

_OBJECTIVES: dict[str, Callable[..., nn.Module]] = {
    "infonce": InfoNCELoss,
    "ml_cpc": MLCPCLoss,
    "fmicl": FMICLLoss,
    "au": AlignmentUniformityLoss,
}
_QUEUE_OBJECTIVES: dict[str, Callable[..., nn.Module]] = {
    "infonce": QueueInfoNCELoss,
    "ml_cpc": QueueMLCPCLoss,
}
_ALIASES = {"nt_xent": "infonce", "ntxent": "infonce", "nce": "infonce", "cpc": "infonce", "mlcpc": "ml_cpc",
            "f_micl": "fmicl", "alignment_uniformity": "au"}


def _canonical(name: str, table: dict[str, Callable[..., nn.Module]], what: str) -> str:
    return canonical(name, table, what, _ALIASES)


def available_objectives() -> list[str]:
    """Names accepted by :func:`build_objective`."""
    return sorted(_OBJECTIVES)


def build_objective(name: str, **kwargs: Any) -> nn.Module:
    """An in-batch objective by name: ``infonce`` (NT-Xent), ``ml_cpc``, ``fmicl``, ``au``.

    Keyword arguments go to the class: :class:`InfoNCELoss`, :class:`MLCPCLoss`,
    :class:`FMICLLoss`, :class:`AlignmentUniformityLoss`.
    """
    return _OBJECTIVES[_canonical(name, _OBJECTIVES, "objective")](**kwargs)


def build_queue_objective(name: str, **kwargs: Any) -> nn.Module:
    """A queue (MoCo) objective by name: ``infonce`` or ``ml_cpc``."""
    return _QUEUE_OBJECTIVES[_canonical(name, _QUEUE_OBJECTIVES, "queue objective")](**kwargs)


__all__ = [
    "Alpha", "AlignmentUniformityLoss", "BYOLLoss", "BarlowTwinsLoss", "CeilingWarning", "ContrastiveOutput", "FMICLLoss", "GeometricAlphaSchedule",
    "InfoNCELoss", "LowerBoundRegularizer", "MIReadout", "MLCPCLoss", "QueueInfoNCELoss", "QueueMLCPCLoss",
    "ReconstructionRegularizer", "available_objectives", "build_objective", "build_queue_objective",
]
