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


def _to_oxigraph(term):
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot bind {term!r}")


def _from_oxigraph(term):
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == "http://www.w3.org/2001/XMLSchema#string":
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(datatype))


class OxigraphEngine:
    """pyoxigraph's store: same queries, Rust evaluation. Queries arrive already vetted."""

    name = "oxigraph"

    def __init__(self, store=None) -> None:
        import pyoxigraph

        self.store = store if store is not None else pyoxigraph.Store()

    @classmethod
    def from_graph(cls, graph) -> "OxigraphEngine":
        import pyoxigraph

        from .export import to_ntriples

        engine = cls()
        engine.store.bulk_load(to_ntriples(graph), format=pyoxigraph.RdfFormat.N_TRIPLES)
        return engine

    def __len__(self) -> int:
        return len(self.store)

    def query(self, prepared: Prepared, bindings: dict) -> QueryResult:
        import pyoxigraph as ox
        import rdflib

        subs = {ox.Variable(k): _to_oxigraph(v) for k, v in (bindings or {}).items()}
        result = self.store.query(prepared.text, substitutions=subs or None)
        if prepared.form == "ASK":
            return QueryResult("ASK", boolean=bool(result))
        if prepared.form in ("CONSTRUCT", "DESCRIBE"):
            graph = rdflib.Graph()
            for t in result:
                graph.add((_from_oxigraph(t.subject), _from_oxigraph(t.predicate),
                           _from_oxigraph(t.object)))
            return QueryResult(prepared.form, graph=graph)
        variables = [v.value for v in result.variables]
        rows = [tuple(_from_oxigraph(sol[v]) for v in variables) for sol in result]
        return QueryResult("SELECT", variables=variables, rows=rows)
