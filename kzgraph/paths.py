"""Where the packaged ontology, graph and queries live.

In an installed wheel they are package data under ``kzgraph/data/``; in a source checkout
they are the top-level ``ontology/``, ``graph/`` and ``queries/`` folders.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder that holds ``ontology/``, ``graph/`` and ``queries/``."""
    packaged = PACKAGE_DIR / "data"
    if (packaged / "graph").is_dir():
        return packaged
    return PACKAGE_DIR.parent


def ontology_file() -> Path:
    return data_root() / "ontology" / "kzgraph.ttl"


def shapes_file() -> Path:
    return data_root() / "ontology" / "shapes.ttl"


def graph_files() -> list[Path]:
    """The graph's Turtle files, sorted by name (the order never changes the result)."""
    return sorted((data_root() / "graph").glob("*.ttl"))


def queries_dir() -> Path:
    return data_root() / "queries"


def checks_dir() -> Path:
    return queries_dir() / "checks"
