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
    assert "nats" in out and "95% CI" in out and "bits" in out
    saved = json.loads((data / "result.json").read_text())
    assert saved["method"] == "neural" and saved["n_samples"] == 400
    assert saved["ci"][0] <= saved["value"] <= saved["ci"][1]
    assert saved["details"]["batch_size"] == 32


def test_csv_with_column_names_and_bound_options(data, capsys):
    csv = str(data / "xy.csv")
    main(["estimate", csv, csv, "--x_columns", "[x1,x2]", "--y_columns", "[y1,y2]", "--bound", "ml_cpc",
          "--alpha", "0.1", *TINY])
    out = capsys.readouterr().out
    assert "ml_cpc bound" in out and "N = 400" in out


def test_warnings_are_printed_as_one_line(data, capsys):
    main(["estimate", str(data / "x.npy"), str(data / "y.npy"), "--bound", "ml_cpc", "--alpha", "1e-6", *TINY])
    err = capsys.readouterr().err
    assert "infobound estimate: warning: --alpha 1e-06 is below the smallest measured safe" in err


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
])
def test_clear_errors(data, args, match):
    paths = [str(data / a) if a.endswith((".npy", ".csv")) else a for a in args]
    with pytest.raises(SystemExit, match=match):
        main(["estimate", *paths, *TINY])
