"""OWL RL with owlrl over ontology + graph: consistent, and the inferences we expect."""
from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, URIRef

from kzgraph.reason import closure, consistency_problems

KZ = "https://w3id.org/kzgraph/id/"
KZO = "https://w3id.org/kzgraph/ontology#"


@pytest.fixture(scope="module")
def inferred(merged_graph):
    inferred, errors = closure(merged_graph)
    return inferred, errors


def test_graph_is_consistent(merged_graph, inferred):
    extra, errors = inferred
    assert errors == []
    assert consistency_problems(merged_graph, extra, errors) == []


@pytest.mark.parametrize("entity, expected_type", [
    ("kazakhtelecom", "http://www.w3.org/ns/org#Organization"),
    ("kazakhtelecom", KZO + "Company"),
    ("kazakhtelecom", "http://www.w3.org/ns/prov#Agent"),
    ("kcell", KZO + "TelecomOperator"),
    ("security-council", KZO + "StateBody"),
    ("security-council", "https://schema.org/GovernmentOrganization"),
    ("department-k", "http://www.w3.org/ns/org#OrganizationalUnit"),
    ("astana", "https://schema.org/Place"),
    ("event-shutdown-2022-01", "https://schema.org/Event"),
    ("event-shutdown-2022-01", KZO + "NetworkDisruption"),
    ("tech-5g", "http://www.w3.org/2004/02/skos/core#Concept"),
])
def test_expected_inferred_types(merged_graph, inferred, entity, expected_type):
    full = merged_graph + inferred[0]
    assert (URIRef(KZ + entity), RDF.type, URIRef(expected_type)) in full


def test_inverse_and_subproperty_inferences(merged_graph, inferred):
    extra = inferred[0]
    parent = URIRef(KZ + "event-shutdown-2022-01")
    # every day of January 2022 that says kzo:partOf the shutdown is a schema:subEvent of it
    days = set(merged_graph.subjects(URIRef(KZO + "partOf"), parent))
    assert len(days) >= 4
    full = merged_graph + extra
    assert days <= set(full.objects(parent, URIRef("https://schema.org/subEvent")))
    assert (parent, URIRef("https://schema.org/startDate"), None) in full


def test_inferred_noise_is_filtered(inferred):
    extra = inferred[0]
    assert not any(isinstance(s, rdflib.Literal) for s in extra.subjects())
    assert not any(s == o for s, _, o in extra)


def test_disjointness_violation_is_detected(merged_graph):
    broken = rdflib.Graph()
    for t in merged_graph:
        broken.add(t)
    broken.add((URIRef(KZ + "kazakhtelecom"), RDF.type, URIRef(KZO + "Person")))
    problems = consistency_problems(broken)
    assert any("kazakhtelecom" in p and "disjoint" in p for p in problems)
    broken2 = rdflib.Graph()
    for t in merged_graph:
        broken2.add(t)
    broken2.add((URIRef(KZ + "almaty"), RDF.type, URIRef(KZO + "Event")))
    assert any("almaty" in p for p in consistency_problems(broken2))
