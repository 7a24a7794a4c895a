"""Every file-loading entry point refuses a file whose pickle would run code, and nothing runs.

Each malicious file's pickle calls ``os.system("touch MARKER")`` on load (the attack a shared
checkpoint or teacher makes possible); the test checks the refusal's message and that MARKER does
not exist afterwards. The same payload, loaded with plain ``pickle.load``, does create the marker
(the first test), so a missing marker means the loader refused it, not that the payload is inert.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from infobound.cli import main as cli_main
from infobound.data import load_dataset
from infobound.safe_load import UnsafeFileError, load_data_pickle, load_torch


class _RunsCode:
    """Unpickling this calls ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return (os.system, (self.command,))


def _payload(marker: Path) -> _RunsCode:
    return _RunsCode(f"touch {marker}")


def _evil_torch_file(path: Path, marker: Path, **extra: object) -> Path:
    """A torch checkpoint (zip format) with a code-running object among plausible entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**extra, "state_dict": {"w": torch.zeros(2)}, "hyper_parameters": _payload(marker)}, path)
    return path


def _assert_refused(err: BaseException, path: Path, marker: Path) -> None:
    message = str(err.value if isinstance(err, pytest.ExceptionInfo) else err)
    assert "refused" in message and ("posix.system" in message or "os.system" in message), message
    assert str(path) in message and "\n" not in message
    assert not marker.exists(), "the malicious pickle ran"


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER"


def test_the_payload_runs_under_a_plain_pickle_load(tmp_path: Path, marker: Path) -> None:
    pickle.loads(pickle.dumps(_payload(marker)))
    assert marker.exists()


def test_load_torch_refuses_a_zip_checkpoint_and_a_legacy_pickle(tmp_path: Path, marker: Path) -> None:
    zipped = _evil_torch_file(tmp_path / "evil.pt", marker)
    with pytest.raises(UnsafeFileError) as info:
        load_torch(zipped)
    _assert_refused(info, zipped, marker)
    legacy = tmp_path / "evil.pkl"
    legacy.write_bytes(pickle.dumps({"state_dict": _payload(marker)}, protocol=2))
    with pytest.raises(UnsafeFileError) as info:
        load_torch(legacy, "teacher")
    _assert_refused(info, legacy, marker)


def test_load_torch_reads_plain_checkpoints_and_names_other_files(tmp_path: Path) -> None:
    good = tmp_path / "good.pt"
    state = {"epoch": 3, "shape": (1, 2), "history": [{"acc": 0.5}], "w": torch.arange(3.0), "name": "x"}
    torch.save(state, good)
    loaded = load_torch(good)
    assert loaded["shape"] == (1, 2) and torch.equal(loaded["w"], state["w"]) and loaded["history"] == state["history"]
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="is not a torch checkpoint"):
        load_torch(junk)
    with pytest.raises(FileNotFoundError):
        load_torch(tmp_path / "missing.pt")


def test_cli_probe_refuses_a_malicious_checkpoint(tmp_path: Path, marker: Path) -> None:
    path = _evil_torch_file(tmp_path / "model.ckpt", marker, infobound={"method": "simclr", "data": {"name": "digits"}})
    with pytest.raises((UnsafeFileError, SystemExit)) as info:
        cli_main(["probe", "--checkpoint", str(path)])
    _assert_refused(info, path, marker)


def test_cli_distill_refuses_a_malicious_teacher(tmp_path: Path, marker: Path) -> None:
    path = _evil_torch_file(tmp_path / "teacher.pt", marker, kind="infobound.distill.teacher/1")
    with pytest.raises((UnsafeFileError, SystemExit)) as info:
        cli_main(["distill", "--student", "mlp_small", "--teacher", str(path), "--dataset", "mnist1d", "--num_samples", "200",
                  "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet", "true"])
    _assert_refused(info, path, marker)


def test_pretrain_resume_refuses_a_malicious_last_checkpoint(tmp_path: Path, marker: Path) -> None:
    from infobound.methods import train_and_evaluate
    from infobound.methods.train import LAST_CHECKPOINT

    path = _evil_torch_file(tmp_path / LAST_CHECKPOINT, marker)
    splits = load_dataset("mnist1d", num_samples=200, seed=0)
    with pytest.raises(UnsafeFileError) as info:
        train_and_evaluate(splits, tmp_path, epochs=1, batch_size=32, resume=True, proj_hidden=16, proj_dim=8)
    _assert_refused(info, path, marker)


def test_lightning_resume_itself_loads_weights_only(tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Behind our check, Lightning's own torch.load must not run the payload either (weights_only=True is
    # passed explicitly, so TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD cannot turn it off).
    import lightning as L
    from lightning.pytorch.trainer.connectors.checkpoint_connector import _CheckpointConnector

    path = _evil_torch_file(tmp_path / "last.ckpt", marker)
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(pickle.UnpicklingError):
        _CheckpointConnector(trainer).resume_start(str(path), weights_only=True)
    assert not marker.exists()


def test_distill_resume_refuses_a_malicious_checkpoint(tmp_path: Path, marker: Path) -> None:
    from infobound.distill.train import TrainConfig, train_teacher

    path = _evil_torch_file(tmp_path / "checkpoints" / "teacher_last.pt", marker)
    data = load_dataset("mnist1d", num_samples=200, seed=0)
    with pytest.raises(UnsafeFileError) as info:
        train_teacher("mlp_small", data, TrainConfig(epochs=1, batch_size=32), out_dir=tmp_path, log=None)
    _assert_refused(info, path, marker)


def test_cifar_loader_refuses_a_malicious_batch_and_reads_plain_ones(tmp_path: Path, marker: Path) -> None:
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {"batch_label": "b", "data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [1, 2],
                 "filenames": [b"a.png", b"b.png"]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    assert load_dataset("cifar10", data_dir=tmp_path).x_train.shape == (10, 3, 32, 32)
    evil = folder / "data_batch_3"
    evil.write_bytes(pickle.dumps({"data": _payload(marker), "labels": [1]}, protocol=2))
    with pytest.raises(UnsafeFileError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    _assert_refused(info, evil, marker)
    assert "only numpy arrays" in str(info.value)


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_data_unpickler_admits_numpy_arrays_and_plain_containers(tmp_path: Path, protocol: int) -> None:
    obj = {"data": np.arange(12, dtype=np.uint8).reshape(3, 4), "f": np.linspace(0, 1, 3), "labels": [0, 1, 2],
           "raw": b"\x00\xff", "name": "x", "pair": (1, 2.5), "nested": {"k": [None, True]}}
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    loaded = load_data_pickle(path)
    assert np.array_equal(loaded["data"], obj["data"]) and loaded["data"].dtype == np.uint8
    assert np.array_equal(loaded["f"], obj["f"])
    assert {k: v for k, v in loaded.items() if k not in ("data", "f")} == {k: v for k, v in obj.items() if k not in ("data", "f")}


def test_data_unpickler_refuses_other_globals_and_torch_files(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"x": __import__("collections").OrderedDict()}))
    with pytest.raises(UnsafeFileError, match="collections.OrderedDict"):
        load_data_pickle(path)
    torch_file = tmp_path / "w.pt"
    torch.save({"w": torch.zeros(1)}, torch_file)
    with pytest.raises(ValueError, match="not a pickle of plain data|refused"):
        load_data_pickle(torch_file)


def test_no_unsafe_load_remains_in_the_sources() -> None:
    # Every torch.load goes through infobound.safe_load; np.load never allows pickles; no raw pickle.load.
    root = Path(__file__).resolve().parents[1] / "src" / "infobound"
    offenders = []
    for source in root.rglob("*.py"):
        text = source.read_text()
        for needle in ("weights_only=False", "allow_pickle=True", "pickle.load(", "pickle.loads(", "torch.load("):
            if needle in text and source.name != "safe_load.py":
                offenders.append(f"{source.relative_to(root)}: {needle}")
    assert offenders == []
