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

    def __init__(self, engine, files: list[Path] | None = None, *, reasoning: bool = False,
                 validate: bool = True, cache: bool = True, names=None) -> None:
        self.engine = engine
        self.files = list(files or [])
        self.reasoning = reasoning
        self._options = {"reasoning": reasoning, "validate": validate, "use_cache": cache}
        self._graph = None
        #: the name index (`kzgraph.names.NameIndex`), built on first use when not given
        self._names = names

    @classmethod
    def open(cls, paths=None, *, reasoning: bool = False, engine: str = "oxigraph",
             validate: bool = True, cache: bool = True) -> "KZGraph":
        from .build import input_files

        if isinstance(engine, str) and engine.startswith(("http://", "https://")):
            # A SPARQL server: nothing is read or validated here (the publisher validated
            # the graph before `kzgraph publish`); every call becomes a protocol request.
            from .engine import RemoteEngine

            if paths or reasoning:
                raise InputError("a remote engine serves the server's graph: local files and "
                                 "reasoning cannot be added to it")
            return cls(RemoteEngine(engine), [], reasoning=False)
        if engine not in ("memory", "oxigraph"):
            raise InputError(f"unknown engine {engine!r}; available: memory, oxigraph or the "
                             f"http(s) URL of a SPARQL endpoint")
        files = input_files(list(paths or []))
        options = {"reasoning": reasoning, "validate": validate, "use_cache": cache}
        if engine == "oxigraph":
            from .build import load_store
            from .engine import OxigraphEngine

            store, names = load_store(files, **options)
            return cls(OxigraphEngine(store), files, reasoning=reasoning, validate=validate,
                       cache=cache, names=names)
        from .build import load_graph, named_parts
        from .engine import MemoryEngine

        graph = load_graph(files, **options)
        return cls(MemoryEngine(graph, named=lambda: named_parts(graph, files, **options)),
                   files, reasoning=reasoning, validate=validate, cache=cache)

    @property
    def graph(self):
        """All triples as an rdflib Graph, for export, drawing and rdflib users: the memory
        engine's own graph; for Oxigraph the same validated build read from the cache
        (`kzgraph.build.load_graph`) on first use, or fetched with a CONSTRUCT through the
        query runner when the graph did not come from files."""
        if hasattr(self.engine, "graph"):
            return self.engine.graph
        if self._graph is None:
            if self.files:
                from .build import load_graph

                self._graph = load_graph(self.files, **self._options)
            else:
                self._graph = self.execute("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                           stored=False).graph
        return self._graph

    @property
    def names(self):
        """The name index (`kzgraph.names.NameIndex`): normalised name → entities. Kept in
        the build cache beside the store; built from the ``entity-names`` query when the
        graph did not come from the cache."""
        if callable(self._names):
            self._names = self._names()
        if self._names is None:
            from .names import NameIndex

            self._names = NameIndex.build(self)
        return self._names

    def __len__(self) -> int:
        return len(self.engine)

    def __repr__(self) -> str:
        return f"<KZGraph {len(self)} triples, engine={self.engine.name}>"

    # -- queries ---------------------------------------------------------------------------

    @staticmethod
    def resolve(query: str, params: dict[str, Any] | None = None,
                stored: bool | None = None) -> tuple[str, dict]:
        """A stored query name or SPARQL text + parameters → (SPARQL text, rdflib bindings).

        ``stored`` None guesses: a bare name (letters, digits, ``-``, ``_``) is a stored query.
        """
        params = dict(params or {})
        if stored or (stored is None and _NAME.match(query.strip())):
            stored = catalog.get(query.strip())
            return stored.text, catalog.bindings(stored, params)
        return query, {k: _term(v) for k, v in params.items()}

    def execute(self, query: str, params: dict[str, Any] | None = None,
                stored: bool | None = None, dataset=None) -> sparql.QueryResult:
        """Run a stored query (by name) or SPARQL text; the raw `QueryResult`. ``dataset``
        (a `kzgraph.dataset.Dataset`) selects among the named graphs and replaces the
        query's FROM / FROM NAMED."""
        text, bindings = self.resolve(query, params, stored)
        return sparql.run(self.engine, text, bindings, dataset)

    def run(self, text: str, bindings: dict, dataset=None) -> sparql.QueryResult:
        """Run already resolved SPARQL text with rdflib-term bindings (see `resolve`)."""
        return sparql.run(self.engine, text, bindings, dataset)

    def query(self, query: str, graphs=None, **params: Any):
        """Run a stored query by name, or SPARQL text, with parameters bound safely.
        ``graphs`` (IRIs or short forms, see `kzgraph.dataset.expand`) runs it on those named
        graphs only: their merge as the default graph, and they as the named graphs.

        SELECT → list of dicts of Python values; ASK → bool; CONSTRUCT/DESCRIBE → rdflib Graph.
        """
        from .dataset import Dataset

        result = self.execute(query, params, dataset=Dataset.of(graphs))
        if result.form == "ASK":
            return bool(result.boolean)
        if result.form in ("CONSTRUCT", "DESCRIBE"):
            return result.graph
        return result.dicts()

    # -- the dataset: named graphs ----------------------------------------------------------

    def graphs(self) -> list[str]:
        """The named graph IRIs, sorted (one per source section, the ontology graph, and the
        inferred graph with reasoning): what ``graphs=``, FROM and the protocol may name."""
        from .dataset import known_graphs

        return list(known_graphs(self.engine))

    def graph_table(self) -> list[dict[str, Any]]:
        """Each named graph with its triple count, section and title (``queries/graphs.rq``)."""
        return self.query("graphs")

    def named_graphs(self) -> dict:
        """Each named graph's triples as an rdflib Graph (IRI → Graph), read with a CONSTRUCT
        per graph through the query runner (what `kzgraph publish` uploads)."""
        from rdflib import URIRef

        from . import api_queries

        text = api_queries.get("graph-triples").text
        return {iri: sparql.run(self.engine, text, {"g": URIRef(iri)}).graph
                for iri in self.graphs()}

    # -- summaries -------------------------------------------------------------------------

    def stats(self) -> Stats:
        """Triples, entities per class and facts per source section (stored queries
        ``class-counts`` and ``facts-per-section``)."""
        per_class = [(r["class"], int(r["count"])) for r in self.query("class-counts")]
        per_section = [(r["section"], r["title"], int(r["count"]))
                       for r in self.query("facts-per-section")]
        entities = self.query("entity-count")[0]["count"]
        return Stats(len(self), int(entities), per_class, per_section)

    # -- the analyst's API (kzgraph.entities, traversal, ownership, timeline, statistics) ---

    def entity(self, name, type=None):
        """The entity called ``name`` (label or alternative label, ignoring case, spaces and
        hyphens; or a ``kz:`` name or IRI), as an `kzgraph.entities.Entity`. ``type`` (a class
        IRI or ``kzo:`` name) restricts the search. Raises `kzgraph.errors.UnknownEntity` or
        `kzgraph.errors.AmbiguousEntity` (both `LookupError`) listing the closest matches."""
        from .entities import lookup

        return lookup(self, name, type)

    def search(self, text: str, limit: int = 10, type=None):
        """Entities whose names match ``text``, best first (`kzgraph.records.Match`)."""
        from .entities import search

        return search(self, text, limit=limit, type=type)

    def neighbors(self, entity, predicate=None, direction: str = "out"):
        """Nodes linked to ``entity`` (``direction`` "out", "in" or "both"), optionally by one
        ``predicate`` (`kzgraph.records.Neighbor`)."""
        from .traversal import neighbors

        return neighbors(self, entity, predicate, direction)

    def path(self, start, end, max_hops: int = 4, predicates=None, exclude=None):
        """The shortest connection between two nodes (`kzgraph.records.Path`), or None.
        ``predicates`` walks only those links; ``exclude`` (default: provenance and
        kzo:country, see `kzgraph.traversal`) skips links."""
        from .traversal import DEFAULT_EXCLUDE, path

        return path(self, start, end, max_hops, predicates,
                    DEFAULT_EXCLUDE if exclude is None else exclude)

    def subgraph(self, entity, hops: int = 2, predicates=None, exclude=None):
        """The statements of every node within ``hops`` links of ``entity``, as an rdflib
        Graph (built from CONSTRUCT queries)."""
        from .traversal import DEFAULT_EXCLUDE, subgraph

        return subgraph(self, entity, hops, predicates,
                        DEFAULT_EXCLUDE if exclude is None else exclude)

    def to_networkx(self, provenance: bool = False):
        """The kz: nodes and their links as a networkx MultiDiGraph (needs networkx)."""
        from .traversal import to_networkx

        return to_networkx(self, provenance)

    def owners(self, company, as_of=None, include_undated: bool = True):
        """Stakes held in ``company`` (`kzgraph.records.Stake`), at ``as_of`` when given."""
        from .ownership import owners

        return owners(self, company, as_of, include_undated)

    def holdings(self, owner, as_of=None, include_undated: bool = True):
        """Stakes ``owner`` holds (`kzgraph.records.Stake`), at ``as_of`` when given."""
        from .ownership import holdings

        return holdings(self, owner, as_of, include_undated)

    def ownership_chains(self, owner, company, as_of=None, max_depth: int = 6):
        """Chains of stakes from ``owner`` to ``company`` (`kzgraph.records.Chain`)."""
        from .ownership import ownership_chains

        return ownership_chains(self, owner, company, as_of, max_depth)

    def effective_share(self, owner, company, as_of=None, max_depth: int = 6):
        """``owner``'s share in ``company`` through every chain of stakes: products along
        chains, added over parallel chains (`kzgraph.records.EffectiveShare`, percent)."""
        from .ownership import effective_share

        return effective_share(self, owner, company, as_of, max_depth)

    def controlled_by(self, company, threshold=50, as_of=None):
        """Who controls ``company`` directly or transitively, control meaning more than
        ``threshold`` percent (`kzgraph.records.Control`)."""
        from .ownership import controlled_by

        return controlled_by(self, company, threshold, as_of)

    def events(self, kind=None, start=None, end=None, place=None):
        """Events sorted by date (`kzgraph.records.Event`), filtered by kind ("shutdown",
        "blocking", "law" ...), time window and place."""
        from .timeline import events

        return events(self, kind, start, end, place)

    def timeline(self, kind=None, start=None, end=None):
        """Everything dated — events, laws, policies, facts — sorted by date
        (`kzgraph.records.TimelineEntry`)."""
        from .timeline import timeline

        return timeline(self, kind, start, end)

    def series(self, measure):
        """The observations of a measure by period, conflicting figures marked
        (`kzgraph.records.Observation`)."""
        from .statistics import series

        return series(self, measure)


def _term(value):
    """A parameter value for SPARQL text: an rdflib or pyoxigraph term as it is, else a
    literal of the Python value's XSD type (str, bool, int, float, Decimal, date, datetime)."""
    import datetime as dt
    from decimal import Decimal

    from .terms import XSD, is_oxigraph, literal

    if is_oxigraph(value) or type(value).__module__.startswith("rdflib"):
        return value
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, bool):
        return literal("true" if value else "false", XSD + "boolean")
    if isinstance(value, int):
        return literal(str(value), XSD + "integer")
    if isinstance(value, float):
        return literal(repr(value), XSD + "double")
    if isinstance(value, Decimal):
        return literal(f"{value:f}", XSD + "decimal")
    if isinstance(value, dt.datetime):
        return literal(value.isoformat(), XSD + "dateTime")
    if isinstance(value, dt.date):
        return literal(value.isoformat(), XSD + "date")
    from rdflib import Literal

    return Literal(value)
