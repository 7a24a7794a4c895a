"""The one results writer: a table on stdout, JSON, text and PNG written atomically.

Used by ``estimate``, ``methods``, ``distill`` and every benchmark, so it lives low in the house
(it imports nothing of ours) rather than under ``bench``.

Long runs must survive interruption, so every file is written to a temporary name in the same
folder and moved into place (``os.replace`` is atomic on POSIX): a reader never sees half a file.
Files come out readable by others (0644, as ``torch.save`` leaves checkpoints), not with the 0600
that ``mkstemp`` gives its temporary file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence


FILE_MODE = 0o644


def atomic_write_bytes(path: str | Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: readers never see half a file.

    Args:
        path: destination; its folder is created if missing.
        data: the bytes to write.
        mode: permission bits of the finished file (0644: readable by others, like checkpoints).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else (1e308 if obj > 0 else -1e308)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return _jsonable(obj.item())
    return obj


def to_json_text(obj: Any) -> str:
    """``obj`` as the indented JSON text :func:`write_json` writes (NaN → null, ±inf → ±1e308)."""
    return json.dumps(_jsonable(obj), indent=2) + "\n"


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically (NaN → null, ±inf → ±1e308)."""
    path = Path(path)
    atomic_write_bytes(path, to_json_text(obj).encode())
    return path


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    atomic_write_bytes(path, text.encode())
    return path


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically and close it."""
    import io

    import matplotlib.pyplot as plt

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _fmt(value: Any, precision: int) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{precision}f}" if math.isfinite(value) else str(value)
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, precision: int = 2,
                 markdown: bool = True) -> str:
    """Rows of dicts → a Markdown table (also readable as plain text)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[_fmt(r.get(c), precision) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda items: "| " + " | ".join(s.ljust(w) for s, w in zip(items, widths)) + " |"  # noqa: E731
    out = [line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] if markdown else [line(columns)]
    out += [line(row) for row in cells]
    return "\n".join(out)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None, precision: int = 2,
                title: str | None = None) -> str:
    """Print and return a Markdown table."""
    text = format_table(rows, list(columns) if columns is not None else None, precision)
    if title:
        text = f"{title}\n\n{text}"
    print(text, flush=True)
    return text
