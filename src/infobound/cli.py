"""The ``infobound`` command line: thin dispatch, no maths.

Each command is a typed Python function; jsonargparse turns its signature and docstring into
flags and adds ``--config FILE.yaml`` (any flag can live in the file) and ``--print_config``.
Commands are imported lazily so that ``infobound estimate`` does not pay for Lightning.
"""

from __future__ import annotations

import importlib
import sys
import typing
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


def _usage() -> str:
    lines = ["usage: infobound COMMAND [--help] [--config FILE] [options]", "", "commands:"]
    lines += [f"  {name}" for name in sorted(COMMANDS)]
    lines += ["  bench BENCHMARK   (" + ", ".join(sorted(BENCHMARKS)) + ")"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``infobound`` console script."""
    from jsonargparse import CLI

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return
    command, rest = args[0], args[1:]
    if command == "bench":
        if not rest or rest[0] in ("-h", "--help"):
            print("usage: infobound bench BENCHMARK [options]\nbenchmarks: " + ", ".join(sorted(BENCHMARKS)))
            return
        name, rest = rest[0], rest[1:]
        if name not in BENCHMARKS:
            raise SystemExit(f"infobound bench: unknown benchmark {name!r}; expected one of {sorted(BENCHMARKS)}")
        target = BENCHMARKS[name]
    elif command in COMMANDS:
        target = COMMANDS[command]
    else:
        raise SystemExit(f"infobound: unknown command {command!r}\n\n{_usage()}")
    fn = _load(target)
    CLI(fn, args=_bare_bool_flags(fn, _underscored(rest)), as_positional=True)


if __name__ == "__main__":
    main()
