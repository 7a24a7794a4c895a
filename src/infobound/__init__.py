"""infobound: mutual-information estimation and representation learning with variational and contrastive bounds."""

from . import bounds
from .estimate import EstimateResult, estimate_mi

__version__ = "0.1.0"
__all__ = ["EstimateResult", "bounds", "estimate_mi", "__version__"]
