"""The command line as a user meets it: help, version, one-line errors, safe resume, one vocabulary."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from infobound.cli import BENCHMARKS, COMMANDS, main
from infobound.runs import check_settings, prepare_out

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN = ["pretrain", "--dataset", "digits", "--epochs", "1", "--batch_size", "128", "--encoder", "mlp",
            "--proj_hidden", "32", "--proj_dim", "16", "--few_label_per_class", "0", "--progress", "false"]
DISTILL = ["distill", "--train_teacher", "mlp_small", "--student", "mlp_small", "--dataset", "digits", "--epochs", "1",
           "--nce_k", "64", "--progress", "false", "--quiet"]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))


def _error(capsys, argv: list[str]) -> str:
    """Run a command that must fail as a user mistake: a SystemExit whose message (what Python prints
    on stderr, with exit status 1) is exactly one line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = exit_info.value.code
    assert isinstance(err, str) and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_mistake_exits_with_one_line_on_stderr_and_status_1(tmp_path):
    done = subprocess.run([sys.executable, "-m", "infobound.cli", "pretrain", "--dataset", "nope", "--out",
                           str(tmp_path / "run")], env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    err = done.stderr.strip()
    assert err.startswith("infobound pretrain: error: unknown dataset 'nope'; expected one of [") and "\n" not in err
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------ help


def test_top_level_help_is_fast_and_imports_no_torch():
    code = ("import sys; from infobound.cli import main; main(['--help']); "
            "assert 'torch' not in sys.modules and 'jsonargparse' not in sys.modules, 'heavy import'")
    done = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for command in COMMANDS:  # one line per command, with a description
        line = next(l for l in lines if l.strip().startswith(command + " "))
        assert len(line.split()) > 3, line
    assert any(l.strip().startswith("bench ") for l in lines)


def test_version_and_bench_help(capsys):
    main(["--version"])
    assert capsys.readouterr().out.strip() == f"infobound {__import__('infobound').__version__}"
    main(["bench", "--help"])
    out = capsys.readouterr().out
    assert all(any(l.strip().startswith(name + " ") for l in out.splitlines()) for name in BENCHMARKS)


@pytest.mark.parametrize("argv, prog", [(["pretrain"], "infobound pretrain"), (["distill"], "infobound distill"),
                                        (["estimate"], "infobound estimate"),
                                        (["bench", "suite"], "infobound bench suite")])
def test_subcommand_usage_names_the_subcommand(capsys, argv, prog):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {prog} ")
    for flag in ("--out", "--resume", "--overwrite", "--device", "--progress", "--seed"):
        if argv[0] in ("pretrain", "distill"):
            assert flag in out, flag


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("argv, match", [
    (["pretrain", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["pretrain", "--dataset", "cifar10", "--data_dir", "/no/such/dir"], "does not exist"),
    (["pretrain", "--dataset", "digits", "--objective", "nope"], "unknown objective 'nope'"),
    (["pretrain", "--dataset", "digits", "--method", "nope"], "unknown method 'nope'"),
    (["pretrain", "--epochs", "0"], "--epochs must be >= 1"),
    (["pretrain", "--device", "cuda:x"], "--device"),
    (["distill", "--student", "nope", "--train_teacher", "mlp_small"], "--student: unknown model 'nope'"),
    (["distill", "--student", "mlp_small", "--teacher", "/no/such/teacher.pt"], "--teacher '/no/such/teacher.pt': no such file"),
    (["distill", "--student", "mlp_small", "--train_teacher", "mlp_small", "--method", "nope"],
     "unknown distillation method 'nope'"),
    (["distill", "--student", "mlp_small", "--train_teacher", "mlp_small", "--epochs", "0"], "--epochs"),
    (["distill", "--student", "mlp_small"], "exactly one of --teacher CKPT and --train_teacher ARCH"),
    (["probe"], "--checkpoint PATH"),
    (["bench", "distill", "--pairs", "[nope]"], "unknown pair"),
])
def test_user_mistakes_are_one_line(capsys, tmp_path, argv, match):
    err = _error(capsys, [*argv, "--out", str(tmp_path / "run")] if argv[0] != "probe" else argv)
    assert err.startswith(f"infobound {argv[0] if argv[0] != 'bench' else 'bench ' + argv[1]}: error: ")
    assert match in err
    assert "=False" not in err and "()" not in err  # command-line spelling, not Python's


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        main(["pretrain", "--dataset", "nope", "--out", str(tmp_path), "--debug"])


# ------------------------------------------------------------------------------------------ resume


def test_pretrain_refuses_to_resume_or_restart_a_different_run(capfd, tmp_path):
    out = str(tmp_path / "run")
    main([*PRETRAIN, "--out", out])
    printed = capfd.readouterr()
    assert f"wrote {out}/metrics.json" in printed.out
    for noise in ("Tip", "GPU available", "deprecated", "weights_only"):  # Lightning kept quiet
        assert noise not in printed.out + printed.err, noise
    first = json.loads((tmp_path / "run" / "metrics.json").read_text())

    # the case: another objective and more epochs into a finished run
    err = _error(capfd, [*PRETRAIN, "--objective", "ml_cpc", "--epochs", "2", "--resume", "true", "--out", out])
    assert "other settings" in err and "epochs: 1 there, 2 now" in err and "'infonce' there, 'ml_cpc' now" in err
    assert "--overwrite true" in err and "resume=False" not in err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == first  # untouched

    err = _error(capfd, [*PRETRAIN, "--resume", "false", "--out", out])
    assert "not empty" in err and "--resume true" in err and "--overwrite true" in err

    main([*PRETRAIN, "--out", out])  # the same command again: resumes (a finished run is re-evaluated)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["epoch000.ckpt", "last.ckpt"]

    main([*PRETRAIN, "--objective", "ml_cpc", "--overwrite", "true", "--out", out])
    again = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert again["options"]["objective"] == "ml_cpc"
    assert json.loads((tmp_path / "run" / "settings.json").read_text())["options"]["objective"] == "ml_cpc"


def test_distill_refuses_a_different_run_in_its_folder(capsys, tmp_path):
    out = str(tmp_path / "kd")
    main([*DISTILL, "--method", "kd", "--out", out])
    assert f"-> {out}/metrics.json" in capsys.readouterr().out
    err = _error(capsys, [*DISTILL, "--method", "crd", "--out", out])
    assert "method: 'kd' there, 'crd' now" in err
    err = _error(capsys, [*DISTILL, "--method", "kd", "--resume", "false", "--out", out])
    assert "not empty" in err


def test_prepare_out_rules(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert prepare_out(out, {"a": 1}, resume=False) is False  # new folder: created, settings recorded
    assert prepare_out(out, {"a": 1}, resume=True) is True
    with pytest.raises(ValueError, match="a: 1 there, 2 now"):
        prepare_out(out, {"a": 2}, resume=True)
    with pytest.raises(ValueError, match="not empty"):
        prepare_out(out, {"a": 1}, resume=False)
    (out / "old.ckpt").write_text("x")
    assert prepare_out(out, {"a": 2}, resume=True, overwrite=True) is False
    assert not (out / "old.ckpt").exists()
    monkeypatch.setenv("LOCAL_RANK", "1")  # a second DDP rank: rank 0 has prepared the folder
    assert prepare_out(out, {"a": 3}, resume=False) is False
    monkeypatch.delenv("LOCAL_RANK")
    monkeypatch.chdir(out)
    with pytest.raises(ValueError, match="working directory"):
        prepare_out(out, {"a": 2}, resume=False, overwrite=True)
    with pytest.raises(ValueError, match="is a file"):
        prepare_out(out / "settings.json", {}, resume=True)
    check_settings(None, {"a": 1}, out)  # nothing recorded: nothing to compare
    with pytest.raises(ValueError, match=r"b.c: \(unset\) there, 1 now"):
        check_settings({"a": 1}, {"a": 1, "b": {"c": 1}}, out)


def test_bench_refuses_a_non_empty_out_without_resume(capsys, tmp_path):
    (tmp_path / "other.txt").write_text("not a bench")
    err = _error(capsys, ["bench", "suite", "--preset", "tiny", "--resume", "false", "--out", str(tmp_path)])
    assert err.startswith("infobound bench suite: error: --out") and "not empty" in err


# ------------------------------------------------------------------------------------------ estimate


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_estimate")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2))
    y = x + 0.5 * rng.standard_normal((300, 2))
    np.savetxt(folder / "xy.csv", np.hstack([x, y]), delimiter=",", header="x1,x2,y1,y2", comments="")
    (folder / "bad.csv").write_text("a,b,c\n1,2,3\n4,x,6\n")
    (folder / "hole.csv").write_text("1,2,3\n4,5,\n")
    (folder / "short.csv").write_text("a,b\n1,2\n3\n")
    return folder


@pytest.mark.parametrize("columns", [["--x_columns", "x1", "--y_columns", "y1"],
                                     ["--x_columns", "x1,x2", "--y_columns", "y1,y2"],
                                     ["--x_columns", "[x1, x2]", "--y_columns", "[y1, y2]"],
                                     ["--x_columns", "0", "--y_columns", "2,3"]])
def test_columns_as_a_name_or_a_list(table, capsys, columns):
    from scipy.stats import pearsonr

    main(["estimate", str(table / "xy.csv"), str(table / "xy.csv"), *columns, "--method", "gaussian", "--output", "-"])
    value = json.loads(capsys.readouterr().out)["value"]
    data = np.loadtxt(table / "xy.csv", delimiter=",", skiprows=1)
    if columns[3] == "y1":  # one column each: the Gaussian MI is -½ log(1 - ρ²), an independent formula
        rho = pearsonr(data[:, 0], data[:, 2])[0]
        assert value == pytest.approx(-0.5 * np.log(1 - rho**2), abs=2e-3)
    else:  # several columns were read (a single pair carries less than 0.5 nats here)
        assert value > 0.5


def test_ksg_k_and_json_on_stdout(table, capsys):
    from infobound.estimate.nonparametric import ksg

    main(["estimate", str(table / "xy.csv"), str(table / "xy.csv"), "--x_columns", "x1,x2", "--y_columns", "y1,y2",
          "--method", "ksg", "--k", "3", "--output", "-"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # stdout is the JSON alone; the summary went to stderr
    assert "nats" in captured.err
    data = np.loadtxt(table / "xy.csv", delimiter=",", skiprows=1)
    assert result["value"] == pytest.approx(ksg(data[:, :2], data[:, 2:], k=3).value)
    assert result["value"] != pytest.approx(ksg(data[:, :2], data[:, 2:], k=5).value)


@pytest.mark.parametrize("name, match", [
    ("bad.csv", "line 3, column 2 ('b'): 'x' is not a number"),
    ("hole.csv", "line 2, column 3: is empty"),
    ("short.csv", "line 3 has 1 fields, expected 2"),
])
def test_csv_errors_count_lines_and_columns_from_one(table, capsys, name, match):
    with pytest.raises(SystemExit, match="could not read numbers") as exit_info:
        main(["estimate", str(table / name), str(table / name)])
    assert match in str(exit_info.value)


def test_estimate_messages_speak_flags(table, capsys):
    csv = str(table / "xy.csv")
    with pytest.raises(SystemExit) as exit_info:
        main(["estimate", csv, csv, "--x_columns", "x1", "--y_columns", "y1", "--bound", "alpha_cpc"])
    assert "--alpha" in str(exit_info.value) and "bound_kwargs" not in str(exit_info.value)
    with pytest.raises(SystemExit, match="--k applies to --method ksg"):
        main(["estimate", csv, csv, "--k", "3"])


def test_concat_critic_warns_before_it_is_slow(table, capsys):
    csv = str(table / "xy.csv")
    main(["estimate", csv, csv, "--x_columns", "x1", "--y_columns", "y1", "--critic", "concat", "--max_steps", "4",
          "--eval_interval", "2", "--hidden", "8", "--batch_size", "32", "--progress", "false"])
    assert "warning: --critic concat" in capsys.readouterr().err


def test_interrupt_exits_130_and_says_how_to_resume(capsys, monkeypatch):
    import jsonargparse

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(jsonargparse, "CLI", interrupted)
    for argv, resumable in ((["pretrain"], True), (["estimate", "x.npy", "y.npy"], False)):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 130
        err = capsys.readouterr().err
        assert "interrupted" in err and ("run the same command again to resume" in err) == resumable


@pytest.mark.parametrize("argv, match", [(["nope"], "infobound: error: unknown command 'nope'"),
                                         (["bench", "nope"], "infobound bench: error: unknown benchmark 'nope'")])
def test_unknown_command_or_benchmark(capsys, argv, match):
    assert match in _error(capsys, argv)


def test_pretrain_takes_each_methods_own_projector_and_lr_unless_given(tmp_path):
    base = [a for a in PRETRAIN if a not in ("--proj_hidden", "32", "--proj_dim", "16")]
    recorded = {}
    for name, extra in (("bt", ["--method", "barlow_twins"]), ("simclr", []), ("byol", ["--method", "byol"]),
                        ("bt_given", ["--method", "barlow_twins", "--proj_dim", "16", "--lr", "0.002"])):
        main([*base, *extra, "--out", str(tmp_path / name)])
        recorded[name] = json.loads((tmp_path / name / "settings.json").read_text())["options"]
    def pick(options):
        return options["proj_hidden"], options["proj_dim"], options["lr"]

    # Barlow Twins' official projector is wide (8192 there, 512 here) and trained at a larger rate
    assert pick(recorded["bt"]) == (512, 512, 0.01)
    assert pick(recorded["simclr"]) == (256, 64, 0.001)
    assert pick(recorded["bt_given"]) == (512, 16, 0.002)
    # BYOL's own (docs/ssl.md, "BYOL"): the official 256-wide output, a smaller target momentum for short runs
    assert (*pick(recorded["byol"]), recorded["byol"]["momentum"]) == (1024, 256, 0.003, 0.98)
    assert "momentum" not in recorded["simclr"]


def test_distill_num_samples_subsamples_any_dataset(monkeypatch, tmp_path):
    import infobound.data as data

    seen = {}

    def fake_load(name, **kwargs):
        seen.update(kwargs, name=name)
        raise ValueError("stop here")

    monkeypatch.setattr(data, "load_dataset", fake_load)  # the command imports it from here when it runs
    with pytest.raises(SystemExit, match="stop here"):
        main([*DISTILL, "--num_samples", "300", "--out", str(tmp_path / "d")])
    assert seen["name"] == "digits" and seen["num_samples"] == 300  # before: dropped for every dataset but MNIST-1D
