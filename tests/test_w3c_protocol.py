"""The W3C SPARQL 1.1 Protocol test suite against a real ``kzgraph serve``.

The cases are read from the vendored manifest (``tests/data/w3c-protocol/manifest.ttl``, from
w3c/rdf-tests; see the README there for its source and licence) with rdflib: every entry is a
test, so a case added to the manifest becomes a test. Each request is sent as the manifest
writes it — method, path, headers, body (in the encoding the manifest names, UTF-16 with its
byte-order mark for the non-UTF-8 cases) — over a raw socket to ``kzgraph serve`` on a free
loopback port, and the answer is held to the manifest's expectations: status class, result
format (boolean, tabular or RDF, by the media type and by parsing the body) and boolean.

Three rewrites, in memory (the vendored file is untouched):

* the manifest's ``/sparql/`` path prefix becomes the server's ``/sparql`` (the manifest asks
  runners to put the endpoint's own path there), and ``Host`` is the server's address;
* the cases load four graphs ``http://kasei.us/2009/09/sparql/data/data{0,1,2,3}.rdf``, each
  holding one triple ``<dataN.rdf> a foaf:Document``. kzgraph serves only its own graphs and
  never fetches one, so each kasei IRI stands for one of kzgraph's named graphs, and — where
  a query uses the same IRI as a *node* (``<data1.rdf> a ?type``) — for one node of that graph
  (`MAPPING`): an observation that is in that section's graph and in no other, with one type
  (``kzo:Observation``, shared by all three, as ``foaf:Document`` is in the W3C data). In a
  dataset position (``default-graph-uri``, ``named-graph-uri``, ``FROM``, ``FROM NAMED``,
  ``GRAPH``) the IRI becomes the graph's IRI, elsewhere in query text the node's;
* ``Content-Length`` is computed from the rewritten body.

``test_mapping_holds_in_the_export`` checks the mapping's premises on the N-Quads export (an
independent reading of the named graphs), and ``test_dataset_case_needs_its_graphs`` runs every
dataset case again with ``data1`` mapped to the ontology graph, where the answer must turn
false: a server that ignored the dataset would still say true.

kzgraph is read-only: the update cases (``update_*``, ``bad_update_*``,
``bad_multiple_updates``) expect 2xx from a server that writes; here every update request must
get a 4xx, and a query that follows one must find that nothing was written.
"""
from __future__ import annotations

import csv
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from .conftest import DATA, ROOT, free_port
from .test_server import stop_process, wait_until_up

MANIFEST = DATA / "w3c-protocol" / "manifest.ttl"
KASEI = "http://kasei.us/2009/09/sparql/data/"
GRAPH = "https://w3id.org/kzgraph/graph/"
KZ = "https://w3id.org/kzgraph/id/"
ONTOLOGY_GRAPH = GRAPH + "ontology"

#: kasei IRI → (kzgraph named graph, a node typed kzo:Observation in that graph only, or None
#: for data0, which the cases name only as a default graph for ``ASK {}`` and the like)
MAPPING: dict[str, tuple[str, str | None]] = {
    KASEI + "data0.rdf": (GRAPH + "src-telecom-lead", None),
    KASEI + "data1.rdf": (GRAPH + "src-internet-lead", KZ + "obs-freedom-on-the-net-status-2021"),
    KASEI + "data2.rdf": (GRAPH + "src-telecom-internet", KZ + "obs-internet-access-share-2021"),
    KASEI + "data3.rdf": (GRAPH + "src-internet-shutdowns",
                          KZ + "obs-bitcoin-hash-rate-share-after-relocation"),
}
#: The control: data1 moved to a graph that does not hold its node.
CONTROL = {**MAPPING, KASEI + "data1.rdf": (ONTOLOGY_GRAPH, MAPPING[KASEI + "data1.rdf"][1])}

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
TABULAR_TYPES = ("application/sparql-results+json", "application/sparql-results+xml",
                 "text/csv", "text/tab-separated-values")
