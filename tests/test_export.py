"""Exports: every format parses back (rdflib and pyoxigraph) to the source graph, named graphs
follow the section rule, bytes are identical across processes, writes are atomic, and the
VoID/DCAT description states what the graph holds."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import pytest
import rdflib
from rdflib.compare import isomorphic

from kzgraph import export, paths

from .conftest import ROOT, run_cli

RDFLIB = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld",
          "xml": "xml"}
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")
PROV = rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")


@pytest.fixture(scope="module")
def exported(kg):
    return {fmt: export.export(kg, fmt) for fmt in export.FORMATS}


def _union(data: bytes, fmt: str):
    ds = rdflib.Dataset()
    ds.parse(data=data, format=RDFLIB[fmt])
    union = rdflib.Graph()
    for s, p, o, _ in ds.quads():
        union.add((s, p, o))
    return ds, union


def _oxigraph_ntriples(data: bytes, fmt: str) -> bytes:
    import pyoxigraph

    formats = {"ttl": "TURTLE", "nt": "N_TRIPLES", "nq": "N_QUADS", "trig": "TRIG",
               "jsonld": "JSON_LD", "xml": "RDF_XML"}
    store = pyoxigraph.Store()
    store.bulk_load(data, format=getattr(pyoxigraph.RdfFormat, formats[fmt]))
    quads = store.dump(format=pyoxigraph.RdfFormat.N_QUADS)
    # the union of all graphs, as N-Triples
    ds = rdflib.Dataset()
    ds.parse(data=quads, format="nquads")
    union = rdflib.Graph()
    for s, p, o, _ in ds.quads():
        union.add((s, p, o))
    return union


@pytest.fixture(scope="module")
def source_in_oxigraph():
    """The source Turtle files as pyoxigraph reads them (pyoxigraph writes decimals in
    canonical form, "7000.0" → "7000", so compare pyoxigraph with pyoxigraph)."""
    import pyoxigraph

    store = pyoxigraph.Store()
    for path in [paths.ontology_file(), *paths.graph_files()]:
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE,
                        base_iri=path.resolve().as_uri())
    ds = rdflib.Dataset()
    ds.parse(data=store.dump(format=pyoxigraph.RdfFormat.N_QUADS), format="nquads")
    union = rdflib.Graph()
    for s, p, o, _ in ds.quads():
        union.add((s, p, o))
    return union


@pytest.mark.parametrize("fmt", list(RDFLIB))
def test_parses_back_in_rdflib(exported, kg, fmt):
    _, union = _union(exported[fmt], fmt)
    assert len(union) == len(kg.graph)
    assert isomorphic(union, kg.graph)


@pytest.mark.parametrize("fmt", list(RDFLIB))
def test_parses_back_in_pyoxigraph(exported, source_in_oxigraph, fmt):
    union = _oxigraph_ntriples(exported[fmt], fmt)
    assert len(union) == len(source_in_oxigraph)
    assert isomorphic(union, source_in_oxigraph)


def test_lexical_forms_kept(exported):
    text = exported["nt"].decode("utf-8")
    assert '"2022-01-07T02:50:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in text
    assert "+00:00" not in text


@pytest.mark.parametrize("fmt", ["nq", "trig", "jsonld"])
def test_named_graph_per_section(exported, kg, fmt):
    ds, _ = _union(exported[fmt], fmt)
    names = {str(g.identifier) for g in ds.graphs() if len(g)}
    sections = {str(o) for o in kg.graph.objects(None, PROV)}
    expected = {export.GRAPH_NS + s.rsplit("/", 1)[-1] for s in sections}
    assert expected <= names
    assert export.ONTOLOGY_GRAPH in names
    shutdowns = ds.graph(rdflib.URIRef(export.GRAPH_NS + "src-internet-shutdowns"))
    jan = rdflib.URIRef("https://w3id.org/kzgraph/id/event-shutdown-2022-01")
    assert (jan, rdflib.RDF.type, None) in shutdowns
    # every triple of a node sits in the graph of each section it cites
    for s in set(kg.graph.subjects(PROV, None)):
        for section in kg.graph.objects(s, PROV):
            graph = ds.graph(rdflib.URIRef(export.GRAPH_NS + str(section).rsplit("/", 1)[-1]))
            assert set(kg.graph.triples((s, None, None))) <= set(graph.triples((s, None, None)))
    # ontology terms live in the ontology graph, sources in the default graph
    onto = ds.graph(rdflib.URIRef(export.ONTOLOGY_GRAPH))
    kzo_event = rdflib.URIRef("https://w3id.org/kzgraph/ontology#Event")
    assert (kzo_event, rdflib.RDF.type, rdflib.OWL.Class) in onto
    src = rdflib.URIRef("https://w3id.org/kzgraph/id/src-internet")
    assert (src, None, None) in ds.default_graph


def _export_in_subprocess(fmt: str, seed: str, extra=()) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-m", "kzgraph.cli", "export", "--format", fmt, *extra],
                          cwd=ROOT, env=env, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.mark.parametrize("fmt", list(RDFLIB))
def test_byte_identical_across_processes(exported, fmt):
    first = _export_in_subprocess(fmt, "1")
    second = _export_in_subprocess(fmt, "4242")
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert first == exported[fmt]


def test_inferred_export(kg):
    plain = export.export(kg, "nq")
    with_closure = export.export(kg, "nq", inferred=True)
    assert len(with_closure) > len(plain)
    assert f"<{export.INFERRED_GRAPH}> .".encode() in with_closure
    ds = rdflib.Dataset()
    ds.parse(data=with_closure, format="nquads")
    inferred = ds.graph(rdflib.URIRef(export.INFERRED_GRAPH))
    kcell = rdflib.URIRef("https://w3id.org/kzgraph/id/kcell")
    org = rdflib.URIRef("http://www.w3.org/ns/org#Organization")
    assert (kcell, rdflib.RDF.type, org) in inferred
    again = _export_in_subprocess("ttl", "7", ["--inferred"])
    assert again == export.export(kg, "ttl", inferred=True)


def test_jsonld_uses_packaged_context(exported):
    data = json.loads(exported["jsonld"])
    assert data["@context"] == export.context()["@context"]
    shipped = ROOT / "kzgraph" / "context.jsonld"
    assert shipped.is_file()
    assert json.loads(shipped.read_text())["@context"]["kz"] == "https://w3id.org/kzgraph/id/"


def test_output_file_and_stdout(tmp_path, exported):
    target = tmp_path / "out" / "kzgraph.trig"
    done = run_cli("export", "--format", "trig", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == exported["trig"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    stdout = subprocess.run([sys.executable, "-m", "kzgraph.cli", "export", "--format", "trig"],
                            cwd=ROOT, capture_output=True, timeout=300)
    assert stdout.returncode == 0 and stdout.stdout == exported["trig"]


def test_bad_format_exits_2():
    done = run_cli("export", "--format", "rdfa")
    assert done.returncode == 2


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "kzgraph.ttl"
    target.write_bytes(b"previous content\n")

    def broken_replace(src, dst):
        raise KeyboardInterrupt("interrupted before the rename")

    monkeypatch.setattr(export.os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        export.write_atomic(target, b"new content that never lands\n")
    assert target.read_bytes() == b"previous content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kzgraph.ttl"]  # no temporary left


def test_killed_export_keeps_previous_file(tmp_path):
    """A real process killed in the middle of writing: the old file is untouched."""
    target = tmp_path / "kzgraph.nt"
    target.write_bytes(b"previous\n")
    code = ("import os, signal, kzgraph.export as e\n"
            "real = os.fsync\n"
            "def die(fd):\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "e.os.fsync = die\n"
            f"e.write_atomic({str(target)!r}, b'x' * 1000000)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120)
    assert done.returncode == -signal.SIGKILL  # killed at the fsync, not failed before it
    assert target.read_bytes() == b"previous\n"
    partial = [p.name for p in tmp_path.iterdir() if p.name.startswith(".kzgraph.nt.")]
    assert len(partial) == 1 and (tmp_path / partial[0]).stat().st_size == 1_000_000


# -- VoID + DCAT -------------------------------------------------------------------------------

def test_metadata(kg):
    from kzgraph.metadata import DATASET, describe

    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    DCT = rdflib.namespace.DCTERMS
    g = describe(kg)
    ds = rdflib.URIRef(DATASET)
    assert (ds, rdflib.RDF.type, VOID.Dataset) in g
    assert (ds, rdflib.RDF.type, DCAT.Dataset) in g
    assert int(g.value(ds, VOID.triples)) == len(kg.graph)
    assert int(g.value(ds, VOID.entities)) == kg.stats().entities
    for p in (DCT.title, DCT.description, DCT.license, DCT.created, VOID.sparqlEndpoint):
        assert g.value(ds, p) is not None, p
    assert len(set(g.objects(ds, DCT.source))) == 2
    assert len(set(g.objects(ds, VOID.dataDump))) == len(export.FORMATS)
    assert rdflib.URIRef("http://www.w3.org/ns/prov#") in set(g.objects(ds, VOID.vocabulary))
    assert len(set(g.objects(ds, VOID.exampleResource))) >= 3
    for example in g.objects(ds, VOID.exampleResource):
        assert (example, None, None) in kg.graph
    subsets = set(g.objects(ds, VOID.subset))
    assert rdflib.URIRef(export.GRAPH_NS + "src-internet-shutdowns") in subsets


def test_metadata_cli_formats():
    done = run_cli("export", "--metadata", "--format", "ttl")
    assert done.returncode == 0, done.stderr
    assert "void:Dataset" in done.stdout and "dcat:Dataset" in done.stdout
    assert "ns1:" not in done.stdout
