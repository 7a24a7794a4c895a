"""Name lookup shared by registries that accept spelling variants (loss objectives, the model zoo)."""

from __future__ import annotations

from collections.abc import Collection, Mapping


def canonical(name: str, known: Collection[str], what: str, aliases: Mapping[str, str] | None = None) -> str:
    """The registered key for ``name``: case, surrounding blanks and ``-`` vs ``_`` ignored, aliases applied.

    Raises:
        ValueError: no registered key matches; the message names ``what`` and lists ``known``.
    """
    key = name.strip().lower().replace("-", "_")
    key = (aliases or {}).get(key, key)
    if key not in known:
        raise ValueError(f"unknown {what} {name!r}; expected one of {sorted(known)}")
    return key
