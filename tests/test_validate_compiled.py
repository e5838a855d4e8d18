"""The compiled validator (kzgraph/shacl_sparql.py, shapes → SPARQL on Oxigraph) gives exactly
pySHACL's report: the same focus node, path, value, source shape, constraint component, message
and severity, on the real graph, on every batch of broken examples of tests/test_shapes.py, on
randomly mutated copies of tests/data/shapes/good.ttl, and when a shape must fall back to pySHACL.
"""
from __future__ import annotations

import random
import re

import pytest
import rdflib
from rdflib import RDF, XSD, Literal, URIRef

from kzgraph import build, paths, shacl_sparql
from kzgraph.loader import keep_lexical_forms, parse_turtle
from kzgraph.validate import fast_violations, shacl_violations, validate_graph

from . import test_shapes as T

SH = "http://www.w3.org/ns/shacl#"


def test_compiler_covers_every_constraint_of_the_shapes():
    text = paths.shapes_file().read_text(encoding="utf-8")
    used = set(re.findall(r"\bsh:([a-z][A-Za-z]*)", text))
    compiled = shacl_sparql.compile_shapes(T.shapes())
    assert compiled.refused == {}
    plain = {"message", "path", "property", "targetClass", "targetSubjectsOf", "prefixes",
             "prefix", "namespace", "declare", "select", "alternativePath", "inversePath",
             "zeroOrMorePath"}
    parameters = {p.removeprefix(SH) for p in shacl_sparql.SUPPORTED}
    assert used - plain <= parameters, used - plain - parameters
    # one query per constraint at least; every component used by the shapes has a query
    # every parameter of a named shape (not only inside sh:or / sh:not) has its own queries
    components = {q.component for q in compiled.queries}
    g = T.shapes()
    named = {s for s in g.subjects(RDF.type, None) if isinstance(s, URIRef)}
    top = {str(p).removeprefix(SH) for s in named for p in g.predicates(s, None)}
    for name in top & set(shacl_sparql.COMPONENT):
        assert f"sh:{shacl_sparql.COMPONENT[name]}ConstraintComponent" in components, name
    assert len(top & set(shacl_sparql.COMPONENT)) >= 15


def test_sparql_is_generated_in_one_module():
    # the queries come from the shapes graph: every query names its shape's path or target
    compiled = shacl_sparql.compile_shapes(T.shapes())
    assert len(compiled.queries) > 250
    assert all(q.text.lstrip().startswith(("SELECT", "PREFIX")) for q in compiled.queries)


def test_real_graph_same_as_pyshacl():
    graph, origin = build.read(build.input_files())
    shapes = parse_turtle(paths.shapes_file())
    fast = fast_violations(graph, shapes, origin)
    assert fast == shacl_violations(graph, shapes, None, origin) == []


def test_broken_batches_same_as_pyshacl():
    batches = T.batches()  # pySHACL's reports, shared with tests/test_shapes.py
    assert sum(len(names) for names, _, _ in batches) == len(T.CASES)
    for names, graph, expected in batches:
        assert expected, names  # each batch breaks something
        assert fast_violations(graph, T.shapes()) == list(expected), names


def _mutate(graph: rdflib.Graph, rng: random.Random, count: int) -> rdflib.Graph:
    """``graph`` with ``count`` random edits of the kinds that break shapes."""
    out = rdflib.Graph()
    out += graph
    data = sorted(t for t in graph if str(t[0]).startswith("https://w3id.org/kzgraph/id/"))
    nodes = sorted({s for s, _, _ in data})
    literals = [
        Literal("12"), Literal("12", datatype=XSD.integer), Literal("12.0", datatype=XSD.decimal),
        Literal("-3.0", datatype=XSD.decimal), Literal("150.0", datatype=XSD.decimal),
        Literal("name", lang="en"), Literal("name", lang="kk"), Literal("name"),
        Literal("2021-02-30", datatype=XSD.date), Literal("2021-03-01", datatype=XSD.date),
        Literal("2021", datatype=XSD.gYear), Literal("2022-01-05T10:30:00+00:00", datatype=XSD.dateTime),
        Literal("2022-01-05T10:30:00Z", datatype=XSD.dateTime), Literal("yes", datatype=XSD.boolean),
        Literal("true", datatype=XSD.boolean), Literal("P3Y", datatype=XSD.duration),
    ]
    for _ in range(count):
        kind = rng.randrange(5)
        s, p, o = rng.choice(data)
        if kind == 0:
            out.remove((s, p, o))
        elif kind == 1:
            out.remove((s, p, o))
            out.add((s, p, rng.choice(nodes)))
        elif kind == 2:
            out.remove((s, p, o))
            out.add((s, p, rng.choice(literals)))
        elif kind == 3:
            out.add((s, p, rng.choice(nodes + literals)))
        else:
            out.add((rng.choice(nodes), RDF.type, rng.choice(sorted(
                {o for _, _, o in data if isinstance(o, URIRef) and "/ontology#" in o}))))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_mutations_same_as_pyshacl(seed):
    keep_lexical_forms()
    graph = _mutate(T.good_graph(), random.Random(seed), 10)
    expected = shacl_violations(graph, T.shapes())
    assert expected  # the mutations break something
    assert fast_violations(graph, T.shapes()) == expected


EXTRA = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix kzo: <https://w3id.org/kzgraph/ontology#> . @prefix x: <urn:test:> .
x:UniqueLabelShape a sh:NodeShape ; sh:targetClass kzo:Organisation ;
    sh:property [ sh:path rdfs:label ; sh:uniqueLang true ; sh:minLength 3 ;
                  sh:message "one label per language, three letters at least"@en ] .
