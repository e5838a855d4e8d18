"""`KZGraph`: the one graph object. Every read goes through `KZGraph.execute` → the query
runner (`kzgraph.sparql`) → the engine, so the same calls work on every engine."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import catalog, sparql
from .errors import InputError

_NAME = re.compile(r"^[A-Za-z0-9][\w-]*$")


@dataclass
class Stats:
    """Size of the graph: triples, entities per class, facts per source section."""

    triples: int
    entities: int
    per_class: list[tuple[str, int]] = field(default_factory=list)
    per_section: list[tuple[str, str, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"triples": self.triples, "entities": self.entities,
                "per_class": [{"class": c, "count": n} for c, n in self.per_class],
                "per_section": [{"section": s, "title": t, "count": n}
                                for s, t, n in self.per_section]}


class KZGraph:
    """A loaded kzgraph: an engine plus the files it was built from."""

    def __init__(self, engine, files: list[Path] | None = None, *, reasoning: bool = False) -> None:
        self.engine = engine
        self.files = list(files or [])
        self.reasoning = reasoning

    @classmethod
    def open(cls, paths=None, *, reasoning: bool = False, engine: str = "memory",
             validate: bool = True, cache: bool = True) -> "KZGraph":
        from .build import input_files, load_graph
        from .engine import MemoryEngine

        if engine != "memory":
            raise InputError(f"unknown engine {engine!r}; available: memory")
        files = input_files(list(paths or []))
        graph = load_graph(files, reasoning=reasoning, validate=validate, use_cache=cache)
        return cls(MemoryEngine(graph), files, reasoning=reasoning)

    @property
    def graph(self):
        """The underlying rdflib Graph (in-memory engine)."""
        return self.engine.graph

    def __len__(self) -> int:
        return len(self.engine)

    def __repr__(self) -> str:
        return f"<KZGraph {len(self)} triples, engine={self.engine.name}>"

    # -- queries ---------------------------------------------------------------------------

    def resolve(self, query: str, params: dict[str, Any] | None = None,
                stored: bool | None = None) -> tuple[str, dict]:
        """A stored query name or SPARQL text + parameters → (SPARQL text, rdflib bindings).

        ``stored`` None guesses: a bare name (letters, digits, ``-``, ``_``) is a stored query.
        """
        params = dict(params or {})
        if stored or (stored is None and _NAME.match(query.strip())):
            stored = catalog.get(query.strip())
            return stored.text, catalog.bindings(stored, params)
        from rdflib.term import Node

        return query, {k: v if isinstance(v, Node) else _literal(v) for k, v in params.items()}

    def execute(self, query: str, params: dict[str, Any] | None = None,
                stored: bool | None = None) -> sparql.QueryResult:
        """Run a stored query (by name) or SPARQL text; the raw `QueryResult`."""
        text, bindings = self.resolve(query, params, stored)
        return sparql.run(self.engine, text, bindings)

    def query(self, query: str, **params: Any):
        """Run a stored query by name, or SPARQL text, with parameters bound safely.

        SELECT → list of dicts of Python values; ASK → bool; CONSTRUCT/DESCRIBE → rdflib Graph.
        """
        result = self.execute(query, params)
        if result.form == "ASK":
            return bool(result.boolean)
        if result.form in ("CONSTRUCT", "DESCRIBE"):
            return result.graph
        return result.dicts()

    # -- summaries -------------------------------------------------------------------------

    def stats(self) -> Stats:
        """Triples, entities per class and facts per source section (stored queries
        ``class-counts`` and ``facts-per-section``)."""
        per_class = [(r["class"], int(r["count"])) for r in self.query("class-counts")]
        per_section = [(r["section"], r["title"], int(r["count"]))
                       for r in self.query("facts-per-section")]
        entities = self.query("entity-count")[0]["count"]
        return Stats(len(self), int(entities), per_class, per_section)


def _literal(value):
    from rdflib import Literal

    return Literal(value)
