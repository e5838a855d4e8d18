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
    """The packaged graph published to the server (the union to the default graph, each
    named graph to its IRI), as a remote KZGraph."""
    publish(kg.graph, f"{server}/store", named=kg.named_graphs())
    return KZGraph.open(engine=f"{server}/query")


def test_publish_replaces_and_counts_match(server, kg, remote):
    assert len(remote) == len(kg)
    per_graph = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    before = sorted(map(str, remote.execute(per_graph).rows))
    publish(kg.graph, f"{server}/store", named=kg.named_graphs())  # a rerun replaces
    assert len(remote) == len(kg)
    assert sorted(map(str, remote.execute(per_graph).rows)) == before


DATASET_GRAPH = "https://w3id.org/kzgraph/graph/src-internet-shutdowns"
OTHER_GRAPH = "https://w3id.org/kzgraph/graph/src-telecom-mobile"


@pytest.mark.parametrize("text, dataset", [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "graphs"),
    (f"SELECT (COUNT(*) AS ?n) FROM <{DATASET_GRAPH}> WHERE {{ ?s ?p ?o }}", None),
    (f"SELECT ?g ?s FROM NAMED <{DATASET_GRAPH}> FROM NAMED <{OTHER_GRAPH}> "
     "WHERE { GRAPH ?g { ?s a ?t } } ORDER BY ?g ?s", None),
    ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", None),
    (f"SELECT (COUNT(*) AS ?n) FROM <{OTHER_GRAPH}> WHERE {{ ?s ?p ?o }}", "protocol"),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "named only"),
    (f"CONSTRUCT {{ ?s ?p ?o }} FROM <{OTHER_GRAPH}> WHERE {{ ?s ?p ?o }}", None),
])
def test_datasets_on_the_server(kg, remote, text, dataset):
    """FROM, FROM NAMED, GRAPH ?g, protocol datasets (sent as default-graph-uri /
    named-graph-uri) and graphs= answer on the server as in process. (One default graph
    each: the Oxigraph 0.5 server counts a triple shared by several default graphs once per
    graph, oxigraph issue #1919; kzgraph's own engines merge them.)"""
    from kzgraph.dataset import Dataset

    chosen = {None: None, "graphs": Dataset.of([DATASET_GRAPH]),
              "protocol": Dataset((DATASET_GRAPH,), ()),
              "named only": Dataset((), (DATASET_GRAPH,))}[dataset]
    here, there = kg.execute(text, dataset=chosen), remote.execute(text, dataset=chosen)
    if here.form == "CONSTRUCT":
        assert set(here.graph) == set(there.graph) and len(here.graph) > 50
    else:
        assert here.terms == there.terms and here.terms


def test_unknown_graph_on_the_remote_engine_is_refused_locally(remote):
    from kzgraph.dataset import UnknownGraph

    assert DATASET_GRAPH in remote.graphs()
    with pytest.raises(UnknownGraph, match="unknown graph <http://example.org/g>"):
        remote.query("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }")
    with pytest.raises(UnknownGraph):
        remote.query("ASK { ?s ?p ?o }", graphs=["http://example.org/g"])


def test_publish_to_a_named_graph(server, kg, remote):
    iri = "https://w3id.org/kzgraph/graph/test"
    publish(kg.graph, f"{server}/store", iri)
    publish(kg.graph, f"{server}/store", iri)
    named = KZGraph.open(engine=f"{server}/query?default-graph-uri={iri}")
    assert len(named) == len(kg)
    assert len(remote) == len(kg)  # the default graph is untouched
    _delete_graph(server, iri)  # the server's named graphs are the dataset's again


def _delete_graph(server: str, iri: str) -> None:
    from urllib.parse import quote

    request = urllib.request.Request(f"{server}/store?graph={quote(iri, safe='')}",
                                     method="DELETE")
    urllib.request.urlopen(request, timeout=30).read()


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
    # the named graphs went up too: a per-source query over the server gives the local rows
    graph = "https://w3id.org/kzgraph/graph/src-internet-shutdowns"
    local = run_cli("query", "class-counts", "--graph", graph, "-f", "csv")
    there = run_cli("--engine", f"{server}/query", "query", "class-counts", "--graph", graph,
                    "-f", "csv")
    assert there.returncode == 0, there.stderr
    assert there.stdout == local.stdout and "InternetShutdown" in local.stdout
    _delete_graph(server, "https://w3id.org/kzgraph/graph/cli")


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


