"""Nothing gets in or out that should not: every way a query or a file could make kzgraph
fetch a remote resource or read a local file is refused, and each test proves that no
connection or file read was attempted.

The proof has three parts: a *canary* TCP server on 127.0.0.1 that records every connection
(it sees Rust sockets too, e.g. pyoxigraph's), a monitor that patches ``socket.socket.connect``
and ``urllib.request.urlopen`` / ``OpenerDirector.open`` for the duration of the test, and a
patched ``open`` that records any attempt to open the canary *file*.
"""
from __future__ import annotations

import builtins
import inspect
import io
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from kzgraph import sparql
from kzgraph.errors import InputError, ParseError
from kzgraph.loader import parse_turtle

from .conftest import ROOT

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")]


# -- monitors --------------------------------------------------------------------------------


class Canary:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.hits: list = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.hits.append(peer)
            conn.close()

    def close(self) -> None:
        """Stop listening; connections the kernel queued but nobody accepted yet are
        counted too (a handshake completes before accept, so none can be missed)."""
        if self.sock.fileno() == -1:
            return
        self._stop = True
        self.thread.join(2)
        self.sock.setblocking(False)
        while True:
            try:
                conn, peer = self.sock.accept()
            except (BlockingIOError, OSError):
                break
            self.hits.append(peer)
            conn.close()
        self.sock.close()


class Monitor:
    """Records outbound attempts: socket connects (Python level), urllib opens, and opens of
    the watched files."""

    def __init__(self, watched: list[Path]) -> None:
        self.connects: list = []
        self.urlopens: list = []
        self.reads: list = []
        self.watched = {str(p) for p in watched}

    def install(self, mp: pytest.MonkeyPatch) -> None:
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_open = builtins.open
        monitor = self

        def connect(sock, address):
            monitor.connects.append(address)
            return real_connect(sock, address)

        def connect_ex(sock, address):
            monitor.connects.append(address)
            return real_connect_ex(sock, address)

        def urlopen(*args, **kwargs):
            monitor.urlopens.append(args[:1])
            raise PermissionError("test: no outbound requests")

        def opener_open(self, *args, **kwargs):
            monitor.urlopens.append(args[:1])
            raise PermissionError("test: no outbound requests")

        def watched_open(file, *args, **kwargs):
            if str(file) in monitor.watched or str(file).endswith("canary-secret.txt"):
                monitor.reads.append(file)
            return real_open(file, *args, **kwargs)

        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(urllib.request, "urlopen", urlopen)
        mp.setattr(urllib.request.OpenerDirector, "open", opener_open)
        mp.setattr(builtins, "open", watched_open)
        mp.setattr(io, "open", watched_open)

    def assert_quiet(self, canary: Canary) -> None:
        assert self.connects == [], f"socket connections attempted: {self.connects}"
        assert self.urlopens == [], f"URL opens attempted: {self.urlopens}"
        assert self.reads == [], f"watched files opened: {self.reads}"
        canary.close()  # the end of the test: every queued connection is counted
        assert canary.hits == [], f"the canary server was contacted: {canary.hits}"


@pytest.fixture
def canary():
    server = Canary()
    yield server
    server.close()


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "canary-secret.txt"
    path.write_text("<http://x/s> <http://x/p> \"SECRET\" .\n")
    return path


@pytest.fixture
def watch(monkeypatch, secret):
    """Install the monitor; yields it (undone at the end of the test)."""
    monitor = Monitor([secret])
    monitor.install(monkeypatch)
    return monitor


# -- queries that would fetch or write -------------------------------------------------------


