"""infobound bench tschannen: bound specs, the non-i.i.d. overshoot, and smoke runs of all six experiments."""

import json
import math

import pytest
import torch

from infobound import bounds
from infobound.bench.tschannen import EXPERIMENTS, resolve_params, run_experiment
from infobound.bench.tschannen.noniid import SharedLatentGaussian
from infobound.bench.tschannen.training import BoundSpec


def test_bound_spec_by_name_with_options():
    spec = BoundSpec.parse("ml_cpc:alpha=0.1")
    scores = torch.randn(8, 8)
    assert spec.name == "ml_cpc" and spec.kwargs == {"alpha": 0.1}
    assert torch.equal(spec(scores), bounds.ml_cpc(scores, alpha=0.1))
    assert BoundSpec.parse("infonce").label == "I_NCE" and BoundSpec.parse("nwj").label == "I_NWJ"
    assert BoundSpec.parse("mine").trainer()(scores).shape == ()  # stateful bound: fresh moving average
    with pytest.raises(ValueError, match="unknown bound"):
        BoundSpec.parse("nope")
    with pytest.raises(ValueError, match="key=value"):
        BoundSpec.parse("ml_cpc:alpha")


def test_simple_critic_exceeds_true_mi_only_on_non_iid_batches():
    """The critic a·x·y (a = 0.3) on the shared-latent batches: both bounds far above the truth; i.i.d.: not."""
    truth = SharedLatentGaussian().mutual_information
    for iid in (False, True):
        task, gen = SharedLatentGaussian(iid=iid), torch.Generator().manual_seed(0)
        batches = [task.sample(128, seed=gen) for _ in range(150)]
        nce = torch.tensor([float(bounds.infonce(0.3 * x @ y.T)) for x, y in batches])
        nwj = torch.tensor([float(bounds.nwj(0.3 * x @ y.T + 1.0)) for x, y in batches])
        for values, factor in ((nce, 5.0), (nwj, 3.0)):
            mean, se = float(values.mean()), float(values.std()) / math.sqrt(len(values))
            if iid:
                assert mean < truth + 3 * se
            else:
                assert mean > factor * truth


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_runs_and_writes_table_json_png(name, tmp_path):
    params = resolve_params(EXPERIMENTS[name], quick=True, estimators=["infonce"], steps=4 if name != "noniid" else 20,
                            eval_every=2)
    if "couplings" in params:
        params["couplings"] = ["affine"]
    if "targets" in params:
        params["targets"] = [2.0]
    if "critics" in params:
        params["critics"] = ["bilinear", "concat"]
    result = run_experiment(name, params, workers=1, out=tmp_path, verbose=False)
    assert (tmp_path / f"{name}.png").stat().st_size > 1000
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["experiment"] == name and len(saved["table"]) == len(result["settings"])
    for entry in saved["settings"]:
        (run,) = entry["runs"]
        if name == "noniid":
            assert len(run["train_bound"]) == 20 and run["true_mi"] == pytest.approx(0.020411, abs=1e-6)
            continue
        assert run["step"] == [0, 2, 4]
        assert all(0.0 <= a <= 1.0 for a in run["accuracy"])
        if name in ("invertible", "adversarial"):
            for key in ("inverse_error", "inverse_error_float64"):
                errors = run[key] if isinstance(run[key], list) else [run[key]]
                assert max(errors) < (1e-4 if key == "inverse_error" else 1e-10)
        if name == "conditioning":
            assert len(run["log_condition"]) == 3 and len(run["log_condition"][0]) == params["condition_examples"]
    if name != "noniid":
        assert 0.5 < saved["raw_baseline"] <= 1.0  # digits top halves


def test_cli_dispatches_to_the_benchmark(tmp_path, capsys):
    from infobound.cli import main

    main(["bench", "tschannen", "--experiment", "noniid", "--quick", "true", "--steps", "10", "--seeds", "[3]",
          "--workers", "1", "--out", str(tmp_path)])
    assert (tmp_path / "noniid.json").exists()
    assert "non-i.i.d." in capsys.readouterr().out


def test_finished_runs_are_kept_and_reused_and_other_parameters_rerun(tmp_path, monkeypatch):
    import infobound.bench.tschannen as bench

    params = resolve_params(EXPERIMENTS["noniid"], quick=True, estimators=["infonce"], steps=10, seeds=[0, 1])
    first = run_experiment("noniid", params, workers=1, out=tmp_path, verbose=False)
    assert len(list((tmp_path / "runs" / "noniid").glob("seed*.json"))) == 2 * len(first["settings"])

    def fail(*args):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(bench, "run_one", fail)
    again = run_experiment("noniid", params, workers=1, out=tmp_path, verbose=False)
    assert again["table"] == first["table"]
    with pytest.raises(AssertionError, match="trained again"):
        run_experiment("noniid", {**params, "steps": 11}, workers=1, out=tmp_path, verbose=False)
