"""The query runner: vetting (refusals, positions), safe parameter binding, formats."""
from __future__ import annotations

import json

import pytest

from kzgraph import sparql
from kzgraph.sparql import QueryRefused, QuerySyntaxError

from .conftest import run_cli


def test_syntax_error_has_line_and_column():
    with pytest.raises(QuerySyntaxError) as info:
        sparql.prepare("SELECT ?x\nWHERE {\n  ?x ?y }")
    assert info.value.line == 3
    assert info.value.column >= 3
    assert "line 3" in str(info.value)


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?x ?y ?z OPTIONAL { SERVICE ?endpoint { ?s ?p ?o } } }",
])
def test_service_refused(text):
    with pytest.raises(QueryRefused, match="SERVICE"):
        sparql.prepare(text)


@pytest.mark.parametrize("text", [
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DROP ALL",
    "LOAD <http://example.org/data.ttl>",
    "CLEAR DEFAULT",
    "DELETE WHERE { ?s ?p ?o }",
])
def test_update_refused(text):
    with pytest.raises(QueryRefused, match="read-only"):
        sparql.prepare(text)


@pytest.mark.parametrize("text", [
    "SELECT * FROM <http://example.org/remote.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
])
def test_dataset_clause_of_an_unknown_graph_refused(text, kg):
    """FROM / FROM NAMED may name only the graph's own named graphs: anything else is an
    UnknownGraph naming the IRI and listing the known graphs."""
    from kzgraph.dataset import UnknownGraph

    prepared = sparql.prepare(text)  # well-formed: the vetting keeps the dataset clause
    assert prepared.dataset is not None and not prepared.dataset.is_service
    with pytest.raises(UnknownGraph) as caught:
        sparql.run(kg.engine, text)
    message = str(caught.value)
    iri = (prepared.dataset.default or prepared.dataset.named)[0]
    assert f"<{iri}>" in message
    assert "https://w3id.org/kzgraph/graph/src-internet-shutdowns" in message


def test_unknown_prefix_is_a_clear_error():
    with pytest.raises(QuerySyntaxError, match="unknown prefix 'nope:'"):
        sparql.prepare("SELECT * WHERE { ?s nope:p ?o }")


def test_injection_value_is_just_a_string(kg):
    hostile = '"} ; DROP ALL #'
    rows = kg.query("SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?name }",
                    name=hostile)
    assert rows == []
    assert len(kg) > 3000  # nothing was dropped


def test_ask_and_construct(kg):
    assert kg.query("ASK { ?s a <https://w3id.org/kzgraph/ontology#OwnershipStake> }") is True
    g = kg.query("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 3")
    assert len(g) == 3


