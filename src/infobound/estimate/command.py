"""``infobound estimate X Y``: read two arrays from files, print the MI estimate, its sampling interval and certified lower limit."""

from __future__ import annotations

import math
import re
import sys
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from . import DEFAULT_METHOD, estimate_mi
from .methods import get_method
from .neural import NeuralConfig

_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": None}


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def load_table(path: str | Path) -> tuple[np.ndarray, list[str] | None]:
    """Read ``.npy`` (an [N, d] or [N] array) or ``.csv``/``.tsv``/``.txt`` (a header row optional).

    Returns:
        The array [N, d] as float64 and the column names (None where the file has none).

    Raises:
        ValueError: missing file, unknown extension, unreadable or non-numeric content.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such data file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise ValueError(f"{path}: not a numeric .npy array ({err})") from None
        return array, None
    if suffix not in _DELIMITERS:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; expected .npy, .csv, .tsv or .txt")
    delimiter = _DELIMITERS[suffix]
    with path.open() as fh:
        first = fh.readline()
    tokens = [t.strip().strip('"') for t in first.strip().split(delimiter)]
    has_header = bool(tokens) and not all(_is_number(t) for t in tokens)
    try:
        array = np.loadtxt(path, delimiter=delimiter, skiprows=int(has_header), ndmin=2, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{path}: could not read numbers: {_bad_cell(path, delimiter, tokens if has_header else None)}"
                         ) from None
    return array, (tokens if has_header else None)


def _bad_cell(path: Path, delimiter: str | None, names: list[str] | None) -> str:
    """Where a table stops being numbers: ``line L, column C ('name'): ...``, both counted from 1 as an
    editor and a spreadsheet count them (numpy's own message counts data rows from 0, columns from 1)."""
    width = len(names) if names else None
    with path.open() as fh:
        for line_no, line in enumerate(fh, start=1):
            if names and line_no == 1 or not line.strip():
                continue
            cells = [c.strip().strip('"') for c in line.rstrip("\r\n").split(delimiter)]
            width = width or len(cells)
            if len(cells) != width:
                return f"line {line_no} has {len(cells)} fields, expected {width}"
            for col, cell in enumerate(cells, start=1):
                if not _is_number(cell):
                    name = f" ({names[col - 1]!r})" if names else ""
                    what = "is empty (fill or remove empty fields)" if cell == "" else f"{cell!r} is not a number"
                    return f"line {line_no}, column {col}{name}: {what}"
    return "unreadable content"


def _columns(value: list[str] | str | None) -> list[str] | None:
    """``x``, ``x1,x2`` or ``[x1, x2]`` (a YAML list) as a list of column names or indices."""
    if value is None or isinstance(value, list):
        return value
    return [v.strip() for v in str(value).strip("[]").split(",") if v.strip()]


def _select(array: np.ndarray, names: list[str] | None, columns: list[str] | str | None, path: str) -> np.ndarray:
    """Pick columns by name (files with a header) or by 0-based index."""
    columns = _columns(columns)
    if not columns:
        return array
    if array.ndim != 2:
        raise ValueError(f"{path}: column selection needs a 2-d table, got shape {array.shape}")
    picked = []
    for column in columns:
        column = str(column)
        if names is not None and column in names:
            picked.append(names.index(column))
        elif column.lstrip("-").isdigit() and -array.shape[1] <= int(column) < array.shape[1]:
            picked.append(int(column))
        else:
            known = f"columns {names}" if names else f"{array.shape[1]} unnamed columns (use 0-based indices)"
            raise ValueError(f"{path}: no column {column!r}; the file has {known}")
    return array[:, picked]


def estimate_command(
    x_path: str,
    y_path: str,
    method: str | None = None,
    bound: str | None = None,
    critic: str | None = None,
    alpha: float | None = None,
    clip: float | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    max_steps: int | None = None,
    lr: float | None = None,
    patience: int | None = None,
    eval_interval: int | None = None,
    test_fraction: float | None = None,
    certify_fraction: float | None = None,
    hidden: int | None = None,
    layers: int | None = None,
    embed_dim: int | None = None,
    standardise: str | None = None,
    x_columns: list[str] | str | None = None,
    y_columns: list[str] | str | None = None,
    k: int | None = None,
    device: str = "cpu",
    output: str | None = None,
    progress: bool | None = None,
) -> None:
    """Estimate the mutual information I(X; Y) in nats between the rows of two data files.

    Prints the estimate with its sampling interval (mean ± t·SE over held-out batches: the noise of
    the evaluation, not a CI on the MI) and, for the estimators that have one (the default ``fdime``
    and ``neural``), the certified one-sided 95% lower limit on I(X; Y) from rows kept apart from
    training and early stopping (docs/estimate.md). Files: ``.npy`` arrays [N, d] or [N], or
    ``.csv``/``.tsv``/``.txt`` tables (a header row of column names is detected); X and Y may be the
    same table with ``--x_columns`` and ``--y_columns`` picking the columns.

    Args:
        x_path: file with the samples of X (N rows).
        y_path: file with the samples of Y (N rows, paired row by row with X).
        method: the estimator. Default: fdime (f-DIME over the Gaussian copula, the library's
            default, chosen by measurement in docs/estimate.md), or neural (a critic trained with
            --bound; implied by --bound, --critic, --alpha or --clip), flow (flow
            Gaussianisation, Butakov et al. 2024, + a latent f-DIME correction), doe (difference of
            entropies H(Y) − H(Y|X) by held-out cross-entropies; no lower limit), gcmi, ksg, gaussian (cca),
            histogram (dx + dy <= 4).
        bound: (neural) variational bound to train and report: ml_cpc (default, at the safe α of
            the batch), infonce, nwj, js, smile, dv, ... (an unknown name lists them all).
        critic: (neural) critic network: separable (default), concat (much slower: it scores every
            pair of a batch with the network), bilinear, inner.
        alpha: (neural) α of ML-CPC (lifts its ceiling to log(batch/α); warned below the safe value).
        clip: (neural) τ of SMILE.
        seed: seed of the split, the batches and the initialisation.
        batch_size: (fdime, flow, doe, neural) rows per training step and per held-out batch.
        max_steps: (fdime, flow, doe, neural) upper limit on training steps (early stopping usually ends sooner).
        lr: (fdime, flow, doe, neural) Adam learning rate.
        patience: (fdime, flow, doe, neural) held-out evaluations without improvement before stopping.
        eval_interval: (fdime, flow, doe, neural) training steps between held-out evaluations.
        test_fraction: (fdime, flow, doe, neural) share of rows for the reported value (and, for fdime and
            flow, the certificate).
        certify_fraction: (neural) share of rows kept for the certified lower limit (0: none).
        hidden: (fdime, flow, doe, neural) hidden width of the critic (flow: of each coupling's network;
            doe: of the network giving the conditional Gaussian's mean and covariance).
        layers: (fdime, flow, doe, neural) hidden layers of the critic (flow: of each coupling's network;
            doe: of the conditional Gaussian's network).
        embed_dim: (neural) embedding size of the separable critic.
        standardise: (neural) per-coordinate standardisation: zscore, rank (Gaussian copula) or none.
        x_columns: columns of the X file to use: a name from the header or a 0-based index, or
            several separated by commas (x1,x2).
        y_columns: columns of the Y file to use.
        k: (ksg) neighbours (default 5).
        device: (neural) where the critic trains: cpu, cuda, cuda:1, ...
        output: also write the full result (history included) to this JSON file; ``-`` writes the
            JSON to stdout (and the summary to stderr).
        progress: show a progress bar (default: on a terminal).
    """
    summary = sys.stderr if output == "-" else sys.stdout
    try:
        x_table, x_names = load_table(x_path)
        y_table, y_names = load_table(y_path)
        x = _select(x_table, x_names, x_columns, x_path)
        y = _select(y_table, y_names, y_columns, y_path)
        neural_only = {"bound": bound, "critic": critic, "alpha": alpha, "clip": clip,
                       "certify_fraction": certify_fraction, "embed_dim": embed_dim, "standardise": standardise}
        trained = {"batch_size": batch_size, "max_steps": max_steps, "lr": lr, "patience": patience,
                   "eval_interval": eval_interval, "test_fraction": test_fraction, "hidden": hidden, "layers": layers}
        neural_given = sorted(name for name, value in neural_only.items() if value is not None)
        if method is None:
            method = "neural" if any(neural_only[n] is not None for n in ("bound", "critic", "alpha", "clip")) \
                else DEFAULT_METHOD
        name = method.strip().lower()
        get_method(name)  # an unknown name fails here, with the list, before any option is judged
        given = {n: v for n, v in trained.items() if v is not None}
        if name == "neural":
            if k is not None:
                raise ValueError("--k applies to --method ksg, not to --method neural")
            options: dict[str, Any] = dict(given, **{n: v for n, v in neural_only.items() if v is not None},
                                           device=device, progress=progress is not False)
        elif name in ("fdime", "flow", "doe"):
            if k is not None:
                raise ValueError(f"--k applies to --method ksg, not {method!r}")
            if neural_given or device != "cpu":
                flags = ", ".join(f"--{n}" for n in neural_given + (["device"] if device != "cpu" else []))
                raise ValueError(f"{flags} apply to --method neural, not {method!r} ({name} trains on the CPU)")
            if name in ("flow", "doe") and "layers" in given:  # FlowConfig / DoeConfig.hidden_layers
                given["hidden_layers"] = given.pop("layers")
            options = dict(given, progress=progress is not False)
        else:
            if neural_given:
                flags = ", ".join(f"--{n}" for n in neural_given)
                raise ValueError(f"{flags} apply to --method neural, not {method!r}")
            if given:
                flags = ", ".join(f"--{n}" for n in sorted(given))
                raise ValueError(f"{flags} apply to the trained estimators (--method fdime, flow, doe or neural), not {method!r}")
            if k is not None and name != "ksg":
                raise ValueError(f"--k applies to --method ksg, not {method!r}")
            options = {} if k is None else {"k": k}
        neural = name == "neural"
        if neural and (critic or "").strip().lower() in ("concat", "joint") and (batch_size or NeuralConfig.batch_size) > 16:
            # 191.6 vs 6.2 ms per step at batch 128, d = 20 (README, time per training step)
            print("infobound estimate: warning: --critic concat runs its network on every pair of a batch "
                  "(batch_size² evaluations per step): expect it to be tens of times slower than separable "
                  "(about 30× at batch 128); "
                  "lower --batch_size or --max_steps to bound the time", file=sys.stderr)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = estimate_mi(x, y, seed=seed, method=method, **options)
    except (ValueError, TypeError) as err:
        raise SystemExit(f"infobound estimate: error: {_cli_spelling(str(err))}") from None
    for warning in caught:  # one readable line each instead of Python's file:line format
        print(f"infobound estimate: warning: {_cli_spelling(str(warning.message))}", file=sys.stderr)

    # The held-out interval covers sampling noise only, so it is not called a CI; the certified limit
    # is the statement about I(X; Y) (docs/estimate.md, "Certified lower limit").
    line = f"I(X; Y) = {result.value:.2f} nats"
    if result.ci:
        line += f" (sampling interval [{result.ci[0]:.2f}, {result.ci[1]:.2f}])"
    if result.lower is not None:
        line += f"; certified I ≥ {result.lower:.2f} at 95%"
    print(f"{line}  ({result.value / math.log(2):.2f} bits)", file=summary)
    if result.method == "neural":
        d = result.details
        certify = f" / {d['n_certify']} certification" if d.get("n_certify") else ""
        print(f"  {result.bound} bound, {d['critic']} critic; N = {result.n_samples} "
              f"({d['n_train']} train / {d['n_heldout']} held-out{certify}), batch {d['batch_size']}, "
              f"{d['steps']} steps (best at {d['best_step']}, {d['stop_reason'].replace('_', ' ')}), "
              f"{result.seconds:.1f} s", file=summary)
    elif result.method == "fdime":
        d = result.details
        print(f"  f-DIME ({result.bound}) over the Gaussian copula; N = {result.n_samples}, {result.seconds:.1f} s",
              file=summary)
    elif result.method == "flow":
        d = result.details
        extra = " + latent f-DIME correction" if d["correction"] else ""
        print(f"  flow Gaussianisation{extra}; N = {result.n_samples}, flow {d['flow_steps']} steps "
              f"(best at {d['flow_best_step']}), {result.seconds:.1f} s", file=summary)
    elif result.method == "doe":
        d = result.details
        fit = d["directions"]["y_given_x"]
        print(f"  difference of entropies H(Y) − H(Y|X) (no lower limit: not a bound); N = {result.n_samples}, "
              f"{d['steps']} steps (best at {fit['best_step']}), {result.seconds:.1f} s", file=summary)
    else:
        print(f"  {result.method}; N = {result.n_samples}, {result.seconds:.1f} s", file=summary)
    if output == "-":
        from ..results import to_json_text

        sys.stdout.write(to_json_text(asdict(result)))
    elif output:
        from ..results import write_json  # the shared atomic writer

        print(f"  result written to {write_json(output, asdict(result))}")


_OPTION = re.compile(r"\b(alpha|clip|k|batch_size|max_steps|lr|patience|eval_interval|test_fraction|hidden|layers|"
                     r"embed_dim|standardise|seed|method|bound|critic)=")


def _cli_spelling(message: str) -> str:
    """The library's messages speak Python (``alpha=0.1``, ``bound_kwargs``); say them as flags here."""
    message = message.replace(" (or bound_kwargs={...})", "").replace("pass e.g. --alpha ...", "pass e.g. --alpha A")
    message = _OPTION.sub(lambda m: f"--{m.group(1)} ", message)
    return message.replace("--alpha ...", "--alpha A")


__all__ = ["estimate_command", "load_table"]
