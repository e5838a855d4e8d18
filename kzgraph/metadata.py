"""Dataset metadata: a VoID + DCAT description of the graph, generated from the graph itself.

Every count comes from a SPARQL query run through the query runner (`KZGraph.execute`), so
the description says what the graph holds, on any engine. Title, description, licence and
creation date come from the ontology header (``owl:Ontology``); sources are the
``kzo:SourceDocument`` nodes. The result is an rdflib Graph; `kzgraph.export.serialize`
writes it in any format (``kzgraph export --metadata``).
"""
from __future__ import annotations

from .export import FORMATS, GRAPH_NS, ONTOLOGY_GRAPH
from .namespaces import KZ, ONTOLOGY_IRI, PREFIXES

DATASET = "https://w3id.org/kzgraph/dataset"
DUMP = "https://w3id.org/kzgraph/dump/kzgraph."
#: The endpoint ``kzgraph serve`` starts (local: the graph is not hosted anywhere).
SPARQL_ENDPOINT = "http://127.0.0.1:8000/sparql"
#: Resources worth looking at first.
EXAMPLES = ("kazakhtelecom", "kcell", "event-shutdown-2022-01")

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"

_P = ("PREFIX prov: <http://www.w3.org/ns/prov#>\n"
      "PREFIX kzo: <https://w3id.org/kzgraph/ontology#>\n"
      "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
      "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n")

QUERIES = {
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "subjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }",
    "objects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }",
    "properties": "SELECT DISTINCT ?p WHERE { ?s ?p ?o }",
    "classes": "SELECT DISTINCT ?c WHERE { ?s a ?c }",
    "entities": ("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c . "
                 f"FILTER(STRSTARTS(STR(?s), \"{KZ}\")) }}"),
    "sections": _P + ("SELECT ?section (COUNT(*) AS ?n) WHERE { ?s prov:wasDerivedFrom ?section . "
                      "?s ?p ?o } GROUP BY ?section"),
    "ontology": _P + ("SELECT ?o ?title ?description ?created ?licence ?version WHERE { "
                      "?o a owl:Ontology ; dcterms:title ?title ; dcterms:description ?description ; "
                      "dcterms:created ?created ; dcterms:license ?licence . "
                      "OPTIONAL { ?o owl:versionInfo ?version } }"),
    "sources": _P + ("SELECT ?doc ?title WHERE { ?doc a kzo:SourceDocument ; "
                     "dcterms:title ?title }"),
}


def _rows(kg, name: str) -> list[dict]:
    return kg.execute(QUERIES[name], stored=False).dicts()


def _count(kg, name: str) -> int:
    return int(_rows(kg, name)[0]["n"])


def counts(kg, used: tuple[list, list] | None = None) -> dict:
    """The numbers the description states (all from SPARQL through the runner); ``used`` is
    `_used` when the caller already has it."""
    properties, classes = used or _used(kg)
    return {"triples": _count(kg, "triples"), "entities": _count(kg, "entities"),
            "distinctSubjects": _count(kg, "subjects"),
            "distinctObjects": _count(kg, "objects"),
            "properties": len(properties), "classes": len(classes)}


def _used(kg) -> tuple[list, list]:
    """The distinct properties and classes in use (one query each)."""
    return _rows(kg, "properties"), _rows(kg, "classes")


def vocabularies(kg, used: tuple[list, list] | None = None) -> list[str]:
    """Namespaces (from kzgraph's prefix table) of the properties and classes in use."""
    properties, classes = used or _used(kg)
    iris = {str(r["p"]) for r in properties} | {str(r["c"]) for r in classes}
    out = set()
    for iri in iris:
        best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
        if best and best != KZ:
            out.add(best)
    return sorted(out)


