"""The name index: normalised name → the entities carrying it, in an SQLite table.

Built from the ``entity-names`` API query (every ``rdfs:label`` and ``skos:altLabel`` of an
entity) when the build cache is made, and kept beside the Oxigraph store
(``KEY.names.sqlite``), so looking a name up costs one indexed read instead of reading every
name of the graph (the 1M-triple benchmark graph has about 250,000). A graph that did not come
from the cache gets the same table in memory on first use. Keys are `normalize`d: accents
dropped, case folded, everything but letters and digits removed.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path

_SCHEMA = ("CREATE TABLE names (key TEXT NOT NULL, iri TEXT NOT NULL, name TEXT NOT NULL, "
           "kind TEXT NOT NULL)")
_INDEXES = ("CREATE INDEX names_key ON names (key)", "CREATE INDEX names_iri ON names (iri, kind)")


def normalize_words(name: str) -> str:
    """Accents dropped and case folded; spaces and punctuation kept."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalize(name: str) -> str:
    """The matching key of a name: accents dropped, case folded, and every character that
    is not a letter or a digit removed.

    >>> normalize("Nur-Sultan"), normalize("GSM  kazakhstan"), normalize("Kaz Telecom")
    ('nursultan', 'gsmkazakhstan', 'kaztelecom')
    """
    return re.sub(r"[\W_]+", "", normalize_words(name))


class NameIndex:
    """Lookups in one SQLite database of (key, iri, name, kind) rows; kind is "label" or
    "alt". Safe to share between threads (one lock around the connection)."""

    def __init__(self, connection) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self._labels: dict[str, str] | None = None

    # -- making one ------------------------------------------------------------------------

    @staticmethod
    def rows(kg):
        """(key, iri, name, kind) for every name of ``kg`` (API query ``entity-names``)."""
        from . import api_queries

        result = api_queries.run(kg, "entity-names")
        for iri, name, kind in result.terms:
            yield normalize(name.value), iri.value, name.value, kind.value

    @classmethod
    def build(cls, kg, path: Path | None = None) -> "NameIndex":
        """The index of ``kg``: in memory, or written to ``path`` (a temporary file renamed
        into place) and opened read-only from there."""
        import sqlite3

        if path is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            _fill(db, cls.rows(kg))
            return cls(db)
        import os
        import tempfile

        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            db = sqlite3.connect(temp)
            _fill(db, cls.rows(kg))
            db.close()
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> "NameIndex | None":
        """The index stored at ``path`` (read-only), or None when it is missing or damaged."""
        import sqlite3

        if not path.is_file():
            return None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT key FROM names LIMIT 1").fetchall()
        except sqlite3.Error:
            return None
        return cls(db)

    # -- reading ---------------------------------------------------------------------------

    def _all(self, sql: str, args=()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def hits(self, key: str) -> list[tuple[str, str, str]]:
        """(iri, kind, name) of every name whose key is ``key``."""
        return self._all("SELECT iri, kind, name FROM names WHERE key = ? ORDER BY iri, kind, "
                         "name", (key,))

    def label(self, iri: str) -> str | None:
        """The (alphabetically first) label of ``iri``, or None."""
        if self._labels is not None:
            return self._labels.get(iri)
        found = self._all("SELECT MIN(name) FROM names WHERE iri = ? AND kind = 'label'", (iri,))
        return found[0][0] if found else None

    @property
    def labels(self) -> dict[str, str]:
        """Every entity's label (read whole once: for search and networkx, not lookups)."""
        if self._labels is None:
            self._labels = dict(self._all(
                "SELECT iri, MIN(name) FROM names WHERE kind = 'label' GROUP BY iri"))
        return self._labels

    @property
    def names(self) -> list[tuple[str, str, str, str]]:
        """Every (key, iri, name, kind) row (a full scan: `kzgraph.entities.search`)."""
        return self._all("SELECT key, iri, name, kind FROM names ORDER BY iri, kind, name")

    def __len__(self) -> int:
        return self._all("SELECT COUNT(*) FROM names")[0][0]


def _fill(db, rows) -> None:
    db.execute(_SCHEMA)
    db.executemany("INSERT INTO names VALUES (?, ?, ?, ?)", rows)
    for statement in _INDEXES:
        db.execute(statement)
    db.commit()