def hostile_queries(url: str, secret: Path) -> list[tuple[str, str]]:
    """(query, what kind of refusal) pairs; ``url`` is the canary server."""
    file_iri = secret.resolve().as_uri()
    return [
        (f"SELECT * WHERE {{ SERVICE <{url}sparql> {{ ?s ?p ?o }} }}", "SERVICE"),
        (f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        ("SELECT * WHERE { BIND(<%s> AS ?u) SERVICE ?u { ?s ?p ?o } }" % url, "SERVICE"),
        (f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}> {{ ?a ?x ?y }} }} }}",
         "SERVICE"),
        (f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
         "SERVICE"),
        (f"ASK {{ SERVICE <https://query.wikidata.org/sparql> {{ ?s ?p ?o }} }}", "SERVICE"),
        (f"SELECT * WHERE {{ SERVICE <{file_iri}> {{ ?s ?p ?o }} }}", "SERVICE"),
        (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        (f"SELECT * FROM <{file_iri}> WHERE {{ ?s ?p ?o }}", "FROM"),
        (f"SELECT * FROM NAMED <{file_iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", "FROM"),
        (f"SELECT * FROM <{url}data.ttl> WHERE {{ ?s ?p ?o }}", "FROM"),
        ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
        (f"ASK FROM <{url}> {{ ?s ?p ?o }}", "FROM"),
        (f"DESCRIBE ?s FROM <{file_iri}> WHERE {{ ?s ?p ?o }}", "FROM"),
        (f"LOAD <{url}data.ttl>", "update"),
        (f"LOAD SILENT <{file_iri}> INTO GRAPH <http://x/g>", "update"),
        ("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", "update"),
        ("DELETE DATA { <http://x/a> <http://x/b> <http://x/c> }", "update"),
        ("DELETE WHERE { ?s ?p ?o }", "update"),
        ("INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", "update"),
        ("DROP ALL", "update"),
        ("DROP GRAPH <http://x/g>", "update"),
        ("CLEAR DEFAULT", "update"),
        ("CREATE GRAPH <http://x/g>", "update"),
        (f"COPY <{url}> TO DEFAULT", "update"),
        (f"ADD <{file_iri}> TO DEFAULT", "update"),
        ("PREFIX x: <http://x/> INSERT DATA { x:a x:b x:c } ; DROP ALL", "update"),
    ]


@pytest.fixture
def queries(canary, secret):
    return hostile_queries(canary.url, secret)


class Spy:
    """An engine that records any query that reaches it (none should). Its named graphs are
    known already (as an engine keeps them once read), so no listing query is sent."""

    _kzgraph_graphs = ("https://w3id.org/kzgraph/graph/ontology",)

    def __init__(self) -> None:
        self.seen: list = []

    def query(self, prepared, bindings, dataset=None):
        self.seen.append(prepared.text)
        raise AssertionError("a hostile query reached the engine")


def test_hostile_queries_refused_before_any_engine(queries, canary, watch):
    """SERVICE and updates are refused by the vetting; FROM / FROM NAMED of a file or a URL
    are well-formed but name no known graph: `UnknownGraph`, before the engine is called."""
    from kzgraph.dataset import UnknownGraph

    spy = Spy()
    for text, kind in queries:
        expected = UnknownGraph if kind == "FROM" else sparql.QueryRefused
        with pytest.raises(expected) as caught:
            sparql.run(spy, text)
        message = str(caught.value)
        assert {"SERVICE": "SERVICE", "FROM": "unknown graph",
                "update": "read-only"}[kind] in message
        if kind == "FROM":
            assert "https://w3id.org/kzgraph/graph/ontology" in message  # the known graphs
    assert spy.seen == []
    watch.assert_quiet(canary)


@pytest.mark.parametrize("engine_name", ["memory", "oxigraph"])
def test_datasets_naming_outside_graphs_never_fetch(engine_name, canary, secret, watch,
                                                    memory, oxigraph):
    """On the real engines: FROM, FROM NAMED and protocol datasets naming the canary server
    or the secret file are refused (`UnknownGraph`), and nothing is contacted or opened."""
    from kzgraph.dataset import Dataset, UnknownGraph

    engine = {"memory": memory, "oxigraph": oxigraph}[engine_name]
    targets = [f"{canary.url}data.ttl", canary.url, secret.resolve().as_uri(),
               "file:///etc/passwd"]
    known = "https://w3id.org/kzgraph/graph/src-internet-shutdowns"
    for target in targets:
        for text in (f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}",
                     f"SELECT * FROM <{known}> FROM NAMED <{target}> "
                     "WHERE { GRAPH ?g { ?s ?p ?o } }",
                     f"ASK FROM <{target}> {{ ?s ?p ?o }}"):
            with pytest.raises(UnknownGraph, match="unknown graph"):
                sparql.run(engine, text)
        for dataset in (Dataset((target,), ()), Dataset((), (target,)),
                        Dataset((known,), (target,))):
            with pytest.raises(UnknownGraph, match="unknown graph"):
                sparql.run(engine, "ASK { ?s ?p ?o }", dataset=dataset)
        # the protocol's dataset replaces the text's FROM, but is checked the same way
        with pytest.raises(UnknownGraph):
            sparql.run(engine, f"ASK FROM <{known}> {{ ?s ?p ?o }}",
                       dataset=Dataset((target,), ()))
    watch.assert_quiet(canary)