def test_cli_sparql_formats():
    q = "SELECT ?s WHERE { ?s a <https://w3id.org/kzgraph/ontology#OwnershipStake> } ORDER BY ?s"
    as_json = run_cli("query", "--sparql", q, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    bindings = json.loads(as_json.stdout)["results"]["bindings"]
    assert len(bindings) >= 4 and bindings[0]["s"]["type"] == "uri"
    as_csv = run_cli("query", "--sparql", q, "--format", "csv")
    assert as_csv.stdout.splitlines()[0] == "s"
    as_tsv = run_cli("query", "--sparql", q, "--format", "tsv")
    assert as_tsv.stdout.splitlines()[0] == "?s" and as_tsv.stdout.splitlines()[1].startswith("<")
    as_xml = run_cli("query", "--sparql", q, "--format", "xml")
    assert "<sparql xmlns" in as_xml.stdout and "<uri>" in as_xml.stdout


def test_cli_bad_query_exit_2():
    proc = run_cli("query", "--sparql", "SELECT ?x WHERE {\n ?x ?y")
    assert proc.returncode == 2
    assert "line 2" in proc.stderr and "Traceback" not in proc.stderr
    refused = run_cli("query", "--sparql", "DROP ALL")
    assert refused.returncode == 2 and "read-only" in refused.stderr


@pytest.mark.parametrize("fmt, parse_as", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_cli_construct_formats(fmt, parse_as):
    import rdflib

    q = ("CONSTRUCT { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE { "
         "?s a <https://w3id.org/kzgraph/ontology#OwnershipStake> ; "
         "<http://www.w3.org/2000/01/rdf-schema#label> ?l }")
    proc = run_cli("query", "--sparql", q, "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    graph = rdflib.Graph().parse(data=proc.stdout, format=parse_as)
    assert len(graph) == 5
    wrong = run_cli("query", "--sparql", q, "--format", "csv")
    assert wrong.returncode == 2 and "does not fit a CONSTRUCT" in wrong.stderr


# -- reading Oxigraph answers ------------------------------------------------------------------

TRICKY_TEXTS = ["", " ", "plain", "Ünïcødé ✓", "tab\there", "line\nbreak", 'quote " and \\',
                "01", "1e3", "true", "2024-01-01", "\U0001F600"]


def _slots(term):
    return (type(term), str(term), term.language, term.datatype, term.value, term.ill_typed)


def test_oxigraph_terms_read_exactly_as_rdflib_builds_them():
    """engine._FromOxigraph builds plain and language-tagged literals and IRIs without rdflib's
    constructors (speed); each must equal the constructor's term in every slot."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    from kzgraph.engine import _FromOxigraph

    convert = _FromOxigraph()
    for text in TRICKY_TEXTS:
        for language in (None, "en", "kk", "ru-Cyrl-KZ", "EN-gb"):
            # twice: the first use of a tag takes the constructor, later ones the fast path
            for _ in range(2):
                term = (ox.Literal(text, language=language) if language
                        else ox.Literal(text))
                built = convert(term)
                expected = Literal(text, lang=language.lower() if language else None)
                assert _slots(built) == _slots(expected), (text, language)
                assert built == expected and hash(built) == hash(expected)
                assert built.n3() == expected.n3()
                del convert.memo[term]  # build it again, now by the fast path
        typed = convert(ox.Literal(text, datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#string")))
        assert _slots(typed) == _slots(Literal(text))
    iri = convert(ox.NamedNode("https://w3id.org/kzgraph/id/kcell?x=1#é"))
    assert type(iri) is URIRef and iri == URIRef("https://w3id.org/kzgraph/id/kcell?x=1#é")
    assert iri.n3() == "<https://w3id.org/kzgraph/id/kcell?x=1#é>"
    assert isinstance(convert(ox.BlankNode("b1")), BNode)
    number = convert(ox.Literal("042", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer")))
    assert _slots(number) == _slots(Literal("042", datatype=URIRef(
        "http://www.w3.org/2001/XMLSchema#integer")))
    assert convert(None) is None


@pytest.mark.parametrize("text, line, column", [
    ("SELECT * WHERE { ?s ?p ?o } GROUP BY ?s", 1, 40),
    ("SELECT ?x WHERE {\n  BIND(1 AS ?x) BIND(2 AS ?x) }", 2, 32),
])
def test_query_rdflib_accepts_but_oxigraph_refuses(text, line, column, oxigraph):
    """rdflib parses these, Oxigraph does not: a QuerySyntaxError with Oxigraph's position
    from the engine itself (CLI exit 2, HTTP 400), not a SyntaxError traceback."""
    sparql.prepare(text)  # rdflib's vetting lets it through
    with pytest.raises(QuerySyntaxError) as info:
        sparql.run(oxigraph, text)
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f"SPARQL syntax error at line {line}, column {column}: "
                                      "Oxigraph refuses the query: expected")


def test_cli_reports_an_oxigraph_refusal_without_traceback():
    done = run_cli("--engine", "oxigraph", "query", "--sparql",
                   "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s")
    assert done.returncode == 2
    assert "SPARQL syntax error at line 1, column 40" in done.stderr
    assert "Traceback" not in done.stderr
