"""Quality checks (queries/checks/*.rq): silent on the real graph, loud on a broken one."""
from __future__ import annotations

import pytest
import rdflib

from kzgraph import catalog, sparql
from kzgraph.engine import MemoryEngine

PREFIXES = """
@prefix kz: <https://w3id.org/kzgraph/id/> .
@prefix kzo: <https://w3id.org/kzgraph/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

#: check name → (Turtle added to the real graph, IRI local name that must be reported)
BROKEN = {
    "entity-without-label": ("""
        kz:nameless a kzo:Company ; prov:wasDerivedFrom kz:src-internet-isps .""", "nameless"),
    "fact-without-source": ("""
        kz:sourceless a kzo:Company ; rdfs:label "Sourceless"@en .""", "sourceless"),
    "dangling-reference": ("""
        kz:referrer a kzo:Company ; rdfs:label "Referrer"@en ;
            kzo:country kz:atlantis ; prov:wasDerivedFrom kz:src-internet-isps .""", "atlantis"),
    "end-before-start": ("""
        kz:event-backwards a kzo:InternetShutdown ; rdfs:label "Backwards"@en ;
            kzo:start "2022-01-07T05:50:00Z"^^xsd:dateTime ; kzo:end "2022-01-06"^^xsd:date ;
            kzo:scope kzo:NationalScope ; prov:wasDerivedFrom kz:src-internet-shutdowns .""",
        "event-backwards"),
    "stake-shares-over-100": ("""
        kz:stake-a a kzo:OwnershipStake ; rdfs:label "A"@en ; kzo:owner kz:kazakhtelecom ;
            kzo:ownedEntity kz:nursat ; kzo:share 60.0 ; kzo:stakeKind kzo:EquityStake ;
            kzo:asOf "2010"^^xsd:gYear ; prov:wasDerivedFrom kz:src-internet-isps .
        kz:stake-b a kzo:OwnershipStake ; rdfs:label "B"@en ; kzo:owner kz:kcell ;
            kzo:ownedEntity kz:nursat ; kzo:share 45.0 ; kzo:stakeKind kzo:EquityStake ;
            kzo:asOf "2010"^^xsd:gYear ; prov:wasDerivedFrom kz:src-internet-isps .""", "nursat"),
    "dated-node-without-time": ("""
        kz:event-timeless a kzo:MarketEvent ; rdfs:label "Timeless"@en ;
            prov:wasDerivedFrom kz:src-internet-isps .""", "event-timeless"),
    "unacknowledged-conflict": ("""
        kz:obs-dup a kzo:Observation ; rdfs:label "Duplicate"@en ;
            kzo:measure kz:measure-internet-users ; kzo:series kz:series-internet-users ;
            kzo:refArea kz:kazakhstan ; kzo:value 123.0 ; kzo:unit kzo:Persons ;
            kzo:observationStatus kzo:Reported ; kzo:asOf "2009"^^xsd:gYear ;
            prov:wasDerivedFrom kz:src-internet-lead .""", "obs-dup"),
    "sub-event-outside-parent": ("""
        kz:event-early-part a kzo:InternetShutdown ; rdfs:label "Too early"@en ;
            kzo:start "2021-12-30"^^xsd:date ; kzo:partOf kz:event-shutdown-2022-01 ;
            prov:wasDerivedFrom kz:src-internet-shutdowns .""", "event-early-part"),
    "stake-share-and-bounds": ("""
        kz:stake-both a kzo:OwnershipStake ; rdfs:label "Both"@en ; kzo:owner kz:kazakhtelecom ;
            kzo:ownedEntity kz:nursat ; kzo:share 30.0 ; kzo:shareMin 10.0 ; kzo:shareMax 40.0 ;
            kzo:stakeKind kzo:EquityStake ; kzo:asOf "2010"^^xsd:gYear ;
            prov:wasDerivedFrom kz:src-internet-isps .""", "stake-both"),
    "observation-in-wrong-series": ("""
        kz:obs-misfiled a kzo:Observation ; rdfs:label "Misfiled"@en ;
            kzo:measure kz:measure-internet-users ; kzo:series kz:series-internet-penetration ;
            kzo:refArea kz:kazakhstan ; kzo:value 5.0 ; kzo:unit kzo:Persons ;
            kzo:observationStatus kzo:Reported ; kzo:asOf "2030"^^xsd:gYear ;
            prov:wasDerivedFrom kz:src-internet-lead .""", "obs-misfiled"),
    "label-with-iri": ("""
        kz:iri-labelled a kzo:Company ; rdfs:label "https://w3id.org/kzgraph/id/iri-labelled"@en ;
            prov:wasDerivedFrom kz:src-internet-isps .""", "iri-labelled"),
    "cites-whole-document": ("""
        kz:doc-citer a kzo:Company ; rdfs:label "Document citer"@en ;
            prov:wasDerivedFrom kz:src-internet .""", "doc-citer"),
    "conflict-not-symmetric": ("""
        kz:obs-one-way kzo:conflictsWith kz:obs-internet-users-2002 .""", "obs-one-way"),
    "datetime-not-utc": ("""
        kz:event-local-time a kzo:InternetShutdown ; rdfs:label "Local time"@en ;
            kzo:start "2022-01-05T16:30:00+06:00"^^xsd:dateTime ; kzo:scope kzo:NationalScope ;
            prov:wasDerivedFrom kz:src-internet-shutdowns .""", "event-local-time"),
    "number-not-canonical": ("""
        kz:stake-padded a kzo:OwnershipStake ; kzo:share 51.00 .""", "stake-padded"),
    # the source says the licence duties run to 2027 (a deadline); stored as an end that happened
    "planned-date-as-actual": ("""
        kz:licence-deadline-as-end a kzo:Licence ; rdfs:label "Deadline as end"@en ;
            kzo:heldBy kz:kcell ; kzo:end "2027"^^xsd:gYear ;
            prov:wasDerivedFrom kz:src-telecom-lead .""", "licence-deadline-as-end"),
}


def _run(graph, name):
    query = catalog.checks()[name]
    result = sparql.run(MemoryEngine(graph), query.text)
    return [{k: str(v) for k, v in zip(result.variables, row)} for row in result.rows]


def test_every_check_has_a_broken_example():
    assert set(catalog.checks()) == set(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_check_is_silent_on_real_graph(merged_graph, name):
    assert _run(merged_graph, name) == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_check_catches_broken_graph(merged_graph, name):
    snippet, culprit = BROKEN[name]
    broken = rdflib.Graph()
    for t in merged_graph:
        broken.add(t)
    broken.parse(data=PREFIXES + snippet, format="turtle")
    rows = _run(broken, name)
    assert rows, f"check {name} did not catch the broken graph"
    assert any(v.endswith("/" + culprit) for row in rows for v in row.values())


def test_validate_reports_failing_check_rows(merged_graph):
    from kzgraph.validate import validate_graph

    snippet, _ = BROKEN["dated-node-without-time"]
    broken = rdflib.Graph()
    for t in merged_graph:
        broken.add(t)
    broken.parse(data=PREFIXES + snippet, format="turtle")
    report = validate_graph(broken, consistency=False)
    assert not report.conforms
    assert [f.check for f in report.check_failures] == ["dated-node-without-time"]
    assert "kz:event-timeless" in report.text()
