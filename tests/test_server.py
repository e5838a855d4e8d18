"""`kzgraph serve`: protocol tests with a real HTTP client against servers on 127.0.0.1.

The main server runs in a thread of this process (uvicorn, the session's graph); the server
for timeouts and limits is the real ``kzgraph serve`` command (granian) in a subprocess.
Queries run in worker processes (`kzgraph.workers`): the runaway queries given here are
killed at their deadline, which the tests check by pid.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="pip install httpx (the server's test client)")
pytest.importorskip("starlette", reason="pip install starlette uvicorn (the server stack)")
pytest.importorskip("uvicorn", reason="pip install starlette uvicorn (the server stack)")

from .conftest import free_port  # noqa: E402

KZ = "https://w3id.org/kzgraph/id/"
SELECT = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
          "SELECT ?label WHERE { <https://w3id.org/kzgraph/id/kcell> rdfs:label ?label }")
ASK = "ASK { <https://w3id.org/kzgraph/id/kcell> ?p ?o }"
CONSTRUCT = "CONSTRUCT { <https://w3id.org/kzgraph/id/kcell> ?p ?o } WHERE { " \
            "<https://w3id.org/kzgraph/id/kcell> ?p ?o }"
DESCRIBE = "DESCRIBE <https://w3id.org/kzgraph/id/kcell>"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def wait_until_up(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {base} did not start")


def stop_process(proc) -> None:
    """Stop a server subprocess: SIGTERM, then SIGKILL when it has not ended in 20 s."""
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextlib.contextmanager
def server_thread(app, **config):
    """Run ``app`` with uvicorn in a thread of this process on a free loopback port; yields
    its base URL and stops the server on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           http="h11", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def base(kg):
    """The server in a thread of this process on a free loopback port; its base URL."""
    from kzgraph.server import create_app

    with server_thread(create_app(kg, timeout=10, max_rows=100_000),
                       h11_max_incomplete_event_size=256 * 1024) as url:
        yield url