BOOLEAN_TYPES = TABULAR_TYPES
RDF_TYPES = {"text/turtle": "turtle", "application/rdf+xml": "xml",
             "application/n-triples": "nt", "application/ld+json": "json-ld"}
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri", "using-graph-uri",
                  "using-named-graph-uri")


# -- the manifest -----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: str | None
    encoding: str
    status: set[str]                 # {"2xx", "3xx"} ...
    format: str | None = None        # "boolean", "tabular", "RDF"
    boolean: bool | None = None


@dataclass
class Case:
    name: str          # the entry's local name, e.g. query_post_form
    title: str
    requests: list[Request] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.name.startswith(("update_", "bad_update_")) or \
            self.name == "bad_multiple_updates"


def _list(graph, head):
    from rdflib.collection import Collection

    return list(Collection(graph, head)) if head is not None else []


def read_manifest(path: Path = MANIFEST) -> list[Case]:
    """Every entry of the manifest, in its order."""
    import rdflib
    from rdflib import URIRef

    g = rdflib.Graph().parse(path, format="turtle")
    mf, ht, cnt = (rdflib.Namespace(x) for x in (MF, HT, CNT))
    manifest = next(g.subjects(rdflib.RDF.type, mf.Manifest))
    cases = []
    for entry in _list(g, g.value(manifest, mf.entries)):
        case = Case(str(entry).rsplit("#", 1)[-1], str(g.value(entry, mf.name)))
        action = g.value(entry, mf.action)
        for node in _list(g, g.value(action, ht.requests)):
            headers = [(str(g.value(h, ht.fieldName)), str(g.value(h, ht.fieldValue)))
                       for h in _list(g, g.value(node, ht.headers))]
            body = g.value(node, ht.body)
            resp = g.value(node, ht.resp)
            status = {str(s).rsplit("StatusCode", 1)[-1]
                      for s in g.objects(resp, mf.expectedStatus) if isinstance(s, URIRef)}
            boolean = g.value(resp, mf.expectedBoolean)
            fmt = g.value(resp, mf.expectedFormat)
            case.requests.append(Request(
                method=str(g.value(node, ht.methodName)), path=str(g.value(node, ht.absolutePath)),
                headers=headers,
                body=None if body is None else str(g.value(body, cnt.chars)),
                encoding="UTF-8" if body is None else str(g.value(body, cnt.characterEncoding)),
                status=status, format=None if fmt is None else str(fmt),
                boolean=None if boolean is None else bool(boolean.toPython())))
        cases.append(case)
    return cases


CASES = read_manifest()
QUERY_CASES = [c for c in CASES if not c.is_update]
UPDATE_CASES = [c for c in CASES if c.is_update]


# -- rewriting a request for kzgraph's graphs -------------------------------------------------

_IRI = re.compile(r"<" + re.escape(KASEI) + r"(data[0-9]+\.rdf)>")
_GRAPH_POSITION = re.compile(r"((?:FROM\s+NAMED|FROM|GRAPH|USING\s+NAMED|USING|WITH|INTO)\s*)"
                             r"<" + re.escape(KASEI) + r"(data[0-9]+\.rdf)>", re.I)


def rewrite_query(text: str, mapping: dict) -> str:
    """kasei IRIs in SPARQL text: in a graph position the graph's IRI, elsewhere the node's."""
    def graph(m):
        return f"{m.group(1)}<{mapping[KASEI + m.group(2)][0]}>"

    def node(m):
        target, item = mapping[KASEI + m.group(1)]
        return f"<{item or target}>"

    return _IRI.sub(node, _GRAPH_POSITION.sub(graph, text))


def rewrite_pairs(raw: str, mapping: dict) -> str:
    """A URL-encoded query string or form body with each parameter value rewritten; values
    that do not change keep their bytes."""
    out = []
    for segment in raw.split("&"):
        name, eq, value = segment.partition("=")
        decoded = unquote(value.replace("+", " "))
        if name in DATASET_PARAMS and decoded in mapping:
            new = mapping[decoded][0]
        elif name in ("query", "update"):
            new = rewrite_query(decoded, mapping)
        else:
            new = decoded
        out.append(segment if new == decoded else f"{name}{eq}{quote(new, safe='')}")
    return "&".join(out)


