"""Mutual-information estimation: ``estimate_mi(x, y)`` and the estimators behind it.

Example:
    >>> import numpy as np
    >>> from infobound import estimate_mi
    >>> x = np.random.randn(5000, 25); y = x + np.random.randn(5000, 25)
    >>> result = estimate_mi(x, y)                 # doctest: +SKIP
    >>> result.value, result.ci, result.lower      # estimate (nats), sampling interval, certified I ≥ lower
"""

from __future__ import annotations

from typing import Any

from .methods import MethodFn, available_methods, get_method, register_method
from .neural import DEFAULT_BOUND, DEFAULT_CRITIC, NeuralConfig
from .result import EstimateResult

DEFAULT_METHOD = "fdime"
"""What ``estimate_mi(x, y)`` runs; chosen by ``benchmarks/estimate_accuracy.py`` (docs/estimate.md)."""


def estimate_mi(x: Any, y: Any, *, bound: str | None = None, critic: str | None = None, seed: int = 0,
                method: str | None = None, **options: Any) -> EstimateResult:
    r"""Estimate I(X; Y) in nats from paired samples x [N, dx], y [N, dy].

    Without ``method`` (and without ``bound``/``critic``) it runs :data:`DEFAULT_METHOD`, chosen by
    measurement on bmi's v1 tasks and high-MI non-Gaussian tasks (docs/estimate.md, "Default
    estimator"): ``"fdime"``, the f-DIME estimator (Letizia et al., NeurIPS 2024) with a joint
    critic trained on derangements on top of the Gaussian-copula (GCMI) critic. Its ``value`` is an
    estimate — the Gaussian-copula MI plus the held-out mean of the learned correction — that may
    sit on either side of the truth; its ``lower`` is a certified 95% lower confidence limit: ML-CPC
    at the safe α with the final critic on test rows that took no part in training or early
    stopping (:func:`infobound.estimate.certify.certified_lower_limit`). Options: the fields of
    :class:`infobound.estimate.dime.DimeConfig`.

    With ``method="flow"``: flow Gaussianisation (Butakov et al., NeurIPS 2024): a product of
    coupling flows f_X × f_Y trained by maximum likelihood towards a Gaussian latent, whose MI is read
    on held-out rows, plus the same f-DIME correction trained in the latent space, with a certified
    ``lower`` on the test rows (:mod:`infobound.estimate.flow`; options: the fields of
    :class:`infobound.estimate.flow.FlowConfig`). Measured against the default in docs/estimate.md
    ("Flow Gaussianisation"): no more accurate at N = 5,000 and about 3× the CPU time.

    With ``method="doe"``: a difference of entropies, I = H(Y) − H(Y|X), each a cross-entropy of a
    learned density model on test rows (McAllester & Stratos, AISTATS 2020): a conditional flow with
    a heteroscedastic Gaussian base for q(y|x), a Gaussian mixture on the same latent for q(y)
    (:mod:`infobound.estimate.doe`; options: the fields of :class:`infobound.estimate.doe.DoeConfig`).
    Not a bound (``lower`` is None); measured in docs/estimate.md ("Difference of entropies").

    With ``method="neural"`` (or when ``bound`` or ``critic`` is given) a critic f(x, y) is trained
    by maximising a variational bound on minibatches (Poole et al., ICML 2019; Song & Ermon, ICLR
    2020 and NeurIPS 2020):
    the inputs are checked, split into train and held-out rows (``test_fraction``, default 0.2),
    standardised per coordinate with training statistics (an invertible per-coordinate map, so
    the MI is unchanged), and the critic is trained with Adam while the bound is evaluated on the
    held-out rows every ``eval_interval`` steps. Training stops early once the smoothed held-out
    value (running median of the last ``smoothing_window`` evaluations) has not improved for
    ``patience`` evaluations, and the critic of the best smoothed value is restored.

    The neural ``value`` is the bound evaluated with the trained critic on held-out batches of
    the training batch size — for bounds trained through a surrogate (JS, SMILE, MINE) it is the
    estimate itself (NWJ of f + 1, clipped DV, DV), not the surrogate. ``ci`` is mean ± t·SE over
    those k held-out batches, with SE their standard deviation / √k and t the 97.5% Student-t
    quantile with k − 1 degrees of freedom (1.96 when k is large; larger for few batches, whose
    SE is itself uncertain). It is a *sampling interval* (also ``result.sampling_interval``): it
    covers the sampling noise of the held-out evaluation, not the bias of the bound (a lower bound
    sits below the truth; SMILE's clipping can overshoot) nor that of the critic's training, so it
    is not a confidence interval on I(X; Y).

    ``lower`` is one: a one-sided 95% lower confidence limit on I(X; Y), valid for whatever critic
    training produced. A third split of ``certify_fraction`` rows (default 0.2), used neither for
    training nor for early stopping, is cut into batches; ML-CPC at α = n/(n(n−1)+1), a lower
    bound for every critic, is evaluated on each with the final critic, and ``lower`` is the
    one-sided Student-t limit of their mean (docs/estimate.md, "Certified lower limit";
    :func:`infobound.estimate.certify.certified_lower_limit`). The ``fdime`` default certifies its own
    critic the same way on its test rows; estimators without such a guarantee (``gcmi``, ``ksg``,
    ``gaussian``, ``histogram``) set it to None.

    Because the same held-out rows decide when to stop, the neural value carries a small
    optimistic selection effect; the smoothing keeps it well below the interval's width on typical data.

    Args:
        x: samples of X, numpy array or torch tensor [N, dx] (or [N], read as [N, 1]).
        y: samples of Y, [N, dy] (or [N]); row i of x pairs with row i of y.
        bound: a name from ``infobound.bounds.available()`` (neural only). Default "ml_cpc"
            with α = n/(n(n−1)+1), the smallest α treated as safe for every critic at batch size n
            (:func:`~infobound.estimate.safe_alpha.min_safe_alpha`, docs/validity.md). InfoNCE and ML-CPC with α = 1 cannot exceed log(batch_size);
            ML-CPC with α < 1 lifts that ceiling to log(batch_size/α).
        critic: a name from ``infobound.critics.available()`` (neural only; default "separable").
        seed: seeds the split, the batches and the critic's initialisation; equal seeds give equal
            results on the same machine and thread count.
        method: None (the default estimator, :data:`DEFAULT_METHOD`), "fdime", "flow", "doe", "neural", or a
            registered non-neural estimator ("gcmi", "ksg", "gaussian"/"cca", "histogram"; see
            :func:`available_methods`).
        **options: for "fdime" the fields of :class:`~infobound.estimate.dime.DimeConfig`; for "flow"
            those of :class:`~infobound.estimate.flow.FlowConfig`; for "doe" those of
            :class:`~infobound.estimate.doe.DoeConfig`; for
            "neural" the fields of :class:`NeuralConfig` (batch_size, lr, max_steps,
            eval_interval, patience, smoothing_window, hidden, layers, embed_dim, test_fraction,
            certify_fraction, standardise, alpha, clip, bound_kwargs, critic_kwargs, num_threads, device,
            progress); for other methods their own keyword arguments (e.g. ``k`` for KSG).

    Returns:
        :class:`EstimateResult` with ``value`` (nats), ``ci`` (low, high; a sampling interval),
        ``lower`` (certified 95% lower limit, or None), ``history`` and ``details`` (for neural:
        batch size, steps, best step, stop reason, per-batch held-out values, the bound's ceiling,
        the config; for fdime: the split, steps, the value's parts and the certificate).

    Raises:
        ValueError: length mismatch, NaN/Inf, wrong rank, too few samples, unknown bound, critic
            or method, an invalid hyper-parameter, or an option the bound does not take.
        TypeError: non-numeric data or an unknown option name.

    Warns:
        UserWarning: ML-CPC α below the safe value for the batch size
            (:func:`infobound.estimate.safe_alpha.min_safe_alpha`), a bound that is not a valid
            lower bound, an estimate sitting at its bound's ceiling, a lowered batch size.
    """
    if method is None:
        # A bound or a critic names the neural estimator; otherwise the measured default.
        method = "neural" if bound is not None or critic is not None else DEFAULT_METHOD
    run = get_method(method)
    if method.strip().lower() == "neural":
        return run(x, y, seed=seed, bound=bound or DEFAULT_BOUND, critic=critic or DEFAULT_CRITIC, **options)
    if bound is not None or critic is not None:
        raise ValueError(f"`bound` and `critic` apply to method='neural' only, not to method={method!r}")
    return run(x, y, seed=seed, **options)


__all__ = ["DEFAULT_BOUND", "DEFAULT_CRITIC", "DEFAULT_METHOD", "EstimateResult", "MethodFn", "NeuralConfig", "available_methods",
           "estimate_mi", "get_method", "register_method"]
