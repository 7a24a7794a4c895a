"""Frozen-feature evaluation shared by every method: linear probe, weighted kNN, few-label probe."""

from .probes import (evaluate_features, extract_features, few_label_probe, holdout_split, knn_accuracy, linear_probe,
                     probe_with, select_by_validation, tuned_linear_probe)

__all__ = ["evaluate_features", "extract_features", "few_label_probe", "holdout_split", "knn_accuracy", "linear_probe",
           "probe_with", "select_by_validation", "tuned_linear_probe"]
