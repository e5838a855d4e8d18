"""Engines answer vetted SPARQL. The in-memory rdflib engine is the default."""
from __future__ import annotations

from typing import Protocol

from .sparql import Prepared, QueryResult


class Engine(Protocol):
    """What the query runner needs from a store."""

    name: str

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult: ...

    def __len__(self) -> int: ...


class MemoryEngine:
    """rdflib's in-memory store; SPARQL evaluated by rdflib."""

    name = "memory"

    def __init__(self, graph) -> None:
        import rdflib.plugins.sparql as rdflib_sparql

        # FROM / FROM NAMED / LOAD must never fetch (kzgraph.sparql also refuses them).
        rdflib_sparql.SPARQL_LOAD_GRAPHS = False
        self.graph = graph

    def __len__(self) -> int:
        return len(self.graph)

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult:
        result = self.graph.query(prepared.parsed, initBindings=bindings or None)
        if prepared.form == "ASK":
            return QueryResult("ASK", boolean=bool(result.askAnswer))
        if prepared.form in ("CONSTRUCT", "DESCRIBE"):
            import rdflib

            graph = rdflib.Graph()
            for triple in result:
                graph.add(triple)
            return QueryResult(prepared.form, graph=graph)
        variables = [str(v) for v in result.vars]
        return QueryResult("SELECT", variables=variables, rows=[tuple(r) for r in result])
