"""The loss speed comparison runs, checks our NT-Xent against pytorch-metric-learning, and writes its files."""

import pytest

from infobound.bench.loss_speed import PML, compare_loss_speed, main, pml_predicted_peak_bytes


def test_compare_loss_speed_rows_and_ratios():
    pytest.importorskip("pytorch_metric_learning")
    rows = compare_loss_speed([8, 24], dim=8, reps=2, pml_memory_limit_gb=0.001)
    by = {(r["batch"], r["implementation"]): r for r in rows}
    assert {r["batch"] for r in rows} == {8, 24}
    assert by[(8, PML)]["time_ratio"] == pytest.approx(1.0) and by[(8, PML)]["memory_ratio"] == pytest.approx(1.0)
    ours = by[(8, "ours infonce (NT-Xent)")]
    assert ours["loss"] == pytest.approx(by[(8, PML)]["loss"], rel=1e-4)
    assert ours["ms"] > 0 and ours["peak_mb"] > 0 and ours["time_ratio"] > 0 and ours["memory_ratio"] > 0
    # n = 24 is over the (tiny) memory limit: pytorch-metric-learning is skipped and no ratio is made up
    assert pml_predicted_peak_bytes(24) > 0.001 * 2**30
    assert by[(24, PML)]["ms"] is None and "O(n³)" in by[(24, PML)]["note"]
    assert by[(24, "ours infonce (NT-Xent)")]["time_ratio"] is None


def test_main_writes_table_json_and_png(tmp_path, capsys):
    main(batch_sizes=[8, 16], dim=8, reps=1, out=tmp_path)
    for name in ("loss_speed.json", "loss_speed.md", "loss_speed.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "time_ratio" in capsys.readouterr().out


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_sizes"):
        compare_loss_speed([1])
    with pytest.raises(ValueError, match="reps"):
        compare_loss_speed([8], reps=0)
