"""The ``infobound`` command line: thin dispatch, no maths.

Each command is a typed Python function; jsonargparse turns its signature and docstring into
flags and adds ``--config FILE.yaml`` (any flag can live in the file) and ``--print_config``.
Commands are imported lazily so that ``infobound --help`` imports neither torch nor jsonargparse
and ``infobound estimate`` does not pay for Lightning. Mistakes of the user (a ``ValueError`` or a
missing file) end as one line on stderr and exit status 1; ``--debug`` shows their traceback.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing
import warnings
from typing import Callable, Optional

# command -> "module:function"; "bench" holds the benchmark verbs.
COMMANDS: dict[str, str] = {
    "estimate": "infobound.estimate.command:estimate_command",
    "pretrain": "infobound.methods.train:pretrain",
    "probe": "infobound.methods.train:probe",
    "distill": "infobound.distill.command:distill_command",
}
BENCHMARKS: dict[str, str] = {
    "suite": "infobound.bench.suite:main",
    "distill": "infobound.bench.distill:main",
    "losses": "infobound.bench.loss_speed:main",
    "ssl": "infobound.bench.ssl:main",
    "tschannen": "infobound.bench.tschannen:main",
    "staircase": "infobound.bench.staircase:main",
    "validity": "infobound.bench.validity:main",
    "text": "infobound.bench.text:main",
}


def _load(target: str) -> Callable[..., object]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _bare_bool_flags(fn: Callable[..., object], args: list[str]) -> list[str]:
    """``--flag`` alone means ``--flag true`` for a bool parameter (jsonargparse wants a value)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 — unresolvable annotations: leave the arguments as they are
        return args
    flags = {f"--{name}" for name, hint in hints.items() if hint in (bool, Optional[bool])}
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg in flags and (i + 1 == len(args) or args[i + 1].startswith("--")):
            out.append("true")
    return out


def _underscored(args: list[str]) -> list[str]:
    """``--data-dir x`` → ``--data_dir x``: flags may be spelled with dashes (jsonargparse wants the parameter name)."""
    out = []
    for arg in args:
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            arg = "--" + name[2:].replace("-", "_") + eq + value
        out.append(arg)
    return out


# One line per command for the top-level help: kept here so that `infobound --help` imports nothing heavy.
SUMMARIES: dict[str, str] = {
    "estimate": "I(X; Y) in nats between the rows of two files (--method: the estimator, fdime (default), neural, gcmi, ksg, ...)",
    "pretrain": "self-supervised pre-training of an encoder, then probes (--method: simclr, moco, byol, barlow_twins, mocov3)",
    "probe": "linear / kNN / few-label probes of an encoder saved by pretrain",
    "distill": "distil a teacher into a student (--method: the loss: kd, crd, ml_cpc, infonce, ...+kd)",
}
BENCH_SUMMARIES: dict[str, str] = {
    "staircase": "the ML-CPC MI staircase: estimates on a Gaussian whose MI climbs 2 -> 10 nats",
    "validity": "the smallest α at which ML-CPC stays a lower bound, per batch size (analytic and adversarial critics)",
    "suite": "estimators x ground-truth tasks: estimate against the true MI",
    "losses": "time and memory of the contrastive losses against pytorch-metric-learning",
    "ssl": "SSL methods and objectives (SimCLR, MoCo, BYOL, Barlow Twins, MoCo v3) and InfoCL regularisers on MNIST-1D",
    "distill": "teacher -> student pairs x distillation methods on MNIST-1D",
    "tschannen": "the experiments of Tschannen et al. (ICLR 2020) at CPU scale",
    "text": "InfoNCE vs ML-CPC vs f-MICL sentence embeddings of WordNet glosses (probe, relatedness)",
}
# Mistakes of the user (bad flag values, missing files) print one line; anything else is a bug: traceback.
USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError)


def _bench_usage() -> str:
    width = max(map(len, BENCHMARKS))
    lines = ["usage: infobound bench BENCHMARK [--help] [options]", "", "benchmarks:"]
    lines += [f"  {name.ljust(width)}  {BENCH_SUMMARIES.get(name, '')}".rstrip() for name in sorted(BENCHMARKS)]
    return "\n".join(lines)


def _usage() -> str:
    width = max(map(len, [*COMMANDS, "bench"]))
    lines = ["usage: infobound COMMAND [--help] [--config FILE.yaml] [options]", "       infobound --version", "",
             "Mutual-information estimation and representation learning with variational and contrastive bounds.",
             "", "commands:"]
    lines += [f"  {name.ljust(width)}  {SUMMARIES.get(name, '')}".rstrip() for name in COMMANDS]
    lines += [f"  {'bench'.ljust(width)}  benchmarks: " + ", ".join(sorted(BENCHMARKS)) + " (infobound bench --help)"]
    lines += ["", "Every command takes --help, --config FILE.yaml and --print_config. Wherever they appear these flags",
              "mean the same: --out DIR (a run folder; a non-empty one needs --resume true or --overwrite true),",
              "--resume, --overwrite, --device (cpu, cuda, cuda:1, auto), --seed, --progress (a progress bar;",
              "default: on a terminal). --debug shows the traceback of an error."]
    return "\n".join(lines)


def _version() -> str:
    from . import __version__

    return __version__


def _one_line_warnings(prog: str) -> None:
    """Warnings as ``prog: warning: message`` on stderr instead of Python's file:line format."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: typing.TextIO | None = None, line: str | None = None) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr if file is None else file)

    warnings.showwarning = show  # type: ignore[assignment]


def _fail(prog: str, message: str) -> typing.NoReturn:
    """Exit with ``prog: error: message``: Python prints it as one line on stderr, exit status 1 (as
    ``estimate`` does); a caller of :func:`main` finds the message on the ``SystemExit``."""
    raise SystemExit(f"{prog}: error: {message}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``infobound`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return
    if args[0] in ("-V", "--version"):
        print(f"infobound {_version()}")
        return
    command, rest = args[0], args[1:]
    if command == "bench":
        if not rest or rest[0] in ("-h", "--help"):
            print(_bench_usage())
            return
        name, rest = rest[0], rest[1:]
        if name not in BENCHMARKS:
            _fail("infobound bench", f"unknown benchmark {name!r}; expected one of {sorted(BENCHMARKS)}")
        target, prog = BENCHMARKS[name], f"infobound bench {name}"
    elif command in COMMANDS:
        target, prog = COMMANDS[command], f"infobound {command}"
    else:
        _fail("infobound", f"unknown command {command!r}; expected one of {[*COMMANDS, 'bench']} (infobound --help)")
    from jsonargparse import CLI

    fn = _load(target)
    try:
        with warnings.catch_warnings():  # the caller's warning display comes back afterwards
            if not debug:
                _one_line_warnings(prog)
            CLI(fn, args=_bare_bool_flags(fn, _underscored(rest)), as_positional=True, prog=prog)
    except KeyboardInterrupt:
        if debug:
            raise
        resumable = "resume" in inspect.signature(fn).parameters
        print(f"\n{prog}: interrupted" + ("; run the same command again to resume where it stopped" if resumable else ""),
              file=sys.stderr)
        raise SystemExit(130) from None
    except USER_ERRORS as err:
        if debug:
            raise
        _fail(prog, str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)


if __name__ == "__main__":
    main()
