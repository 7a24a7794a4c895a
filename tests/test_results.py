"""The shared results writer: atomic, readable by others, importable without the bench."""

from __future__ import annotations

import ast
import json
import math
import stat
from pathlib import Path

from infobound.results import format_table, write_json, write_text

SRC = Path(__file__).resolve().parents[1] / "src" / "infobound"


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    for path in (write_json(tmp_path / "a.json", {"x": 1}), write_text(tmp_path / "sub" / "b.md", "hi")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not list(tmp_path.glob("**/.*.tmp"))  # no temporary file left behind


def test_json_maps_non_finite_floats(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "list": (1, 2)})
    assert json.loads(path.read_text()) == {"nan": None, "inf": 1e308, "ninf": -1e308, "list": [1, 2]}


def test_table_has_one_row_per_dict() -> None:
    text = format_table([{"a": 1.234, "b": None}, {"a": 2.0, "b": "x"}], precision=1)
    lines = text.splitlines()
    assert lines[0].split("|")[1].strip() == "a" and len(lines) == 4
    assert "1.2" in lines[2] and "—" in lines[2]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
    return names


def test_only_the_cli_and_the_bench_import_the_bench() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "bench" or rel.name == "cli.py":
            continue
        if any(name == "infobound.bench" or name.startswith("infobound.bench.") for name in _imported_modules(path)):
            offenders.append(str(rel))
    assert offenders == [], f"lower layers import infobound.bench: {offenders}"


def test_bounds_import_nothing_of_ours() -> None:
    for path in (SRC / "bounds").rglob("*.py"):
        ours = {n for n in _imported_modules(path) if n.startswith("infobound") and not n.startswith("infobound.bounds")}
        assert not ours, f"{path.name} imports {ours}"
