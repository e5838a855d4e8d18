"""A second, independent SHACL engine: Apache Jena SHACL (tests/jena.py) agrees with kzgraph's
validator on the real graph and on every broken example (same focus nodes, paths and constraint
components); and stock Jena reads every export format (riot --validate, triple counts) and
validates the Turtle export with ontology/shapes.ttl.

Jena comes from Debian (libapache-jena-java, installed by .ci/run, which also sets
KZGRAPH_REQUIRE_JENA=1: there a missing Jena fails these tests instead of skipping them).
"""
from __future__ import annotations

import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import rdflib

from kzgraph import build, paths
from kzgraph.export import to_ntriples
from kzgraph.validate import fast_violations

from . import jena
from . import test_shapes as T

ROOT = Path(__file__).resolve().parents[1]

if not jena.available():
    if jena.REQUIRED:
        pytest.fail("KZGRAPH_REQUIRE_JENA is set but Jena is missing: apt-get install "
                    "libapache-jena-java default-jdk-headless", pytrace=False)
    pytest.skip("Apache Jena is not installed (apt-get install libapache-jena-java "
                "default-jdk-headless; .ci/run does it)", allow_module_level=True)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jena")


def test_helper_reads_jena_terms():
    assert jena.short("<https://w3id.org/kzgraph/id/kcell>") == "kz:kcell"
    assert jena.short("<http://www.w3.org/ns/shacl#ClassConstraintComponent>") == \
        "sh:ClassConstraintComponent"
    assert jena.short("_:b0") == jena.short("(<urn:a>|<urn:b>)") == "[blank node]"


def test_jena_real_graph_conforms(tmp):
    graph, origin = build.read(build.input_files())
    data = tmp / "real.nt"
    data.write_bytes(to_ntriples(graph))
    conforms, results = jena.validate(data, paths.shapes_file())
    assert (conforms, results) == (True, set())
    assert fast_violations(graph, T.shapes(), origin) == []


@lru_cache(maxsize=None)
def _isolated(folder: str) -> dict:
    """{example: (kzgraph's {(focus, path, component)}, Jena's (conforms, results))}."""
    folder = Path(folder)
    files, ours = {}, {}
    for _, name, _, _ in T.CASES:
        graph = T.replace_nodes(T.good_graph(), T.broken_graph(name))
        files[name] = folder / f"{name}.nt"
        files[name].write_bytes(to_ntriples(graph))
        ours[name] = {(v.focus, v.path, v.component) for v in fast_violations(graph, T.shapes())}
    theirs = jena.validate_many(files.values(), paths.shapes_file())
    return {name: (ours[name], theirs[str(files[name])]) for name in files}


def test_jena_agrees_on_every_broken_example(tmp):
    found = _isolated(str(tmp))
    assert len(found) == len(T.CASES)
    for shape, name, focus, _ in T.CASES:
        ours, (conforms, theirs) = found[name]
        assert not conforms, name
        assert ours == theirs, (name, ours ^ theirs)
        assert focus in {f for f, _, _ in theirs}, name  # Jena rejects the expected node


def test_jena_conforms_on_the_good_example(tmp):
    data = tmp / "good.nt"
    data.write_bytes(to_ntriples(T.good_graph()))
    assert jena.validate(data, paths.shapes_file()) == (True, set())


# Jena syntax names; JSON-LD through Jena's 1.0 reader (see tests/jena.py)
FORMATS = {"ttl": "Turtle", "nt": "N-Triples", "nq": "N-Quads", "trig": "TriG",
           "jsonld": "jsonld10", "xml": "RDF/XML"}
RDFLIB = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld",
          "xml": "xml"}


@lru_cache(maxsize=None)
def _export(fmt: str, folder: str) -> Path:
    target = Path(folder) / f"kzgraph.{fmt}"
    subprocess.run([sys.executable, "-m", "kzgraph.cli", "export", "--format", fmt, "-o",
                    str(target)], cwd=ROOT, check=True, capture_output=True, timeout=600)
    return target


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_stock_jena_reads_every_export(fmt, tmp):
    """riot --validate accepts the export and counts as many triples (quads) as kzgraph wrote."""
    path = _export(fmt, str(tmp))
    graph, _ = build.read(build.input_files())
    count = jena.riot_count(path, syntax=FORMATS[fmt])
    if fmt in ("nq", "trig", "jsonld"):  # one named graph per source section
        dataset = rdflib.Dataset()
        dataset.parse(path, format=RDFLIB[fmt])
        quads = {(s, p, o, c) for s, p, o, c in dataset.quads()}
        assert count == len(quads)
        assert len({(s, p, o) for s, p, o, _ in quads}) == len(graph)
    else:
        assert count == len(graph)


def test_stock_jena_shacl_validates_the_turtle_export(tmp):
    conforms, results = jena.validate(_export("ttl", str(tmp)), paths.shapes_file())
    assert (conforms, results) == (True, set())


def test_stock_jena_shacl_command(tmp):
    """Jena's own command line (`shacl validate --shapes … --data …`, class shacl.shacl), with
    its defaults, on the Turtle export: conforms; a copy with one time moved to +06:00 does not,
    and the report names that node and the UTC shape's message."""
    ttl = _export("ttl", str(tmp))
    done = jena._java("shacl.shacl", "validate", "--shapes", str(paths.shapes_file()),
                      "--data", str(ttl))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sh:conforms  true" in done.stdout and "sh:result" not in done.stdout
    text = ttl.read_text(encoding="utf-8")
    assert text.count('"2022-01-05T10:30:00Z"^^xsd:dateTime') == 1
    broken = tmp / "broken.ttl"
    broken.write_text(text.replace('"2022-01-05T10:30:00Z"^^xsd:dateTime',
                                   '"2022-01-05T10:30:00+06:00"^^xsd:dateTime'), encoding="utf-8")
    done = jena._java("shacl.shacl", "validate", "--shapes", str(paths.shapes_file()),
                      "--data", str(broken))
    assert "sh:conforms  false" in done.stdout
    assert done.stdout.count("sh:focusNode") == 1
    assert "event-shutdown-2022-01-05-cloudflare" in done.stdout and "UTC" in done.stdout