def test_memory_engine_never_loads_from_graphs(canary, secret, watch, memory):
    """Defence in depth: even a query that skipped the vetting could not make rdflib fetch
    (``SPARQL_LOAD_GRAPHS`` is off once an engine exists)."""
    import rdflib
    import rdflib.plugins.sparql as rdflib_sparql

    assert rdflib_sparql.SPARQL_LOAD_GRAPHS is False
    ds = rdflib.Dataset()
    ds.query(f"SELECT * FROM <{canary.url}x.ttl> FROM <{secret.resolve().as_uri()}> "
             "WHERE { ?s ?p ?o }")
    watch.assert_quiet(canary)


def test_oxigraph_engine_never_loads_from_graphs(canary, secret, watch, oxigraph):
    """Defence in depth: a FROM / FROM NAMED that skipped the vetting reaches Oxigraph, which
    reads only its own store (an empty graph for an IRI it lacks) and fetches nothing."""
    from kzgraph.sparql import Prepared

    text = (f"SELECT (COUNT(*) AS ?n) FROM <{canary.url}x.ttl> FROM <{secret.resolve().as_uri()}> "
            f"FROM NAMED <{canary.url}named.ttl> WHERE {{ {{ ?s ?p ?o }} UNION "
            "{ GRAPH ?g { ?s ?p ?o } } }")
    result = oxigraph.query(Prepared(text, "SELECT", ("n",)), {})
    assert int(result.rows[0][0]) == 0
    watch.assert_quiet(canary)


# -- files that would fetch or expand ---------------------------------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY secret SYSTEM "{secret}"> <!ENTITY remote SYSTEM "{url}x"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://x/">
  <rdf:Description rdf:about="http://x/a"><ex:p>&secret;&remote;</ex:p></rdf:Description>
</rdf:RDF>
"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [ <!ENTITY lol "lol">
""" + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
              for i in range(1, 10)) + """]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://x/">
  <rdf:Description rdf:about="http://x/a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
"""
JSONLD = """{{"@context": ["{url}context.jsonld", {{"@import": "{url}more.jsonld"}}],
 "@id": "http://x/a", "p": "v"}}
"""
IMPORTS = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://x/ontology> a owl:Ontology ; owl:imports <{url}ontology.ttl>, <{secret_iri}> .
<http://x/a> rdfs:seeAlso <{url}see> .
"""


@pytest.fixture
def hostile_files(tmp_path, canary, secret):
    values = {"url": canary.url, "secret": secret.resolve().as_uri(),
              "secret_iri": secret.resolve().as_uri()}
    files = {}
    for name, template in [("xxe.rdf", XXE), ("laughs.rdf", LAUGHS), ("remote.jsonld", JSONLD),
                           ("xxe.ttl", XXE), ("laughs.xml", LAUGHS), ("context.json", JSONLD)]:
        path = tmp_path / name
        path.write_text(template.format(**values) if "{" in template and name != "laughs.rdf"
                        and name != "laughs.xml" else template)
        files[name] = path
    return files


@pytest.mark.parametrize("name", ["xxe.rdf", "laughs.rdf", "remote.jsonld", "xxe.ttl",
                                  "laughs.xml", "context.json"])