@pytest.fixture(scope="module")
def limited(kg):
    """``kzgraph serve`` in a subprocess with a 1 s timeout, 2 workers, no queue and 50 rows
    at most."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kzgraph.cli", "serve", "--port", str(port), "--timeout", "1",
         "--workers", "2", "--queue", "0", "--max-rows", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url)
        yield url
    finally:
        stop_process(proc)


def get(base, path="sparql", **kwargs):
    return httpx.get(base + path, timeout=30, **kwargs)


def post(base, path="sparql", **kwargs):
    return httpx.post(base + path, timeout=30, **kwargs)


# -- the three ways to send a query, and every result format ------------------------------


def test_get_post_form_and_post_direct_agree(base):
    a = get(base, params={"query": SELECT})
    b = post(base, data={"query": SELECT})
    c = post(base, content=SELECT.encode(), headers={"Content-Type": "application/sparql-query"})
    for r in (a, b, c):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/sparql-results+json")
        assert r.json()["results"]["bindings"] == [
            {"label": {"type": "literal", "value": "Kcell", "xml:lang": "en"}}]
    assert a.json() == b.json() == c.json()


@pytest.mark.parametrize("accept, media, marker", [
    ("application/sparql-results+json", "application/sparql-results+json", '"bindings"'),
    ("application/sparql-results+xml", "application/sparql-results+xml", "<sparql"),
    ("text/csv", "text/csv", "label\r\nKcell"),
    ("text/tab-separated-values", "text/tab-separated-values", '?label\n"Kcell"@en'),
    ("application/json", "application/sparql-results+json", '"bindings"'),
    ("*/*", "application/sparql-results+json", '"bindings"'),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "application/sparql-results+json", "Kcell"),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml",
     "<literal"),
])
def test_select_formats(base, accept, media, marker):
    r = get(base, params={"query": SELECT}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    assert marker in r.text
    assert "Accept" in r.headers["vary"]


@pytest.mark.parametrize("accept, marker", [
    ("application/sparql-results+json", '"boolean":true'),  # pyoxigraph's compact JSON
    ("application/sparql-results+xml", "<boolean>true</boolean>"),
    ("text/csv", "true"), ("text/tab-separated-values", "true"),
])
def test_ask_formats(base, accept, marker):
    r = get(base, params={"query": ASK}, headers={"Accept": accept})
    assert r.status_code == 200 and marker in r.text


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE])
@pytest.mark.parametrize("accept, rdflib_format", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"), ("*/*", "turtle"),
])
def test_graph_formats(base, query, accept, rdflib_format):
    import rdflib

    r = get(base, params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    graph = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert (rdflib.URIRef(KZ + "kcell"), rdflib.RDFS.label, rdflib.Literal("Kcell", lang="en")) in graph


def test_format_parameter_gives_a_download(base):
    r = get(base, params={"query": SELECT, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="result.csv"'
    assert get(base, params={"query": SELECT, "format": "ttl"}).status_code == 400


# -- errors and refusals --------------------------------------------------------------------


REFUSALS = [
    # (what, request kwargs, status, words in the message)
    ("syntax error", dict(params={"query": "SELECT ?x WHERE { ?x ?y }"}), 400,
     "line 1, column"),
    ("unknown prefix", dict(params={"query": "SELECT * WHERE { ?s foo:bar ?o }"}), 400,
     "foo:"),
    ("no query", dict(params={"format": "json"}), 400, "no query"),  # none: the service description
    ("two queries", dict(params=[("query", ASK), ("query", ASK)]), 400, "more than once"),
    ("update= form", dict(method="POST", data={"update": "INSERT DATA { <a:b> <a:c> <a:d> }"}),
     403, "read-only"),
    ("update text as query", dict(params={"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}), 403,
     "Update"),
    ("DELETE WHERE", dict(params={"query": "DELETE WHERE { ?s ?p ?o }"}), 403, "Update"),
    ("LOAD", dict(params={"query": "LOAD <http://example.org/data.ttl>"}), 403, "Update"),
    ("LOAD file", dict(params={"query": "LOAD <file:///etc/passwd>"}), 403, "Update"),
    ("sparql-update body", dict(method="POST", content=b"CLEAR ALL",
                                headers={"Content-Type": "application/sparql-update"}), 403,
     "read-only"),
    ("SERVICE", dict(params={"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> "
                                      "{ ?s ?p ?o } }"}), 403, "SERVICE"),
    ("SERVICE SILENT", dict(params={"query": "SELECT * WHERE { SERVICE SILENT "
                                             "<http://example.org/sparql> { ?s ?p ?o } }"}),
     403, "SERVICE"),
    ("FROM file", dict(params={"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"}),
     400, "unknown graph <file:///etc/passwd>"),
    ("FROM NAMED", dict(params={"query": "SELECT * FROM NAMED <http://example.org/g> "
                                         "WHERE { GRAPH ?g { ?s ?p ?o } }"}), 400,
     "unknown graph <http://example.org/g>"),
    ("default-graph-uri", dict(params={"query": ASK, "default-graph-uri": "http://e.org/g"}),
     400, "https://w3id.org/kzgraph/graph/src-internet-shutdowns"),
    ("named-graph-uri", dict(params={"query": ASK, "named-graph-uri": "file:///etc/passwd"}),
     400, "unknown graph <file:///etc/passwd>"),
    ("wrong media type", dict(method="POST", content=ASK.encode(),
                              headers={"Content-Type": "text/plain"}), 415, "Content-Type"),
    ("missing media type", dict(method="POST", content=ASK.encode()), 400, "Content-Type"),
    ("UTF-16 body", dict(method="POST", content=ASK.encode("utf-16"),
                         headers={"Content-Type": "application/sparql-query; charset=UTF-16"}),
     400, "UTF-8"),
    ("bad UTF-8 body", dict(method="POST", content=b"ASK { ?s ?p \xff }",
                            headers={"Content-Type": "application/sparql-query"}), 400, "UTF-8"),
    ("bad UTF-8 in URL", dict(path="sparql?query=ASK%7B%FF%7D"), 400, "UTF-8"),
    ("unsatisfiable Accept", dict(params={"query": SELECT}, headers={"Accept": "image/png"}),
     406, "available"),
    ("RDF Accept for SELECT", dict(params={"query": SELECT}, headers={"Accept": "text/turtle"}),
     406, "available"),
    ("PUT", dict(method="PUT", content=ASK.encode()), 405, ""),
    ("DELETE", dict(method="DELETE"), 405, ""),
    ("query string too long", dict(path="sparql?query=" + "A" * 40_000), 414, "POST"),
    ("body too large", dict(method="POST", content=b"#" * 200_000,
                            headers={"Content-Type": "application/sparql-query"}), 413,
     "bytes"),
]


@pytest.mark.parametrize("what, kwargs, status, words", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_errors_and_refusals(base, what, kwargs, status, words):
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "GET")
    path = kwargs.pop("path", "sparql")
    r = httpx.request(method, base + path, timeout=30, **kwargs)
    assert r.status_code == status, (what, r.status_code, r.text)
    assert words in r.text
    assert "Traceback" not in r.text


def test_nothing_is_fetched(base):
    """SERVICE, LOAD and FROM pointing at a live loopback socket: it never sees a connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    target = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    try:
        for query in (f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
                      f"LOAD <{target}>", f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}",
                      f"DESCRIBE <{target}>"):
            r = get(base, params={"query": query})
            assert r.status_code in (200, 400, 403)
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


