"""Your own images: one sub-folder per class of PNG/JPEG files, read with Pillow (``image_folder``).

Two layouts are recognised under ``data_dir``:

- ``data_dir/<class>/*.png|jpg|jpeg`` — one pool, split into train/test stratified by class from
  ``seed`` (``test_fraction`` of every class goes to the test split);
- ``data_dir/train/<class>/…`` and ``data_dir/test/<class>/…`` (``val/`` is accepted for ``test/``) —
  the split is kept as given.

Classes are the sub-folder names in sorted order (label i = i-th name, as torchvision's
``ImageFolder``); files with other extensions are skipped. The images become one uint8 tensor
``[N, C, H, W]``: C = 1 when every image is grayscale (Pillow modes ``1``, ``L``, ``LA``, ``I``,
``I;16``, ``F``), otherwise C = 3 (RGB; alpha dropped, palettes expanded). Without ``image_size`` all
images must share one size; with it, each is resized so that its shorter side is ``image_size``
(bilinear, antialiased) and centre-cropped to a square — the usual evaluation transform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .datasets import DatasetSplits, _labels, _split

EXTENSIONS = (".png", ".jpg", ".jpeg")
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
_LAYOUT_HINT = ("expected DATA_DIR/<class>/*.png|jpg|jpeg (one sub-folder per class), or DATA_DIR/train/<class>/... "
                "and DATA_DIR/test/<class>/...")


def _class_files(root: Path) -> dict[str, list[Path]]:
    """Sorted class folder → sorted image files (only folders, only PNG/JPEG)."""
    out: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out[folder.name] = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in EXTENSIONS)
    return out


def _check_classes(root: Path, classes: dict[str, list[Path]]) -> None:
    if not classes:
        raise FileNotFoundError(f"image_folder: no class sub-folders under {str(root)!r}; {_LAYOUT_HINT}")
    empty = [name for name, files in classes.items() if not files]
    if empty:
        raise ValueError(f"image_folder: class folder(s) {empty} under {str(root)!r} hold no {'/'.join(EXTENSIONS)} "
                         f"files; remove them or add images ({_LAYOUT_HINT})")


def _read(files: Sequence[Path], image_size: int | None) -> np.ndarray:
    """uint8 ``[N, C, H, W]`` (C = 1 if every image is grayscale, else 3)."""
    from PIL import Image

    images = []
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                images.append(im.copy())
        except Exception as err:  # noqa: BLE001 — Pillow raises several types; name the file in any case
            raise ValueError(f"image_folder: cannot read {f}: {err}") from err
    gray = all(im.mode in GRAY_MODES for im in images)
    arrays = []
    for f, im in zip(files, images):
        im = im.convert("L" if gray else "RGB")
        if image_size is not None:
            w, h = im.size
            scale = image_size / min(w, h)
            im = im.resize((max(image_size, round(w * scale)), max(image_size, round(h * scale))),
                           Image.Resampling.BILINEAR)
            left, top = (im.size[0] - image_size) // 2, (im.size[1] - image_size) // 2
            im = im.crop((left, top, left + image_size, top + image_size))
        arrays.append(np.asarray(im, dtype=np.uint8))
    sizes = {a.shape[:2] for a in arrays}
    if len(sizes) > 1:
        first = arrays[0].shape[:2]
        odd = next(f for f, a in zip(files, arrays) if a.shape[:2] != first)
        raise ValueError(f"image_folder: images differ in size ({files[0]} is {first[1]}x{first[0]}, {odd} is "
                         f"{arrays[files.index(odd)].shape[1]}x{arrays[files.index(odd)].shape[0]}, "
                         f"{len(sizes)} sizes in all); pass image_size (CLI: --image_size N) to resize and centre-crop "
                         f"every image to N x N")
    x = np.stack(arrays)
    return x[:, None] if gray else x.transpose(0, 3, 1, 2)


def load_image_folder(data_dir: str | Path | None = None, seed: int = 0, test_fraction: float = 0.2,
                      image_size: int | None = None) -> DatasetSplits:
    """Images from class sub-folders (see the module doc) as uint8 ``[N, C, H, W]`` with integer labels.

    Args:
        data_dir: the folder holding one sub-folder per class (or ``train/`` and ``test/`` with those).
        seed: seed of the stratified train/test split of a single pool.
        test_fraction: test share of every class when there is no ``train/`` + ``test/`` split.
        image_size: resize (shorter side) and centre-crop every image to ``image_size`` × ``image_size``;
            ``None`` keeps the size, which must then be the same for all images.
    """
    if data_dir is None:
        raise FileNotFoundError("dataset 'image_folder' is read from a local directory: pass data_dir "
                                f"(CLI: --data_dir PATH); {_LAYOUT_HINT}")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image_folder: data directory {str(root)!r} does not exist; {_LAYOUT_HINT}")
    if image_size is not None and int(image_size) < 1:
        raise ValueError(f"`image_size` must be a positive integer, got {image_size}")
    test_dir = next((root / n for n in ("test", "val") if (root / n).is_dir()), None)
    if (root / "train").is_dir() and test_dir is not None:
        train, test = _class_files(root / "train"), _class_files(test_dir)
        _check_classes(root / "train", train)
        _check_classes(test_dir, test)
        unknown = sorted(set(test) - set(train))
        if unknown:
            raise ValueError(f"image_folder: test classes {unknown} in {str(test_dir)!r} have no folder in "
                             f"{str(root / 'train')!r}")
        names = list(train)
        files_tr = [f for c in names for f in train[c]]
        files_te = [f for c in names for f in test.get(c, [])]
        y_tr = np.repeat(np.arange(len(names)), [len(train[c]) for c in names])
        y_te = np.repeat(np.arange(len(names)), [len(test.get(c, [])) for c in names])
        x = _read(files_tr + files_te, image_size)
        x_tr, x_te = x[: len(files_tr)], x[len(files_tr):]
    else:
        pool = _class_files(root)
        _check_classes(root, pool)
        names = list(pool)
        files = [f for c in names for f in pool[c]]
        y = np.repeat(np.arange(len(names)), [len(pool[c]) for c in names])
        if min(len(v) for v in pool.values()) < 2:
            raise ValueError(f"image_folder: every class needs >= 2 images to be split into train and test; "
                             f"{[c for c in names if len(pool[c]) < 2]} have one")
        x_tr, x_te, y_tr, y_te = _split(_read(files, image_size), y, test_fraction, seed)
    if len(names) < 2:
        raise ValueError(f"image_folder: found one class ({names[0]!r}) under {str(root)!r}; need at least two")
    return DatasetSplits(torch.from_numpy(np.ascontiguousarray(x_tr)), _labels(y_tr),
                         torch.from_numpy(np.ascontiguousarray(x_te)), _labels(y_te), len(names), "image_folder",
                         classes=tuple(names))