# -- the two local engines give the same bytes (issue 15) ----------------------------------------
#
# Every stored query (queries/*.rq with every example's parameters, queries/api/*.rq with the
# "e.g." values of their parameter descriptions, queries/checks/*.rq), in every result format,
# must give byte-identical output on rdflib and Oxigraph, and the writers must write exactly
# pyoxigraph's own serialisation of the same answer.

import re  # noqa: E402
import warnings  # noqa: E402

import pyoxigraph  # noqa: E402

from kzgraph import api_queries, formats  # noqa: E402
from kzgraph.engine import OxigraphEngine  # noqa: E402
from kzgraph.entities import NameChosen  # noqa: E402


def _every_stored_query():
    out = []
    for name, params in ((p.values[0], p.values[1]) for p in all_example_runs()):
        out.append(pytest.param(QUERIES[name], params, id=f"q-{name}-{len(params)}"))
    for name, query in sorted(api_queries.stored().items()):
        params = {p.name: re.search(r"e\.g\. ([\w:/.-]*\w)", p.description).group(1)
                  for p in query.params if p.required}
        out.append(pytest.param(query, params, id=f"api-{name}"))
    for name, query in sorted(catalog.checks().items()):
        out.append(pytest.param(query, {}, id=f"check-{name}"))
    return out


STORED = _every_stored_query()


@pytest.fixture(scope="module")
def both(kg):
    """(memory, oxigraph) KZGraphs of the same validated build."""
    memory = KZGraph.open(engine="memory")
    assert kg.engine.name == "oxigraph" and memory.engine.name == "memory"
    return memory, kg


def test_default_engine_is_oxigraph(kg):
    import kzgraph

    assert kg.engine.name == "oxigraph"
    assert KZGraph.open.__kwdefaults__["engine"] == kzgraph.load.__kwdefaults__["engine"] \
        == "oxigraph"
    assert run_cli("--help").stdout.count("[default: oxigraph]") == 1


@pytest.mark.parametrize("query, params", STORED)
def test_stored_query_same_bytes_on_both_engines(both, query, params):
    memory, oxigraph = both
    bindings = catalog.bindings(query, params)
    a = sparql.run(memory.engine, query.text, bindings)
    b = sparql.run(oxigraph.engine, query.text, bindings)
    if a.form in ("CONSTRUCT", "DESCRIBE"):
        assert len(a.graph) > 0
        for fmt in ("ttl", "nt", "jsonld", "table"):
            assert formats.render(a, fmt) == formats.render(b, fmt), fmt
        return
    assert a.variables == b.variables
    assert a.terms == b.terms  # the same pyoxigraph terms, in the same order
    for fmt in ("json", "xml", "csv", "tsv", "table"):
        assert formats.render(a, fmt) == formats.render(b, fmt), fmt
    assert repr(a.dicts()) == repr(b.dicts())  # and the same Python values


@pytest.mark.parametrize("query, params", [p for p in STORED
                                           if "GROUP_CONCAT" not in p.values[0].text
                                           and "CONSTRUCT" not in p.values[0].text])
def test_writers_match_pyoxigraph_bytes(both, query, params):
    """Our JSON/XML/CSV/TSV of an Oxigraph answer are pyoxigraph's own bytes (so a server
    may send those directly). GROUP_CONCAT answers are excluded: their items are put in a
    canonical order first (kzgraph.sparql.canonical_order)."""
    oxigraph = both[1]
    bindings = catalog.bindings(query, params)
    prepared = sparql.prepare(query.text)
    ours = sparql.run(oxigraph.engine, query.text, bindings)
    for fmt, member in formats.OXIGRAPH_FORMATS.items():
        native = oxigraph.engine.evaluate(prepared, bindings).serialize(
            format=getattr(pyoxigraph.QueryResultsFormat, member))
        assert formats.render(ours, fmt).encode("utf-8") == native, fmt


