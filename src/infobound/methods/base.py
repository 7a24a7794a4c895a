"""The shared base of the contrastive LightningModules.

A method only says how two augmented views become a :class:`~infobound.losses.ContrastiveOutput`
(:meth:`ContrastiveMethod.contrastive`); the base owns everything else, so SimCLR and MoCo differ in
nothing but that:

- encoder, batched on-device augmentation and projection head, built from hyper-parameters that
  are stored in every checkpoint (a checkpoint alone rebuilds the model);
- the objective chosen by name (:func:`infobound.losses.build_objective`), with fixed α or the
  geometric α schedule driven by training progress;
- InfoCL's regularisers: ``rc`` (a decoder from the backbone feature back to the augmented view)
  and ``lbe`` (the encoder's last three block features);
- an online linear probe on detached features (trained with its own cross-entropy; it cannot move
  the encoder);
- the MI lower bound in nats implied by the objective, logged every step (``train/mi_nats_step``)
  and as epoch means (``train/mi_nats``), with a one-time warning when it sits at its ceiling;
- the optimiser (Adam, cosine-annealed per step) and reproducibility: the augmentation of step t
  is drawn from a generator seeded by (seed, t, rank), so a run resumed from a checkpoint sees the
  same views as an uninterrupted one.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from infobound import losses
from infobound.data import build_augmentation
from infobound.models import ProjectionHead, ReconstructionDecoder, build_encoder, default_encoder

REGULARIZERS = ("none", "rc", "lbe")
LBE_STAGES = 3  # InfoCL: the pooled outputs of the last three stages, weights 0.25 / 0.5 / 1


def objective_options(objective: str, alpha: float | None, alpha_end: float | None, divergence: str | None,
                     temperature: float | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    """Keyword arguments for :func:`infobound.losses.build_objective` from the CLI-level options.

    ``alpha`` with ``alpha_end`` means the geometric schedule alpha → alpha_end over training (the
    ML-CPC official MoCo runs: 10 → 0.1); ``alpha`` alone a fixed α; options an objective does not
    take are rejected rather than silently ignored.
    """
    kw: dict[str, Any] = dict(extra or {})
    if alpha_end is not None and alpha is None:
        raise ValueError("`alpha_end` needs `alpha` (the schedule's start)")
    if alpha is not None:
        if objective != "ml_cpc":
            raise ValueError(f"`alpha` is an option of ml_cpc, not of {objective!r}")
        kw["alpha"] = losses.GeometricAlphaSchedule(alpha, alpha_end) if alpha_end is not None else alpha
    if divergence is not None:
        if objective != "fmicl":
            raise ValueError(f"`divergence` is an option of fmicl, not of {objective!r}")
        kw["divergence"] = divergence
    if temperature is not None:
        kw["temperature"] = temperature
    return kw


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 7_919 + rank * 104_729) % (2**62)


class ContrastiveMethod(L.LightningModule):
    """Base of :class:`~infobound.methods.SimCLR` and :class:`~infobound.methods.MoCo`.

    Args:
        input_shape: shape of one (un-augmented) example.
        num_classes: classes of the online probe.
        dataset: dataset name; picks the default augmentation.
        encoder: encoder name (default: by input shape, e.g. ``cnn1d`` for signals); ``encoder_kwargs`` go to it.
        objective: ``infonce``, ``ml_cpc``, ``fmicl`` or ``au`` (:func:`infobound.losses.available_objectives`).
        alpha, alpha_end: ML-CPC's α, or the geometric schedule alpha → alpha_end.
        divergence: f-MICL's f-divergence (kl, js, pearson, sq_hellinger, tsallis, vlc).
        temperature: the objective's temperature (its own default when None).
        objective_kwargs: any further objective options.
        proj_hidden, proj_dim: projection head widths.
        regularizer, lam: InfoCL ``rc`` or ``lbe`` with weight λ, or ``none``.
        lr, weight_decay, lr_schedule: Adam; ``cosine`` (per step, to 0) or ``constant``.
        seed: seeds the views (the model's initial weights come from the global seed set before building).
        augment_kwargs: overrides of the dataset's default augmentation.
        online_probe: train a linear probe on detached features alongside.
    """

    name = "base"  # the method's name in checkpoints and the CLI

    def __init__(self, input_shape: Sequence[int], num_classes: int, dataset: str = "mnist1d",
                 encoder: str | None = None, encoder_kwargs: dict[str, Any] | None = None,
                 objective: str = "infonce", alpha: float | None = None, alpha_end: float | None = None,
                 divergence: str | None = None, temperature: float | None = None,
                 objective_kwargs: dict[str, Any] | None = None, proj_hidden: int = 256, proj_dim: int = 64,
                 regularizer: str = "none", lam: float = 1.0, lr: float = 1e-3, weight_decay: float = 1e-6,
                 lr_schedule: str = "cosine", seed: int = 0, augment_kwargs: dict[str, Any] | None = None,
                 online_probe: bool = True) -> None:
        super().__init__()
        if regularizer not in REGULARIZERS:
            raise ValueError(f"unknown regularizer {regularizer!r}; expected one of {REGULARIZERS}")
        if lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"`lr_schedule` must be 'cosine' or 'constant', got {lr_schedule!r}")
        self.save_hyperparameters()
        input_shape = tuple(input_shape)
        self.encoder = build_encoder(encoder or default_encoder(input_shape), input_shape, **(encoder_kwargs or {}))
        self.augment = build_augmentation(dataset, input_shape, **(augment_kwargs or {}))
        self.projector = ProjectionHead(self.encoder.output_dim, proj_hidden, proj_dim)
        self.build_objective(objective, objective_options(objective, alpha, alpha_end, divergence, temperature,
                                                          objective_kwargs))
        self.regularizer: nn.Module | None = None
        if regularizer == "rc":
            self.regularizer = losses.ReconstructionRegularizer(
                ReconstructionDecoder(self.encoder.output_dim, input_shape), weight=lam)
        elif regularizer == "lbe":
            self.regularizer = losses.LowerBoundRegularizer(lam=lam)
        self.probe = nn.Linear(self.encoder.output_dim, num_classes) if online_probe else None
        self.mi_readout = losses.MIReadout(f"{self.name}/{objective}")
        self.data_options: dict[str, Any] = {}  # how to reload the data; saved with every checkpoint for `probe`

    # --- what a method defines -------------------------------------------------------------------

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        self.objective = losses.build_objective(name, **kwargs)

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> "losses.ContrastiveOutput":
        """The contrastive objective from backbone features ``h = encoder(cat(v1, v2))`` of the two views."""
        raise NotImplementedError

    # --- training ---------------------------------------------------------------------------------

    @property
    def progress(self) -> float:
        """Training progress in [0, 1): global step / total steps (drives α schedules)."""
        total = self.trainer.estimated_stepping_batches if self._trainer is not None else 0
        return min(self.global_step / total, 1.0) if total and math.isfinite(total) else 0.0

    def views(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Two augmented views of a batch, drawn from a generator seeded by (seed, global step, rank)."""
        g = torch.Generator(device=x.device).manual_seed(_step_seed(self.hparams.seed, self.global_step, self.global_rank))
        pair = getattr(self.augment, "pair", None)
        if callable(pair):  # a view maker that makes both views together (text: definition vs example)
            return pair(x, g)
        return self.augment(x, g), self.augment(x, g)

    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        x, y = batch[0], batch[1]
        n = len(x)
        v1, v2 = self.views(x)
        h, blocks = self.encoder(torch.cat([v1, v2]), return_blocks=True)
        out = self.contrastive(h, v1, v2, self.progress)
        loss = out.loss
        logs = {"train/loss": out.loss.detach(), "train/mi_nats": out.mi_lower_bound}
        if self.hparams.regularizer == "rc":
            reg = self.regularizer(h, torch.cat([v1, v2]))
        elif self.hparams.regularizer == "lbe":
            stages = blocks[-LBE_STAGES:]
            # LBE draws its noise from torch's global RNG: seed it from the step too, so resuming stays exact.
            with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
                torch.manual_seed(_step_seed(self.hparams.seed, self.global_step, self.global_rank) + 1)
                reg = 0.5 * (self.regularizer([b[:n] for b in stages]) + self.regularizer([b[n:] for b in stages]))
        if self.regularizer is not None:
            loss = loss + reg
            logs["train/reg"] = reg.detach()
        if self.probe is not None:
            logits = self.probe(h[:n].detach())
            probe_loss = F.cross_entropy(logits, y)
            loss = loss + probe_loss
            logs["train/probe_loss"] = probe_loss.detach()
            logs["train/probe_acc"] = (logits.argmax(1) == y).float().mean()
        self.mi_readout(out)  # warns once at the ceiling
        logs["train/mi_ceiling"] = float(out.ceiling)
        self.log_dict(logs, on_step=False, on_epoch=True, sync_dist=True, batch_size=n)
        # every step, too: the bound is computed on the gathered batch, so it is already global under DDP
        self.log("train/mi_nats_step", out.mi_lower_bound, on_step=True, on_epoch=False, batch_size=n)
        return loss

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["infobound"] = {"method": self.name, "data": self.data_options}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.data_options = dict(checkpoint.get("infobound", {}).get("data", {}))

    def configure_optimizers(self) -> Any:
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        if self.hparams.lr_schedule == "constant":
            return opt
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def forward(self, x: Tensor) -> Tensor:
        """Backbone features of un-augmented inputs (what probes see)."""
        return self.encoder(x)
