"""SPARQL datasets over the graph's own named graphs (`kzgraph.dataset`): the union default
graph plus one named graph per source section, the same on every engine; FROM, FROM NAMED,
GRAPH, protocol parameters and ``graphs=`` select among those graphs only.

Independent truth: the N-Quads export (`kzgraph export --format nq`) parsed with pyoxigraph
and counted per graph here; the memory engine (rdflib) against Oxigraph; hand counts from the
articles. (The remote engine's cases are in test_engines.py, beside its server.)"""
from __future__ import annotations

from collections import Counter

import pytest

from kzgraph import sparql
from kzgraph.dataset import GRAPH_NS, Dataset, UnknownGraph, check, effective, expand

from .conftest import run_cli

SHUTDOWNS = GRAPH_NS + "src-internet-shutdowns"
MOBILE = GRAPH_NS + "src-telecom-mobile"
ONTOLOGY = GRAPH_NS + "ontology"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@pytest.fixture(scope="module")
def nquads_counts():
    """Triples per graph of ``kzgraph export --format nq``, parsed with pyoxigraph (None: the
    export's own default graph, which holds the source documents and sections)."""
    import pyoxigraph

    done = run_cli("export", "--format", "nq")
    assert done.returncode == 0, done.stderr
    counts: Counter = Counter()
    triples = set()
    for quad in pyoxigraph.parse(done.stdout.encode("utf-8"),
                                 format=pyoxigraph.RdfFormat.N_QUADS):
        graph = None if isinstance(quad.graph_name, pyoxigraph.DefaultGraph) \
            else quad.graph_name.value
        counts[graph] += 1
        triples.add((quad.subject, quad.predicate, quad.object))
        if graph in (SHUTDOWNS, MOBILE):
            counts["shutdowns+mobile"] += (quad.subject, quad.predicate, quad.object) \
                not in triples_of_two
            triples_of_two.add((quad.subject, quad.predicate, quad.object))
    counts["union"] = len(triples)
    return counts


triples_of_two: set = set()


@pytest.fixture(scope="module")
def engines(kg):
    """The packaged graph on both local engines: the cached Oxigraph store and rdflib."""
    import kzgraph

    return {"oxigraph": kg, "memory": kzgraph.load(engine="memory")}


def _n(result) -> int:
    return int(result.rows[0][0])


# -- the Dataset value ------------------------------------------------------------------------


def test_dataset_rules():
    assert Dataset().is_service and Dataset(None, None).iris == ()
    only_default = Dataset((SHUTDOWNS,))
    assert only_default.named == () and not only_default.is_service  # named: none
    only_named = Dataset(None, (SHUTDOWNS, SHUTDOWNS))
    assert only_named.default == () and only_named.named == (SHUTDOWNS,)  # default: empty
    assert Dataset.of([]) is None and Dataset.of(None) is None
    both = Dataset.of(["src-internet-shutdowns", "graph:src-telecom-mobile"])
    assert both == Dataset((SHUTDOWNS, MOBILE), (SHUTDOWNS, MOBILE))
    assert Dataset.request([], []) is None
    assert Dataset.request([SHUTDOWNS], []) == Dataset((SHUTDOWNS,), ())


@pytest.mark.parametrize("name", [SHUTDOWNS, "graph:src-internet-shutdowns",
                                  "src-internet-shutdowns", "kz:src-internet-shutdowns",
                                  "https://w3id.org/kzgraph/id/src-internet-shutdowns"])
def test_short_forms(name):
    assert expand(name) == SHUTDOWNS
    assert expand("http://example.org/g") == "http://example.org/g"  # left as is, refused later


def test_protocol_dataset_replaces_from():
    text_dataset = Dataset((MOBILE,), ())
    protocol = Dataset((SHUTDOWNS,), ())
    assert effective(protocol, text_dataset) == protocol
    assert effective(None, text_dataset) == text_dataset
    assert effective(None, None) is None and effective(Dataset(), None) is None


def test_unknown_graph_names_the_iri_and_the_known_graphs():
    with pytest.raises(UnknownGraph) as caught:
        check(Dataset((SHUTDOWNS,), ("http://example.org/g",)), [SHUTDOWNS, MOBILE])
    message = str(caught.value)
    assert "<http://example.org/g>" in message and SHUTDOWNS in message and MOBILE in message
    check(Dataset((SHUTDOWNS,), (MOBILE,)), [SHUTDOWNS, MOBILE])  # known: no error


# -- the served dataset --------------------------------------------------------------------