TRICKY = ['a\tb', 'c\rd', "e'f", '<&>', ' lead', 'trail ', '\n', 'x\x01y\x7f', 'a,b',
          'q"uote', 'back\\slash', '', 'naïve 日本 \u2028']


def test_writers_match_pyoxigraph_on_awkward_values():
    """Strings that need escaping, every kind of term, unbound cells, an empty answer and
    ASK, against pyoxigraph's serialiser."""
    import json

    values = " ".join(f"({i} {json.dumps(v)})" for i, v in enumerate(TRICKY))
    texts = [
        f'SELECT ?i ?o ?u ?n WHERE {{ VALUES (?i ?o) {{ {values} }} '
        'BIND(IRI(CONCAT("http://e/x?a=1&b=", STR(?i))) AS ?u) '
        'BIND(IF(?i < 3, STRLANG(?o, "en-GB"), ?unbound) AS ?n) }',
        'PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT ?x WHERE { VALUES ?x { 5 '
        '"+5"^^xsd:integer 1.0 "-0.50"^^xsd:decimal ".5"^^xsd:decimal 1e3 "INF"^^xsd:double true '
        '"0"^^xsd:boolean "5"^^xsd:int "P1DT0H"^^xsd:duration "2005"^^xsd:gYear '
        '"2022-01-07T02:50:00+00:00"^^xsd:dateTime "abc"^^xsd:decimal } }',
        "SELECT ?a ?b WHERE { FILTER(false) }",
        "SELECT * WHERE { }",
        "ASK { }",
        "ASK { FILTER(false) }",
    ]
    store = pyoxigraph.Store()
    engine = OxigraphEngine(store)
    for text in texts:
        prepared = sparql.prepare(text)
        ours = engine.query(prepared, {})
        for fmt, member in formats.OXIGRAPH_FORMATS.items():
            native = store.query(text).serialize(
                format=getattr(pyoxigraph.QueryResultsFormat, member))
            assert formats.render(ours, fmt).encode("utf-8") == native, (text, fmt)


def test_blank_nodes_written_like_pyoxigraph():
    store = pyoxigraph.Store()
    store.add(pyoxigraph.Quad(pyoxigraph.BlankNode("b1"), pyoxigraph.NamedNode("http://e/p"),
                              pyoxigraph.Literal("x")))
    text = "SELECT ?s ?o WHERE { ?s ?p ?o }"
    ours = OxigraphEngine(store).query(sparql.prepare(text), {})
    for fmt, member in formats.OXIGRAPH_FORMATS.items():
        native = store.query(text).serialize(format=getattr(pyoxigraph.QueryResultsFormat,
                                                            member))
        assert formats.render(ours, fmt).encode("utf-8") == native, fmt


