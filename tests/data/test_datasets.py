"""Dataset loaders: shapes, splits, offline generation, local-file formats and the missing-path error."""

import pickle

import numpy as np
import pytest
import torch

from infobound.data import IndexedTensorDataset, available_datasets, load_dataset, to_float


def test_mnist1d_is_generated_locally_with_a_size_option_and_no_side_effects(monkeypatch):
    import mnist1d.data

    monkeypatch.setattr(mnist1d.data, "get_dataset", lambda *a, **k: pytest.fail("download path used"))
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    d = load_dataset("mnist1d", num_samples=500, seed=0)
    assert np.array_equal(np.random.get_state()[1], before)  # the global NumPy RNG is left as it was
    assert d.x_train.shape == (400, 40) and d.x_test.shape == (100, 40) and d.input_shape == (40,)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.num_classes == 10 and set(d.y_train.tolist()) == set(range(10))
    again = load_dataset("mnist1d", num_samples=500, seed=0)
    assert torch.equal(d.x_train, again.x_train)
    assert not torch.equal(d.x_train, load_dataset("mnist1d", num_samples=500, seed=1).x_train)


def test_mnist1d_rejects_unknown_generator_arguments():
    with pytest.raises(ValueError, match="unknown MNIST-1D generator argument"):
        load_dataset("mnist1d", num_samples=100, noise=3)


def test_digits_split_is_stratified_and_seeded():
    d = load_dataset("digits", seed=0)
    assert d.x_train.shape == (1437, 1, 8, 8) and d.x_test.shape == (360, 1, 8, 8)
    assert 0.0 <= float(d.x_train.min()) and float(d.x_train.max()) <= 1.0
    assert torch.bincount(d.y_test).min() >= 35  # ~36 per class
    assert not torch.equal(d.y_test, load_dataset("digits", seed=1).y_test)


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "stl10", "npy"])
def test_local_datasets_give_a_clear_error_when_absent(name, tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir|--data-dir"):
        load_dataset(name)
    with pytest.raises(FileNotFoundError, match="not found under"):
        load_dataset(name, data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(name, data_dir=tmp_path / "nowhere")


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("imagenet")
    assert {"mnist1d", "digits", "npy", "cifar10", "cifar100", "stl10"} <= set(available_datasets())


def _pickle(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj))


def test_cifar10_python_format(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        _pickle(tmp_path / "cifar-10-batches-py" / f"data_batch_{i}",
                {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": [i % 10] * 4})
    test = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    _pickle(tmp_path / "cifar-10-batches-py" / "test_batch", {"data": test, "labels": [1, 2, 3]})
    d = load_dataset("cifar10", data_dir=tmp_path)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_train.dtype == torch.uint8 and d.num_classes == 10
    assert torch.equal(d.x_test[0], torch.from_numpy(test[0].reshape(3, 32, 32)))
    assert d.y_test.tolist() == [1, 2, 3]
    assert to_float(d.x_test).max() <= 1.0 and to_float(d.x_test).dtype == torch.float32


def test_cifar100_binary_format_reads_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    rec = lambda fine: np.concatenate([[7, fine], np.full(3072, fine, dtype=np.uint8)]).astype(np.uint8)  # noqa: E731
    np.stack([rec(5), rec(42)]).tofile(folder / "train.bin")
    np.stack([rec(99)]).tofile(folder / "test.bin")
    d = load_dataset("cifar100", data_dir=tmp_path)
    assert d.y_train.tolist() == [5, 42] and d.y_test.tolist() == [99] and d.num_classes == 100
    assert int(d.x_train[1].float().mean()) == 42


def test_stl10_binary_is_transposed_and_labels_start_at_zero(tmp_path):
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    img = np.arange(3 * 96 * 96, dtype=np.int64).reshape(3, 96, 96) % 251  # [c, h, w]
    for split, n in (("train", 2), ("test", 1)):
        np.stack([img.transpose(0, 2, 1)] * n).astype(np.uint8).tofile(folder / f"{split}_X.bin")  # stored column-major
        np.full(n, 10, dtype=np.uint8).tofile(folder / f"{split}_y.bin")
    d = load_dataset("stl10", data_dir=tmp_path)
    assert d.x_train.shape == (2, 3, 96, 96) and d.y_train.tolist() == [9, 9]
    assert torch.equal(d.x_test[0].long(), torch.from_numpy(img))


def test_npy_whole_and_split_layouts(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(50, 6)))
    np.save(tmp_path / "y.npy", np.repeat(np.arange(5), 10))
    d = load_dataset("npy", data_dir=tmp_path, test_fraction=0.2)
    assert d.x_train.shape == (40, 6) and d.x_test.shape == (10, 6) and d.x_train.dtype == torch.float32
    assert d.num_classes == 5
    split = tmp_path / "split"
    split.mkdir()
    for name, arr in {"x_train": np.zeros((4, 2, 3), np.uint8), "y_train": np.array([0, 1, 0, 1]),
                      "x_test": np.ones((2, 2, 3), np.uint8), "y_test": np.array([1, 2])}.items():
        np.save(split / f"{name}.npy", arr)
    d = load_dataset("npy", data_dir=split)
    assert d.x_train.dtype == torch.uint8 and d.input_shape == (2, 3) and d.num_classes == 3
    np.save(split / "y_test.npy", np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="integer classes"):
        load_dataset("npy", data_dir=split)


def test_indexed_dataset_returns_the_index():
    ds = IndexedTensorDataset(torch.arange(10.0).view(5, 2), torch.arange(5))
    x, y, i = ds[3]
    assert len(ds) == 5 and i == 3 and int(y) == 3 and x.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError):
        IndexedTensorDataset(torch.zeros(3), torch.zeros(4))