def test_default_graph_is_the_union_and_counts_stay(engines, nquads_counts):
    for name, kg in engines.items():
        assert len(kg) == 5766 == nquads_counts["union"], name
        assert kg.stats().triples == 5766
        assert _n(kg.execute(COUNT)) == 5766


def test_named_graphs_are_those_of_the_nquads_export(engines, nquads_counts):
    expected = sorted(g for g in nquads_counts if g and g.startswith(GRAPH_NS))
    assert len(expected) == 20 and ONTOLOGY in expected  # 19 sections and the ontology
    for name, kg in engines.items():
        assert kg.graphs() == expected, name
        per_graph = {str(r["g"]): r["n"] for r in kg.query(PER_GRAPH)}
        assert per_graph == {g: nquads_counts[g] for g in expected}, name


def test_cli_graphs_lists_counts_and_sections(nquads_counts):
    import csv
    import io

    done = run_cli("graphs", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {r["graph"]: int(r["triples"]) for r in rows} == {
        g: n for g, n in nquads_counts.items() if g and g.startswith(GRAPH_NS)}
    shutdowns = next(r for r in rows if r["graph"] == SHUTDOWNS)
    assert shutdowns["section"] == "https://w3id.org/kzgraph/id/src-internet-shutdowns"
    assert shutdowns["title"] == "Internet in Kazakhstan — Internet shutdowns"
    assert next(r for r in rows if r["graph"] == ONTOLOGY)["section"] == ""


# -- selecting graphs: every way gives the same answer on every engine ------------------------


def _ways(kg, text_body: str, graph: str):
    """The same one-graph question asked five ways (all must agree)."""
    return {
        "graphs=": kg.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {text_body} }}", graphs=[graph]),
        "FROM": kg.query(f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ {text_body} }}"),
        "protocol default": kg.execute(f"SELECT (COUNT(*) AS ?n) WHERE {{ {text_body} }}",
                                       dataset=Dataset((graph,), ())).dicts(),
        "FROM NAMED + GRAPH ?g": kg.query(
            f"SELECT (COUNT(*) AS ?n) FROM NAMED <{graph}> WHERE {{ GRAPH ?g {{ {text_body} }} }}"),
        "GRAPH <g>": kg.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ {text_body} }} }}"),
    }


@pytest.mark.parametrize("graph", [SHUTDOWNS, MOBILE, ONTOLOGY])
def test_one_graph_holds_exactly_its_nquads_lines(engines, nquads_counts, graph):
    for name, kg in engines.items():
        answers = _ways(kg, "?s ?p ?o", graph)
        assert {way: rows[0]["n"] for way, rows in answers.items()} == \
            {way: nquads_counts[graph] for way in answers}, name


def test_one_section_returns_only_that_sections_nodes(engines):
    """Every subject in the shutdowns graph cites the shutdowns section (or is a blank node
    or the section itself is never there): no other section's facts leak in."""
    text = ("PREFIX prov: <http://www.w3.org/ns/prov#> SELECT DISTINCT ?s WHERE { ?s ?p ?o "
            "FILTER NOT EXISTS { ?s prov:wasDerivedFrom "
            "<https://w3id.org/kzgraph/id/src-internet-shutdowns> } FILTER(!isBlank(?s)) }")
    for name, kg in engines.items():
        assert kg.query(text, graphs=[SHUTDOWNS]) == [], name
        # the same question on the whole graph finds plenty
        assert len(kg.query(text)) > 500, name


def test_from_named_only_leaves_the_default_graph_empty(engines):
    for name, kg in engines.items():
        assert kg.query(f"SELECT (COUNT(*) AS ?n) FROM NAMED <{SHUTDOWNS}> "
                        "WHERE { ?s ?p ?o }") == [{"n": 0}], name
        assert kg.execute(COUNT, dataset=Dataset(None, (SHUTDOWNS,))).dicts() == [{"n": 0}]
        # FROM only: no named graphs at all
        assert kg.query(f"SELECT ?g FROM <{SHUTDOWNS}> WHERE {{ GRAPH ?g {{ }} }}") == []


