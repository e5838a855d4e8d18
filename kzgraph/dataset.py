"""SPARQL datasets over the graph's own named graphs.

The dataset every engine serves is the *union* default graph (every triple) plus one named
graph per source section, ``<https://w3id.org/kzgraph/graph/{section}>``, the ontology graph
and, with reasoning, the inferred graph: the same IRIs and the same split as the N-Quads
export (`kzgraph.export.section_graphs`). A query selects among **those graphs only**, with
FROM / FROM NAMED in its text, with ``default-graph-uri`` / ``named-graph-uri`` (protocol), or
with ``kzgraph query --graph`` / ``kg.query(..., graphs=[...])``; any other IRI is an
`UnknownGraph` error, and nothing is ever fetched.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InputError

GRAPH_NS = "https://w3id.org/kzgraph/graph/"
#: the stored query that lists the named graphs (read through the query runner)
NAMED_GRAPHS_QUERY = "named-graphs"


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset a query runs on. ``Dataset()`` (both None) is the service's own
    dataset: the union default graph and every named graph. As in SPARQL, once any graph is
    named the dataset is exactly what is named: only default graphs → no named graphs, only
    named graphs → an empty default graph (a None beside a tuple becomes ``()``)."""

    default: tuple[str, ...] | None = None
    named: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        default, named = self.default, self.named
        if default is None and named is None:
            return
        object.__setattr__(self, "default", _unique(default or ()))
        object.__setattr__(self, "named", _unique(named or ()))

    @property
    def is_service(self) -> bool:
        """Whether this is the service's own dataset (nothing selected)."""
        return self.default is None

    @property
    def iris(self) -> tuple[str, ...]:
        """Every graph IRI this dataset names (default graphs first)."""
        return _unique((*(self.default or ()), *(self.named or ())))

    @classmethod
    def of(cls, graphs: Iterable[str] | None) -> "Dataset | None":
        """``graphs`` (the CLI's ``--graph``, the API's ``graphs=``) as both the default graph
        (their merge) and the named graphs; None when no graph is given. Short forms are
        expanded (`expand`)."""
        chosen = _unique(expand(g) for g in (graphs or ()))
        return cls(chosen, chosen) if chosen else None

    @classmethod
    def request(cls, default_graphs: Iterable[str] = (),
                named_graphs: Iterable[str] = ()) -> "Dataset | None":
        """The dataset of protocol parameters (``default-graph-uri``, ``named-graph-uri``),
        or None when neither is given (then FROM / FROM NAMED of the query text apply)."""
        default, named = tuple(default_graphs or ()), tuple(named_graphs or ())
        if not default and not named:
            return None
        return cls(default, named)


def _unique(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(i) for i in items))


class UnknownGraph(InputError):
    """A dataset names a graph that is not one of the graph's own named graphs. The message
    names the IRI and lists the known graphs (``kzgraph graphs``)."""

    def __init__(self, iri: str, known: Iterable[str] = ()) -> None:
        self.iri, self.known = iri, tuple(known)
        listing = ", ".join(self.known) if self.known else "(none)"
        super().__init__(f"unknown graph <{iri}>: kzgraph never loads other graphs; the known "
                         f"graphs (kzgraph graphs) are: {listing}")


def expand(name: str) -> str:
    """A graph name as the CLI and the API accept it → the graph IRI: the full IRI
    (``https://w3id.org/kzgraph/graph/src-internet-shutdowns``), ``graph:LOCAL``, the bare
    local name (``src-internet-shutdowns``, ``ontology``), or the section node it stands for
    (``kz:src-internet-shutdowns`` or its full IRI). Anything else is returned as it is (and
    refused later as an `UnknownGraph` when it is not a known graph)."""
    from .namespaces import KZ

    name = str(name).strip()
    if name.startswith("graph:"):
        return GRAPH_NS + name[len("graph:"):]
    if name.startswith("kz:src-"):
        return GRAPH_NS + name[len("kz:"):]
    if name.startswith(KZ + "src-"):
        return GRAPH_NS + name[len(KZ):]
    if name and ":" not in name and "/" not in name:
        return GRAPH_NS + name
    return name


def effective(requested: Dataset | None, in_text: Dataset | None) -> Dataset | None:
    """The SPARQL 1.1 Protocol's precedence: a dataset given by protocol parameters (or
    ``graphs=``) replaces FROM / FROM NAMED of the query text. None: the service dataset."""
    if requested is not None and not requested.is_service:
        return requested
    if in_text is not None and not in_text.is_service:
        return in_text
    return None


def check(dataset: Dataset | None, known: Iterable[str]) -> None:
    """Raise `UnknownGraph` for the first IRI of ``dataset`` that is not in ``known``."""
    if dataset is None or dataset.is_service:
        return
    known = tuple(known)
    allowed = set(known)
    for iri in dataset.iris:
        if iri not in allowed:
            raise UnknownGraph(iri, known)


def known_graphs(engine) -> tuple[str, ...]:
    """The named graph IRIs ``engine`` serves, sorted; read once per engine with the stored
    query ``queries/api/named-graphs.rq`` through the query runner."""
    cached = getattr(engine, "_kzgraph_graphs", None)
    if cached is not None:
        return cached
    from . import api_queries, sparql

    result = sparql.run(engine, api_queries.get(NAMED_GRAPHS_QUERY).text)
    graphs = tuple(sorted(row[0].value for row in result.terms if row[0] is not None))
    try:
        engine._kzgraph_graphs = graphs
    except AttributeError:  # an engine that takes no attributes: ask again next time
        pass
    return graphs


def named_graphs(graph, inferred=None) -> dict:
    """The named graphs of ``graph`` (+ the ``inferred`` closure triples): graph IRI → rdflib
    Graph, exactly the named graphs of the N-Quads export (`kzgraph.export.section_graphs`,
    whose default-graph part is left out: here the default graph is the union)."""
    from .export import section_graphs

    return {name: part for name, part in section_graphs(graph, inferred).items()
            if name is not None}


def split(graph, base=None) -> dict:
    """Named graphs of a build: ``graph`` is the whole build; ``base`` (given for a build
    with reasoning) is the build without the closure, whose difference from ``graph`` goes to
    the inferred graph, as ``kzgraph export --inferred`` puts it."""
    if base is None:
        return named_graphs(graph)
    import rdflib

    inferred = rdflib.Graph()
    for triple in graph:
        if triple not in base:
            inferred.add(triple)
    return named_graphs(base, inferred)


def quads(graph, base=None) -> bytes:
    """The whole build as N-Quads: every triple in the default graph (the union), then each
    named graph's triples again as quads (`split`, see `nquads`)."""
    return nquads(graph, split(graph, base))


def nquads(graph, named: dict) -> bytes:
    """``graph`` as the default graph and ``named`` (IRI → rdflib Graph) as quads, in one
    N-Quads document, so blank nodes keep one identity across the default and the named
    graphs; lines sorted."""
    from .export import _nt_lines

    lines = _nt_lines(graph)
    for name, part in named.items():
        lines.extend(f"{line[:-1].rstrip()} <{name}> ." for line in _nt_lines(part))
    return ("\n".join(sorted(lines)) + "\n").encode("utf-8")