def test_xml_and_jsonld_files_refused_at_their_start(hostile_files, name, canary, watch):
    """kzgraph reads Turtle only, whatever the file is called: RDF/XML with external
    entities, an entity-expansion bomb and JSON-LD with remote contexts are syntax errors in
    their first lines (nothing after them is read, no entity is expanded), with no file read
    and no fetch."""
    with pytest.raises(ParseError) as caught:
        parse_turtle(hostile_files[name])
    assert caught.value.path == str(hostile_files[name])
    assert caught.value.line is not None and caught.value.line <= 4
    assert str(caught.value).startswith(f"{hostile_files[name]}:{caught.value.line}: ")
    watch.assert_quiet(canary)


def test_hostile_files_on_the_command_line(hostile_files, canary, watch, kg, monkeypatch):
    """``kzgraph validate FILE.rdf`` / ``stats FILE.jsonld`` / ``query --file``: exit 2 with
    the file named, nothing fetched or read."""
    from click.testing import CliRunner

    from kzgraph import cli

    runner = CliRunner()
    for name, path in hostile_files.items():
        commands = [["query", "--file", str(path)]]
        if name in ("xxe.rdf", "remote.jsonld", "laughs.rdf"):
            commands.append(["stats", str(path)])  # parsed after the packaged files
        for args in commands:
            result = runner.invoke(cli.main, args)
            assert result.exit_code == 2, (args, result.output)
            assert "Traceback" not in result.output and "kzgraph:" in result.output
            assert path.name in result.output, (args, result.output)  # the file is named
    watch.assert_quiet(canary)


def test_owl_imports_never_followed(tmp_path, canary, secret, watch):
    """A user file with remote (and file:) owl:imports: parsed, validated against the shapes,
    closed under OWL RL — and no import is fetched or read."""
    from kzgraph.reason import closure
    from kzgraph.validate import validate_graph

    path = tmp_path / "imports.ttl"
    path.write_text(IMPORTS.format(url=canary.url, secret_iri=secret.resolve().as_uri()))
    graph = parse_turtle(path)
    assert len(graph) == 4  # exactly what the file says, nothing imported
    validate_graph(graph, {s: path.name for s in graph.subjects()})
    inferred, _ = closure(graph)
    assert not any("SECRET" in str(o) for o in inferred.objects())
    watch.assert_quiet(canary)


def test_jsonld_export_needs_no_fetch(kg, canary, watch):
    """The JSON-LD kzgraph writes inlines its context: reading it back fetches nothing."""
    import rdflib

    from kzgraph.export import to_jsonld

    import json

    data = to_jsonld(kg.graph)
    assert isinstance(json.loads(data)["@context"], dict)  # inline, not a URL to fetch
    graph = rdflib.Dataset()
    graph.parse(data=data, format="json-ld")
    assert len({(s, p, o) for s, p, o, _ in graph.quads()}) == len(kg.graph)
    watch.assert_quiet(canary)