def build_request(request: Request, host: str, mapping: dict = MAPPING) -> bytes:
    """The bytes to send for ``request``: the manifest's method, path, headers and body, with
    the three rewrites described at the top."""
    path, _, query_string = request.path.partition("?")
    assert path.startswith("/sparql/"), path
    path = "/sparql" + path[len("/sparql/"):]
    if query_string:
        path += "?" + rewrite_pairs(query_string, mapping)
    body = b""
    media = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    if request.body is not None:
        text = request.body
        if media.split(";")[0].strip() == "application/x-www-form-urlencoded":
            text = rewrite_pairs(text, mapping)
        else:
            text = rewrite_query(text, mapping)
        body = text.encode(request.encoding.lower())  # "utf-16": with a byte-order mark
    lines = [f"{request.method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in request.headers]
    if request.body is not None or request.method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Answer:
    status: int
    media: str
    body: bytes


def send(port: int, data: bytes) -> Answer:
    """Send raw request bytes to 127.0.0.1:``port``; the parsed response."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=data.split(b" ", 1)[0].decode())
        response.begin()
        body = response.read()
        media = (response.getheader("content-type") or "").split(";")[0].strip().lower()
        return Answer(response.status, media, body)


# -- reading answers ----------------------------------------------------------------------------


def boolean_of(answer: Answer) -> bool:
    """The boolean of an ASK answer in any SPARQL results format."""
    text = answer.body.decode("utf-8")
    if answer.media == "application/sparql-results+json":
        return json.loads(text)["boolean"]
    if answer.media == "application/sparql-results+xml":
        node = ET.fromstring(text).find("{http://www.w3.org/2005/sparql-results#}boolean")
        return node.text.strip() == "true"
    value = text.strip().splitlines()[-1].strip()   # CSV/TSV: "true" (or a header and true)
    assert value in ("true", "false"), text
    return value == "true"


def rows_of(answer: Answer) -> tuple[list[str], list[dict]]:
    """(variables, rows of plain values) of a SELECT answer in any SPARQL results format."""
    text = answer.body.decode("utf-8")
    if answer.media == "application/sparql-results+json":
        doc = json.loads(text)
        return doc["head"]["vars"], [{k: v["value"] for k, v in b.items()}
                                     for b in doc["results"]["bindings"]]
    if answer.media == "application/sparql-results+xml":
        ns = "{http://www.w3.org/2005/sparql-results#}"
        root = ET.fromstring(text)
        names = [v.get("name") for v in root.iter(ns + "variable")]
        return names, [{b.get("name"): b[0].text or "" for b in r.findall(ns + "binding")}
                       for r in root.iter(ns + "result")]
    if answer.media == "text/csv":
        table = list(csv.reader(io.StringIO(text)))
        return table[0], [dict(zip(table[0], row)) for row in table[1:]]
    lines = [line.split("\t") for line in text.splitlines()]
    names = [n.lstrip("?") for n in lines[0]]
    return names, [dict(zip(names, row)) for row in lines[1:]]


def graph_of(answer: Answer):
    import rdflib

    return rdflib.Graph().parse(data=answer.body.decode("utf-8"), format=RDF_TYPES[answer.media],
                                publicID="http://127.0.0.1/")


def check(answer: Answer, request: Request, label: str) -> None:
    """``answer`` meets ``request``'s expectations (status class, format, boolean)."""
    status_class = f"{answer.status // 100}xx"
    assert status_class in request.status, \
        f"{label}: status {answer.status}, expected {sorted(request.status)}: {answer.body[:300]!r}"
    if request.format == "boolean":
        assert answer.media in BOOLEAN_TYPES, f"{label}: {answer.media} is no boolean format"
        value = boolean_of(answer)
        if request.boolean is not None:
            assert value is request.boolean, f"{label}: answered {value}"
    elif request.format == "tabular":
        assert answer.media in TABULAR_TYPES, f"{label}: {answer.media} is no results format"
        variables, _ = rows_of(answer)
        assert variables, f"{label}: no variables in {answer.body[:200]!r}"
    elif request.format == "RDF":
        assert answer.media in RDF_TYPES, f"{label}: {answer.media} is no RDF format"
        graph_of(answer)  # parses


# -- the server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def port():
    """``kzgraph serve`` in a subprocess on a free loopback port; its port."""
    number = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kzgraph.cli", "serve", "--port", str(number),
                             "--workers", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ), cwd=ROOT)
    try:
        wait_until_up(f"http://127.0.0.1:{number}/", 180)
        yield number
    finally:
        stop_process(proc)


