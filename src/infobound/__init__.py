"""infobound: mutual-information estimation and representation learning with variational and contrastive bounds.

The package imports its parts on first use, so ``infobound --help`` and ``import infobound`` stay
fast (no torch until a bound or an estimator is touched).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["EstimateResult", "bounds", "estimate_mi", "__version__"]

_LAZY = {"bounds": ("infobound.bounds", None), "estimate_mi": ("infobound.estimate", "estimate_mi"),
         "EstimateResult": ("infobound.estimate", "EstimateResult")}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'infobound' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
