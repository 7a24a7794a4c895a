r"""MI by flow Gaussianisation (MIENF, Butakov et al., NeurIPS 2024), optionally with an f-DIME correction.

If bijections f_X, f_Y make (f_X(X), f_Y(Y)) jointly Gaussian with covariance Σ, then

.. math::
    I(X; Y) = I(f_X(X); f_Y(Y)) = \tfrac12\big[\log\det\Sigma_{xx} + \log\det\Sigma_{yy} - \log\det\Sigma\big]

(a product of bijections keeps the MI; Butakov et al. 2024, Thm. 4.1 and the "N-MIENF" variant
with a general Gaussian latent). Procedure of :func:`estimate_flow`:

1. check the inputs, split the rows into train / validation / test, map every coordinate to
   normal scores fitted on the training rows (the ``rank`` standardisation, itself a bijection);
2. a :class:`~infobound.models.flows.ProductFlow` f_X × f_Y (affine coupling flows, exactly the
   identity at step 0) and a Gaussian N(μ, Σ = L Lᵀ) on the latent, μ and L starting at the
   training rows' mean and covariance, so training starts at the Gaussian-copula (GCMI) fit;
3. maximum likelihood: minimise the negative log-likelihood of the training pairs,
   −log N(f(x, y); μ, Σ) − log|det J_f(x, y)|, with Adam; every ``eval_interval`` steps the
   held-out NLL on the validation rows decides early stopping and which state is restored;
4. read the MI on rows the flow never saw (``readout``): ``"test_gcmi"`` (default) =
   bias-corrected GCMI of the test rows' latents (Gaussian MI of their normal scores with Ince et
   al.'s small-sample correction); ``"heldout_gcmi"`` = the same on validation + test rows;
   ``"sigma"`` = the Gaussian MI of the fitted Σ (trained on the training rows: biased upward by
   overfitting); ``"test_log_ratio"`` = the test-row mean of the latent Gaussian's pointwise
   log-ratio. All four are recorded in ``details["value_parts"]``;
5. with ``correction`` (default) the f-DIME hybrid critic of :mod:`infobound.estimate.dime` is
   trained **in the latent space**: v = g + h with g the Gaussian log-ratio of the training
   latents and h a bounded joint MLP trained with GAN-DIME on derangements (same train / validation
   rows); ``value`` = the read-out of step 4 + the test-row mean of h. Where the flow has made the
   latent Gaussian, h stays near 0; where it has not (tail dependence of a Student-t), h learns
   what is left, as it does on the copula in ``method="fdime"``;
6. ``lower`` = ML-CPC at ``min_safe_alpha(n)`` with the final critic (flow, g and h fixed) on the
   test rows, which took no part in training, early stopping or the read-out's choice
   (:func:`infobound.estimate.certify.certified_lower_limit`).

Flow Gaussianisation is exact when the dependence *is* a pair of bijections of a Gaussian — the
case it is designed for; on other dependence it is as good as the flow's approximation.
The value is an estimate, not a bound: ``lower`` is the guarantee.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..models.flows import ProductFlow
from .certify import certified_lower_limit
from .dime import DimeConfig, GaussianLogRatio, fit_hybrid_critic, read_out
from .inputs import (check_bools, check_finite, check_ints, check_split_fractions, config_from_options,
                     pair_and_split_sizes, split_and_standardise, torch_threads)
from .result import EstimateResult
from .stopping import train_max_likelihood

READOUTS = ("test_gcmi", "heldout_gcmi", "sigma", "test_log_ratio")
COUPLINGS = ("affine", "additive")


@dataclass(frozen=True)
class FlowConfig:
    """Hyper-parameters of the flow estimator, checked on construction (defaults: docs/estimate.md).

    Attributes:
        num_couplings: coupling layers per side (each followed by a fixed random permutation).
        hidden: width of each coupling's conditioner MLP.
        hidden_layers: hidden layers of each conditioner (≥ 1).
        coupling: ``affine`` (RealNVP) or ``additive`` (NICE, volume preserving).
        batch_size: pairs per maximum-likelihood step.
        lr: Adam learning rate of the flow and the latent Gaussian.
        max_steps: upper limit on flow training steps.
        eval_interval: steps between held-out log-likelihood evaluations.
        patience: evaluations without a better held-out log-likelihood before stopping.
        readout: how the Gaussian part's MI is read (see the module docstring, step 4).
        standardise: per-coordinate map fitted on the training rows before the flow: ``rank``
            (normal scores, Φ⁻¹ of the empirical CDF) or ``zscore``; both leave the MI unchanged.
        correction: train the f-DIME correction h in the latent space (step 5).
        correction_max_steps: upper limit on the correction's training steps.
        validation_fraction: share of rows for early stopping (flow and correction).
        test_fraction: share of rows for the read-out and the certified lower limit.
        certify_batch_size: n of the ML-CPC certificate's batches (α = min_safe_alpha(n)).
        certify: compute ``lower``.
        num_threads: torch threads while estimating (restored afterwards); None leaves them alone.
        progress: show tqdm progress bars (only on a terminal).
    """

    num_couplings: int = 6
    hidden: int = 64
    hidden_layers: int = 2
    coupling: str = "affine"
    batch_size: int = 256
    lr: float = 1e-3
    max_steps: int = 2000
    eval_interval: int = 100
    patience: int = 5
    readout: str = "test_gcmi"
    standardise: str = "rank"
    correction: bool = True
    correction_max_steps: int = 3000
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    certify_batch_size: int = 128
    certify: bool = True
    num_threads: int | None = 1
    progress: bool = True

    def __post_init__(self) -> None:
        check_ints(self, {"num_couplings": 1, "hidden": 1, "hidden_layers": 1, "batch_size": 2, "max_steps": 1,
                          "eval_interval": 1, "patience": 1, "correction_max_steps": 1, "certify_batch_size": 2,
                          "num_threads": 1}, optional=("num_threads",))
        if self.coupling not in COUPLINGS:
            raise ValueError(f"`coupling` must be one of {list(COUPLINGS)}, got {self.coupling!r}")
        if self.standardise not in ("rank", "zscore"):
            raise ValueError(f"`standardise` must be 'rank' or 'zscore', got {self.standardise!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"`readout` must be one of {list(READOUTS)}, got {self.readout!r}")
        check_finite(self, "lr")
        check_bools(self, "correction", "certify", "progress")
        check_split_fractions(self)

    @classmethod
    def from_options(cls, **options: Any) -> FlowConfig:
        """Build from keyword options, rejecting unknown names with the list of valid ones."""
        return config_from_options(cls, options, "method='flow'")


def gaussian_mi(cov: Tensor, dim_x: int) -> float:
    r"""½[log det Σ_xx + log det Σ_yy − log det Σ]: the MI of a Gaussian with covariance Σ (X = first dim_x)."""
    cov = cov.double()
    return float(0.5 * (torch.logdet(cov[:dim_x, :dim_x]) + torch.logdet(cov[dim_x:, dim_x:]) - torch.logdet(cov)))


class GaussianisingFlow(nn.Module):
    r"""A product flow f_X × f_Y with a Gaussian N(μ, L Lᵀ) on its latent: the MIENF density model.

    .. math::
        \log p(x, y) = \log\mathcal N\big((f_X(x), f_Y(y)); \mu, LL^\top\big) + \log|\det J_{f_X}(x)|
                       + \log|\det J_{f_Y}(y)|

    L is lower triangular with a positive diagonal (exp of a free parameter).

    Args:
        flow: the product bijection.
        mean: initial μ, [dx + dy].
        cov: initial Σ, [dx + dy, dx + dy] (positive definite).
    """

    def __init__(self, flow: ProductFlow, mean: Tensor, cov: Tensor) -> None:
        super().__init__()
        self.flow = flow
        chol = torch.linalg.cholesky(cov.double()).float()
        self.mean = nn.Parameter(mean.clone().float())
        self.log_diag = nn.Parameter(chol.diagonal().log())
        self.lower = nn.Parameter(torch.tril(chol, diagonal=-1))
        self.dim = cov.shape[0]

    def cholesky(self) -> Tensor:
        return torch.tril(self.lower, diagonal=-1) + torch.diag(self.log_diag.exp())

    def covariance(self) -> Tensor:
        chol = self.cholesky()
        return chol @ chol.t()

    def log_likelihood(self, x: Tensor, y: Tensor) -> Tensor:
        """log p(x_i, y_i) per row → [n]."""
        u, v, log_det = self.flow.forward_and_log_det(x, y)
        z = torch.cat([u, v], dim=1) - self.mean
        white = torch.linalg.solve_triangular(self.cholesky(), z.t(), upper=False)
        log_normal = (-0.5 * (white * white).sum(0) - self.log_diag.sum()
                      - 0.5 * self.dim * math.log(2.0 * math.pi))
        return log_normal + log_det


def estimate_flow(x: Any, y: Any, *, seed: int = 0, **options: Any) -> EstimateResult:
    """MI by flow Gaussianisation (+ latent f-DIME correction) with a certified lower limit; see the module docstring.

    Args:
        x, y: [N, dx], [N, dy] samples (numpy, torch or lists; [N] is read as [N, 1]).
        seed: seeds the split, the batches, the permutations and the initialisation.
        **options: fields of :class:`FlowConfig`.

    Returns:
        :class:`EstimateResult` with method "flow": ``value`` (the read-out of the test latents, plus
        the test-row mean of the correction), ``ci`` (sampling interval of the test-row mean of the
        final log-ratio, centred on ``value``; not a statement about the truth), ``lower``
        (certified 95% lower limit, or None with ``certify=False``), and in ``details`` every
        read-out (``value_parts``), the flow's and the correction's training records.
    """
    start = time.perf_counter()
    config = FlowConfig.from_options(**options)
    x_all, y_all, (n_train, n_val, n_test) = pair_and_split_sizes(
        x, y, seed, (config.validation_fraction, config.test_fraction))
    n, dx, dy = x_all.shape[0], x_all.shape[1], y_all.shape[1]
    cert_batch = min(config.certify_batch_size, n_test // 2)
    # GCMI of the test latents needs more rows than dimensions (a covariance of full rank).
    if n_val < 8 or n_test < max(16, dx + dy + 3) or n_train < max(16, dx + dy + 3) \
            or (config.certify and cert_batch < 8):
        raise ValueError(f"too few samples for method='flow': N = {n} gives {n_train} train, {n_val} validation and "
                         f"{n_test} test rows; it needs >= 8 validation rows and more than dx + dy + 2 = {dx + dy + 2} "
                         "(and >= 16) train and test rows. For small N use method='ksg' or 'gcmi'.")
    with torch_threads(config.num_threads):
        from .nonparametric import gcmi

        generator = torch.Generator().manual_seed(seed)
        (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = split_and_standardise(x_all, y_all, (n_train, n_val), generator,
                                                                           config.standardise)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            flow = ProductFlow(dx, dy, config.num_couplings, (config.hidden,) * config.hidden_layers,
                               config.coupling, seed=seed)
        with torch.no_grad():
            # The couplings start at the identity, the permutations between them do not: the latent
            # Gaussian starts at the moments of the initial latents (the Gaussian-copula fit, permuted).
            u0, v0, _ = flow.forward_and_log_det(x_tr, y_tr)
            z0 = torch.cat([u0, v0], dim=1).double()
        cov0 = torch.cov(z0.t()).reshape(dx + dy, dx + dy) + 1e-4 * torch.eye(dx + dy, dtype=torch.float64)
        model = GaussianisingFlow(flow, z0.mean(0).float(), cov0.float())  # (1e-4: constant columns stay invertible)
        # Starts at the Gaussian-copula fit: early stopping keeps it if nothing beats it.
        flow_fit = train_max_likelihood(model, x_tr, y_tr, x_val, y_val, batch_size=config.batch_size, lr=config.lr,
                                        max_steps=config.max_steps, eval_interval=config.eval_interval,
                                        patience=config.patience, generator=generator, desc="flow",
                                        progress=config.progress)
        with torch.no_grad():
            u_tr, v_tr = flow.forward_x(x_tr), flow.forward_y(y_tr)
            # Centre every latent on the training latents' mean (a translation: the MI is unchanged), as
            # the Gaussian log-ratios below assume zero-mean inputs.
            mu_x, mu_y = u_tr.mean(0), v_tr.mean(0)
            latents = {name: (flow.forward_x(a) - mu_x, flow.forward_y(b) - mu_y)
                       for name, (a, b) in {"train": (x_tr, y_tr), "val": (x_val, y_val), "test": (x_te, y_te)}.items()}
            cov = model.covariance().double()
            shift = torch.cat([mu_x, mu_y]) - model.mean.detach()  # latent mean of the model in centred coordinates
            sigma_critic = GaussianLogRatio.from_covariance(cov, dx)
            u_c, v_c = latents["test"]
            test_log_ratio = float(sigma_critic.pairs(u_c + shift[:dx], v_c + shift[dx:]).double().mean())
        u_te, v_te = latents["test"]
        u_ho = torch.cat([latents["val"][0], u_te]).numpy()
        v_ho = torch.cat([latents["val"][1], v_te]).numpy()
        readouts = {
            "test_gcmi": gcmi(u_te.numpy(), v_te.numpy()).value,
            "heldout_gcmi": gcmi(u_ho, v_ho).value,
            "sigma": gaussian_mi(cov, dx),
            "test_log_ratio": test_log_ratio,
        }
        gaussian_part = readouts[config.readout]
        correction_fit: dict[str, Any] | None = None
        if config.correction:
            dime_config = DimeConfig(max_steps=config.correction_max_steps,
                                     validation_fraction=config.validation_fraction,
                                     test_fraction=config.test_fraction, certify=False, num_threads=None,
                                     progress=config.progress)
            latent_critic, correction_fit = fit_hybrid_critic(*latents["train"], *latents["val"], dime_config,
                                                              generator, seed, desc="latent gan-dime")
            value, ci, parts = read_out(latent_critic, u_te, v_te, gaussian_part)
        else:
            # The critic is the Gaussian log-ratio of the training latents (for the certificate); value = the read-out.
            latent_critic = GaussianLogRatio(*latents["train"])
            value, ci, parts = read_out(_BaselineOnly(latent_critic), u_te, v_te, gaussian_part)
        parts.update({f"readout_{k}": float(v) for k, v in readouts.items()})
        certificate = None
        if config.certify:
            certificate = certified_lower_limit(latent_critic, u_te, v_te, batch_size=cert_batch, generator=generator)
    if not math.isfinite(value):
        raise RuntimeError("the flow estimator gives a non-finite value on the test rows (the flow diverged?)")
    history = {"flow_" + k: v for k, v in flow_fit["history"].items()}
    if correction_fit is not None:
        history.update({"correction_" + k: v for k, v in correction_fit["history"].items()})
    details = {
        "readout": config.readout, "correction": config.correction,
        "n_train": n_train, "n_validation": n_val, "n_test": n_test,
        "steps": flow_fit["steps"] + (correction_fit["steps"] if correction_fit else 0),
        "flow_steps": flow_fit["steps"], "flow_best_step": flow_fit["best_step"],
        "flow_stop_reason": flow_fit["stop_reason"],
        "best_step": flow_fit["best_step"],
        "correction_steps": correction_fit["steps"] if correction_fit else None,
        "correction_best_step": correction_fit["best_step"] if correction_fit else None,
        "config": {k: v for k, v in asdict(config).items() if k != "progress"},
        "value_parts": parts,
        "certificate": None if certificate is None else certificate.summary(),
    }
    return EstimateResult(value, ci, method="flow", bound="flow_gaussian" + ("+gan_dime" if config.correction else ""),
                          n_samples=n, seconds=time.perf_counter() - start, history=history, details=details,
                          lower=None if certificate is None else certificate.lower)


class _BaselineOnly(nn.Module):
    """Adapter: a Gaussian log-ratio seen by :func:`read_out` as a hybrid critic whose correction is 0."""

    def __init__(self, baseline: GaussianLogRatio) -> None:
        super().__init__()
        self.baseline = baseline

    def pairs(self, x: Tensor, y: Tensor) -> Tensor:
        return self.baseline.pairs(x, y)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.baseline(x, y)


__all__ = ["COUPLINGS", "READOUTS", "FlowConfig", "GaussianisingFlow", "estimate_flow", "gaussian_mi"]
