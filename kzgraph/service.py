"""The SPARQL 1.1 Service Description of ``kzgraph serve``'s endpoint: what ``GET /sparql``
without a query answers (https://www.w3.org/TR/sparql11-service-description/).

It is built from the API, never written by hand: the named graphs are `KZGraph.graphs()`;
the triple counts come from stored queries run through the query runner
(``queries/graphs.rq``, what ``kzgraph graphs`` prints, and
``queries/api/default-graph-size.rq``); the result formats are those `kzgraph.protocol`
negotiates. It claims only what the server does: SPARQL 1.1 Query (no Update language: the server is read-only), the union
default graph, no federated query (SERVICE is refused), no dereferencing of IRIs.

Nodes other than the service are IRIs under the endpoint (``<endpoint#dataset>``, ...), not
blank nodes, so every serialisation is byte-identical from run to run.
"""
from __future__ import annotations

SD = "http://www.w3.org/ns/sparql-service-description#"
W3C_FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
ENTAILMENT_SIMPLE = "http://www.w3.org/ns/entailment/Simple"
#: Prefixes bound in the description's serialisations, besides kzgraph's own.
PREFIXES = {"sd": SD, "formats": W3C_FORMATS, "void": VOID}
#: format key of `kzgraph.protocol.FORMAT_TYPES` → its W3C format IRI (www.w3.org/ns/formats/)
FORMAT_IRIS = {
    "json": W3C_FORMATS + "SPARQL_Results_JSON", "xml": W3C_FORMATS + "SPARQL_Results_XML",
    "csv": W3C_FORMATS + "SPARQL_Results_CSV", "tsv": W3C_FORMATS + "SPARQL_Results_TSV",
    "ttl": W3C_FORMATS + "Turtle", "nt": W3C_FORMATS + "N-Triples",
    "jsonld": W3C_FORMATS + "JSON-LD", "rdfxml": W3C_FORMATS + "RDF_XML",
}
COMMENT = (
    "A read-only SPARQL 1.1 Query endpoint over kzgraph, the knowledge graph of "
    "telecommunications and the internet in Kazakhstan. The default graph holds every "
    "triple: the union of the named graphs (one per source section, and the ontology) and "
    "the descriptions of the source documents and sections themselves, which are in no "
    "named graph. "
    "FROM, FROM NAMED, default-graph-uri and named-graph-uri select among the named graphs "
    "listed here only: any other graph IRI is refused (400) and nothing is ever fetched. "
    "SPARQL Update, LOAD and SERVICE are refused (403).")


def graph_sizes(kg) -> tuple[int, dict[str, int]]:
    """(distinct triples of the default graph, {named graph IRI: triples}): the stored
    queries ``default-graph-size`` (``queries/api``) and ``graphs`` (what ``kzgraph graphs``
    prints), through the query runner."""
    from . import api_queries

    (row,) = api_queries.rows(kg, "default-graph-size")
    named = {str(r["graph"]): int(r["triples"]) for r in kg.graph_table()}
    return int(row["triples"]), named


def result_formats() -> list[str]:
    """The W3C format IRIs of every result format the endpoint writes (sorted)."""
    from .protocol import FORMAT_TYPES

    return sorted(FORMAT_IRIS[key] for key in FORMAT_TYPES)


def describe(kg, endpoint: str, sizes: tuple[int, dict[str, int]] | None = None):
    """The service description of the endpoint at ``endpoint`` serving ``kg``, as an rdflib
    Graph; ``sizes`` is `graph_sizes` when the caller already has it."""
    import rdflib
    from rdflib import RDF, RDFS, Literal, URIRef
    from rdflib.namespace import XSD

    sd, void = rdflib.Namespace(SD), rdflib.Namespace(VOID)
    g = rdflib.Graph(bind_namespaces="none")
    service = URIRef(endpoint)
    g.add((service, RDF.type, sd.Service))
    g.add((service, sd.endpoint, service))
    g.add((service, RDFS.label, Literal("kzgraph SPARQL endpoint", lang="en")))
    g.add((service, RDFS.comment, Literal(COMMENT, lang="en")))
    g.add((service, sd.supportedLanguage, sd.SPARQL11Query))
    g.add((service, sd.feature, sd.UnionDefaultGraph))
    g.add((service, sd.defaultEntailmentRegime, URIRef(ENTAILMENT_SIMPLE)))
    for iri in result_formats():
        g.add((service, sd.resultFormat, URIRef(iri)))

    default_triples, sizes = sizes or graph_sizes(kg)
    dataset = URIRef(endpoint + "#dataset")
    g.add((service, sd.defaultDataset, dataset))
    g.add((dataset, RDF.type, sd.Dataset))
    default = URIRef(endpoint + "#default-graph")
    g.add((dataset, sd.defaultGraph, default))
    g.add((default, RDF.type, sd.Graph))
    g.add((default, void.triples, Literal(default_triples, datatype=XSD.integer)))
    for name in sorted(kg.graphs()):
        local = name.rstrip("/").rsplit("/", 1)[-1]
        entry, graph = URIRef(f"{endpoint}#named-graph-{local}"), URIRef(f"{endpoint}#graph-{local}")
        g.add((dataset, sd.namedGraph, entry))
        g.add((entry, RDF.type, sd.NamedGraph))
        g.add((entry, sd.name, URIRef(name)))
        g.add((entry, sd.graph, graph))
        g.add((graph, RDF.type, sd.Graph))
        g.add((graph, void.triples, Literal(sizes.get(name, 0), datatype=XSD.integer)))
    return g


def serialize(kg, endpoint: str, fmt: str,
              sizes: tuple[int, dict[str, int]] | None = None) -> bytes:
    """The description in ``fmt`` (ttl, nt, jsonld, rdfxml) through `kzgraph.formats`."""
    from .formats import graph_bytes

    return graph_bytes(describe(kg, endpoint, sizes), fmt, PREFIXES)
