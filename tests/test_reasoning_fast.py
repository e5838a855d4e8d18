"""kzgraph.rl_rules (owlrl's rules in plain Python) against owlrl itself: the same closure and
the same consistency verdict, on the real graph and on broken graphs of every kind the check
reports; graphs with constructs it does not implement go to owlrl."""
from __future__ import annotations

import pytest
import rdflib

from kzgraph import reason, rl_rules

PREFIXES = """
@prefix kz: <https://w3id.org/kzgraph/id/> .
@prefix kzo: <https://w3id.org/kzgraph/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
"""


def _both(graph):
    """(rules, owlrl): each a (useful closure, errors, problems) triple."""
    out = []
    for reasoner in ("rules", "owlrl"):
        inferred, errors = reason.closure(graph, reasoner=reasoner)
        assert reason.last_reasoner == reasoner
        problems = reason.consistency_problems(graph, inferred, errors)
        out.append((set(inferred), errors, problems))
    return out


@pytest.fixture(scope="module")
def ontology():
    from kzgraph import paths
    from kzgraph.loader import parse_turtle

    return parse_turtle(paths.ontology_file())


def _with(base, turtle: str):
    graph = rdflib.Graph()
    for t in base:
        graph.add(t)
    graph.parse(data=PREFIXES + turtle, format="turtle")
    return graph


def test_real_graph_same_closure_as_owlrl(merged_graph):
    assert rl_rules.supported(merged_graph)
    base = set(merged_graph)
    fast, fast_errors = rl_rules.expand(base)
    slow, slow_errors = reason._owlrl(base)
    owl_same = rdflib.OWL.sameAs
    slow = {t for t in slow if not str(t[1]).startswith(reason.ERR)
            and not (t[1] == owl_same and t[0] == t[2])}  # owlrl's eq-ref, left implicit here
    assert fast == slow  # every triple of the closure, not only the useful ones
    assert fast_errors == slow_errors == []
    assert len(reason.useful(base, fast)) > 2000
    assert reason.consistency_problems(merged_graph) == []
    assert reason.last_reasoner == "rules"


def test_real_graph_clashes_same_as_owlrl(merged_graph):
    kz, kzo = "https://w3id.org/kzgraph/id/", "https://w3id.org/kzgraph/ontology#"
    broken = rdflib.Graph()
    for t in merged_graph:
        broken.add(t)
    a = rdflib.RDF.type
    broken.add((rdflib.URIRef(kz + "kazakhtelecom"), a, rdflib.URIRef(kzo + "Person")))
    broken.add((rdflib.URIRef(kz + "almaty"), rdflib.RDF.type, rdflib.URIRef(kzo + "Event")))
    fast = reason.consistency_problems(broken, reasoner="rules")
    assert reason.last_reasoner == "rules"
    slow = reason.consistency_problems(broken, reasoner="owlrl")
    assert fast == slow
    assert any("kazakhtelecom" in p and "Organisation" in p for p in fast)
    assert any("almaty" in p and "Event" in p for p in fast)


