"""The registry behind ``estimate_mi(..., method=NAME)``: neural and non-neural estimators by name.

A method is any callable ``fn(x, y, *, seed, **options) -> EstimateResult``. The neural estimator
is "neural"; the non-neural ones (KSG, Gaussian/CCA, GCMI, histogram) live in ``nonparametric.py`` and
are registered here under their names. Plug in your own with :func:`register_method`.
"""

from __future__ import annotations

from typing import Any, Callable

from .result import EstimateResult

MethodFn = Callable[..., EstimateResult]
"""``fn(x, y, *, seed: int, **options) -> EstimateResult``."""

_METHODS: dict[str, MethodFn] = {}


def register_method(name: str, fn: MethodFn, *, overwrite: bool = False) -> MethodFn:
    """Make ``estimate_mi(x, y, method=name)`` call ``fn(x, y, seed=seed, **options)``.

    Raises:
        ValueError: ``name`` is taken and ``overwrite`` is False.
        TypeError: ``fn`` is not callable.
    """
    key = name.strip().lower()
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
    if key in _METHODS and not overwrite:
        raise ValueError(f"method {name!r} is already registered; pass overwrite=True to replace it")
    _METHODS[key] = fn
    return fn


def available_methods() -> list[str]:
    """Names accepted by ``estimate_mi(..., method=...)``."""
    return sorted(_METHODS)


def get_method(name: str) -> MethodFn:
    """The estimator registered under ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"`method` must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key not in _METHODS:
        raise ValueError(f"unknown method {name!r}; expected one of {available_methods()}")
    return _METHODS[key]


def _neural(x: Any, y: Any, *, seed: int = 0, **options: Any) -> EstimateResult:
    from .neural import estimate_neural

    return estimate_neural(x, y, seed=seed, **options)


def _dime(x: Any, y: Any, *, seed: int = 0, **options: Any) -> EstimateResult:
    from .dime import estimate_dime

    return estimate_dime(x, y, seed=seed, **options)


def _flow(x: Any, y: Any, *, seed: int = 0, **options: Any) -> EstimateResult:
    from .flow import estimate_flow

    return estimate_flow(x, y, seed=seed, **options)


def _doe(x: Any, y: Any, *, seed: int = 0, **options: Any) -> EstimateResult:
    from .doe import estimate_doe

    return estimate_doe(x, y, seed=seed, **options)


def _nonparametric(name: str, takes_seed: bool) -> MethodFn:
    # scipy is imported only when a non-neural method is used.
    def run(x: Any, y: Any, *, seed: int = 0, **options: Any) -> EstimateResult:
        from . import nonparametric

        fn = nonparametric.NONPARAMETRIC_METHODS[name]
        return fn(x, y, seed=seed, **options) if takes_seed else fn(x, y, **options)

    run.__name__ = name
    return run


register_method("neural", _neural)
register_method("fdime", _dime)
register_method("flow", _flow)
register_method("doe", _doe)
for _name, _takes_seed in (("ksg", True), ("gaussian", True), ("cca", True), ("gcmi", True), ("histogram", False)):
    register_method(_name, _nonparametric(_name, _takes_seed))

__all__ = ["MethodFn", "available_methods", "get_method", "register_method"]
