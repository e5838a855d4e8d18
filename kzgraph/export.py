"""Deterministic serialisation and atomic file writing."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .namespaces import PREFIXES


def _with_prefixes(graph):
    import rdflib

    from .loader import keep_lexical_forms

    keep_lexical_forms()  # canonicalisation re-creates literals: keep them as written

    out = rdflib.Graph(bind_namespaces="none")
    for prefix, iri in PREFIXES.items():
        out.bind(prefix, iri)
    for triple in graph:
        out.add(triple)
    return out


def to_turtle(graph) -> bytes:
    """Turtle with kzgraph's fixed prefixes, subjects and predicates sorted: the same graph
    gives the same bytes on every run (the graph has no blank nodes but RDF lists)."""
    return _with_prefixes(graph).serialize(format="longturtle", encoding="utf-8", canon=True)


def to_ntriples(graph) -> bytes:
    """N-Triples, lines sorted (stable across runs)."""
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted(line for line in text.splitlines() if line.strip())
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file and the previous content survives until the end."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
