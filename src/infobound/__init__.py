"""infobound: mutual-information estimation and representation learning with variational and contrastive bounds."""

from . import bounds

__version__ = "0.1.0"
__all__ = ["bounds", "__version__"]