def test_memory_answers_are_canonicalised(merged_graph):
    """rdflib keeps what it was given ("51.0", "+5", "…+00:00", xsd:int, computed
    "100.0"); the memory engine's answer carries Oxigraph's canonical terms instead,
    checked against the terms an Oxigraph store holds for the same literals."""
    import rdflib

    from kzgraph.engine import MemoryEngine

    data = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    <http://e/a> <http://e/v> 51.0 , "+5"^^xsd:integer , "0050"^^xsd:int , 24.9900 ,
        "2022-01-07T02:50:00+00:00"^^xsd:dateTime , "1.0E3"^^xsd:double , "1"^^xsd:boolean ,
        "x"@EN-gb , "plain" , "bad"^^xsd:decimal ."""
    graph = rdflib.Graph().parse(data=data, format="turtle")
    store = pyoxigraph.Store()
    store.load(data.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    text = "SELECT ?v WHERE { ?s ?p ?v } ORDER BY STR(?v)"
    a = sparql.run(MemoryEngine(graph), text)
    b = sparql.run(OxigraphEngine(store), text)
    assert sorted(map(str, a.terms)) == sorted(map(str, b.terms))
    assert '"51"^^<http://www.w3.org/2001/XMLSchema#decimal>' in map(str, a.terms[0] + tuple(
        t for row in a.terms for t in row))
    total = "SELECT (SUM(?v) AS ?t) WHERE { VALUES ?v { 40.0 60.0 } }"
    assert str(sparql.run(MemoryEngine(graph), total).terms[0][0]) == \
        str(sparql.run(OxigraphEngine(store), total).terms[0][0]) == \
        '"100"^^<http://www.w3.org/2001/XMLSchema#decimal>'
    assert sparql.run(MemoryEngine(graph), total).rows[0][0] == Literal(
        "100", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal"))


def test_group_concat_order_is_canonical(merged_graph):
    """The items of a GROUP_CONCAT come in code-point order on both engines, and an empty
    one is unbound on both."""
    from kzgraph.engine import MemoryEngine

    text = ('SELECT ?g (GROUP_CONCAT(?x; separator=", ") AS ?all) '
            '(GROUP_CONCAT(STR(?none)) AS ?empty) WHERE { VALUES (?g ?x) { (1 "b") (1 "c") '
            '(1 "a") (2 "z") } } GROUP BY ?g ORDER BY ?g')
    for engine in (MemoryEngine(merged_graph), OxigraphEngine(pyoxigraph.Store())):
        result = sparql.run(engine, text)
        assert [(r[1].value, r[2]) for r in result.terms] == [("a, b, c", None), ("z", None)]


@pytest.mark.parametrize("name", sorted(CALLS) + ["stats", "altel"])
def test_api_call_identical_on_both_engines(both, name):
    """Every API call gives the same records on both engines, down to their repr (Decimal
    precision, None against "", key order)."""
    memory, oxigraph = both
    call = {"stats": lambda kg: kg.stats().to_dict(),
            "altel": lambda kg: kg.owners("Altel").to_dicts()}.get(name) or CALLS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NameChosen)
        expected = call(memory)
        assert expected, f"{name}: empty answer proves nothing"
        assert repr(call(oxigraph)) == repr(expected)


def test_subgraph_same_bytes_on_both_engines(both):
    from kzgraph.export import to_ntriples

    memory, oxigraph = both
    a, b = memory.subgraph("Kcell", hops=2), oxigraph.subgraph("Kcell", hops=2)
    assert len(a) > 100
    assert to_ntriples(a) == to_ntriples(b)


def test_cli_json_same_bytes_on_both_engines():
    """The issue's example: `kzgraph query --file queries/5g-targets.rq --format json`."""
    outputs = {}
    for engine in ("memory", "oxigraph"):
        for fmt in ("json", "xml", "csv", "tsv", "table"):
            done = run_cli("--engine", engine, "query", "--file", "queries/5g-targets.rq",
                           "--format", fmt)
            assert done.returncode == 0, done.stderr
            outputs[engine, fmt] = done.stdout
    for fmt in ("json", "xml", "csv", "tsv", "table"):
        assert outputs["memory", fmt] == outputs["oxigraph", fmt], fmt
    assert '"value":"7000","datatype":"http://www.w3.org/2001/XMLSchema#decimal"' in \
        outputs["oxigraph", "json"]


def test_engine_environment_variable():
    done = run_cli("query", "entity-count", "-f", "csv", env={"KZGRAPH_ENGINE": "memory"})
    again = run_cli("query", "entity-count", "-f", "csv", env={"KZGRAPH_ENGINE": "oxigraph"})
    assert done.returncode == again.returncode == 0
    assert done.stdout == again.stdout and int(done.stdout.split()[1]) > 400
    bad = run_cli("query", "entity-count", env={"KZGRAPH_ENGINE": "sqlite"})
    assert bad.returncode == 2 and "unknown engine" in bad.stderr


def test_kg_graph_is_the_validated_build(both):
    """KZGraph.graph on Oxigraph is the rdflib graph of the same build (from the cache),
    made on first use, with the same triples as the memory engine's."""
    memory, oxigraph = both
    assert oxigraph.graph is oxigraph.graph
    assert len(oxigraph.graph) == len(memory.graph) == len(oxigraph)
    assert set(oxigraph.graph) == set(memory.graph)


