"""The benches' shared runner: a line per run, a progress bar that follows ``--progress``."""

from __future__ import annotations

from infobound.bench._runner import bar_disabled, run_all, set_progress


def _square(k: int) -> dict[str, int]:
    return {"k": k, "square": k * k}


def test_rows_come_back_once_each_with_a_line_per_run(capsys):
    rows = run_all(_square, [(k,) for k in range(4)], workers=1, describe=lambda r: f"k={r['k']}", desc="t",
                   progress=False)
    assert sorted(r["square"] for r in rows) == [0, 1, 4, 9]
    captured = capsys.readouterr()
    assert [line for line in captured.out.splitlines()] == [f"[{i + 1}/4] k={i}" for i in range(4)]
    assert "it/s" not in captured.err and "run/s" not in captured.err  # no bar


def test_progress_true_draws_a_bar_even_off_a_terminal(capsys):
    run_all(_square, [(1,), (2,)], workers=1, describe=str, desc="bars", progress=True)
    assert "bars" in capsys.readouterr().err


def test_the_benchs_flag_is_the_default_for_its_bars():
    try:
        set_progress(False)
        assert bar_disabled() is True and bar_disabled(True) is False
        set_progress(None)
        assert bar_disabled() is None  # tqdm: only on a terminal
    finally:
        set_progress(None)
