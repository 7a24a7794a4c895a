"""MNIST / Fashion-MNIST IDX files, image folders and stratified subsampling, on tiny files the tests write."""

import gzip

import numpy as np
import pytest
import torch

from infobound.data import load_dataset, load_fashion_mnist, load_image_folder, stratified_indices, subsample
from infobound.data.mnist import IDX_FILES

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def _idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file written independently of the reader: magic 0 0 0x08 ndim, big-endian dims, data."""
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def _fake(n_train=30, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": np.arange(n_train) % 10,
            "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": np.arange(n_test) % 10}


def _write(folder, arrays, gz):
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_FILES.items():
        data = _idx_bytes(arrays[key])
        if gz:
            with gzip.open(folder / f"{name}.gz", "wb") as fh:
                fh.write(data)
        else:
            (folder / name).write_bytes(data)


@pytest.mark.parametrize("name,layout", [("mnist", "MNIST/raw"), ("mnist", "."), ("fashion_mnist", "FashionMNIST/raw"),
                                         ("fashion_mnist", ".")])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_layouts_of_torchvision_and_the_original_sites(tmp_path, name, layout, gz):
    arrays = _fake()
    _write(tmp_path / layout, arrays, gz)
    d = load_dataset(name, data_dir=tmp_path)
    assert d.name == name and d.num_classes == 10 and d.input_shape == (1, 28, 28)
    assert d.x_train.dtype == torch.uint8 and d.x_train.shape == (30, 1, 28, 28) and d.x_test.shape == (20, 1, 28, 28)
    assert np.array_equal(d.x_train[:, 0].numpy(), arrays["x_train"])  # pixel for pixel, in file order
    assert d.y_test.tolist() == arrays["y_test"].tolist()
    if name == "fashion_mnist":
        assert d.classes[9] == "Ankle boot"
        f = load_fashion_mnist(tmp_path)  # the Python loader defaults to float32 in [0, 1]
        assert f.x_train.dtype == torch.float32 and torch.allclose(f.x_train * 255, d.x_train.float())


def test_missing_idx_files_are_named(tmp_path):
    arrays = _fake()
    _write(tmp_path / "FashionMNIST" / "raw", arrays, gz=True)
    (tmp_path / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"FashionMNIST/raw lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        load_dataset("fashion_mnist", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("fashion_mnist", data_dir=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_dataset("fashion_mnist")


def test_real_fashion_mnist_when_installed():
    root = "/usr/share/datasets/fashion-mnist"
    try:
        d = load_dataset("fashion_mnist", data_dir=root)
    except FileNotFoundError:
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    assert len(d.x_train) == 60000 and len(d.x_test) == 10000
    assert torch.bincount(d.y_test).tolist() == [1000] * 10  # the official test split is balanced


def _png(path, array, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode=mode).save(path)


def test_image_folder_single_pool_grayscale_split_stratified(tmp_path):
    for c, name in enumerate(["cat", "dog", "emu"]):
        for i in range(10):
            _png(tmp_path / name / f"{i:02d}.png", np.full((6, 5), 20 * c + i), "L")  # the value encodes the class
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    d = load_dataset("image_folder", data_dir=tmp_path, seed=0)
    assert d.classes == ("cat", "dog", "emu") and d.num_classes == 3
    assert d.x_train.shape == (24, 1, 6, 5) and d.x_test.shape == (6, 1, 6, 5) and d.x_train.dtype == torch.uint8
    assert torch.bincount(d.y_test).tolist() == [2, 2, 2]
    for x, y in zip(torch.cat([d.x_train, d.x_test]), torch.cat([d.y_train, d.y_test])):
        assert int(x[0, 0, 0]) // 20 == int(y)


def test_image_folder_colour_jpeg_train_test_layout_and_resize(tmp_path):
    rng = np.random.default_rng(1)
    for split, n in (("train", 3), ("test", 2)):
        for name in ("a", "b"):
            for i in range(n):
                size = (8, 12) if i % 2 else (10, 10)  # h, w: sizes differ
                img = Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8), mode="RGB")
                (tmp_path / split / name).mkdir(parents=True, exist_ok=True)
                img.save(tmp_path / split / name / f"{i}.JPG")
    with pytest.raises(ValueError, match="differ in size.*image_size"):
        load_image_folder(tmp_path)
    d = load_image_folder(tmp_path, image_size=8)
    assert d.x_train.shape == (6, 3, 8, 8) and d.x_test.shape == (4, 3, 8, 8)
    assert d.y_train.tolist() == [0, 0, 0, 1, 1, 1] and d.classes == ("a", "b")


def test_image_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_dataset("image_folder")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("image_folder", data_dir=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no class sub-folders"):
        load_dataset("image_folder", data_dir=tmp_path)
    _png(tmp_path / "a" / "0.png", np.zeros((4, 4)), "L")
    _png(tmp_path / "a" / "1.png", np.zeros((4, 4)), "L")
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=r"\['b'\].*hold no"):
        load_dataset("image_folder", data_dir=tmp_path)
    _png(tmp_path / "b" / "1.png", np.zeros((4, 4)), "L")
    with pytest.raises(ValueError, match=r"\['b'\] have one"):
        load_dataset("image_folder", data_dir=tmp_path)
    (tmp_path / "b" / "0.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read .*0.png"):
        load_dataset("image_folder", data_dir=tmp_path)


def test_stratified_indices_keep_every_class_share():
    y = np.repeat(np.arange(4), [50, 30, 15, 5])
    keep = stratified_indices(y, 20, seed=0)
    assert len(keep) == 20 and len(set(keep.tolist())) == 20 and keep.tolist() == sorted(keep.tolist())
    counts = np.bincount(y[keep.numpy()], minlength=4)
    assert counts.tolist() == [10, 6, 3, 1]  # exact shares 10, 6, 3, 1
    odd = np.bincount(y[stratified_indices(y, 7, seed=0).numpy()], minlength=4)
    assert odd.sum() == 7 and np.all(np.abs(odd - 7 * np.array([50, 30, 15, 5]) / 100) < 1)
    assert not torch.equal(stratified_indices(y, 20, seed=0), stratified_indices(y, 20, seed=1))


def test_num_samples_subsamples_any_dataset_stratified():
    full = load_dataset("digits", seed=3)  # the seed also draws digits' train/test split
    d = load_dataset("digits", num_samples=500, seed=3)
    assert len(d.x_train) + len(d.x_test) == 500
    assert abs(len(d.x_train) / 500 - len(full.x_train) / (len(full.x_train) + len(full.x_test))) < 0.01
    share_full = torch.bincount(full.y_train, minlength=10) / len(full.y_train)
    share = torch.bincount(d.y_train, minlength=10) / len(d.y_train)
    assert torch.all((share - share_full).abs() * len(d.y_train) <= 1.0)  # within one example per class
    rows = {tuple(r.flatten().tolist()) for r in full.x_train}
    assert all(tuple(r.flatten().tolist()) in rows for r in d.x_train)  # a subset of the train split
    assert load_dataset("digits", seed=3, num_samples=10**6).x_train.shape == full.x_train.shape
    assert len(load_dataset("mnist1d", num_samples=200).x_train) == 160  # MNIST-1D generates that many
    with pytest.raises(ValueError, match="num_samples"):
        subsample(full, 5)