# -- the tests ----------------------------------------------------------------------------------


def test_manifest_read_whole():
    """Every entry was read, with at least one request each and an expected status."""
    import rdflib

    g = rdflib.Graph().parse(MANIFEST, format="turtle")
    tests = set(g.subjects(rdflib.RDF.type, rdflib.URIRef(MF + "ProtocolTest")))
    assert len(CASES) == len(tests) == 34
    assert len(QUERY_CASES) == 20 and len(UPDATE_CASES) == 14
    assert all(c.requests and all(r.status for r in c.requests) for c in CASES)
    assert sum(1 for c in CASES for r in c.requests if r.boolean is not None) >= 12


@pytest.mark.parametrize("case", QUERY_CASES, ids=[c.name for c in QUERY_CASES])
def test_query_case(port, case):
    for index, request in enumerate(case.requests):
        answer = send(port, build_request(request, f"127.0.0.1:{port}"))
        check(answer, request, f"{case.name} request {index + 1}")


def _is_update_request(request: Request) -> bool:
    """Everything but a direct-POST query (the follow-up queries of the update cases)."""
    media = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    return not (media.startswith("application/sparql-query") and "update=" not in request.path)


@pytest.mark.parametrize("case", UPDATE_CASES, ids=[c.name for c in UPDATE_CASES])
def test_update_case_refused(port, case):
    """kzgraph is read-only: every update request gets a 4xx (what the manifest asks of a
    server that writes is 2xx); a query that follows finds nothing written."""
    for index, request in enumerate(case.requests):
        answer = send(port, build_request(request, f"127.0.0.1:{port}"))
        label = f"{case.name} request {index + 1}"
        if _is_update_request(request):
            assert 400 <= answer.status < 500, f"{label}: {answer.status} {answer.body[:200]!r}"
            continue
        assert answer.status == 200, f"{label}: {answer.status} {answer.body[:300]!r}"
        if request.format == "boolean":
            assert boolean_of(answer) is False, f"{label}: the update was applied?"
        elif request.format == "tabular":
            assert rows_of(answer)[1] == [], f"{label}: the update was applied?"


def test_update_statuses(port):
    """What each update request gets, by kind: 403 read-only for a well-formed update (form
    field, sparql-update body, GET), 415 for a wrong media type, 400 for a missing one or a
    charset other than UTF-8."""
    got = {}
    for case in UPDATE_CASES:
        request = case.requests[0]
        got[case.name] = send(port, build_request(request, f"127.0.0.1:{port}")).status
    assert got == {
        "update_dataset_default_graph": 403, "update_dataset_default_graphs": 403,
        "update_dataset_named_graphs": 403, "update_dataset_full": 403,
        "update_post_form": 403, "update_post_direct": 403, "update_base_uri": 403,
        "bad_update_get": 403, "bad_multiple_updates": 403, "bad_update_wrong_media_type": 415,
        "bad_update_missing_form_type": 400, "bad_update_non_utf8": 400,
        "bad_update_syntax": 403, "bad_update_dataset_conflict": 403}


DATASET_CASES = [c for c in QUERY_CASES
                 if any(r.boolean is True and "data1.rdf" in (r.path + (r.body or ""))
                        for r in c.requests)]


def test_dataset_cases_found():
    assert {c.name for c in DATASET_CASES} == {
        "query_dataset_default_graphs_get", "query_dataset_default_graphs_post",
        "query_dataset_named_graphs_post", "query_dataset_named_graphs_get",
        "query_dataset_full", "query_multiple_dataset"}


