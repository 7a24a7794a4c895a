"""Ground-truth tasks: distributions that know their mutual information.

Every task follows the :class:`Task` protocol (``sample(n, seed)``, ``mutual_information``,
``dim_x``, ``dim_y``); most also give ``log_density_ratio`` and so the analytic critic.
"""

from .base import Task, TaskWithDensityRatio, make_generator
from .gaussian import CorrelatedGaussian, Staircase, rho_for_mi
from .multivariate import AdditiveUniformNoise, MultivariateNormal, MultivariateStudentT, gaussian_mi_from_covariance
from .suite import task_suite
from .transforms import TRANSFORMS, Transform, Transformed, get_transform, transformed

__all__ = [
    "AdditiveUniformNoise", "CorrelatedGaussian", "MultivariateNormal", "MultivariateStudentT", "Staircase",
    "TRANSFORMS", "Task", "TaskWithDensityRatio", "Transform", "Transformed", "gaussian_mi_from_covariance",
    "get_transform", "make_generator", "rho_for_mi", "task_suite", "transformed",
]
