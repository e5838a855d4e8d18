"""Walking the graph: neighbours of a node, the shortest path between two nodes, the
subgraph around a node, and the whole graph as a networkx graph.

Every hop is one stored query (``neighbors``, ``node-description``, ``links``) run through the
query runner, so the walk works on every engine.

>>> import kzgraph
>>> kg = kzgraph.load()
>>> [n.label for n in kg.neighbors("Kazakhtelecom", predicate="kzo:owner", direction="in")]
["Kazakhtelecom's 49 % stake in Kcell", "Kazakhtelecom's 50 % stake in Altel"]
>>> path = kg.path("Kcell", "Government of Kazakhstan", predicates=["kzo:owner", "kzo:ownedEntity"])
>>> path.hops, path.labels[2]
(4, 'Kazakhtelecom')
>>> len(kg.subgraph("Kcell", hops=1)) > 20
True

By default `path` and `subgraph` do not walk through provenance links (``prov:wasDerivedFrom``,
``dcterms:isPartOf``: every node cites a source section, so everything would be two hops apart)
nor through ``kzo:country`` (every Kazakh organisation points at the country). Pass
``exclude=()`` to walk every link, or ``predicates=[...]`` to walk only some.
"""
from __future__ import annotations

from collections.abc import Iterable

from . import api_queries
from .entities import is_instance, label_of, lookup
from .errors import InputError
from .namespaces import expand
from .records import Neighbor, Path, Records, Step

PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
DCT_PART = "http://purl.org/dc/terms/isPartOf"
KZO_COUNTRY = "https://w3id.org/kzgraph/ontology#country"
#: Links `path` and `subgraph` skip unless told otherwise (see the module documentation).
DEFAULT_EXCLUDE = (PROV_DERIVED, DCT_PART, KZO_COUNTRY)
DIRECTIONS = ("out", "in", "both")
NETWORKX_HINT = ("networkx is not installed; install it (pip install networkx, or the "
                 "'networkx' extra of kzgraph) to use to_networkx()")


def _iri(kg, node) -> str:
    return lookup(kg, node).iri


def _predicates(values) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return frozenset(expand(v) for v in values)


def neighbors(kg, entity, predicate=None, direction: str = "out") -> Records:
    """Nodes linked to ``entity``: ``direction`` ``"out"`` (the entity is the subject),
    ``"in"`` (the entity is the object) or ``"both"``; only links with ``predicate`` (an IRI
    or ``kzo:`` name) when given. Literal values and ``rdf:type`` are not neighbours (see
    ``Entity.facts`` and ``Entity.types``). Returns `Neighbor` records."""
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    iri = _iri(kg, entity)
    rows = api_queries.rows(kg, "neighbors", node=iri,
                            predicate=expand(predicate) if predicate else None)
    seen: dict[tuple, Neighbor] = {}
    for row in rows:
        if direction != "both" and row["direction"] != direction:
            continue
        key = (row["direction"], row["predicate"], row["neighbor"])
        if key not in seen:
            seen[key] = Neighbor(row["neighbor"], row["neighborLabel"], row["predicate"],
                                 row["predicateLabel"], row["direction"])
    return Records(sorted(seen.values(), key=lambda n: (n.direction, n.predicate_label or "",
                                                         n.label or n.iri)))


class _Walker:
    """One hop = one ``neighbors`` query per node, memoised for the duration of a walk."""

    def __init__(self, kg, predicates, exclude) -> None:
        self.kg = kg
        self.predicates = _predicates(predicates)
        self.exclude = _predicates(exclude) or frozenset()
        self.cache: dict[str, list[tuple[str, tuple[str, str, str], str | None]]] = {}

    def links(self, node: str):
        """(neighbour, (subject, predicate, object), predicate label), sorted."""
        if node not in self.cache:
            out = set()
            for row in api_queries.rows(self.kg, "neighbors", node=node):
                other, predicate = row["neighbor"], row["predicate"]
                if not is_instance(other) or predicate in self.exclude:
                    continue
                if self.predicates is not None and predicate not in self.predicates:
                    continue
                triple = (node, predicate, other) if row["direction"] == "out" \
                    else (other, predicate, node)
                out.add((other, triple, row["predicateLabel"]))
            self.cache[node] = sorted(out, key=lambda x: (x[0], x[1], x[2] or ""))
        return self.cache[node]