"""


def test_refused_shape_falls_back_to_pyshacl():
    shapes = rdflib.Graph()
    shapes += T.shapes()
    shapes.parse(data=EXTRA, format="turtle")
    compiled = shacl_sparql.compile_shapes(shapes)
    assert list(compiled.refused) == [URIRef("urn:test:UniqueLabelShape")]
    assert "uniqueLang" in compiled.refused[URIRef("urn:test:UniqueLabelShape")]
    graph = rdflib.Graph()
    graph += T.good_graph()
    kcell = URIRef("https://w3id.org/kzgraph/id/kcell")
    graph.add((kcell, rdflib.RDFS.label, Literal("Kc", lang="en")))  # two @en labels, one short
    expected = shacl_violations(graph, shapes)
    assert {v.shape for v in expected} >= {"[blank node]", "kzsh:Label-single"}
    assert fast_violations(graph, shapes) == expected


def test_validate_graph_engines_agree_on_a_broken_graph():
    graph = T.replace_nodes(T.good_graph(), T.broken_graph("OwnershipStakeShape-share-149.ttl"))
    fast = validate_graph(graph, shapes=T.shapes(), consistency=False)
    slow = validate_graph(graph, shapes=T.shapes(), consistency=False, shacl="pyshacl")
    assert fast.violations == slow.violations and fast.violations
    assert fast.violations[0].component == "sh:MaxInclusiveConstraintComponent"
    assert fast.violations[0].value == '"149.0"^^<http://www.w3.org/2001/XMLSchema#decimal>'


def test_lexical_forms_survive_oxigraph():
    # Oxigraph stores "…+00:00" as "…Z" and "149.0" as "149": sh:pattern and the reported values
    # must still see the form written in the file (kzgraph keeps lexical forms)
    keep_lexical_forms()
    graph = rdflib.Graph()
    graph += T.good_graph()
    event = URIRef("https://w3id.org/kzgraph/id/event-restoration-2022-01-07")
    start = rdflib.URIRef("https://w3id.org/kzgraph/ontology#start")
    graph.remove((event, start, None))
    graph.add((event, start, Literal("2022-01-07T05:50:00+00:00", datatype=XSD.dateTime)))
    # the same instant is written "…Z" elsewhere: Oxigraph holds both as one term, so the
    # shapes with sh:pattern go to pySHACL for this graph (and only then)
    assert shacl_sparql.ambiguous(shacl_sparql.load(graph))
    assert not shacl_sparql.ambiguous(shacl_sparql.load(T.good_graph()))
    # "+00:00" is a zero offset: UTC in another spelling, so it conforms on both validators
    assert fast_violations(graph, T.shapes()) == shacl_violations(graph, T.shapes()) == []
    # a non-zero offset is refused, and reported as written in the file
    graph.remove((event, start, None))
    graph.add((event, start, Literal("2022-01-07T05:50:00+05:00", datatype=XSD.dateTime)))
    fast = fast_violations(graph, T.shapes())
    assert [(v.shape, v.value) for v in fast] == [
        ("kzsh:Time-utc", '"2022-01-07T05:50:00+05:00"^^<http://www.w3.org/2001/XMLSchema#dateTime>')]
    assert fast == shacl_violations(graph, T.shapes())


def test_bench_child_validates_the_real_graph():
    import json
    import subprocess
    import sys

    root = paths.PACKAGE_DIR.parent
    done = subprocess.run([sys.executable, str(root / "bench" / "validate.py"), "--child",
                           "compiled", "real"], capture_output=True, text=True, cwd=root,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["violations"] == [] and out["triples"] > 5000 and out["seconds"] > 0


def test_sparql_constraints_reading_lexical_forms_fall_back():
    # kzsh:Time-end-before-start compares STR(start) and STR(end): Oxigraph would give "…Z" for
    # an end written "…+00:00", so when such a literal is there pySHACL validates that shape
    keep_lexical_forms()
    graph = rdflib.Graph()
    graph += T.good_graph()
    event = URIRef("https://w3id.org/kzgraph/id/event-restoration-2022-01-07")
    end = URIRef("https://w3id.org/kzgraph/ontology#end")
    graph.remove((event, end, None))
    # a minute before its start ("…02:50:00Z"), written "…+00:00": Oxigraph would hand the
    # SPARQL constraint "…Z", so pySHACL validates that shape for this graph
    graph.add((event, end, Literal("2022-01-07T02:49:00+00:00", datatype=XSD.dateTime)))
    compiled = shacl_sparql.compile_shapes(T.shapes())
    assert compiled.lexical_shapes == {URIRef("https://w3id.org/kzgraph/shapes#PeriodShape"): (
        "https://w3id.org/kzgraph/ontology#end", "https://w3id.org/kzgraph/ontology#start")}
    assert URIRef("https://w3id.org/kzgraph/shapes#PeriodShape") in compiled.fallback(
        shacl_sparql.load(graph))
    assert not compiled.fallback(shacl_sparql.load(T.good_graph()))
    expected = shacl_violations(graph, T.shapes())
    assert "kzsh:PeriodShape" in {v.shape for v in expected}
    assert fast_violations(graph, T.shapes()) == expected


def test_report_summarises_many_violations():
    graph = rdflib.Graph()
    graph += T.good_graph()
    graph.remove((None, rdflib.RDFS.label, None))
    report = validate_graph(graph, shapes=T.shapes(), checks=False, consistency=False)
    lines = report.text().splitlines()
    count = len(report.violations)
    assert count > 100
    assert lines[1] == "Violations per shape:"
    assert lines[2].split() == [f"{count:,}", "kzsh:Label-present"]
    assert lines[3] == f"First 10 of {count:,} (all of them: --format json):"
    assert len(lines) == 4 + 10 and all(x.startswith("Violation: kz:") for x in lines[4:])