def test_outbound_guard_of_serve():
    """``kzgraph serve`` also installs an audit hook: a connection to anything but loopback,
    or any urllib request, raises (checked in a subprocess: the hook cannot be removed)."""
    code = (
        "import socket, urllib.request\n"
        "from kzgraph.server import _block_outbound\n"
        "_block_outbound()\n"
        "for attempt in (lambda: socket.create_connection(('192.0.2.1', 80), timeout=1),\n"
        "                lambda: urllib.request.urlopen('http://192.0.2.1/', timeout=1)):\n"
        "    try:\n"
        "        attempt()\n"
        "    except PermissionError:\n"
        "        print('refused')\n"
        "    except OSError as exc:\n"
        "        print('other', exc)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.split() == ["refused", "refused"], done.stdout + done.stderr


# -- the HTTP server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(kg):
    pytest.importorskip("httpx")
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from kzgraph.server import create_app

    with TestClient(create_app(kg, timeout=5), raise_server_exceptions=False,
                    base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_hostile_queries_over_http(client, queries, canary, watch):
    for text, kind in queries:
        expected = 400 if kind == "FROM" else 403
        for response in (client.get("/sparql", params={"query": text}),
                         client.post("/sparql", content=text.encode(),
                                     headers={"Content-Type": "application/sparql-query"}),
                         client.post("/sparql", data={"query": text})):
            assert response.status_code == expected, (text, response.text)
    for body, media in [("DROP ALL", "application/sparql-update"),
                        (f"LOAD <{canary.url}>", "application/sparql-update")]:
        response = client.post("/sparql", content=body, headers={"Content-Type": media})
        assert response.status_code == 403
    response = client.post("/sparql", data={"update": "DROP ALL"})
    assert response.status_code == 403
    for name in ("default-graph-uri", "named-graph-uri"):
        for target in (canary.url, f"{canary.url}data.ttl", "file:///etc/passwd"):
            response = client.get("/sparql", params={"query": "ASK {}", name: target})
            assert response.status_code == 400, response.text
            assert "unknown graph" in response.text
            response = client.post("/sparql", data={"query": "ASK {}", name: target})
            assert response.status_code == 400, response.text
    for media in ("application/rdf+xml", "application/ld+json", "text/turtle"):
        response = client.post("/sparql", content=XXE.format(url=canary.url, secret="x"),
                               headers={"Content-Type": media})
        assert response.status_code == 415
    watch.assert_quiet(canary)


def test_huge_bodies_and_query_strings(client):
    from kzgraph.server import MAX_BODY, MAX_QUERY_STRING

    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_BODY
    response = client.post("/sparql", content=big.encode(),
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413

    def chunks():  # no Content-Length: the cap is counted while reading
        for _ in range(64):
            yield b"#" + b"x" * 8191

    response = client.post("/sparql", content=chunks(),
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    response = client.post("/sparql", data={"query": big})
    assert response.status_code == 413
    long_query = "ASK { ?s ?p ?o } #" + "x" * MAX_QUERY_STRING
    for path in ("/sparql", "/queries/owners-of", "/id/kcell", "/dataset.ttl", "/"):
        response = client.get(path, params={"query": long_query})
        assert response.status_code == 414, path
    # under the body cap but over the query-length cap (64 K characters) → 413 too
    response = client.post("/sparql", content=("ASK {} #" + "y" * 70_000).encode(),
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_binds_to_loopback_by_default():
    from kzgraph import cli, server

    assert inspect.signature(server.serve).parameters["host"].default == "127.0.0.1"
    option = next(p for p in cli.serve.params if p.name == "host")
    assert option.default == "127.0.0.1"


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # UDP "connect" only picks a route
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_served_on_loopback_only():
    """``kzgraph serve`` with no --host: reachable on 127.0.0.1, not on the machine's own
    network address."""
    httpx = pytest.importorskip("httpx")
    from .conftest import free_port
    from .test_server import wait_until_up

    import os

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kzgraph.cli", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ), cwd=ROOT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/")
        outward = _outward_address()
        if outward is None:
            pytest.skip("no non-loopback address on this machine")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{outward}:{port}/health", timeout=3)
    finally:
        proc.terminate()
        proc.wait(20)


# -- datasets naming a graph that is not one of kzgraph's: the CLI and the real server ----------
#
# FROM / FROM NAMED in the text, --graph on the command line, default-graph-uri /
# named-graph-uri over HTTP, each pointing at the canary server (and at the canary file): a
# clear refusal naming the known graphs, and not one connection. The servers and the console
# script run in subprocesses, so the proof there is the canary listener, which sees every
# process's connections.

KNOWN_GRAPH = "https://w3id.org/kzgraph/graph/src-internet-shutdowns"


def _dataset_targets(canary, secret) -> list[str]:
    return [f"{canary.url}data.ttl", canary.url, secret.resolve().as_uri()]


def _names_known_graphs(text: str, target: str) -> bool:
    return f"unknown graph <{target}>" in text and KNOWN_GRAPH in text \
        and "https://w3id.org/kzgraph/graph/ontology" in text


@pytest.mark.parametrize("engine_name", ["memory", "oxigraph"])
def test_query_command_never_fetches_a_dataset(engine_name, canary, secret, watch):
    """``kzgraph query --sparql 'SELECT ... FROM <canary>'`` and ``--graph <canary>``: exit 2
    with the known graphs named, nothing contacted or opened."""
    from click.testing import CliRunner

    from kzgraph import cli

    runner = CliRunner()
    for target in _dataset_targets(canary, secret)[::2]:
        for args in (["query", "--sparql", f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}"],
                     ["query", "--sparql", f"ASK FROM NAMED <{target}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"],
                     ["query", "--graph", target, "--sparql", "ASK { ?s ?p ?o }"],
                     ["query", "--graph", KNOWN_GRAPH, "--graph", target, "ownership"]):
            result = runner.invoke(cli.main, ["--engine", engine_name, *args])
            assert result.exit_code == 2, (args, result.output)
            assert "Traceback" not in result.output
            assert _names_known_graphs(result.output, target), result.output
    watch.assert_quiet(canary)


@pytest.mark.parametrize("engine_name", ["memory", "oxigraph"])
def test_console_script_never_fetches_a_dataset(engine_name, canary, secret):
    """The console script's own fast path for stored queries (``kzgraph query NAME``, no
    click) with ``--graph`` naming the canary: exit 2, the known graphs named, no connection."""
    import os

    for target in _dataset_targets(canary, secret)[:1]:
        done = subprocess.run([str(Path(sys.executable).parent / "kzgraph"), "--engine",
                               engine_name, "query", "ownership", "--graph", target],
                              cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env=dict(os.environ))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr and _names_known_graphs(done.stderr, target)
    canary.close()
    assert canary.hits == []


@pytest.fixture(params=["memory", "oxigraph"])
def real_server(request):
    """``kzgraph --engine ENGINE serve`` in a subprocess on a free loopback port."""
    import os

    from .conftest import free_port
    from .test_server import stop_process, wait_until_up

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kzgraph.cli", "--engine", request.param,
                             "serve", "--port", str(port), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ), cwd=ROOT)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(base)
        yield base
    finally:
        stop_process(proc)


def test_served_datasets_never_fetch(real_server, canary, secret):
    """On the real ``kzgraph serve`` (its worker processes included), on both engines: FROM,
    FROM NAMED, default-graph-uri and named-graph-uri naming the canary server or the canary
    file, by GET, form POST and direct POST → 400 naming the known graphs; the canary sees
    no connection; a known graph still answers."""
    httpx = pytest.importorskip("httpx")

    url = real_server + "sparql"
    for target in _dataset_targets(canary, secret):
        responses = [
            httpx.get(url, params={"query": f"ASK FROM <{target}> {{ ?s ?p ?o }}"}),
            httpx.get(url, params={"query": f"SELECT * FROM NAMED <{target}> WHERE "
                                            "{ GRAPH ?g { ?s ?p ?o } }"}),
            httpx.post(url, content=f"ASK FROM <{KNOWN_GRAPH}> FROM <{target}> {{ }}",
                       headers={"Content-Type": "application/sparql-query"}),
        ]
        for name in ("default-graph-uri", "named-graph-uri"):
            responses += [
                httpx.get(url, params={"query": "ASK {}", name: target}),
                httpx.post(url, data={"query": "ASK {}", name: target}),
                httpx.post(url, params={name: target}, content=b"ASK {}",
                           headers={"Content-Type": "application/sparql-query"}),
                # the protocol's dataset replaces FROM, and is vetted the same way
                httpx.post(url, params=[("default-graph-uri", KNOWN_GRAPH), (name, target)],
                           content=f"ASK FROM <{KNOWN_GRAPH}> {{ }}".encode(),
                           headers={"Content-Type": "application/sparql-query"}),
            ]
        for response in responses:
            assert response.status_code == 400, (response.request.url, response.text)
            assert _names_known_graphs(response.text, target), response.text
    known = httpx.get(url, params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": KNOWN_GRAPH})
    assert known.status_code == 200 and known.json()["boolean"] is True
    canary.close()
    assert canary.hits == [], f"the canary server was contacted: {canary.hits}"