# -- names ---------------------------------------------------------------------------------------


def test_altel_names_the_operator_with_a_warning(kg):
    with pytest.warns(NameChosen, match=r"using Altel \(cellular operator\) \(kz:altel\)"):
        assert kg.entity("Altel").iri.endswith("/id/altel")
    # not the exact name: still ambiguous, candidates listed
    with pytest.raises(kzgraph_errors().AmbiguousEntity, match="kz:altel-brand"):
        kg.entity("ALTEL")


def kzgraph_errors():
    import kzgraph.errors

    return kzgraph.errors


@pytest.mark.parametrize("args, expect", [
    (("path", "Altel", "Kcell"), "Kcell"),
    (("owners", "Altel"), "Kazakhtelecom"),
    (("neighbors", "Altel"), "kz:stake-kazakhtelecom-altel"),
    (("show", "Altel"), "Altel (cellular operator)  (kz:altel)"),
])
def test_cli_commands_work_on_altel(args, expect):
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert expect in done.stdout
    notes = [line for line in done.stderr.splitlines() if line.startswith("kzgraph: note:")]
    if args[0] != "owners":  # owners looks among agents only: the brand is not one
        assert len(notes) == 1 and "kz:altel-brand" in notes[0], done.stderr


def test_cli_truly_ambiguous_name_exits_2():
    done = run_cli("path", "internet users", "Kcell")
    assert done.returncode == 2
    assert "kz:grp-internet-users" in done.stderr and "kz:measure-internet-users" in done.stderr
    assert "Traceback" not in done.stderr


def test_lookup_reads_the_index_not_every_name(kg, monkeypatch):
    """A lookup on a graph from the cache is one indexed read: the entity-names query is
    never run (it is what the index was built from)."""
    fresh = KZGraph.open()
    real = api_queries.run

    def guarded(graph, name, **params):
        assert name != "entity-names", "the whole name list was read"
        return real(graph, name, **params)

    monkeypatch.setattr(api_queries, "run", guarded)
    assert fresh.entity("GSM Kazakhstan").iri.endswith("/kcell")
    assert fresh.entity("Nur-Sultan").label == "Astana"
    with pytest.raises(kzgraph_errors().AmbiguousEntity):
        fresh.entity("internet users")


@pytest.mark.parametrize("written, problem", [
    ('51.00', "decimal not in canonical form"), ('24.990', "decimal not in canonical form"),
    ('"051.0"^^xsd:decimal', "decimal not in canonical form"),
    ('"+5"^^xsd:integer', "integer not in canonical form"),
    ('"007"^^xsd:integer', "integer not in canonical form"),
    ('"5"^^xsd:int', "use xsd:integer"), ('"-0.0"^^xsd:decimal', "decimal not in canonical form"),
])
def test_number_check_refuses_non_canonical_forms(merged_graph, written, problem):
    import rdflib

    from kzgraph.engine import MemoryEngine

    graph = rdflib.Graph()
    for triple in merged_graph:
        graph.add(triple)
    graph.parse(data="@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
                     f"<https://w3id.org/kzgraph/id/x> <https://w3id.org/kzgraph/ontology#value> "
                     f"{written} .", format="turtle")
    rows = sparql.run(MemoryEngine(graph), catalog.checks()["number-not-canonical"].text).dicts()
    assert [(r["node"].rsplit("/", 1)[1], r["problem"]) for r in rows] == [("x", problem)]


@pytest.mark.parametrize("written", ["51.0", "24.99", "0.5", "-12.0", "100.0"])
def test_canonical_decimals_round_trip_through_turtle(written):
    """The file form the check asks for is what rdflib's Turtle writer writes back (exports
    stay isomorphic) and what the check accepts; Oxigraph reads the same value."""
    import rdflib

    from kzgraph.engine import MemoryEngine
    from kzgraph.export import to_turtle
    from kzgraph.loader import keep_lexical_forms

    keep_lexical_forms()
    data = ("@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
            f"<https://w3id.org/kzgraph/id/x> <https://w3id.org/kzgraph/ontology#value> {written} .")
    graph = rdflib.Graph().parse(data=data, format="turtle")
    again = rdflib.Graph().parse(data=to_turtle(graph), format="turtle")
    assert set(again) == set(graph)
    assert sparql.run(MemoryEngine(graph), catalog.checks()["number-not-canonical"].text).rows == []


