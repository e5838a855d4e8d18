"""A content-addressed cache of validated builds, so a cold ``kzgraph query`` skips Turtle
parsing and validation when nothing changed. Keyed by the SHA-256 of every input file.

Entries are pickled rdflib graphs for the memory engine (5x faster to load than N-Triples
into rdflib) and sorted N-Triples for the Oxigraph engine (which bulk-loads them without
rdflib). The folder is created private (mode 0700): only the user who built the graph can
plant an entry in it.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from .export import write_atomic


def cache_dir() -> Path:
    """``$KZGRAPH_CACHE``, else ``$XDG_CACHE_HOME/kzgraph``, else ``~/.cache/kzgraph``."""
    if os.environ.get("KZGRAPH_CACHE"):
        return Path(os.environ["KZGRAPH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kzgraph"


def key(files: Iterable[Path], *extra: str) -> str:
    """Digest of the files' names and bytes plus ``extra`` strings (version, options)."""
    digest = hashlib.sha256()
    for part in extra:
        digest.update(part.encode() + b"\0")
    for path in files:
        digest.update(Path(path).name.encode() + b"\0")
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return digest.hexdigest()


def lookup(digest: str):
    """The cached graph for ``digest``, or None (a damaged entry counts as missing)."""
    from .loader import unpickle

    try:
        return unpickle((cache_dir() / f"{digest}.pickle").read_bytes())
    except Exception:
        return None


def lookup_ntriples(digest: str) -> bytes | None:
    """The cached N-Triples of ``digest``, or None. The entry starts with a comment holding
    the SHA-256 of the rest: a damaged or cut entry (still valid N-Triples, fewer triples)
    counts as missing instead of loading part of the graph."""
    try:
        header, _, data = (cache_dir() / f"{digest}.nt").read_bytes().partition(b"\n")
    except OSError:
        return None
    if header != _checksum_line(data):
        return None
    return data


def store(digest: str, graph) -> Path | None:
    """Save a build; a read-only or full cache folder is not an error (returns None)."""
    import pickle

    try:
        data = pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL)
    except pickle.PicklingError:
        return None
    return _write(f"{digest}.pickle", data)


def store_ntriples(digest: str, data: bytes) -> Path | None:
    """Save a build as N-Triples after a checksum line (same rules as `store`)."""
    return _write(f"{digest}.nt", _checksum_line(data) + b"\n" + data)


def _checksum_line(data: bytes) -> bytes:
    return b"# sha256 " + hashlib.sha256(data).hexdigest().encode()


def _write(name: str, data: bytes) -> Path | None:
    try:
        folder = cache_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return write_atomic(folder / name, data)
    except OSError:
        return None
