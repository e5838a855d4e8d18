"""Deterministic serialisation and atomic file writing."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .namespaces import PREFIXES


def _with_prefixes(graph, extra: dict | None = None):
    import rdflib

    out = rdflib.Graph(bind_namespaces="none")
    for prefix, iri in {**PREFIXES, **EXTRA_PREFIXES, **(extra or {})}.items():
        out.bind(prefix, iri)
    for triple in graph:
        out.add(triple)
    return out


#: Prefixes of the dataset description (VoID, DCAT), bound in exports after `PREFIXES`.
EXTRA_PREFIXES = {"dcat": "http://www.w3.org/ns/dcat#", "foaf": "http://xmlns.com/foaf/0.1/",
                  "void": "http://rdfs.org/ns/void#"}


def to_turtle(graph, prefixes: dict | None = None) -> bytes:
    """Turtle with kzgraph's fixed prefixes (and ``prefixes``), subjects and predicates
    sorted: the same graph gives the same bytes on every run (the graph has no blank nodes
    but RDF lists)."""
    from .loader import lexical_forms

    # canon=True writes N-Triples and parses them back with rdflib's parser, which has no
    # per-call switch: without the scope, "…Z" would come back as "…+00:00"
    with lexical_forms():
        return _with_prefixes(graph, prefixes).serialize(format="longturtle", encoding="utf-8",
                                                         canon=True)


def to_ntriples(graph) -> bytes:
    """N-Triples, lines sorted (stable across runs)."""
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted(line for line in text.splitlines() if line.strip())
    return ("\n".join(lines) + "\n").encode("utf-8")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file and the previous content survives until the end."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:  # mkstemp creates 0600 files: give the usual permissions (or the old file's)
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
            os.chmod(tmp, mode)
        except OSError:
            pass
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


# -- every linked-data format, named graphs per source section --------------------------------
#
# Which graph a triple goes to (TriG, N-Quads, JSON-LD):
#
# * a triple whose subject cites source sections with ``prov:wasDerivedFrom`` goes to the named
#   graph of each of those sections, ``<https://w3id.org/kzgraph/graph/{section}>`` (section =
#   the local name of the ``kz:src-…`` node); a node citing two sections has all its triples in
#   both graphs (quads repeat the triple, the union is the graph);
# * the ontology — subjects outside the ``kz:`` namespace (``kzo:`` terms, the ontology itself,
#   the declarations of reused vocabulary terms) — goes to ``<https://w3id.org/kzgraph/graph/ontology>``;
# * ``kz:`` nodes without a section (the source documents and sections themselves) go to the
#   default graph;
# * blank nodes (RDF lists and class axioms of the ontology) go where the nodes that refer to
#   them go;
# * with ``--inferred``, the OWL RL closure goes to ``<https://w3id.org/kzgraph/graph/inferred>``.
#
# Determinism: blank nodes get content-derived labels (rdflib's canonical labelling), lines and
# graphs are sorted, Turtle/TriG use rdflib's canonical longturtle, JSON-LD is sorted JSON, and
# RDF/XML is written from a graph filled in sorted order.

GRAPH_NS = "https://w3id.org/kzgraph/graph/"
ONTOLOGY_GRAPH = GRAPH_NS + "ontology"
INFERRED_GRAPH = GRAPH_NS + "inferred"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"

#: format name → (media type, file extension, carries named graphs)
FORMATS: dict[str, tuple[str, str, bool]] = {
    "ttl": ("text/turtle", "ttl", False),
    "nt": ("application/n-triples", "nt", False),
    "nq": ("application/n-quads", "nq", True),
    "trig": ("application/trig", "trig", True),
    "jsonld": ("application/ld+json", "jsonld", True),
    "xml": ("application/rdf+xml", "rdf", False),
}


def context() -> dict:
    """The JSON-LD context shipped in the package (``kzgraph/context.jsonld``), never fetched."""
    import json

    return json.loads((Path(__file__).with_name("context.jsonld")).read_text(encoding="utf-8"))


def _canonical(graph):
    """The graph with content-derived blank-node labels (same labels in every process)."""
    from rdflib.compare import to_canonical_graph

    from rdflib import BNode

    if not any(isinstance(x, BNode) for t in graph for x in t):
        return graph
    return to_canonical_graph(graph)


def section_graphs(graph, inferred=None) -> dict:
    """Split ``graph`` into named graphs by the rule above: graph IRI (None for the default
    graph) → rdflib Graph. ``inferred`` (a graph of closure triples) adds the inferred graph."""
    import rdflib
    from rdflib import BNode, URIRef

    from .namespaces import KZ

    derived = URIRef(PROV_DERIVED)
    homes: dict = {}
    for s in set(graph.subjects()):
        if isinstance(s, BNode):
            continue
        sections = sorted(str(o) for o in graph.objects(s, derived) if isinstance(o, URIRef))
        if sections:
            homes[s] = tuple(GRAPH_NS + x.rsplit("/", 1)[-1] for x in sections)
        elif isinstance(s, URIRef) and str(s).startswith(KZ):
            homes[s] = (None,)
        else:
            homes[s] = (ONTOLOGY_GRAPH,)

    def home(node, seen=()):
        if node in homes:
            return homes[node]
        if node in seen:
            return (ONTOLOGY_GRAPH,)
        found = sorted({g for ref in graph.subjects(None, node) for g in home(ref, (*seen, node))},
                       key=lambda g: g or "")
        homes[node] = tuple(found) or (ONTOLOGY_GRAPH,)
        return homes[node]

    parts: dict = {}
    for triple in graph:
        for name in home(triple[0]):
            parts.setdefault(name, []).append(triple)
    if inferred is not None and len(inferred):
        parts[INFERRED_GRAPH] = list(inferred)
    out = {}
    for name in sorted(parts, key=lambda g: g or ""):
        part = rdflib.Graph(bind_namespaces="none")
        for triple in sorted(parts[name]):
            part.add(triple)
        out[name] = part
    return out


def _nt_lines(graph) -> list[str]:
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return [line for line in text.splitlines() if line.strip()]


def to_nquads(graph, inferred=None) -> bytes:
    """N-Quads, one named graph per source section (default graph without a label), lines
    sorted."""
    lines = []
    for name, part in section_graphs(*_canonical_union(graph, inferred)).items():
        for line in _nt_lines(part):
            lines.append(line if name is None else f"{line[:-1].rstrip()} <{name}> .")
    return ("\n".join(sorted(lines)) + "\n").encode("utf-8")


def _canonical_union(graph, inferred):
    """Canonical blank-node labels over the base and inferred triples together."""
    if inferred is None or not len(inferred):
        return _canonical(graph), None
    import rdflib

    both = rdflib.Graph()
    for t in graph:
        both.add(t)
    for t in inferred:
        both.add(t)
    canon = _canonical(both)
    if canon is both:
        return graph, inferred
    base = rdflib.Graph()
    extra = rdflib.Graph()
    # inferred triples never contain blank nodes (reason.closure drops them)
    for t in canon:
        (extra if t in inferred else base).add(t)
    return base, extra


def _turtle_body(graph) -> tuple[list[str], list[str]]:
    """(PREFIX lines, body lines) of the canonical longturtle of ``graph``."""
    text = to_turtle(graph).decode("utf-8")
    prefixes, body = [], []
    for line in text.splitlines():
        (prefixes if line.startswith("PREFIX ") and not body else body).append(line)
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    return prefixes, body


def to_trig(graph, inferred=None) -> bytes:
    """TriG: the default graph, then one ``GRAPH`` block per named graph in IRI order, each in
    canonical longturtle."""
    base, extra = _canonical_union(graph, inferred)
    prefixes: set[str] = set()
    blocks = []
    for name, part in section_graphs(base, extra).items():
        pre, body = _turtle_body(part)
        prefixes.update(pre)
        if name is None:
            blocks.append("\n".join(body))
        else:
            inner = "\n".join(("    " + line) if line.strip() else "" for line in body)
            blocks.append(f"<{name}> {{\n{inner}\n}}")
    head = "\n".join(sorted(prefixes))
    return (head + "\n\n" + "\n\n".join(blocks) + "\n").encode("utf-8")


def _sort_json(value, key=None):
    """Sort JSON-LD: object keys (by json.dumps), node arrays by @id, value arrays by their
    JSON text; ``@list`` arrays keep their order."""
    import json

    if isinstance(value, dict):
        return {k: _sort_json(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_sort_json(v) for v in value]
        if key == "@list":
            return items
        return sorted(items, key=lambda v: (v.get("@id", "") if isinstance(v, dict) else "",
                                            json.dumps(v, sort_keys=True, ensure_ascii=False)))
    return value


def to_jsonld(graph, inferred=None) -> bytes:
    """JSON-LD with the packaged context inlined (nothing to fetch to read it back); one
    ``@graph`` per named graph; keys and arrays sorted."""
    import json

    import rdflib

    base, extra = _canonical_union(graph, inferred)
    ctx = context()["@context"]
    ds = rdflib.Dataset()
    for name, part in section_graphs(base, extra).items():
        target = ds.default_graph if name is None else ds.graph(rdflib.URIRef(name))
        for t in part:
            target.add(t)
    text = ds.serialize(format="json-ld", context=ctx, auto_compact=True, encoding="utf-8")
    nodes = json.loads(text).get("@graph", [])
    sorted_nodes = _sort_json(nodes)
    out = {"@context": ctx, "@graph": sorted_nodes}
    return (json.dumps(out, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def to_rdfxml(graph, prefixes: dict | None = None) -> bytes:
    """RDF/XML (triples only: named graphs are not expressible), subjects and properties in
    sorted order, fixed prefixes (and ``prefixes``)."""
    import rdflib

    from .namespaces import PREFIXES

    canon = _canonical(graph)
    out = rdflib.Graph(store="SimpleMemory", bind_namespaces="none")
    for prefix, iri in {**PREFIXES, **EXTRA_PREFIXES, **(prefixes or {})}.items():
        out.bind(prefix, iri)
    for triple in sorted(canon):
        out.add(triple)
    return out.serialize(format="xml", encoding="utf-8")


def serialize(graph, fmt: str, inferred=None) -> bytes:
    """``graph`` (+ ``inferred`` closure triples) in ``fmt`` (a key of `FORMATS`), the same
    bytes on every run."""
    from .errors import InputError
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; available: {', '.join(FORMATS)}")
    if fmt in ("nq", "trig", "jsonld"):
        return {"nq": to_nquads, "trig": to_trig, "jsonld": to_jsonld}[fmt](graph, inferred)
    full = graph
    if inferred is not None and len(inferred):
        import rdflib

        full = rdflib.Graph()
        for t in graph:
            full.add(t)
        for t in inferred:
            full.add(t)
    if fmt == "ttl":
        return to_turtle(full)
    if fmt == "nt":
        return to_ntriples(_canonical(full))
    return to_rdfxml(full)


def export(kg, fmt: str, *, inferred: bool = False) -> bytes:
    """The validated graph of ``kg`` (a `kzgraph.KZGraph`) in ``fmt``; ``inferred`` adds the
    filtered OWL RL closure (in its own named graph for quad formats)."""
    graph = kg.graph
    extra = None
    if inferred:
        from .reason import closure

        extra, _ = closure(graph)
    return serialize(graph, fmt, extra)