# -- the console script's short way for `kzgraph query NAME` ---------------------------------


def test_quick_path_takes_plain_stored_query_lines_only(monkeypatch):
    from kzgraph.entry import quick

    monkeypatch.delenv("KZGRAPH_ENGINE", raising=False)
    assert quick(["query", "ownership"]) == ("oxigraph", "ownership", {}, "table", [])
    assert quick(["--engine", "memory", "query", "owners-of", "-p", "org=kz:kcell", "-f",
                  "csv"]) == ("memory", "owners-of", {"org": "kz:kcell"}, "csv", [])
    assert quick(["--engine=memory", "query", "laws-by-year", "--param=year=2005",
                  "--format=json"]) == ("memory", "laws-by-year", {"year": "2005"}, "json", [])
    assert quick(["query", "class-counts", "--graph", "src-internet-shutdowns", "-g",
                  "graph:ontology", "--graph=x"])[4] == ["src-internet-shutdowns",
                                                        "graph:ontology", "x"]
    monkeypatch.setenv("KZGRAPH_ENGINE", "memory")
    assert quick(["query", "ownership"])[0] == "memory"
    for line in (["query", "ownership", "--help"], ["query", "--file", "x.rq"],
                 ["query", "--sparql", "ASK {}"], ["query", "owners-of", "-p", "org"],
                 ["query", "ownership", "-f", "yaml"], ["query", "ownership", "-f"],
                 ["show", "Kcell"], ["query"], ["--version"], [],
                 ["query", "ownership", "extra"], ["query", "-p", "x=1", "ownership"]):
        assert quick(line) is None, line


@pytest.mark.parametrize("args", [
    ("query", "ownership"),
    ("query", "owners-of", "-p", "org=kz:kazakhtelecom", "-f", "csv"),
    ("query", "laws-by-year", "--param", "year=2005", "--format", "json"),
    ("query", "ownershp"),                                   # unknown: suggestions, exit 2
    ("query", "owners-of"),                                  # missing parameter, exit 2
    ("query", "owners-of", "-p", 'org="} ; DROP ALL #'),   # refused IRI, exit 2
    ("query", "ownership", "-p", "colour=red"),              # unknown parameter, exit 2
    ("query", "class-counts", "--graph", "src-internet-shutdowns"),  # one section's graph
    ("query", "class-counts", "-g", "http://example.org/g"),  # unknown graph, exit 2
])
def test_quick_path_answers_like_click(kg, args):
    """The console script without click and the click command give the same output, the
    same message and the same exit code."""
    from click.testing import CliRunner

    from kzgraph import cli

    quick = run_cli(*args)
    clicked = CliRunner().invoke(cli.main, list(args))
    assert quick.returncode == clicked.exit_code, (quick.stderr, clicked.output)
    if quick.returncode == 0:
        assert quick.stdout == clicked.output
    else:
        assert quick.stderr.strip() in clicked.output and quick.stderr.startswith("kzgraph: ")
        assert "Traceback" not in quick.stderr


def test_validation_runs_the_number_check_on_rdflib(merged_graph):
    """Validation runs its checks on Oxigraph, which cannot see how a number is written;
    the number check says `#+ engine: memory` and is run on rdflib, so it fires."""
    import rdflib

    from kzgraph.validate import validate_graph

    graph = rdflib.Graph()
    for triple in merged_graph:
        graph.add(triple)
    graph.parse(data="@prefix kzo: <https://w3id.org/kzgraph/ontology#> .\n"
                     "<https://w3id.org/kzgraph/id/stake-kazakhtelecom-kcell> kzo:note 51.00 .",
                format="turtle")
    report = validate_graph(graph, consistency=False)
    failed = {c.check: c for c in report.check_failures}
    assert set(failed) == {"number-not-canonical"}
    assert "51.00" in failed["number-not-canonical"].rows[0]["written"]