def test_cors(base):
    r = get(base, params={"query": ASK}, headers={"Origin": "https://yasgui.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = httpx.options(base + "sparql", headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]


def test_sparqlwrapper_client(base):
    SPARQLWrapper = pytest.importorskip("SPARQLWrapper", reason="pip install SPARQLWrapper")
    from SPARQLWrapper import JSON, POST, TURTLE
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sw = SPARQLWrapper.SPARQLWrapper(base + "sparql")
    sw.setQuery(SELECT)
    sw.setReturnFormat(JSON)
    rows = sw.query().convert()["results"]["bindings"]
    assert rows[0]["label"]["value"] == "Kcell"
    sw.setMethod(POST)
    sw.setQuery(ASK)
    assert sw.query().convert()["boolean"] is True
    sw.setQuery(CONSTRUCT)
    sw.setReturnFormat(TURTLE)
    assert b"Kcell" in sw.query().convert()
    sw.setQuery("SELECT ?x WHERE {")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed):
        sw.query()


# -- stored queries -------------------------------------------------------------------------


def test_stored_query_list(base):
    r = get(base, "queries", headers={"Accept": "application/json"})
    names = {q["name"]: q for q in r.json()}
    assert "owners-of" in names and names["owners-of"]["params"][0]["name"]
    page = get(base, "queries", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "owners-of" in page.text and "<table>" in page.text


def test_stored_query_run(base):
    r = get(base, "queries/owners-of", params={"org": "kz:kcell"})
    assert r.status_code == 200, r.text
    owners = {b["ownerLabel"]["value"] for b in r.json()["results"]["bindings"]}
    assert "Kazakhtelecom" in owners
    csv = get(base, "queries/owners-of", params={"org": "kz:kcell"},
              headers={"Accept": "text/csv"})
    assert csv.text.startswith("org,owner") and "Kazakhtelecom" in csv.text
    assert get(base, "queries/owners-of",
               params={"org": "kz:kcell", "format": "tsv"}).text.startswith("?org")


@pytest.mark.parametrize("path, params, status, words", [
    ("queries/owners-of", {}, 400, "needs parameter 'org'"),
    ("queries/owners-of", {"org": "kz:kcell", "nope": "1"}, 400, "no parameter 'nope'"),
    ("queries/owners-of", {"org": "not an iri"}, 400, "not a valid IRI"),
    ("queries/owners-off", {}, 404, "did you mean"),
])
def test_stored_query_errors(base, path, params, status, words):
    r = get(base, path, params=params)
    assert r.status_code == status and words in r.text, r.text


# -- linked data ----------------------------------------------------------------------------


def test_entity_html(base):
    r = get(base, "id/kcell", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Kcell</h1>" in r.text
    assert 'href="/id/kazakhstan"' in r.text          # a neighbour, on this server
    assert "Internet in Kazakhstan" in r.text           # a source
    assert get(base, "id/no-such-node", headers={"Accept": "text/html"}).status_code == 404


@pytest.mark.parametrize("accept, rdflib_format", [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_entity_rdf(base, accept, rdflib_format):
    import rdflib

    r = get(base, "id/kcell", headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == accept
    graph = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert (rdflib.URIRef(KZ + "kcell"), rdflib.RDFS.label, rdflib.Literal("Kcell", lang="en")) in graph
    assert get(base, "id/no-such-node", headers={"Accept": accept}).status_code == 404


def test_entity_page_escapes_everything():
    from kzgraph.entities import Entity
    from kzgraph.records import Fact
    from kzgraph.server import entity_page

    evil = '<script>alert("x")</script>'
    entity = Entity(KZ + "x", evil, (evil,), ())
    fact = Fact(subject=KZ + "x", subject_label=evil, predicate="https://e.org/p",
                predicate_label=evil, object=evil, object_label=None, direction="out",
                start=evil, sources=("javascript:alert(1)",), source_labels=(evil,))
    out = entity_page(entity, [fact], [])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'href="javascript:' not in out


@pytest.mark.parametrize("path, rdflib_format", [
    ("dataset.ttl", "turtle"), ("dataset.nt", "nt"), ("dataset.jsonld", "json-ld")])
def test_dataset_downloads(base, kg, path, rdflib_format):
    import rdflib

    r = get(base, path)
    assert r.status_code == 200
    # the same bytes as `kzgraph export`: JSON-LD puts each section's facts in a named graph
    dataset = rdflib.Dataset()
    dataset.parse(data=r.content, format=rdflib_format)
    union = {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}
    assert len(union) == len(kg)
    from kzgraph.export import export

    assert r.content == export(kg, path.rsplit(".", 1)[1])


def test_ontology_and_void(base, kg):
    import rdflib

    onto = rdflib.Graph().parse(data=get(base, "ontology").content, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/kzgraph/ontology"), rdflib.RDF.type,
            rdflib.OWL.Ontology) in onto
    assert get(base, "ontology.jsonld").headers["content-type"] == "application/ld+json"
    void = rdflib.Graph().parse(data=get(base, "void.ttl").content, format="turtle")
    ns = rdflib.Namespace("http://rdfs.org/ns/void#")
    assert (None, ns.sparqlEndpoint, rdflib.URIRef(base + "sparql")) in void
    dataset = rdflib.URIRef("https://w3id.org/kzgraph/dataset")
    assert int(void.value(dataset, ns.triples)) == len(kg)
    assert (dataset, ns.dataDump, rdflib.URIRef(base + "dataset.ttl")) in void
    assert get(base, "nothing.ttl").status_code == 404


def test_home_page_has_no_cdn(base):
    from pathlib import Path

    import kzgraph.server as server

    r = get(base, "", headers={"Accept": "text/html"})
    assert r.status_code == 200 and 'id="picker"' in r.text
    assert get(base, "static/app.js").status_code == 200
    for path in Path(server.STATIC).iterdir():
        text = path.read_text(encoding="utf-8")
        assert "//cdn" not in text and "unpkg" not in text and 'src="http' not in text


# -- deadlines and limits (a subprocess started with `kzgraph serve`) -----------------------


def test_row_cap_answers_413(limited):
    r = httpx.post(limited + "sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=30)
    assert r.status_code == 413 and "more than 50 rows" in r.text and "LIMIT" in r.text
    r = httpx.post(limited + "sparql", data={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"},
                   timeout=30)
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 50
    r = httpx.get(limited + "sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, timeout=30)
    assert r.status_code == 413


def test_timeout_answers_503_and_others_keep_running(limited):
    started = time.monotonic()
    results = {}

    def slow():
        results["slow"] = httpx.post(limited + "sparql", data={"query": SLOW}, timeout=30)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    fast = httpx.get(limited + "queries/owners-of", params={"org": "kz:kcell"}, timeout=30)
    fast_time = time.monotonic() - started
    thread.join()
    elapsed = time.monotonic() - started
    assert fast.status_code == 200 and fast_time < 1.0      # not blocked by the slow query
    r = results["slow"]
    assert r.status_code == 503 and "longer than 1 s" in r.text
    assert r.headers["retry-after"] == "1"
    assert elapsed < 3


def health(base) -> dict:
    return httpx.get(base + "health", timeout=30).json()


def wait_for_idle(base, count: int, seconds: float = 60) -> dict:
    """/health once ``count`` workers are idle (the bound only keeps a broken run finite)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = health(base)
        if state["workers_idle"] == count:
            return state
        time.sleep(0.05)
    raise AssertionError(f"the workers did not come back: {health(base)}")


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_timeout_kills_the_worker_and_frees_its_slot(limited):
    """The cross-product COUNT never ends by itself: its worker is killed at the deadline,
    the pool is full again, a normal query answers, and the killed pid is gone."""
    before = wait_for_idle(limited, 2)["worker_pids"]
    assert len(before) == 2 and all(alive(pid) for pid in before)
    r = httpx.post(limited + "sparql", data={"query": SLOW}, timeout=30)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    after = wait_for_idle(limited, 2)["worker_pids"]
    killed = set(before) - set(after)
    assert len(killed) == 1 and len(set(after) & set(before)) == 1
    assert not alive(killed.pop())                # not a zombie, not still counting
    r = httpx.get(limited + "queries/owners-of", params={"org": "kz:kcell"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"]["bindings"]


def test_full_pool_answers_503_at_once(limited):
    """Both workers busy and no queue (--queue 0): a third query is refused without waiting
    for a worker; once the two are killed, the pool is full again. (Two slow queries of
    shapes never run before: one known to be long would only take the general lane.)"""
    wait_for_idle(limited, 2)
    fresh = [SLOW.replace("?i", f"?fresh{n}") for n in range(2)]
    slow = [threading.Thread(target=httpx.post, args=(limited + "sparql",),
                             kwargs={"data": {"query": text}, "timeout": 30}) for text in fresh]
    for thread in slow:
        thread.start()
    try:
        wait_for_idle(limited, 0, seconds=5)
        r = httpx.post(limited + "sparql", data={"query": ASK}, timeout=30)
        assert r.status_code == 503 and "busy" in r.text
    finally:
        for thread in slow:
            thread.join()
    wait_for_idle(limited, 2)
    assert httpx.post(limited + "sparql", data={"query": ASK}, timeout=30).status_code == 200


def test_workers_die_with_a_killed_server(kg):
    """SIGKILL leaves the server no chance to clean up: its zygote sees the control socket
    close and exits, the workers follow it (PR_SET_PDEATHSIG) — none is left running."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kzgraph.cli", "serve", "--port", str(port),
                             "--workers", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url)
        workers = health(url)["worker_pids"]
        zygotes = [int(child) for child in
                   Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert len(workers) == 2 and all(alive(pid) for pid in workers + zygotes)
    finally:
        proc.kill()
        proc.wait(10)
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers + zygotes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers + zygotes if alive(pid)]


# -- the worker pool in this process ---------------------------------------------------------


@pytest.fixture(scope="module")
def ntriples(kg):
    from kzgraph.server import served_ntriples

    return served_ntriples(kg)


def _run(pool, *queries, fmt="json"):
    """Run ``queries`` at the same time on ``pool``; the bodies, or the HTTPError raised."""
    import asyncio

    async def go():
        return await asyncio.gather(*(pool.run(q, {}, fmt) for q in queries),
                                    return_exceptions=True)

    return asyncio.run(go())


def _rows(body: bytes, fmt: str) -> int:
    """Rows in a SPARQL result, counted by parsing it (csv module, json, XML parser)."""
    import csv
    import io
    import json
    import xml.etree.ElementTree as ET

    if fmt == "json":
        return len(json.loads(body)["results"]["bindings"])
    if fmt == "xml":
        return len(ET.fromstring(body).findall(".//{http://www.w3.org/2005/sparql-results#}result"))
    if fmt == "csv":
        return len(list(csv.reader(io.StringIO(body.decode())))) - 1
    return len(body.decode().splitlines()) - 1


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_row_cap_in_every_format(ntriples, fmt):
    """At the cap the whole answer comes back (also where the quick count over-estimates:
    many "{" per JSON row, line breaks in CSV values); one row more is 413 — also for rows
    with nothing bound."""
    from kzgraph.protocol import HTTPError
    from kzgraph.workers import Pool

    pool = Pool(ntriples, 1, 30, 10)
    try:
        values = " ".join(f'"{i}\\r\\n{{}}"' for i in range(11))  # CR LF, braces in values
        full, ten, newlines, empty, graph = _run(
            pool, "SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
            f"SELECT ?v WHERE {{ VALUES ?v {{ {values} }} }} LIMIT 10",
            "SELECT ?x WHERE { VALUES ?n { 1 2 3 4 5 6 7 8 9 10 11 } "
            "OPTIONAL { ?x <urn:kzgraph:none> ?n } }", "CONSTRUCT WHERE { ?s ?p ?o }", fmt=fmt)
        for refused in (full, empty):
            assert isinstance(refused, HTTPError) and refused.status == 413, refused
            assert "more than 10 rows" in refused.message
        assert _rows(ten, fmt) == 10 and _rows(newlines, fmt) == 10
        assert isinstance(graph, HTTPError) and graph.status == 413
    finally:
        pool.close()


def test_pool_answers_like_the_memory_engine(ntriples, kg):
    """Oxigraph's serialiser in a worker and rdflib in this process: the same rows."""
    import json

    from kzgraph import catalog
    from kzgraph.workers import Pool

    pool = Pool(ntriples, 2, 30, 1000)
    try:
        text = catalog.get("class-counts").text
        body, ask = _run(pool, text, "ASK { ?s a ?c }")
        rows = [(b["class"]["value"], int(b["count"]["value"]))
                for b in json.loads(body)["results"]["bindings"]]
        assert rows == [(r["class"], int(r["count"])) for r in kg.query("class-counts")]
        assert json.loads(ask) == {"head": {}, "boolean": True}
    finally:
        pool.close()


def test_pool_queue_and_kill_in_process(ntriples):
    """One worker: with a queue the second query waits and answers; without one it is
    refused at once; a runaway query is killed (its pid gone) and replaced."""
    from kzgraph.protocol import HTTPError
    from kzgraph.workers import Pool

    queued = Pool(ntriples, 1, 30, 100, queue=1)
    try:
        first, second = _run(queued, ASK, ASK)
        assert first == second == b'{"head":{},"boolean":true}'
    finally:
        queued.close()
    pool = Pool(ntriples, 1, 1, 100, queue=0)
    try:
        before = pool.pids
        slow, refused = _run(pool, SLOW, ASK)
        assert isinstance(slow, HTTPError) and slow.status == 503
        assert "longer than 1 s" in slow.message
        assert isinstance(refused, HTTPError) and refused.status == 503
        assert "busy" in refused.message
        assert pool.killed == before
        deadline = time.monotonic() + 60
        while pool.idle() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.idle() == 1 and pool.pids != before and not alive(before[0])
        assert _run(pool, ASK) == [b'{"head":{},"boolean":true}']
        fresh = pool.pids
    finally:
        pool.close()
    deadline = time.monotonic() + 30  # the worker dies with its zygote (PR_SET_PDEATHSIG)
    while alive(fresh[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(fresh[0])


def test_serve_binds_to_loopback_by_default():
    from kzgraph.cli import serve

    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
