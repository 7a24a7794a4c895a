"""Ground-truth tasks: distributions that know their mutual information."""

from .base import Task, TaskWithDensityRatio, make_generator
from .gaussian import CorrelatedGaussian, Staircase, rho_for_mi

__all__ = ["CorrelatedGaussian", "Staircase", "Task", "TaskWithDensityRatio", "make_generator", "rho_for_mi"]
