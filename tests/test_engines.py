"""The remote engine against a real SPARQL server: the `oxigraph` server from PyPI, started on
127.0.0.1 (a free port, a temporary folder) for this module and stopped afterwards. The graph
is published to it with the Graph Store Protocol; every stored query and every API call
answered there must equal the in-memory answer. Also: parameters substituted for the remote
engine cannot inject SPARQL."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kzgraph import catalog, sparql
from kzgraph.engine import RemoteEngine, publish, substitute
from kzgraph.errors import InputError, KzGraphError
from kzgraph.graph import KZGraph

from .conftest import free_port, run_cli
from .test_api import CALLS
from .test_catalog import (QUERIES, _compare, all_example_runs, has_order_by, norm_expected,
                           run)

OXIGRAPH = shutil.which("oxigraph") or (str(Path(sys.executable).with_name("oxigraph"))
                                        if Path(sys.executable).with_name("oxigraph").exists()
                                        else None)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a running `oxigraph serve` (stopped at the end of the module)."""
    if OXIGRAPH is None:  # installed by the project's test extras: missing is a failure
        pytest.fail("the oxigraph server is not installed (pip install oxigraph==0.5.13)")
    port = free_port()
    folder = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen([OXIGRAPH, "serve", "--location", str(folder), "--bind",
                                f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("oxigraph serve exited")
                time.sleep(0.05)
        else:
            pytest.fail("oxigraph serve did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def remote(server, kg):
    """The packaged graph published to the server (default graph), as a remote KZGraph."""
    publish(kg.graph, f"{server}/store")
    return KZGraph.open(engine=f"{server}/query")


def test_publish_replaces_and_counts_match(server, kg, remote):
    assert len(remote) == len(kg)
    publish(kg.graph, f"{server}/store")  # a rerun replaces: no duplicates
    assert len(remote) == len(kg)


def test_publish_to_a_named_graph(server, kg, remote):
    iri = "https://w3id.org/kzgraph/graph/test"
    publish(kg.graph, f"{server}/store", iri)
    publish(kg.graph, f"{server}/store", iri)
    named = KZGraph.open(engine=f"{server}/query?default-graph-uri={iri}")
    assert len(named) == len(kg)
    assert len(remote) == len(kg)  # the default graph is untouched


@pytest.mark.parametrize("name, params", all_example_runs())
def test_stored_queries_on_the_server(name, params, kg, remote):
    query = QUERIES[name]
    _compare(run(kg.engine, query, params), run(remote.engine, query, params),
             has_order_by(query.text))


@pytest.mark.parametrize("name", sorted(n for n, q in QUERIES.items()
                                        if q.params and not any(p.required for p in q.params)))
def test_stored_queries_with_defaults_on_the_server(name, kg, remote):
    query = QUERIES[name]
    params = {p.name: p.default for p in query.params if p.default is not None}
    _compare(run(kg.engine, query, params), run(remote.engine, query, params),
             has_order_by(query.text))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_api_on_the_server(name, kg, remote):
    expected = CALLS[name](kg)
    assert expected
    assert CALLS[name](remote) == expected


def test_stats_and_graph_on_the_server(kg, remote):
    assert remote.stats().to_dict() == kg.stats().to_dict()
    assert len(remote.graph) == len(kg)


def test_cli_engine_url_and_publish(server, kg, tmp_path):
    done = run_cli("publish", "--endpoint", f"{server}/store", "--graph",
                   "https://w3id.org/kzgraph/graph/cli")
    assert done.returncode == 0, done.stderr
    assert "published" in done.stderr
    local = run_cli("query", "internet-users", "-f", "csv")
    endpoint = f"{server}/query?default-graph-uri=https://w3id.org/kzgraph/graph/cli"
    there = run_cli("--engine", endpoint, "query", "internet-users", "-f", "csv")
    assert there.returncode == 0, there.stderr
    # Numbers compare by value: Oxigraph may answer "200000" where rdflib says "200000.0".
    assert _cells(there.stdout) == _cells(local.stdout) and len(_cells(local.stdout)) > 3
    owners = run_cli("--engine", endpoint, "owners", "Kcell", "-f", "json")
    assert owners.returncode == 0 and "Kazakhtelecom" in owners.stdout


def _cells(csv_text: str):
    import csv
    import io

    return [[norm_expected(c) for c in row] for row in csv.reader(io.StringIO(csv_text)) if row]


HOSTILE = '"} ; DROP ALL #'


def test_substitution_cannot_inject(kg, remote):
    text = ('SELECT ?label ?x WHERE { ?x <http://www.w3.org/2000/01/rdf-schema#label> ?l . '
            'FILTER(STR(?l) = ?label) } ORDER BY ?x')
    rewritten = substitute(text, {"label": Literal(HOSTILE)})
    prepared = sparql.prepare(rewritten)  # still one well-formed SELECT
    assert prepared.form == "SELECT" and prepared.variables == ("label", "x")
    assert "DROP" not in rewritten.replace(Literal(HOSTILE).n3(), "")
    result = sparql.run(remote.engine, text, {"label": Literal(HOSTILE)})
    assert result.rows == []
    assert len(remote) == len(kg)  # nothing was dropped
    assert sparql.run(remote.engine, text, {"label": Literal("Kcell")}).rows


@pytest.mark.parametrize("iri", ['http://x/> } ; DROP ALL #', "http://x/a b", 'http://x/"'])
def test_hostile_iris_are_refused(iri):
    with pytest.raises(InputError):
        substitute("SELECT ?x WHERE { ?x ?p ?o }", {"x": URIRef(iri)})


def test_hostile_datatypes_and_blank_nodes_are_refused():
    from rdflib import BNode

    with pytest.raises(InputError, match="not a valid IRI"):
        substitute("SELECT ?x WHERE { ?x ?p ?o }",
                   {"x": Literal("1", datatype=URIRef("http://x/> } ; DROP ALL #"))})
    with pytest.raises(InputError, match="cannot be written"):
        substitute("SELECT ?x WHERE { ?x ?p ?o }", {"x": BNode()})


def test_substitution_keeps_strings_comments_and_aliases():
    text = 'SELECT ?a (COUNT(?b) AS ?n) WHERE { ?a ?p "?a" # ?a\n } GROUP BY ?a ORDER BY ?a'
    out = substitute(text, {"a": URIRef("http://e/x")})
    assert out == ('SELECT (<http://e/x> AS ?a) (COUNT(?b) AS ?n) WHERE { <http://e/x> ?p "?a" '
                   '# ?a\n } GROUP BY (<http://e/x>) ORDER BY (<http://e/x>)')


def test_remote_engine_refuses_bad_urls_and_reports_errors():
    with pytest.raises(InputError):
        RemoteEngine("file:///etc/passwd")
    with pytest.raises(InputError):
        KZGraph.open(["x.ttl"], engine="http://127.0.0.1:9/query")
    with pytest.raises(KzGraphError, match="cannot reach"):
        len(RemoteEngine(f"http://127.0.0.1:{free_port()}/query", timeout=2))
    with pytest.raises(InputError):
        publish(None, "ftp://example.org/store")


def test_serve_refuses_a_remote_engine():
    done = run_cli("--engine", "http://127.0.0.1:9/query", "serve")
    assert done.returncode == 2
    assert "already serves its own" in done.stderr and "Traceback" not in done.stderr


def test_remote_engine_is_vetted_first(remote):
    with pytest.raises(sparql.QueryRefused):
        remote.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