def describe(kg, endpoint: str = SPARQL_ENDPOINT, dumps: tuple[str, ...] = ()):
    """The VoID + DCAT description of ``kg`` as an rdflib Graph (deterministic): its SPARQL
    ``endpoint`` and, besides the export files, any further ``dumps`` (download URLs)."""
    import rdflib
    from rdflib import RDF, Literal, URIRef
    from rdflib.namespace import DCTERMS, XSD

    void, dcat, foaf = (rdflib.Namespace(x) for x in (VOID, DCAT, FOAF))
    g = rdflib.Graph(bind_namespaces="none")
    for prefix, iri in {"void": VOID, "dcat": DCAT, "foaf": FOAF, **PREFIXES}.items():
        g.bind(prefix, iri)
    ds = URIRef(DATASET)
    g.add((ds, RDF.type, void.Dataset))
    g.add((ds, RDF.type, dcat.Dataset))

    onto = _rows(kg, "ontology")
    if onto:
        head = onto[0]
        g.add((ds, DCTERMS.title, Literal("kzgraph: telecommunications and the internet in "
                                          "Kazakhstan", lang="en")))
        g.add((ds, DCTERMS.description, Literal(
            "An RDF knowledge graph of telecommunications and the internet in Kazakhstan: "
            "operators, providers, state bodies, laws, network disruptions, ownership and "
            "statistics, every fact with its source section and its time. "
            f"Ontology: {head['title']}.", lang="en")))
        g.add((ds, DCTERMS.license, URIRef(str(head["licence"]))))
        g.add((ds, DCTERMS.created, Literal(str(head["created"]), datatype=XSD.date)))
        if head.get("version") is not None:
            g.add((ds, URIRef("http://www.w3.org/2002/07/owl#versionInfo"),
                   Literal(str(head["version"]))))
    g.add((ds, DCTERMS.publisher, Literal("kzgraph developers")))
    g.add((ds, DCTERMS.language, Literal("en")))
    g.add((ds, dcat.keyword, Literal("Kazakhstan", lang="en")))
    g.add((ds, dcat.keyword, Literal("telecommunications", lang="en")))
    g.add((ds, dcat.keyword, Literal("internet shutdowns", lang="en")))
    for row in _rows(kg, "sources"):
        g.add((ds, DCTERMS.source, URIRef(str(row["doc"]))))
    g.add((ds, DCTERMS.conformsTo, URIRef(ONTOLOGY_IRI)))

    used = _used(kg)
    n = counts(kg, used)
    for key in ("triples", "entities", "distinctSubjects", "distinctObjects", "properties",
                "classes"):
        g.add((ds, void[key], Literal(n[key], datatype=XSD.integer)))
    for ns in vocabularies(kg, used):
        g.add((ds, void.vocabulary, URIRef(ns)))
    g.add((ds, void.uriSpace, Literal(KZ)))
    g.add((ds, void.uriRegexPattern, Literal("^" + KZ.replace(".", "\\.") + ".+")))
    for name in EXAMPLES:
        g.add((ds, void.exampleResource, URIRef(KZ + name)))
    g.add((ds, void.sparqlEndpoint, URIRef(endpoint)))
    for url in dumps:
        g.add((ds, void.dataDump, URIRef(url)))

    for fmt, (media, ext, _) in FORMATS.items():
        dump = URIRef(DUMP + ext)
        g.add((ds, void.dataDump, dump))
        dist = URIRef(f"{DATASET}/distribution/{fmt}")
        g.add((ds, dcat.distribution, dist))
        g.add((dist, RDF.type, dcat.Distribution))
        g.add((dist, dcat.downloadURL, dump))
        g.add((dist, dcat.mediaType,
               URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        g.add((dist, DCTERMS.title, Literal(f"kzgraph.{ext} (kzgraph export --format {fmt})")))
    service = URIRef(f"{DATASET}/sparql")
    g.add((ds, dcat.distribution, service))
    g.add((service, RDF.type, dcat.DataService))
    g.add((service, dcat.endpointURL, URIRef(endpoint)))
    g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))

    # one subset per named graph of the quad exports (see kzgraph.export)
    for row in sorted(_rows(kg, "sections"), key=lambda r: str(r["section"])):
        section = str(row["section"])
        sub = URIRef(GRAPH_NS + section.rsplit("/", 1)[-1])
        g.add((ds, void.subset, sub))
        g.add((sub, RDF.type, void.Dataset))
        g.add((sub, void.triples, Literal(int(row["n"]), datatype=XSD.integer)))
        g.add((sub, DCTERMS.source, URIRef(section)))
    g.add((ds, void.subset, URIRef(ONTOLOGY_GRAPH)))
    g.add((URIRef(ONTOLOGY_GRAPH), RDF.type, void.Dataset))
    g.add((URIRef(ONTOLOGY_GRAPH), DCTERMS.title, Literal("the ontology", lang="en")))
    return g