@pytest.mark.parametrize("case", DATASET_CASES, ids=[c.name for c in DATASET_CASES])
def test_dataset_case_needs_its_graphs(port, case):
    """The same request with data1 mapped to the ontology graph (which does not hold data1's
    node) answers false: the answer depends on the dataset the request names."""
    for request in case.requests:
        answer = send(port, build_request(request, f"127.0.0.1:{port}", CONTROL))
        assert answer.status == 200, answer.body[:300]
        assert boolean_of(answer) is False, f"{case.name}: true without data1's graph"


def test_unknown_graph_is_a_clear_400(port):
    """An unmapped kasei IRI (what the unrewritten cases send) is refused with 400 naming the
    known graphs; nothing is fetched (tests/test_security.py proves the no-fetch part)."""
    request = next(c for c in QUERY_CASES if c.name == "query_get").requests[0]
    raw = ("GET " + request.path.replace("/sparql/", "/sparql", 1) + " HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{port}\r\n\r\n").encode()
    answer = send(port, raw)
    assert answer.status == 400, answer.body[:300]
    text = answer.body.decode()
    assert KASEI + "data0.rdf" in text and GRAPH + "src-internet-shutdowns" in text


def test_mapping_holds_in_the_export(kg):
    """Each mapped node is in its graph and in no other graph of the N-Quads export, with one
    type, the same for all (as the W3C data's foaf:Document)."""
    import pyoxigraph as ox

    from kzgraph.export import to_nquads

    store = ox.Store()
    store.load(to_nquads(kg.graph), format=ox.RdfFormat.N_QUADS)
    graphs = {str(g.value) for g in store.named_graphs()}
    types = set()
    for target, node in MAPPING.values():
        assert target in graphs
        if node is None:
            continue
        homes = {q.graph_name.value for q in store.quads_for_pattern(ox.NamedNode(node), None, None)}
        assert homes == {target}, (node, homes)
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        node_types = {q.object.value for q in store.quads_for_pattern(ox.NamedNode(node), rdf_type,
                                                                      None)}
        assert len(node_types) == 1
        types |= node_types
    assert types == {"https://w3id.org/kzgraph/ontology#Observation"}
    assert ONTOLOGY_GRAPH in graphs


def test_rewrite_keeps_other_bytes():
    """Only the mapped values change; the rest of the path keeps the manifest's bytes."""
    path = ("query=ASK%20%7B%7D&default-graph-uri=http%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql"
            "%2Fdata%2Fdata0.rdf")
    assert rewrite_pairs(path, MAPPING) == (
        "query=ASK%20%7B%7D&default-graph-uri=" + quote(GRAPH + "src-telecom-lead", safe=""))
    text = ("ASK FROM <http://kasei.us/2009/09/sparql/data/data3.rdf> { GRAPH ?g1 { "
            "<http://kasei.us/2009/09/sparql/data/data1.rdf> a ?type } }")
    assert rewrite_query(text, MAPPING) == (
        f"ASK FROM <{GRAPH}src-internet-shutdowns> {{ GRAPH ?g1 {{ "
        f"<{KZ}obs-freedom-on-the-net-status-2021> a ?type }} }}")


@pytest.mark.parametrize("engine_name", ["memory", "oxigraph"])
def test_relative_iris_resolve_against_kz(engine_name, memory, oxigraph):
    """query_content_type_construct writes ``<s> <p> 1`` without a BASE: the service's base
    (`kzgraph.sparql.BASE_IRI`, the kz: namespace) resolves it, the same on both engines."""
    from kzgraph import sparql

    engine = {"memory": memory, "oxigraph": oxigraph}[engine_name]
    graph = sparql.run(engine, "CONSTRUCT { <s> <p> 1 } WHERE {}").graph
    assert {(str(s), str(p), str(o)) for s, p, o in graph} == {(KZ + "s", KZ + "p", "1")}
    assert sparql.run(engine, "ASK { <kcell> ?p ?o }").boolean is True
    assert sparql.run(engine, "BASE <http://example.org/> ASK { <kcell> ?p ?o }").boolean is False