def test_graph_variable_ranges_over_the_dataset(engines, nquads_counts):
    for name, kg in engines.items():
        two = Dataset.of([SHUTDOWNS, MOBILE])
        rows = kg.execute(PER_GRAPH, dataset=two).dicts()
        assert rows == [{"g": SHUTDOWNS, "n": nquads_counts[SHUTDOWNS]},
                        {"g": MOBILE, "n": nquads_counts[MOBILE]}], name
        # the default graph is the RDF merge: a triple both graphs hold counts once (Oxigraph
        # 0.5 alone would count it twice: oxigraph issue #1919)
        merged = kg.query(COUNT, graphs=[SHUTDOWNS, MOBILE])[0]["n"]
        shared = kg.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SHUTDOWNS}> {{ ?s ?p ?o }} "
                          f"GRAPH <{MOBILE}> {{ ?s ?p ?o }} }}")[0]["n"]
        assert shared > 0
        assert merged == nquads_counts["shutdowns+mobile"] == \
            nquads_counts[SHUTDOWNS] + nquads_counts[MOBILE] - shared, name
        both = kg.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g")
        assert len(both) == 20


def test_protocol_dataset_beats_from(engines, nquads_counts):
    for name, kg in engines.items():
        rows = kg.execute(f"SELECT (COUNT(*) AS ?n) FROM <{SHUTDOWNS}> WHERE {{ ?s ?p ?o }}",
                          dataset=Dataset((MOBILE,), ())).dicts()
        assert rows == [{"n": nquads_counts[MOBILE]}], name
        rows = kg.query(f"SELECT (COUNT(*) AS ?n) FROM <{SHUTDOWNS}> WHERE {{ ?s ?p ?o }}",
                        graphs=["src-telecom-mobile"])
        assert rows == [{"n": nquads_counts[MOBILE]}], name


def test_engines_agree_on_dataset_queries(engines):
    texts = [
        f"SELECT ?s ?p ?o FROM <{MOBILE}> WHERE {{ ?s ?p ?o }} ORDER BY ?s ?p ?o",
        f"SELECT ?g ?s FROM NAMED <{MOBILE}> FROM NAMED <{SHUTDOWNS}> "
        "WHERE { GRAPH ?g { ?s a ?t } } ORDER BY ?g ?s",
        f"ASK FROM <{MOBILE}> {{ ?s ?p <https://w3id.org/kzgraph/id/kcell> }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{MOBILE}> WHERE {{ ?s ?p ?o }}",
    ]
    for text in texts:
        memory = engines["memory"].execute(text)
        oxigraph = engines["oxigraph"].execute(text)
        if memory.form == "CONSTRUCT":
            assert set(memory.graph) == set(oxigraph.graph) and len(memory.graph) > 50
        elif memory.form == "ASK":
            assert memory.boolean == oxigraph.boolean
        else:
            assert memory.terms == oxigraph.terms and memory.terms, text


@pytest.mark.parametrize("iri", ["http://example.org/g", "file:///etc/passwd",
                                 GRAPH_NS + "src-nowhere", "https://w3id.org/kzgraph/graph/"])
def test_unknown_graph_is_refused_on_every_engine(engines, iri):
    for name, kg in engines.items():
        for call in (lambda: kg.query(COUNT, graphs=[iri]),
                     lambda: kg.query(f"SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }}"),
                     lambda: kg.query(f"SELECT * FROM NAMED <{iri}> WHERE {{ ?s ?p ?o }}"),
                     lambda: kg.execute(COUNT, dataset=Dataset((), (iri,)))):
            with pytest.raises(UnknownGraph) as caught:
                call()
            assert f"<{iri}>" in str(caught.value) and SHUTDOWNS in str(caught.value), name


def test_cli_graph_option_and_unknown_graph_exit_2(nquads_counts):
    done = run_cli("query", "--sparql", COUNT, "--graph", "src-internet-shutdowns",
                   "-f", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", str(nquads_counts[SHUTDOWNS])]
    done = run_cli("query", "--sparql", COUNT, "-g", "kz:src-internet-shutdowns",
                   "-g", "graph:src-telecom-mobile", "-f", "csv")
    assert done.stdout.split() == ["n", str(nquads_counts["shutdowns+mobile"])]
    for args in (("query", "class-counts", "--graph", "http://example.org/g"),
                 ("query", "--sparql", "SELECT * FROM <http://example.org/g> { ?s ?p ?o }")):
        done = run_cli(*args)
        assert done.returncode == 2, done.stderr
        assert "unknown graph <http://example.org/g>" in done.stderr
        assert SHUTDOWNS in done.stderr and "Traceback" not in done.stderr


def test_cached_verdicts_keep_the_dataset_clause(tmp_path, monkeypatch):
    """A verdict kept in the build cache gives back the same dataset as a fresh vetting, so
    a cached text with FROM is still checked against the known graphs."""
    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path))
    monkeypatch.setattr(sparql, "_VERDICTS", None)
    with_from = f"SELECT * FROM <{SHUTDOWNS}> FROM NAMED <{MOBILE}> WHERE {{ ?s ?p ?o }}"
    outside = "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"
    plain = "ASK {}"
    assert sparql.store_verdicts([with_from, outside, plain]) == 3
    cached = sparql.known_verdict(with_from)
    assert cached is not None and cached.from_cache
    assert cached.dataset == Dataset((SHUTDOWNS,), (MOBILE,)) == sparql._vet(with_from).dataset
    assert sparql.known_verdict(plain).dataset is None
    assert sparql.known_verdict(outside).dataset == Dataset(("http://example.org/g",), ())


