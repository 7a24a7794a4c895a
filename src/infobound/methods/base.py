"""The shared base of the contrastive LightningModules.

A method only says how two augmented views become a :class:`~infobound.losses.ContrastiveOutput`
(:meth:`ContrastiveMethod.contrastive`); the base owns everything else, so SimCLR and MoCo differ in
nothing but that:

- encoder, batched on-device augmentation and projection head, built from hyper-parameters that
  are stored in every checkpoint (a checkpoint alone rebuilds the model);
- the objective chosen by name (:func:`infobound.losses.build_objective`), with fixed α or the
  geometric α schedule driven by training progress;
- InfoCL's regularisers as in the official code: ``rc`` (a decoder from the representation h back
  to each augmented view, the two views' MSEs summed) and ``lbe`` (the last three encoder stages,
  the last being h, each over both views concatenated), with the stochastic encoder
  h = μ + ζε feeding the projector (on by default with ``lbe``, the paper's setting);
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
from infobound.models import ProjectionHead, ReconstructionDecoder, resolve_encoder
from infobound.models.encoders import encoder_stages

from .optimizers import adam_for

REGULARIZERS = ("none", "rc", "lbe")
LBE_WEIGHTS = (0.25, 0.5, 1.0)  # InfoCL: the last three stages (the last one is h), shallowest first


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
    """Base of the methods (:class:`~infobound.methods.SimCLR`, :class:`~infobound.methods.MoCo`, BYOL, ...).

    Args:
        input_shape: shape of one (un-augmented) example.
        num_classes: classes of the online probe.
        dataset: dataset name; picks the default augmentation.
        encoder: encoder name (default: by input shape, e.g. ``cnn1d`` for signals), your own ``nn.Module``, or
            ``"package.module:Class"`` (:func:`infobound.models.resolve_encoder`); ``encoder_kwargs`` go to
            its constructor. A module instance is not stored in the hyper-parameters: pass it again to
            ``load_from_checkpoint(path, encoder=...)``.
        objective: ``infonce``, ``ml_cpc``, ``fmicl`` or ``au`` (:func:`infobound.losses.available_objectives`);
            None: the method's own (``default_objective``).
        alpha, alpha_end: ML-CPC's α, or the geometric schedule alpha → alpha_end.
        divergence: f-MICL's f-divergence (kl, js, pearson, sq_hellinger, tsallis, vlc).
        temperature: the objective's temperature (its own default when None).
        objective_kwargs: any further objective options.
        proj_hidden, proj_dim: projection head widths.
        regularizer, lam: InfoCL ``rc`` or ``lbe`` with weight λ, or ``none``.
        stochastic: feed the projector h = μ + ζε instead of μ (InfoCL's stochastic encoder); None:
            on with ``lbe`` (the official code), off otherwise. Probes always see μ.
        lbe_noise, lbe_scale: ζ (0.1) and the kernel scale s (20) of LBE and the stochastic encoder.
        lr, weight_decay, lr_schedule: Adam; ``cosine`` (per step, to 0) or ``constant``.
        seed: seeds the views (the model's initial weights come from the global seed set before building).
        augment_kwargs: overrides of the dataset's default augmentation.
        online_probe: train a linear probe on detached features alongside.
        separate_views: run the encoder on each view on its own (its BatchNorm statistics per view, as the
            official BYOL, Barlow Twins and MoCo v3 code does) instead of once over both views concatenated
            (statistics pooled over the 2n samples, as SimCLR's code does).
    """

    name = "base"  # the method's name in checkpoints and the CLI
    default_objective = "infonce"

    def __init__(self, input_shape: Sequence[int], num_classes: int, dataset: str = "mnist1d",
                 encoder: str | nn.Module | None = None, encoder_kwargs: dict[str, Any] | None = None,
                 objective: str | None = None, alpha: float | None = None, alpha_end: float | None = None,
                 divergence: str | None = None, temperature: float | None = None,
                 objective_kwargs: dict[str, Any] | None = None, proj_hidden: int = 256, proj_dim: int = 64,
                 regularizer: str = "none", lam: float = 1.0, stochastic: bool | None = None,
                 lbe_noise: float = 0.1, lbe_scale: float = 20.0, lr: float = 1e-3, weight_decay: float = 1e-6,
                 lr_schedule: str = "cosine", seed: int = 0, augment_kwargs: dict[str, Any] | None = None,
                 online_probe: bool = True, separate_views: bool = False) -> None:
        super().__init__()
        if regularizer not in REGULARIZERS:
            raise ValueError(f"unknown regularizer {regularizer!r}; expected one of {REGULARIZERS}")
        if lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"`lr_schedule` must be 'cosine' or 'constant', got {lr_schedule!r}")
        self.save_hyperparameters(ignore=["encoder"] if isinstance(encoder, nn.Module) else None)
        objective = objective or self.default_objective
        self.stochastic = (regularizer == "lbe") if stochastic is None else bool(stochastic)
        if not (lbe_noise >= 0 and math.isfinite(lbe_noise)):
            raise ValueError(f"`lbe_noise` (ζ) must be a finite number >= 0, got {lbe_noise}")
        self.lbe_noise = float(lbe_noise)
        input_shape = tuple(input_shape)
        self.encoder = resolve_encoder(encoder, input_shape, **(encoder_kwargs or {}))
        self.augment = build_augmentation(dataset, input_shape, **(augment_kwargs or {}))
        self.projector = ProjectionHead(self.encoder.output_dim, proj_hidden, proj_dim)
        self.build_objective(objective, objective_options(objective, alpha, alpha_end, divergence, temperature,
                                                          objective_kwargs))
        self.regularizer: nn.Module | None = None
        if regularizer == "rc":
            self.regularizer = losses.ReconstructionRegularizer(
                ReconstructionDecoder(self.encoder.output_dim, input_shape), weight=lam)
        elif regularizer == "lbe":
            self.regularizer = losses.LowerBoundRegularizer(LBE_WEIGHTS, noise=lbe_noise, scale=lbe_scale, lam=lam)
        self.probe = nn.Linear(self.encoder.output_dim, num_classes) if online_probe else None
        self.mi_readout = losses.MIReadout(f"{self.name}/{objective}")
        self.data_options: dict[str, Any] = {}  # how to reload the data; saved with every checkpoint for `probe`

    # --- what a method defines -------------------------------------------------------------------

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        self.objective = losses.build_objective(name, **kwargs)

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> "losses.ContrastiveOutput":
        """The method's objective from the representations ``h`` [2n, d] of ``cat(v1, v2)`` (the stochastic
        encoder's sample when that is on): what the projector sees."""
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
        # the encoder's dropout (text: SimCSE's views), the stochastic encoder's and LBE's noise come from
        # torch's global RNG: seed it from the step, so a resumed run draws what an uninterrupted one does
        with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(_step_seed(self.hparams.seed, self.global_step, self.global_rank) + 1)
            if self.hparams.get("separate_views", False):  # absent from checkpoints written before the option
                stages = [torch.cat(pair) for pair in zip(encoder_stages(self.encoder, v1), encoder_stages(self.encoder, v2))]
            else:
                stages = encoder_stages(self.encoder, torch.cat([v1, v2]))
            mu = stages[-1]
            h = mu + self.lbe_noise * torch.randn_like(mu) if self.stochastic else mu
            reg = None
            if self.hparams.regularizer == "rc":
                reg = self.regularizer([h[:n], h[n:]], [v1, v2])
            elif self.hparams.regularizer == "lbe":
                means = stages[-len(LBE_WEIGHTS):]
                # the last stage's sample is the h the projector sees (official code); the others are drawn here
                reg = self.regularizer(means, [None] * (len(means) - 1) + [h if self.stochastic else None])
        out = self.contrastive(h, v1, v2, self.progress)
        loss = out.loss
        logs = {"train/loss": out.loss.detach(), "train/mi_nats": out.mi_lower_bound}
        if reg is not None:
            loss = loss + reg
            logs["train/reg"] = reg.detach()
        known = y >= 0  # -1: an unlabelled row of the semi-supervised protocol (DatasetSplits.labelled)
        if self.probe is not None and bool(known.any()):
            logits = self.probe(mu[:n][known].detach())
            probe_loss = F.cross_entropy(logits, y[known])
            loss = loss + probe_loss
            logs["train/probe_loss"] = probe_loss.detach()
            logs["train/probe_acc"] = (logits.argmax(1) == y[known]).float().mean()
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
        # fused Adam where it can; lazy Adam on embedding tables built with sparse=True (``sparse_embeddings``)
        opt = adam_for(self, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        if self.hparams.lr_schedule == "constant":
            return opt
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def forward(self, x: Tensor) -> Tensor:
        """Backbone features of un-augmented inputs (what probes see)."""
        return self.encoder(x)
