"""Output folders of long runs: refuse to mix two runs in one folder.

Every command that writes a run folder (``pretrain``, ``distill``, every ``bench``) calls
:func:`prepare_out` before it trains. The folder keeps the run's settings in ``settings.json``;

- an empty or new folder is created and the settings are written;
- a non-empty folder is resumed only with ``resume`` and only when its saved settings equal the
  new ones (otherwise a resumed run would report one configuration for epochs trained with
  another); without ``resume`` it is refused unless ``overwrite`` deletes it first — a silent
  restart would leave the old checkpoints beside the new ones for a later resume to pick up.

Messages use the command-line spelling (``--resume false``), because users meet them there; the
library raises :class:`ValueError` and the CLI prints it as one line.

Imports nothing of ours but :mod:`infobound.results` (it sits low in the house).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

from .results import read_json, write_json

SETTINGS_FILE = "settings.json"


def is_rank_zero() -> bool:
    """True in the process that owns the output folder: not a second DDP rank.

    Lightning starts the other ranks of ``--strategy ddp`` as copies of the same command with
    ``LOCAL_RANK``/``RANK`` set (SLURM: ``SLURM_PROCID``); only rank 0 prepares the folder.
    """
    for var in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        value = os.environ.get(var)
        if value is not None:
            return value.strip() in ("", "0")
    return True


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, Mapping):
        flat: dict[str, Any] = {}
        for key, value in obj.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: list(obj) if isinstance(obj, tuple) else obj}


def settings_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``name: OLD there, NEW now`` for every setting that differs (nested keys joined by dots)."""
    old, new = _flatten(saved), _flatten(current)
    missing = object()
    diffs = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, missing), new.get(key, missing)
        if a != b:
            fmt = lambda v: "(unset)" if v is missing else repr(v)  # noqa: E731
            diffs.append(f"{key}: {fmt(a)} there, {fmt(b)} now")
    return diffs


def check_settings(saved: Mapping[str, Any] | None, current: Mapping[str, Any], where: str | Path) -> None:
    """Refuse to resume ``where`` when the settings saved with it differ from ``current``.

    Raises:
        ValueError: the settings differ; the message lists them and says how to start over.
    """
    if saved is None or _flatten(saved) == _flatten(current):
        return
    diffs = settings_differences(saved, current)
    shown = "; ".join(diffs[:6]) + (f"; and {len(diffs) - 6} more" if len(diffs) > 6 else "")
    raise ValueError(f"{str(where)!r} belongs to a different run, made with other settings ({shown}); "
                     "use another --out, or --overwrite true to delete it and start over")


def _clear(out: Path) -> None:
    """Delete ``out``, refusing folders whose loss would be a disaster (the working directory, its
    parents, the home folder)."""
    resolved = out.resolve()
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    if resolved == home or resolved in (cwd, *cwd.parents) or resolved == Path(resolved.anchor):
        raise ValueError(f"--overwrite true would delete {str(out)!r}, which holds the working directory "
                         "or the home folder; give a dedicated --out")
    shutil.rmtree(out)


def prepare_out(out: str | Path, settings: Mapping[str, Any], *, resume: bool, overwrite: bool = False) -> bool:
    """Make ``out`` ready for a run with ``settings``; return whether earlier results may be reused.

    Args:
        out: the run folder.
        settings: everything that changes the run's results (JSON-able; not the device, the
            progress display or the output folder itself).
        resume: continue the run already in ``out`` (its saved settings must equal ``settings``).
        overwrite: delete a non-empty ``out`` first and start over.

    Returns:
        True when ``out`` held a run that may be continued (``resume`` and same settings).

    Raises:
        ValueError: ``out`` is a file; it holds a run with other settings (with ``resume``); it is
            not empty and neither ``resume`` nor ``overwrite`` was given.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a folder")
    if not is_rank_zero():  # rank 0 has prepared the folder before it started the other ranks
        return resume
    settings = json.loads(json.dumps(dict(settings), default=str))  # as it will read back (paths as text)
    occupied = out.is_dir() and any(out.iterdir())
    if occupied and overwrite:
        _clear(out)
        occupied = False
    elif occupied and not resume:
        raise ValueError(f"--out {str(out)!r} is not empty; pass --resume true to continue the run in it, "
                         "--overwrite true to delete it and start over, or another --out")
    saved_path = out / SETTINGS_FILE
    if occupied and saved_path.exists():
        check_settings(read_json(saved_path), settings, out)
    # A folder from before settings were recorded (or holding other files) is adopted as it is.
    write_json(saved_path, settings)
    return occupied


__all__ = ["SETTINGS_FILE", "check_settings", "is_rank_zero", "prepare_out", "settings_differences"]