# -- the two stored queries over the named graphs: hand checks from the articles ---------------


def test_single_source_claims_hand_checked(engines):
    """The telecom article calls Kazakhtelecom "partially state-owned"; only the internet
    article gives the state's 51 percent. Each claim is made by one article only, so each
    is listed under its own article (sources/000_*.txt has no "51", sources/001_*.txt says
    "51 percent state participation")."""
    from pathlib import Path

    sources = Path(__file__).resolve().parent.parent / "sources"
    telecom_text = next(sources.glob("000_*.txt")).read_text(encoding="utf-8")
    internet_text = next(sources.glob("001_*.txt")).read_text(encoding="utf-8")
    assert "51" not in telecom_text and "partially state-owned" in telecom_text
    assert "51 percent state participation" in internet_text
    kz = "https://w3id.org/kzgraph/id/"
    for name, kg in engines.items():
        rows = {r["claim"]: r["article"] for r in kg.query("single-source-claims")}
        assert rows[kz + "stake-government-kazakhtelecom"] == kz + "src-internet", name
        assert rows[kz + "stake-government-kazakhtelecom-partial"] == kz + "src-telecom"
        telecom = kg.query("single-source-claims", article="kz:src-telecom")
        assert {r["article"] for r in telecom} == {kz + "src-telecom"}
        # the 5G spectrum licences: only the telecom article speaks of 5G at all
        assert "5G" not in internet_text and "5G spectrum" in telecom_text
        assert kz + "licence-kcell-5g-spectrum" in {r["claim"] for r in telecom}


def test_facts_per_source_hand_checked(engines):
    """Observations per article: the internet article's statistics far outnumber the
    telecom article's. Shutdowns: the telecom article names one (its Internet section: the
    internet was shut down during the unrest of January 2022), which the internet article
    tells too, with its other shutdowns."""
    from pathlib import Path

    sources = Path(__file__).resolve().parent.parent / "sources"
    telecom_text = next(sources.glob("000_*.txt")).read_text(encoding="utf-8")
    assert telecom_text.count("shut down") == 1 and "January 2022" in telecom_text
    for name, kg in engines.items():
        rows = {r["class"].rsplit("#", 1)[-1]: r for r in kg.query("facts-per-source")}
        assert rows["Observation"]["internet"] > rows["Observation"]["telecom"] > 0, name
        shutdowns = rows["InternetShutdown"]
        assert (shutdowns["telecom"], shutdowns["both"]) == (1, 1), name
        assert shutdowns["internet"] > 1
        # the columns agree with the per-article counts read another way (prov:wasDerivedFrom)
        text = ("PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/> "
                "PREFIX kzo: <https://w3id.org/kzgraph/ontology#> "
                "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a kzo:Observation ; "
                "prov:wasDerivedFrom/dcterms:isPartOf <https://w3id.org/kzgraph/id/src-telecom> }")
        assert kg.query(text)[0]["n"] == rows["Observation"]["telecom"]


# -- over HTTP: default-graph-uri / named-graph-uri, GET and POST -------------------------------


@pytest.fixture(scope="module")
def client(kg):
    from starlette.testclient import TestClient

    from kzgraph.server import create_app

    with TestClient(create_app(kg, timeout=10, workers=2), raise_server_exceptions=False,
                    base_url="http://127.0.0.1") as test_client:
        yield test_client


