"""Your own encoder: an nn.Module instance, 'package.module:Class' and 'file.py:Class', in Python and on the CLI."""

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from infobound.data import load_dataset
from infobound.methods import SimCLR, load_method, train_and_evaluate
from infobound.models import resolve_encoder

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(epochs=1, batch_size=48, few_label_per_class=0, proj_hidden=32, proj_dim=16)

USER_MODULE = textwrap.dedent('''
    import torch
    from torch import nn

    class Bare(nn.Module):  # no output_dim, no stages
        def __init__(self, hidden=24):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(hidden), nn.ReLU())
        def forward(self, x):
            return self.net(x)

    class Shaped(nn.Module):  # takes input_shape; declares output_dim
        def __init__(self, input_shape, width=8):
            super().__init__()
            self.seen_shape = tuple(input_shape)
            self.lin = nn.Linear(int(torch.tensor(input_shape).prod()), width)
            self.output_dim = width
        def forward(self, x):
            return self.lin(x.flatten(1))

    def factory(input_shape):
        return Shaped(input_shape, width=5)

    NOT_A_MODULE = 3
''')


@pytest.fixture()
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_encoders.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_encoders", None)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", num_samples=240, seed=0)  # [N, 1, 8, 8]: 192 train / 48 test


def test_import_paths_build_and_measure_the_encoder(user_module):
    shaped = resolve_encoder("my_encoders:Shaped", (1, 8, 8), width=6)
    assert shaped.seen_shape == (1, 8, 8) and shaped.output_dim == 6  # input_shape passed because it is asked for
    bare = resolve_encoder("my_encoders:Bare", (1, 8, 8), hidden=7)
    assert bare.output_dim == 7  # measured by a forward pass and stored
    assert bare(torch.zeros(3, 1, 8, 8)).shape == (3, 7)
    assert resolve_encoder("my_encoders:factory", (2, 3)).output_dim == 5
    by_file = resolve_encoder(f"{user_module / 'my_encoders.py'}:Shaped", (4,))
    assert by_file.output_dim == 8 and by_file.seen_shape == (4,)
    assert resolve_encoder("mlp", (1, 8, 8)).output_dim == 128  # built-in names still work


@pytest.mark.parametrize("spec, error, match", [
    ("my_encoders", ValueError, "package.module:Class"),
    ("no_such_module_xyz:Enc", ImportError, "cannot import 'no_such_module_xyz'"),
    ("my_encoders:Missing", ImportError, "no attribute 'Missing'"),
    ("my_encoders:NOT_A_MODULE", TypeError, "not a class or function"),
    ("nowhere/enc.py:Enc", ImportError, "does not exist"),
])
def test_import_errors_name_the_problem(user_module, spec, error, match):
    with pytest.raises(error, match=match):
        resolve_encoder(spec, (1, 8, 8))


def test_an_encoder_returning_a_map_is_rejected():
    conv = nn.Conv2d(1, 4, 3)  # returns [n, 4, 6, 6], not [n, d]
    with pytest.raises(ValueError, match=r"must return h of shape \[n, d\].*flatten or pool"):
        SimCLR((1, 8, 8), 10, dataset="digits", encoder=conv)
    with pytest.raises(ValueError, match="encoder_kwargs"):
        resolve_encoder(nn.Flatten(), (1, 8, 8), width=3)


@pytest.mark.parametrize("regularizer", ["none", "lbe", "rc"])
def test_simclr_trains_the_module_instance_it_is_given(digits, tmp_path, regularizer):
    torch.manual_seed(0)
    enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())  # a plain module: one stage, h
    before = enc[1].weight.detach().clone()
    metrics = train_and_evaluate(digits, tmp_path, method="simclr", encoder=enc, regularizer=regularizer, **TINY)
    assert not torch.equal(enc[1].weight, before)  # the user's own module was trained in place
    assert enc.output_dim == 32 and metrics["linear_acc"] > 0.3  # chance 0.1
    same = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
    reloaded = SimCLR.load_from_checkpoint(tmp_path / "model.ckpt", encoder=same, map_location="cpu")
    assert torch.equal(reloaded.encoder[1].weight, enc[1].weight)


def test_lbe_sees_the_user_stages_with_h_last(digits):
    sys.path.insert(0, str(ROOT))
    try:
        from examples.own_encoder import SmallCNN
    finally:
        sys.path.remove(str(ROOT))
    from infobound.models.encoders import encoder_stages

    enc = SmallCNN(digits.input_shape, width=4, output_dim=12).eval()
    x = digits.x_train[:5]
    stages = encoder_stages(enc, x)
    assert [s.shape[1] for s in stages] == [4, 8, 16, 12] and torch.equal(stages[-1], enc(x))
    assert len(encoder_stages(nn.Flatten(), x)) == 1  # a plain module is a single stage, h


def test_cli_encoder_by_path_and_probe_rebuilds_it(digits, tmp_path, monkeypatch, capsys):
    from infobound.cli import main as cli_main

    monkeypatch.chdir(ROOT)  # `examples.own_encoder` is found from the current directory, as with python -m
    out = tmp_path / "run"
    cli_main(["pretrain", "--dataset", "digits", "--num_samples", "240", "--encoder", "examples.own_encoder:SmallCNN",
              "--encoder_kwargs", '{"width": 4, "output_dim": 16}', "--epochs", "1", "--batch_size", "48",
              "--proj_hidden", "32", "--proj_dim", "16", "--few_label_per_class", "0", "--out", str(out)])
    metrics = json.loads((out / "metrics.json").read_text())
    module = load_method(out / "model.ckpt")  # rebuilt from the stored string + kwargs
    assert type(module.encoder).__name__ == "SmallCNN" and module.encoder.output_dim == 16
    assert module.data_options["num_samples"] == 240
    capsys.readouterr()
    cli_main(["probe", "--checkpoint", str(out / "model.ckpt"), "--few_label_per_class", "0"])
    probed = json.loads(capsys.readouterr().out)
    assert probed["linear_acc"] == pytest.approx(metrics["linear_acc"])
    # Resuming with other encoder settings would report one encoder for weights trained with another.
    with pytest.raises(SystemExit, match=r"other settings.*encoder_kwargs.width: 4 there, 8 now"):
        cli_main(["pretrain", "--dataset", "digits", "--num_samples", "240", "--encoder", "examples.own_encoder:SmallCNN",
                  "--encoder_kwargs", '{"width": 8, "output_dim": 16}', "--epochs", "1", "--batch_size", "48",
                  "--proj_hidden", "32", "--proj_dim", "16", "--few_label_per_class", "0", "--out", str(out),
                  "--resume", "true"])


def test_example_script_runs_tiny(tmp_path, capsys):
    sys.path.insert(0, str(ROOT))
    try:
        from examples.own_encoder import main
    finally:
        sys.path.remove(str(ROOT))
    for encoder in ("cnn", "plain"):
        result = main(["--dataset", "digits", "--num_samples", "240", "--epochs", "1", "--batch_size", "48",
                       "--width", "4", "--encoder", encoder, "--out", str(tmp_path / encoder)])
        assert result["train"] == 192 and result["test"] == 48
        assert 0.1 < result["linear_acc"] <= 1.0 and 0.5 < result["raw_pixels_linear_acc"] <= 1.0
