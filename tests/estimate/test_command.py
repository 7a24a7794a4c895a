"""``infobound estimate`` through the real CLI entry point, on tiny .npy and .csv files."""

import json

import numpy as np
import pytest

from infobound.cli import main
from infobound.estimate.command import load_table

TINY = ["--max_steps", "30", "--eval_interval", "10", "--hidden", "16", "--batch_size", "32", "--progress", "false"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("estimate_cli")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 2))
    y = x + 0.5 * rng.standard_normal((400, 2))
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    np.save(folder / "y_short.npy", y[:300])
    np.savetxt(folder / "xy.csv", np.hstack([x, y]), delimiter=",", header="x1,x2,y1,y2", comments="")
    np.savetxt(folder / "x_plain.csv", x, delimiter=",")
    (folder / "holes.csv").write_text("a,b\n1,2\n3,\n")
    return folder


def test_npy_files(data, capsys):
    main(["estimate", str(data / "x.npy"), str(data / "y.npy"), *TINY, "--output", str(data / "result.json")])
    out = capsys.readouterr().out
    assert "nats" in out and "sampling interval [" in out and "certified I ≥" in out and "bits" in out
    saved = json.loads((data / "result.json").read_text())
    # The command runs the library's default estimator (f-DIME over the copula), with its certificate.
    assert saved["method"] == "fdime" and saved["n_samples"] == 400
    assert saved["ci"][0] <= saved["value"] <= saved["ci"][1]
    assert saved["details"]["config"]["batch_size"] == 32 and saved["details"]["n_test"] == 60
    assert isinstance(saved["lower"], float) and saved["lower"] < saved["value"]


def test_neural_method_and_its_certification_split(data, capsys):
    main(["estimate", str(data / "x.npy"), str(data / "y.npy"), "--method", "neural", *TINY,
          "--output", str(data / "neural.json")])
    saved = json.loads((data / "neural.json").read_text())
    assert saved["method"] == "neural" and saved["details"]["batch_size"] == 32
    assert isinstance(saved["lower"], float) and saved["details"]["n_certify"] == 80
    assert "ml_cpc bound, separable critic" in capsys.readouterr().out


def test_csv_with_column_names_and_bound_options(data, capsys):
    csv = str(data / "xy.csv")
    main(["estimate", csv, csv, "--x_columns", "[x1,x2]", "--y_columns", "[y1,y2]", "--bound", "ml_cpc",
          "--alpha", "0.1", *TINY])
    out = capsys.readouterr().out
    assert "ml_cpc bound" in out and "N = 400" in out


def test_warnings_are_printed_as_one_line(data, capsys):
    main(["estimate", str(data / "x.npy"), str(data / "y.npy"), "--bound", "ml_cpc", "--alpha", "1e-6", *TINY])
    err = capsys.readouterr().err
    assert "infobound estimate: warning: --alpha 1e-06 is below the smallest safe" in err


def test_csv_without_header_and_nonneural_method(data, capsys):
    main(["estimate", str(data / "x_plain.csv"), str(data / "y.npy"), "--method", "ksg"])
    out = capsys.readouterr().out
    assert "ksg" in out and "nats" in out


def test_load_table_reads_header_and_plain_files(data):
    table, names = load_table(data / "xy.csv")
    assert names == ["x1", "x2", "y1", "y2"] and table.shape == (400, 4)
    table, names = load_table(data / "x_plain.csv")
    assert names is None and table.shape == (400, 2)


@pytest.mark.parametrize("args, match", [
    (["x.npy", "y_short.npy"], "same number of samples"),
    (["x.npy", "missing.npy"], "no such data file"),
    (["x.npy", "y.npy", "--bound", "nope"], "unknown bound"),
    (["x.npy", "y.npy", "--critic", "nope"], "unknown critic"),
    (["x.npy", "y.npy", "--method", "nope"], "unknown method"),
    (["xy.csv", "xy.csv", "--x_columns", "[x1,zz]"], "no column 'zz'"),
    (["holes.csv", "holes.csv"], "could not read numbers"),
    (["x.npy", "y.npy", "--method", "ksg", "--bound", "js"], "apply to --method neural"),
    (["x.npy", "y.npy", "--method", "fdime", "--standardise", "zscore"], "--standardise apply to --method neural, not 'fdime'"),
])
def test_clear_errors(data, args, match):
    paths = [str(data / a) if a.endswith((".npy", ".csv")) else a for a in args]
    tiny = [] if "ksg" in args else TINY
    with pytest.raises(SystemExit, match=match):
        main(["estimate", *paths, *tiny])


def test_trained_options_are_refused_by_nonparametric_methods(data):
    with pytest.raises(SystemExit, match="--max_steps apply to the trained estimators"):
        main(["estimate", str(data / "x.npy"), str(data / "y.npy"), "--method", "gcmi", "--max_steps", "5"])


def test_flow_method_through_the_cli(data, capsys):
    main(["estimate", str(data / "x.npy"), str(data / "y.npy"), "--method", "flow", *TINY, "--layers", "1",
          "--output", str(data / "flow.json")])
    out = capsys.readouterr().out
    assert "flow Gaussianisation" in out and "certified I ≥" in out
    saved = json.loads((data / "flow.json").read_text())
    assert saved["method"] == "flow" and saved["details"]["config"]["hidden_layers"] == 1
    assert saved["details"]["config"]["hidden"] == 16 and saved["details"]["flow_steps"] <= 30
