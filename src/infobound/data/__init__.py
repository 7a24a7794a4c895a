"""Offline datasets, local-path loaders and batched on-device augmentations."""

from .augment import (
    IMAGE_DEFAULTS,
    ImageAugment,
    ImageKind,
    SignalAugment,
    build_augmentation,
    default_image_augment,
    image_kind,
)
from .datasets import (
    DATASETS,
    DatasetSplits,
    IndexedTensorDataset,
    available_datasets,
    load_cifar10,
    load_cifar100,
    load_dataset,
    load_digits,
    load_mnist1d,
    load_npy,
    load_stl10,
    stratified_indices,
    subsample,
    to_float,
)

__all__ = [
    "DATASETS", "DatasetSplits", "IMAGE_DEFAULTS", "IndexedTensorDataset", "ImageAugment", "ImageKind", "SignalAugment",
    "available_datasets", "default_image_augment", "image_kind",
    "build_augmentation", "load_cifar10", "load_cifar100", "load_dataset", "load_digits", "load_mnist1d",
    "load_npy", "load_stl10", "stratified_indices", "subsample", "to_float",
]

# Two-view halves and real MNIST (the Tschannen benchmark's data).
from .halves import TwoViewSplits, load_halves, split_halves  # noqa: E402
from .mnist import load_fashion_mnist, load_mnist, read_idx  # noqa: E402
from .folder import load_image_folder  # noqa: E402

__all__ += ["TwoViewSplits", "load_fashion_mnist", "load_halves", "load_image_folder", "load_mnist", "read_idx",
            "split_halves"]
