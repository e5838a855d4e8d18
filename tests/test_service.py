"""The SPARQL 1.1 Service Description at ``GET /sparql`` (no query) of a real ``kzgraph serve``.

Its claims are held to independent truth: the named graphs and their sizes to the N-Quads
export read by pyoxigraph, the default graph's size to rdflib's count of the build, each
result format to what the server really answers when asked for it, read-only to the server
refusing an update, no federation to the server refusing SERVICE.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import ROOT
from .test_w3c_protocol import port, send  # noqa: F401  (the real kzgraph serve)

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_MEDIA = {"text/turtle": "turtle", "application/n-triples": "nt",
             "application/ld+json": "json-ld", "application/rdf+xml": "xml"}
#: W3C format IRI → (media type to ask for, a query whose answer can take it)
FORMAT_CHECKS = {
    "SPARQL_Results_JSON": ("application/sparql-results+json", "SELECT"),
    "SPARQL_Results_XML": ("application/sparql-results+xml", "SELECT"),
    "SPARQL_Results_CSV": ("text/csv", "SELECT"),
    "SPARQL_Results_TSV": ("text/tab-separated-values", "SELECT"),
    "Turtle": ("text/turtle", "CONSTRUCT"),
    "N-Triples": ("application/n-triples", "CONSTRUCT"),
    "JSON-LD": ("application/ld+json", "CONSTRUCT"),
    "RDF_XML": ("application/rdf+xml", "CONSTRUCT"),
}
QUERIES = {"SELECT": "SELECT ?s WHERE { ?s a <https://w3id.org/kzgraph/ontology#MobileOperator> }",
           "CONSTRUCT": "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 3"}


def get(port, path="/sparql", accept=None, method="GET", body=b"", headers=()):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if accept is not None:
        lines.append(f"Accept: {accept}")
    lines += list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return send(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def parse(answer):
    import rdflib

    assert answer.status == 200, answer.body[:300]
    return rdflib.Graph().parse(data=answer.body.decode("utf-8"), format=RDF_MEDIA[answer.media])


@pytest.fixture(scope="module")
def description(port):  # noqa: F811
    return parse(get(port, accept="text/turtle"))


@pytest.fixture(scope="module")
def export_sizes(kg):
    """Named graph IRI → triples, from the N-Quads export read by pyoxigraph."""
    import pyoxigraph as ox

    from kzgraph.export import to_nquads

    sizes: dict[str, int] = {}
    for quad in ox.parse(to_nquads(kg.graph), format=ox.RdfFormat.N_QUADS):
        if isinstance(quad.graph_name, ox.NamedNode):
            sizes[quad.graph_name.value] = sizes.get(quad.graph_name.value, 0) + 1
    return sizes


def _objects(g, subject, prop):
    from rdflib import URIRef

    return set(g.objects(URIRef(subject) if isinstance(subject, str) else subject, URIRef(prop)))


def test_service_node(description, port):  # noqa: F811
    from rdflib import RDF, RDFS, URIRef

    endpoint = f"http://127.0.0.1:{port}/sparql"
    service = URIRef(endpoint)
    assert (service, RDF.type, URIRef(SD + "Service")) in description
    assert _objects(description, service, SD + "endpoint") == {service}
    assert _objects(description, service, SD + "supportedLanguage") == {URIRef(SD + "SPARQL11Query")}
    assert _objects(description, service, SD + "feature") == {URIRef(SD + "UnionDefaultGraph")}
    assert URIRef(SD + "BasicFederatedQuery") not in set(description.objects())
    assert URIRef(SD + "SPARQL11Update") not in set(description.objects())
    comment = str(next(iter(_objects(description, service, str(RDFS.comment)))))
    assert "read-only" in comment and "nothing is ever fetched" in comment


def test_named_graphs_and_sizes(description, kg, export_sizes):
    """One sd:namedGraph per named graph of the N-Quads export, with its triple count; the
    default graph has every triple of the build."""
    from rdflib import URIRef

    (dataset,) = _objects(description, description.value(predicate=URIRef(SD + "endpoint")),
                          SD + "defaultDataset")
    (default,) = _objects(description, dataset, SD + "defaultGraph")
    assert int(description.value(default, URIRef(VOID + "triples"))) == len(kg.graph) > 5000
    described = {}
    for entry in _objects(description, dataset, SD + "namedGraph"):
        name = str(description.value(entry, URIRef(SD + "name")))
        graph = description.value(entry, URIRef(SD + "graph"))
        described[name] = int(description.value(graph, URIRef(VOID + "triples")))
    assert described == export_sizes
    assert sorted(described) == kg.graphs()
    assert len(described) == 20 and described["https://w3id.org/kzgraph/graph/ontology"] == 1269


def test_every_result_format_is_produced(description, port):  # noqa: F811
    """Each sd:resultFormat is answered in its media type when asked for, and every format the
    server negotiates is listed."""
    from urllib.parse import quote

    from rdflib import URIRef

    from kzgraph.protocol import FORMAT_TYPES

    service = description.value(predicate=URIRef(SD + "endpoint"))
    listed = {str(f).removeprefix(FORMATS) for f in _objects(description, service,
                                                            SD + "resultFormat")}
    assert listed == set(FORMAT_CHECKS)
    assert {FORMAT_CHECKS[f][0] for f in listed} == set(FORMAT_TYPES.values())
    for name in sorted(listed):
        media, form = FORMAT_CHECKS[name]
        answer = get(port, "/sparql?query=" + quote(QUERIES[form], safe=""), accept=media)
        assert answer.status == 200 and answer.media == media, (name, answer.status, answer.media)


def test_claims_hold(port):  # noqa: F811
    """Read-only and no federation, as described: an update and a SERVICE are refused."""
    from urllib.parse import quote

    update = get(port, method="POST", body=b"CLEAR ALL",
                 headers=["Content-Type: application/sparql-update"])
    assert update.status == 403
    service = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    assert get(port, "/sparql?query=" + quote(service, safe="")).status == 403


def test_formats_carry_the_same_description(port):  # noqa: F811
    """Turtle (the default, also for */* and no Accept), N-Triples, JSON-LD and RDF/XML give
    the same triples; each is byte-identical when asked again."""
    from rdflib.compare import isomorphic

    graphs = {}
    for media in RDF_MEDIA:
        first, again = get(port, accept=media), get(port, accept=media)
        assert first.media == media and first.body == again.body
        graphs[media] = parse(first)
    for media in RDF_MEDIA:
        assert isomorphic(graphs[media], graphs["text/turtle"]), media
    assert get(port, accept="*/*").body == get(port).body == get(port, accept="text/turtle").body
    assert b"PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>" in get(port).body


def test_head_html_and_refusals(port):  # noqa: F811
    head, full = get(port, method="HEAD", accept="text/turtle"), get(port, accept="text/turtle")
    assert head.status == 200 and head.media == "text/turtle" and head.body == b""
    browser = get(port, accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert browser.status == 303  # the query page, as before
    refused = get(port, accept="application/sparql-results+json")
    assert refused.status == 406 and b"text/turtle" in refused.body
    no_query = get(port, "/sparql?format=json")  # parameters but no query: still an error
    assert no_query.status == 400 and b"no query" in no_query.body
    assert full.status == 200


def test_same_bytes_in_fresh_processes(tmp_path):
    """The description is the same bytes in two interpreters with different hash seeds."""
    code = ("import sys, kzgraph\nfrom kzgraph.service import serialize\n"
            "kg = kzgraph.load()\n"
            "for fmt in ('ttl', 'nt', 'jsonld', 'rdfxml'):\n"
            "    sys.stdout.buffer.write(serialize(kg, 'http://127.0.0.1:8000/sparql', fmt))\n")
    outs = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              timeout=600, env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        outs.append(done.stdout)
    assert outs[0] == outs[1] and b"sd:Service" in outs[0]


def test_same_description_on_both_engines(memory, oxigraph, kg):
    """rdflib in memory and Oxigraph (each built straight from the files) describe the same
    dataset in the same bytes as the served graph."""
    from kzgraph.graph import KZGraph
    from kzgraph.service import serialize

    endpoint = "http://127.0.0.1:8000/sparql"
    texts = {name: serialize(KZGraph(engine), endpoint, "ttl")
             for name, engine in (("memory", memory), ("oxigraph", oxigraph), ("served", kg.engine))}
    assert texts["memory"] == texts["oxigraph"] == texts["served"]
    assert f"void:triples {len(kg.graph)}".encode() in texts["memory"]


def _readme_http_examples():
    """(form fields, shown CSV) of each curl example in the README's "One source, or sources
    side by side" section."""
    import re
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### One source, or sources side by side", 1)[1].split("\n### ", 1)[0]
    variables = {}
    examples = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            if command.startswith("Q="):
                variables["Q"] = shlex.split(command[2:])[0]
                continue
            head, _, shown = command.partition("http://127.0.0.1:8000/sparql\n")
            if not head.startswith("curl") or "--data-urlencode" not in head:
                continue
            words = shlex.split(head.replace("\\\n", " "))
            fields = [w.split("=", 1) for i, w in enumerate(words)
                      if i and words[i - 1] == "--data-urlencode"]
            fields = [(k, variables["Q"] if v == "$Q" else v) for k, v in fields]
            examples.append((fields, shown.strip()))
    return examples


def test_readme_http_examples_are_current(port):  # noqa: F811
    """The README's curl examples (default-graph-uri, named-graph-uri) give the CSV shown."""
    from urllib.parse import urlencode

    examples = _readme_http_examples()
    assert len(examples) == 3
    for fields, shown in examples:
        assert shown.count("\n") >= 2 and any(k.endswith("graph-uri") for k, _ in fields)
        body = urlencode(fields).encode()
        answer = get(port, method="POST", accept="text/csv", body=body,
                     headers=["Content-Type: application/x-www-form-urlencoded"])
        assert answer.status == 200, answer.body
        assert answer.body.decode().replace("\r\n", "\n").strip() == shown, fields