def _count(response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_http_dataset_parameters(client, nquads_counts):
    accept = {"Accept": "application/sparql-results+json"}
    one = {"query": COUNT, "default-graph-uri": SHUTDOWNS}
    assert _count(client.get("/sparql", params=one, headers=accept)) == nquads_counts[SHUTDOWNS]
    assert _count(client.post("/sparql", data=one, headers=accept)) == nquads_counts[SHUTDOWNS]
    # direct POST: the dataset in the query string
    assert _count(client.post(f"/sparql?default-graph-uri={MOBILE}", content=COUNT,
                              headers={**accept, "Content-Type": "application/sparql-query"})
                  ) == nquads_counts[MOBILE]
    # repeated: the merge (a set) as the default graph
    two = [("query", COUNT), ("default-graph-uri", SHUTDOWNS), ("default-graph-uri", MOBILE)]
    assert _count(client.get("/sparql", params=two, headers=accept)) == \
        nquads_counts["shutdowns+mobile"]
    # named graphs only: empty default graph, GRAPH ?g over the named ones
    named = [("query", PER_GRAPH), ("named-graph-uri", MOBILE), ("named-graph-uri", ONTOLOGY)]
    rows = client.get("/sparql", params=named, headers=accept).json()["results"]["bindings"]
    assert {r["g"]["value"]: int(r["n"]["value"]) for r in rows} == {
        MOBILE: nquads_counts[MOBILE], ONTOLOGY: nquads_counts[ONTOLOGY]}
    assert _count(client.get("/sparql", params=[("query", COUNT), ("named-graph-uri", MOBILE)],
                             headers=accept)) == 0
    # one in the query string, one in the form body: both count
    response = client.post(f"/sparql?default-graph-uri={SHUTDOWNS}",
                           data={"query": COUNT, "default-graph-uri": MOBILE}, headers=accept)
    assert _count(response) == nquads_counts["shutdowns+mobile"]


def test_http_protocol_beats_from_and_from_works(client, nquads_counts):
    accept = {"Accept": "application/sparql-results+json"}
    text = f"SELECT (COUNT(*) AS ?n) FROM <{SHUTDOWNS}> WHERE {{ ?s ?p ?o }}"
    assert _count(client.get("/sparql", params={"query": text}, headers=accept)) == \
        nquads_counts[SHUTDOWNS]
    assert _count(client.get("/sparql", params={"query": text, "default-graph-uri": MOBILE},
                             headers=accept)) == nquads_counts[MOBILE]
    # the service dataset without any parameter: the union and every named graph
    assert _count(client.get("/sparql", params={"query": COUNT}, headers=accept)) == 5766
    rows = client.get("/sparql", params={"query": PER_GRAPH}, headers=accept).json()
    assert len(rows["results"]["bindings"]) == 20


def test_http_unknown_graph_is_400_naming_the_known_graphs(client):
    for params in ({"query": COUNT, "default-graph-uri": "http://example.org/g"},
                   {"query": COUNT, "named-graph-uri": "http://example.org/g"},
                   {"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"},
                   {"query": COUNT, "default-graph-uri": "src-internet-shutdowns"}):
        for response in (client.get("/sparql", params=params),
                         client.post("/sparql", data=params)):
            assert response.status_code == 400, response.text
            assert "unknown graph <" in response.text and SHUTDOWNS in response.text
            assert "Traceback" not in response.text


def test_inferred_graph_with_reasoning_is_that_of_the_export(kg):
    """With reasoning the OWL RL closure is its own named graph, holding exactly the quads
    `kzgraph export --format nq --inferred` puts in it; the default graph is still the union."""
    import kzgraph
    from kzgraph import export

    inferred = GRAPH_NS + "inferred"
    lines = export.export(kg, "nq", inferred=True).decode("utf-8").splitlines()
    expected = sum(1 for line in lines if line.endswith(f"<{inferred}> ."))
    assert expected > 1000
    for engine in ("oxigraph", "memory"):
        reasoned = kzgraph.load(reasoning=True, engine=engine)
        assert inferred in reasoned.graphs() and len(reasoned.graphs()) == 21
        assert reasoned.query(COUNT, graphs=["inferred"]) == [{"n": expected}], engine
        assert len(reasoned) == 5766 + expected
        assert reasoned.query(COUNT, graphs=[SHUTDOWNS]) == kg.query(COUNT, graphs=[SHUTDOWNS])


def test_http_stored_query_on_one_section(client, engines):
    """/queries/NAME takes default-graph-uri / named-graph-uri as /sparql does."""
    response = client.get("/queries/class-counts", params={"default-graph-uri": SHUTDOWNS},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    rows = {b["class"]["value"]: int(b["count"]["value"])
            for b in response.json()["results"]["bindings"]}
    expected = {r["class"]: r["count"]
                for r in engines["oxigraph"].query("class-counts", graphs=[SHUTDOWNS])}
    assert rows == expected and rows["https://w3id.org/kzgraph/ontology#InternetShutdown"] == 9
    response = client.get("/queries/class-counts", params={"named-graph-uri": "http://x.org/g"})
    assert response.status_code == 400 and "unknown graph" in response.text
