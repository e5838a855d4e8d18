"""Shared fixtures. Tests run offline, with a private build cache."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# A private, initially empty build cache for the whole test session (set before kzgraph loads).
os.environ["KZGRAPH_CACHE"] = tempfile.mkdtemp(prefix="kzgraph-test-cache-")

# The in-process tests parse kzgraph's output back with plain rdflib and compare lexical forms
# ("…Z" must stay "…Z"), so rdflib keeps lexical forms in this process. kzgraph itself never
# changes this global and does not depend on it: tests/test_stock_tools.py runs kzgraph, and the
# stock tools, in fresh interpreters with rdflib's defaults.
import rdflib  # noqa: E402

rdflib.NORMALIZE_LITERALS = False


@pytest.fixture(scope="session")
def kg():
    """The packaged graph, loaded and validated once per session."""
    import kzgraph

    return kzgraph.load()


@pytest.fixture(scope="session")
def merged_graph():
    """Ontology + graph files as one rdflib Graph (parsed directly, no cache)."""
    from kzgraph.build import input_files, read

    graph, _ = read(input_files())
    return graph


@pytest.fixture(scope="session")
def oxigraph(merged_graph):
    """The same triples in pyoxigraph: the independent second engine."""
    from kzgraph.engine import OxigraphEngine

    return OxigraphEngine.from_graph(merged_graph)


@pytest.fixture(scope="session")
def memory(merged_graph):
    from kzgraph.engine import MemoryEngine

    return MemoryEngine(merged_graph)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None):
    """Run the kzgraph CLI in a subprocess; returns CompletedProcess (text)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "kzgraph.cli", *args], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def cli():
    return run_cli


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

