"""End to end: a tiny teacher → student run improves on the untrained student, resumes exactly, and
the command writes metrics.json; bad settings fail with clear errors."""

import json

import numpy as np
import pytest
import torch

from infobound.data import DatasetSplits
from infobound.distill import (
    DistillConfig,
    InputPipeline,
    TrainConfig,
    canonical_method,
    distill_student,
    evaluate,
    load_teacher,
    random_crop_flip,
    train_teacher,
)
from infobound.distill.command import distill_command
from infobound.models.zoo import build_model


def blobs(n_train=400, n_test=200, dim=20, classes=5, seed=0):
    """Gaussian class clusters: easy enough to learn in a few epochs, hard for an untrained net."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g) * 1.5
    def draw(n):
        y = torch.arange(n) % classes
        return centres[y] + torch.randn(n, dim, generator=g), y
    (xtr, ytr), (xte, yte) = draw(n_train), draw(n_test)
    return DatasetSplits(xtr, ytr, xte, yte, classes, "blobs")


FAST = dict(batch_size=32, lr=0.05)


@pytest.fixture(scope="module")
def data():
    return blobs()


@pytest.fixture(scope="module")
def teacher(data):
    model, meta = train_teacher("mlp_large", data, TrainConfig(epochs=3, **FAST), log=None)
    assert meta["test_acc"] > 0.8
    return model


@pytest.mark.parametrize("method", ["ml_cpc+kd", "crd"])
def test_tiny_distillation_improves_over_the_untrained_student(data, teacher, method):
    torch.manual_seed(0)
    untrained = evaluate(build_model("mlp_small", data.num_classes, data.input_shape), InputPipeline(data.x_train),
                         data.x_test, data.y_test)
    result = distill_student("mlp_small", teacher, data, TrainConfig(epochs=3, **FAST),
                             DistillConfig(method=method, nce_k=32), log=None)
    assert result.test_acc > untrained + 0.3
    assert len(result.history) == 3 and "contrast" in result.history[-1] and "mi_nats" in result.history[-1]


def test_interrupted_run_resumes_exactly(data, teacher, tmp_path):
    cfg, dcfg = TrainConfig(epochs=3, **FAST), DistillConfig(method="ml_cpc", nce_k=16, alpha=0.5)
    full = distill_student("mlp_small", teacher, data, cfg, dcfg, tmp_path / "a", log=None)

    class Stop(Exception):
        pass

    def stop_after_two(line):
        if line.startswith("epoch 2/3"):
            raise Stop

    with pytest.raises(Stop):
        distill_student("mlp_small", teacher, data, cfg, dcfg, tmp_path / "b", log=stop_after_two)
    lines = []
    resumed = distill_student("mlp_small", teacher, data, cfg, dcfg, tmp_path / "b", log=lines.append)
    assert lines[0].startswith("resumed from") and "epoch 2/3" in lines[0]
    assert resumed.resumed_from_epoch == 2
    assert resumed.test_acc == full.test_acc
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k
    with pytest.raises(ValueError, match="different run"):
        distill_student("mlp_small", teacher, data, cfg, DistillConfig(method="crd", nce_k=16), tmp_path / "b", log=None)


def test_command_trains_teacher_distils_and_writes_metrics(tmp_path):
    d = blobs(300, 100, seed=1)
    np.save(tmp_path / "x_train.npy", d.x_train.numpy()), np.save(tmp_path / "y_train.npy", d.y_train.numpy())
    np.save(tmp_path / "x_test.npy", d.x_test.numpy()), np.save(tmp_path / "y_test.npy", d.y_test.numpy())
    out = tmp_path / "run"
    metrics = distill_command("mlp_small", method="ml_cpc+kd", train_teacher="mlp_large", dataset="npy",
                              data_dir=tmp_path, epochs=2, out=out, nce_k=16, batch_size=32, quiet=True)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["student_acc"] == metrics["student_acc"] and 0 <= saved["student_acc"] <= 1
    assert saved["teacher_acc"] > 0.5 and (out / "teacher.pt").exists() and (out / "checkpoints" / "last.pt").exists()
    # a second student from the saved teacher
    again = distill_command("mlp_small", method="kd", teacher=out / "teacher.pt", dataset="npy", data_dir=tmp_path,
                            epochs=1, out=tmp_path / "run2", batch_size=32, quiet=True)
    assert again["teacher_acc"] == pytest.approx(saved["teacher_acc"])
    with pytest.raises(ValueError, match="exactly one"):
        distill_command("mlp_small", dataset="npy", data_dir=tmp_path, out=tmp_path / "x")


def test_bad_settings_raise_clear_errors(data, teacher, tmp_path):
    with pytest.raises(ValueError, match="unknown distillation method"):
        DistillConfig(method="fitnets")
    assert canonical_method("KD+ML-CPC") == "ml_cpc+kd" and canonical_method("none") == "student"
    other = DatasetSplits(data.x_train, data.y_train % 3, data.x_test, data.y_test % 3, 3, "blobs3")
    with pytest.raises(ValueError, match="teacher predicts 5 classes"):
        distill_student("mlp_small", teacher, other, TrainConfig(epochs=1), DistillConfig(method="kd"), log=None)
    with pytest.raises(FileNotFoundError):
        load_teacher(tmp_path / "missing.pt")
    torch.save({"hello": 1}, tmp_path / "bogus.pt")
    with pytest.raises(ValueError, match="not a teacher checkpoint"):
        load_teacher(tmp_path / "bogus.pt")


def test_random_crop_flip_returns_shifted_windows_of_the_padded_image():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    out = random_crop_flip(x, pad=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        windows = [padded[i, :, r:r + 6, c:c + 6] for r in range(5) for c in range(5)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(-1)) for w in windows)


def test_colour_images_are_standardised_augmented_and_distilled():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 3, 16, 16), dtype=torch.uint8, generator=g)
    y = torch.arange(64) % 4
    images = DatasetSplits(x, y, x[:16], y[:16], 4, "tiny-images")
    pipe = InputPipeline(images.x_train)
    assert pipe.augment
    flat = pipe(images.x_train).transpose(0, 1).reshape(3, -1)
    assert torch.allclose(flat.mean(1), torch.zeros(3), atol=1e-4) and torch.allclose(flat.std(1), torch.ones(3), atol=1e-2)
    teacher = build_model("resnet8", 4, (3, 16, 16))
    result = distill_student("resnet8", teacher, images, TrainConfig(epochs=1, batch_size=32),
                             DistillConfig(method="crd+kd", nce_k=8), log=None)
    assert 0.0 <= result.test_acc <= 1.0 and "kd" in result.history[0] and "contrast" in result.history[0]
