"""A content-addressed cache of validated builds, so a cold ``kzgraph query`` skips Turtle
parsing and validation when nothing changed. Keyed by the SHA-256 of every input file."""
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


def lookup(digest: str) -> Path | None:
    path = cache_dir() / f"{digest}.nt"
    return path if path.is_file() else None


def store(digest: str, data: bytes) -> Path | None:
    """Save a build; a read-only or full cache folder is not an error (returns None)."""
    try:
        return write_atomic(cache_dir() / f"{digest}.nt", data)
    except OSError:
        return None
