"""A content-addressed cache of validated builds, so a cold ``kzgraph query`` skips Turtle
parsing and validation when nothing changed. Keyed by the SHA-256 of every input file.

Entries, all under the same key: a pickled rdflib graph for the memory engine (5x faster
to load than N-Triples into rdflib); sorted N-Quads after a checksum line (``KEY.nq``: every
triple in the default graph, the named graphs of `kzgraph.dataset` as quads), the source of
the Oxigraph entries; a persisted Oxigraph store made from those N-Quads (``KEY.oxigraph/``,
opened read-only: a cold start costs the same at 5k and at 1M triples); the name index
(``KEY.names.sqlite``, `kzgraph.names`); and, under a key of their own, the vetting verdicts
of the packaged queries (`kzgraph.sparql.known_verdict`). Every entry is written under a
temporary name and renamed into place. The folder is created private (mode 0700): only the
user who built the graph can plant an entry in it.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


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


def lookup_nquads(digest: str) -> bytes | None:
    """The cached N-Quads of ``digest``, or None. The entry starts with a comment holding
    the SHA-256 of the rest: a damaged or cut entry (still valid N-Quads, fewer quads)
    counts as missing instead of loading part of the graph."""
    try:
        header, _, data = (cache_dir() / f"{digest}.nq").read_bytes().partition(b"\n")
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


def store_nquads(digest: str, data: bytes) -> Path | None:
    """Save a build as N-Quads after a checksum line (same rules as `store`)."""
    return _write(f"{digest}.nq", _checksum_line(data) + b"\n" + data)


def _checksum_line(data: bytes) -> bytes:
    return b"# sha256 " + hashlib.sha256(data).hexdigest().encode()


def _write(name: str, data: bytes) -> Path | None:
    from .export import write_atomic

    try:
        folder = cache_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return write_atomic(folder / name, data)
    except OSError:
        return None


def lookup_verdicts(digest: str) -> dict | None:
    """The stored vetting verdicts ``{text sha256: [form, variables]}``, or None."""
    import json

    try:
        data = json.loads((cache_dir() / f"verdicts-{digest}.json").read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store_verdicts(digest: str, verdicts: dict) -> Path | None:
    """Save the verdicts (same rules as `store`)."""
    import json

    return _write(f"verdicts-{digest}.json",
                  json.dumps(verdicts, sort_keys=True, separators=(",", ":")).encode())


def entry_path(digest: str, suffix: str) -> Path:
    """Where the entry ``digest`` + ``suffix`` lives (it may not exist)."""
    return cache_dir() / f"{digest}{suffix}"


def open_store(digest: str):
    """The persisted Oxigraph store of ``digest``, opened read-only, or None when there is
    none or it cannot be opened (then the caller rebuilds it). A store is only ever made
    from checksummed N-Quads (`store_store`) and renamed into place when complete."""
    folder = entry_path(digest, ".oxigraph")
    if not (folder / "complete").is_file():
        return None
    import pyoxigraph

    try:
        return pyoxigraph.Store.read_only(str(folder))
    except Exception:  # noqa: BLE001 - a damaged database counts as missing
        return None


def store_store(digest: str, data: bytes):
    """Build the persisted Oxigraph store of ``digest`` from N-Quads ``data`` in a
    temporary folder, mark it complete and rename it into place; returns it opened
    read-only, or None when the cache folder is not writable (the caller loads ``data``
    into memory instead)."""
    import shutil
    import tempfile

    import pyoxigraph

    final = entry_path(digest, ".oxigraph")
    try:
        folder = cache_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{digest}.", suffix=".oxigraph", dir=folder))
    except OSError:
        return None
    try:
        store = pyoxigraph.Store(str(work))
        store.bulk_load(data, format=pyoxigraph.RdfFormat.N_QUADS)
        store.flush()
        del store  # closes the database before it is moved
        (work / "complete").write_bytes(_checksum_line(data))
        if final.exists():
            if open_store(digest) is not None:  # another process was faster: use its copy
                shutil.rmtree(work, ignore_errors=True)
                return open_store(digest)
            shutil.rmtree(final, ignore_errors=True)  # a damaged copy nobody can open
        try:
            work.rename(final)
        except OSError:  # a concurrent process renamed its own copy first: use that one
            shutil.rmtree(work, ignore_errors=True)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        return None
    return open_store(digest)
