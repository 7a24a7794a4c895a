"""Bounds on half-precision scores against the same rounded scores in float64 (issue 13).

A 256 × 256 score matrix with N(0, 9) entries and the diagonal raised by 6 is rounded to float16
and to bfloat16; every registered bound is evaluated on the rounded tensor as given and on the same
values cast to float64. The difference is pure arithmetic error of the bound (the inputs are
identical). A third column evaluates ML-CPC of a separable critic's scores computed under
``torch.autocast("cpu", dtype=torch.bfloat16)`` against the same (bfloat16) scores in float64.

    python benchmarks/half_precision.py --out results/half_precision

Prints a table and writes ``OUT/half_precision.json`` and ``OUT/half_precision.png`` (|Δ| per bound).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import torch

from infobound import bounds
from infobound.results import print_table, save_figure, write_json

N, SCALE, DIAGONAL, SEED = 256, 3.0, 6.0, 0
# Hyper-parameters of the bounds that need one; the others run with their defaults.
KWARGS: dict[str, dict[str, Any]] = {"alpha_cpc": {"alpha": 0.01}, "interpolated": {"alpha": 0.5},
                                     "ml_cpc": {"alpha": 1.0}}


def _scores() -> torch.Tensor:
    gen = torch.Generator().manual_seed(SEED)
    scores = SCALE * torch.randn(N, N, generator=gen, dtype=torch.float64)
    scores.diagonal().add_(DIAGONAL)
    return scores


def _evaluate(name: str, scores: torch.Tensor) -> tuple[float, str]:
    """(value, dtype of the result) or (nan, the error's first line)."""
    try:
        value = bounds.get(name)(scores, **KWARGS.get(name, {}))
    except (ValueError, FloatingPointError) as err:
        return math.nan, str(err).splitlines()[0][:60]
    return float(value), str(value.dtype).replace("torch.", "")


def half_precision_rows() -> list[dict[str, Any]]:
    reference = _scores()
    rows = []
    for name in bounds.available():
        if bounds.info(name).stateful:
            continue
        row: dict[str, Any] = {"bound": name}
        for dtype in (torch.float16, torch.bfloat16):
            rounded = reference.to(dtype)
            value, out_dtype = _evaluate(name, rounded)
            exact, _ = _evaluate(name, rounded.double())
            tag = str(dtype).replace("torch.", "")
            row[f"{tag}"] = value
            row[f"{tag} in float64"] = exact
            row[f"|Δ| {tag}"] = abs(value - exact) if math.isfinite(value) else math.nan
            row[f"{tag} result dtype"] = out_dtype
        rows.append(row)
    return rows


def autocast_row() -> dict[str, Any]:
    """ML-CPC of a separable critic ``x @ y.T`` under CPU bfloat16 autocast vs. the same scores in float64."""
    gen = torch.Generator().manual_seed(SEED)
    x = torch.randn(N, 32, generator=gen)
    y = x + 0.5 * torch.randn(N, 32, generator=gen)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scores = x @ y.t() / math.sqrt(32)
        value = bounds.ml_cpc(scores)
    exact = bounds.ml_cpc(scores.double())
    return {"case": "ml_cpc, separable critic under autocast(cpu, bfloat16)", "scores dtype": str(scores.dtype),
            "value": float(value), "value dtype": str(value.dtype), "same scores in float64": float(exact),
            "|Δ|": abs(float(value) - float(exact))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/half_precision", help="output directory")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = half_precision_rows()
    print_table(rows, ["bound", "float16", "float16 in float64", "|Δ| float16", "float16 result dtype",
                       "bfloat16", "bfloat16 in float64", "|Δ| bfloat16", "bfloat16 result dtype"], precision=6,
                title=f"{N}×{N} N(0, {SCALE ** 2:g}) scores, diagonal + {DIAGONAL:g}, seed {SEED}")
    auto = autocast_row()
    print_table([auto], precision=6)
    worst = {t: max((r[f"|Δ| {t}"] for r in rows if math.isfinite(r[f"|Δ| {t}"])), default=0.0)
             for t in ("float16", "bfloat16")}
    nan = [f"{r['bound']} ({t})" for r in rows for t in ("float16", "bfloat16") if not math.isfinite(r[t])]
    print(f"largest |Δ| over the finite values: float16 {worst['float16']:.2e}, bfloat16 {worst['bfloat16']:.2e} "
          f"nats; not finite: {', '.join(nan) or 'none'}")
    result = {"n": N, "scale": SCALE, "diagonal": DIAGONAL, "seed": SEED, "rows": rows, "autocast": auto,
              "worst_abs_diff": worst, "not_finite": nan}
    write_json(Path(args.out) / "half_precision.json", result)
    _plot(rows, Path(args.out) / "half_precision.png")
    return result


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    """|Δ| against float64 per bound and half dtype, log scale; a non-finite value is drawn as a red cross."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = range(len(rows))
    for offset, tag in ((-0.2, "float16"), (0.2, "bfloat16")):
        diffs = [r[f"|Δ| {tag}"] for r in rows]
        ax.bar([i + offset for i in x], [max(d, 1e-9) if math.isfinite(d) else 0.0 for d in diffs], width=0.4,
               label=tag)
        bad = [i + offset for i, d in zip(x, diffs) if not math.isfinite(d)]
        ax.plot(bad, [1.0] * len(bad), "rx", markersize=10)
    ax.axhline(1e-3, color="k", linestyle="--", linewidth=1, label="1e-3 nats")
    ax.set_yscale("log")
    ax.set_xticks(list(x), [r["bound"] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("|half − float64| (nats)")
    ax.set_title(f"{N}×{N} scores, same rounded values (red ×: not finite)")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main()