BROKEN = {
    # a company typed as a person: Person owl:disjointWith Organisation (cax-dw)
    "disjoint-pair": "kz:x a kzo:Company , kzo:Person .",
    # in the ontology's owl:AllDisjointClasses (cax-adc), reached through domain and range
    "all-disjoint": "kz:s kzo:owner kz:x . kz:x a kzo:Place .",
    # typed through an inverse property (prp-inv) and a sub-property (prp-spo1) + domain
    "inverse": "kz:org kzo:hasBrand kz:b . kz:b a kzo:Event .",
    "sub-property": """ex:p rdfs:subPropertyOf kzo:owner . kz:s ex:p kz:x . kz:x a kzo:Source .""",
    "equivalent-class": "ex:C owl:equivalentClass kzo:Person . kz:x a ex:C , kzo:Company .",
    "nothing": "kz:x a owl:Nothing .",
    # two values of a functional property become owl:sameAs, their types meet (prp-fp, eq-rep)
    "functional": """ex:head a owl:ObjectProperty , owl:FunctionalProperty .
        kz:a ex:head kz:p1 , kz:o1 . kz:p1 a kzo:Person . kz:o1 a kzo:Company .""",
    "inverse-functional": """ex:code a owl:DatatypeProperty , owl:InverseFunctionalProperty .
        kz:p1 ex:code "7" . kz:o1 ex:code "7" . kz:p1 a kzo:Person . kz:o1 a kzo:Company .""",
    "transitive-symmetric": """ex:near a owl:TransitiveProperty , owl:SymmetricProperty ;
        rdfs:domain kzo:Place . kz:a ex:near kz:b . kz:b ex:near kz:c . kz:c a kzo:Agent .""",
    "irreflexive": "ex:q a owl:IrreflexiveProperty . kz:a ex:q kz:a .",
    "asymmetric": "ex:q a owl:AsymmetricProperty . kz:a ex:q kz:b . kz:b ex:q kz:a .",
    "disjoint-properties": "ex:q owl:propertyDisjointWith ex:r . kz:a ex:q kz:b ; ex:r kz:b .",
    # a literal that is not of its datatype (dt-not-type), and a string where the range says
    # decimal (typed both; owlrl declares the datatypes in use disjoint)
    "bad-lexical": 'kz:s kzo:numberLength "seven"^^xsd:integer .',
    "datatype-range": 'kz:s kzo:share "half"^^xsd:string . kz:t kzo:share "0.5"^^xsd:decimal .',
    "equivalent-property": """ex:owns owl:equivalentProperty kzo:owner .
        kz:s ex:owns kz:x . kz:x a kzo:Event .""",
    "subclass-chain": """ex:A rdfs:subClassOf ex:B . ex:B rdfs:subClassOf kzo:Person .
        kz:x a ex:A , kzo:Organisation .""",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_graph_same_verdict_as_owlrl(ontology, name):
    graph = _with(ontology, BROKEN[name])
    assert rl_rules.supported(graph)
    (fast_inf, fast_err, fast_problems), (slow_inf, slow_err, slow_problems) = _both(graph)
    assert fast_problems, f"{name}: no inconsistency found"
    assert fast_problems == slow_problems
    assert fast_err == slow_err
    assert fast_inf == slow_inf


def test_consistent_additions_same_closure(ontology):
    graph = _with(ontology, """ex:C owl:equivalentClass kzo:Company . kz:x a ex:C .
        ex:p rdfs:subPropertyOf kzo:owner ; rdfs:domain ex:D . kz:s ex:p kz:x .
        ex:head a owl:FunctionalProperty . kz:a ex:head kz:b , kz:c .""")
    (fast_inf, fast_err, fast_problems), (slow_inf, _, slow_problems) = _both(graph)
    assert fast_problems == slow_problems == [] and fast_err == []
    assert fast_inf == slow_inf
    kz, kzo = "https://w3id.org/kzgraph/id/", "https://w3id.org/kzgraph/ontology#"
    organisation = rdflib.URIRef(kzo + "Organisation")
    assert (rdflib.URIRef(kz + "x"), rdflib.RDF.type, organisation) in fast_inf


@pytest.mark.parametrize("turtle, clash", [
    ("ex:R a owl:Restriction ; owl:onProperty kzo:owner ; owl:someValuesFrom kzo:Person .", False),
    ("kz:a owl:sameAs kz:b . kz:a a kzo:Person . kz:b a kzo:Company .", True),
    ("kz:a owl:differentFrom kz:a .", True),
    ("ex:U owl:unionOf ( kzo:Person kzo:Company ) .", False),
])
def test_other_constructs_go_to_owlrl(ontology, turtle, clash):
    graph = _with(ontology, turtle)
    assert not rl_rules.supported(graph)
    problems = reason.consistency_problems(graph)  # the default reasoner is "rules"
    assert reason.last_reasoner == "owlrl"
    assert bool(problems) == clash


def test_validate_reports_the_clash(tmp_path, monkeypatch):
    """The whole validation (incremental path, as `kzgraph validate` runs it) reports what
    owlrl reports."""
    from kzgraph import build
    from kzgraph.incremental import validate_files

    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path / "cache"))
    extra = tmp_path / "mine.ttl"
    extra.write_text(PREFIXES + "kz:kazakhtelecom a kzo:Person .\n", encoding="utf-8")
    outcome = validate_files(build.input_files([extra]), checks=False)
    assert reason.last_reasoner == "rules"
    assert outcome.report.inconsistencies
    assert outcome.report.inconsistencies == reason.consistency_problems(
        outcome.graph, reasoner="owlrl")
