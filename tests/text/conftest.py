"""Fixtures of the text tests: a tiny WordNet in the wndb(5WN) format (written by wordnet_fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wordnet_fixture import SMALL, corpus_synsets, write_wordnet


@pytest.fixture
def tiny_wordnet(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    keys = write_wordnet(tmp_path / "wn", SMALL)
    return tmp_path / "wn", keys


@pytest.fixture(scope="module")
def corpus_wordnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wordnet")
    write_wordnet(root, corpus_synsets())
    return root