def path(kg, start, end, max_hops: int = 4, predicates: Iterable[str] | None = None,
         exclude: Iterable[str] = DEFAULT_EXCLUDE) -> Path | None:
    """The shortest connection between two nodes, walking links in either direction, as a
    `Path` (nodes, labels and the statements on the way); None when there is none within
    ``max_hops``. Breadth-first from both ends, one query per node; among paths of equal
    length the one first in IRI order wins."""
    if max_hops < 0:
        raise InputError("max_hops must be 0 or more")
    a, b = _iri(kg, start), _iri(kg, end)
    if a == b:
        return Path((a,), (label_of(kg, a),), ())
    walker = _Walker(kg, predicates, exclude)
    parents = ({a: None}, {b: None})   # node → (previous node, triple)
    depth = ({a: 0}, {b: 0})
    frontier = ([a], [b])
    levels = [0, 0]
    while frontier[0] and frontier[1] and levels[0] + levels[1] < max_hops:
        side = 0 if len(frontier[0]) <= len(frontier[1]) else 1
        found, other = [], 1 - side
        nxt = []
        for node in sorted(frontier[side]):
            for neighbour, triple, _ in walker.links(node):
                if neighbour in parents[side]:
                    continue
                parents[side][neighbour] = (node, triple)
                depth[side][neighbour] = levels[side] + 1
                nxt.append(neighbour)
                if neighbour in parents[other]:
                    found.append(neighbour)
        levels[side] += 1
        frontier[side][:] = nxt
        if found:
            meet = min(found, key=lambda n: (depth[0][n] + depth[1][n], n))
            return _assemble(kg, walker, meet, parents)
    return None


def _assemble(kg, walker: _Walker, meet: str, parents) -> Path:
    """Nodes and steps from the start through ``meet`` to the end."""
    hops: list[tuple[str, tuple[str, str, str]]] = []   # (node walked from, triple)
    node = meet
    while parents[0][node] is not None:
        previous, triple = parents[0][node]
        hops.append((previous, triple))
        node = previous
    hops.reverse()
    nodes = [frm for frm, _ in hops] + [meet]
    node = meet
    while parents[1][node] is not None:
        following, triple = parents[1][node]
        hops.append((node, triple))
        nodes.append(following)
        node = following
    labels = {p: label for cached in walker.cache.values() for _, (_, p, _), label in cached}
    steps = tuple(Step(s, p, o, labels.get(p), s == frm) for frm, (s, p, o) in hops)
    return Path(tuple(nodes), tuple(label_of(kg, n) for n in nodes), steps)


def reachable(kg, entity, hops: int = 2, predicates=None, exclude=DEFAULT_EXCLUDE) -> list[str]:
    """The nodes within ``hops`` links of ``entity`` (itself included), sorted."""
    start = _iri(kg, entity)
    walker = _Walker(kg, predicates, exclude)
    seen, frontier = {start}, [start]
    for _ in range(max(hops, 0)):
        nxt = []
        for node in sorted(frontier):
            for neighbour, _, _ in walker.links(node):
                if neighbour not in seen:
                    seen.add(neighbour)
                    nxt.append(neighbour)
        frontier = nxt
    return sorted(seen)


def subgraph(kg, entity, hops: int = 2, predicates=None, exclude=DEFAULT_EXCLUDE):
    """The statements of every node within ``hops`` links of ``entity`` (``node-description``,
    a CONSTRUCT query, per node), merged into one rdflib Graph with the kzgraph prefixes
    bound. Links to nodes further out stay in (their targets are not described)."""
    import rdflib

    from .namespaces import PREFIXES

    graph = rdflib.Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for node in reachable(kg, entity, hops, predicates, exclude):
        result = api_queries.run(kg, "node-description", node=node)
        graph += result.graph
    return graph


def to_networkx(kg, provenance: bool = False):
    """The graph's nodes (vocabulary terms aside) and the links between them as a
    ``networkx.MultiDiGraph``: nodes carry ``label``, edges are keyed by predicate IRI and
    carry ``label``. Provenance links (``prov:wasDerivedFrom``, ``dcterms:isPartOf``) are left
    out unless ``provenance``. Needs networkx (an optional extra): ImportError with a hint
    otherwise."""
    try:
        import networkx
    except ImportError:
        raise ImportError(NETWORKX_HINT) from None
    from .entities import _index

    index = _index(kg)
    graph = networkx.MultiDiGraph()
    for iri, label in sorted(index.labels.items()):
        graph.add_node(iri, label=label)
    skip = set() if provenance else {PROV_DERIVED, DCT_PART}
    for row in api_queries.rows(kg, "links"):
        if row["predicate"] in skip:
            continue
        for node in (row["subject"], row["object"]):
            if node not in graph:
                graph.add_node(node, label=index.labels.get(node))
        graph.add_edge(row["subject"], row["object"], key=row["predicate"],
                       label=row["predicateLabel"])
    return graph


__all__ = ["DEFAULT_EXCLUDE", "neighbors", "path", "reachable", "subgraph", "to_networkx"]
