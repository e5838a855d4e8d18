"""The foundation: ontology, loader errors, validation exit codes, deterministic build."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS

from kzgraph import paths
from kzgraph.errors import ParseError
from kzgraph.loader import parse_turtle

from .conftest import DATA, ROOT, run_cli

KZO = "https://w3id.org/kzgraph/ontology#"


@pytest.fixture(scope="module")
def ontology():
    return parse_turtle(paths.ontology_file())


def test_ontology_header(ontology):
    onto = rdflib.URIRef("https://w3id.org/kzgraph/ontology")
    assert (onto, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(onto, OWL.versionInfo) is not None
    assert ontology.value(onto, OWL.versionIRI) is not None


def test_every_term_has_english_label_and_comment(ontology):
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    terms = {s for k in kinds for s in ontology.subjects(RDF.type, k) if str(s).startswith(KZO)}
    assert len(terms) > 100
    missing = []
    for term in sorted(terms):
        labels = [l for l in ontology.objects(term, RDFS.label) if l.language == "en"]
        comments = [c for c in ontology.objects(term, RDFS.comment) if c.language == "en"]
        if len(labels) != 1 or len(comments) != 1:
            missing.append(term)
    assert missing == []


def test_no_owl_imports(ontology):
    assert list(ontology.objects(None, OWL.imports)) == []


def test_broken_turtle_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "open .\n')
    with pytest.raises(ParseError) as info:
        parse_turtle(bad)
    assert info.value.path == str(bad)
    assert info.value.line == 3
    assert "broken.ttl:3" in str(info.value)


def test_broken_turtle_cli_exit_2(tmp_path):
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c\nex:d ex:e ex:f .\n")
    proc = run_cli("validate", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_exit_2(tmp_path):
    proc = run_cli("validate", str(tmp_path / "nope.ttl"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_validate_real_graph_exit_0():
    proc = run_cli("validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Conforms" in proc.stdout


def test_validate_broken_graph_exit_1_with_readable_report():
    proc = run_cli("validate", str(DATA / "broken_stake.ttl"))
    assert proc.returncode == 1
    out = proc.stdout
    assert "kz:stake-broken" in out
    assert "broken_stake.ttl" in out          # the file the focus node is written in
    assert "149" in out                        # the offending value
    assert "Traceback" not in proc.stderr


def test_build_is_byte_identical(tmp_path):
    first = run_cli("build", "-o", str(tmp_path / "a"), env={"PYTHONHASHSEED": "1"})
    second = run_cli("build", "-o", str(tmp_path / "b"), env={"PYTHONHASHSEED": "2",
                                                                "KZGRAPH_CACHE": str(tmp_path / "c")})
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    a = (tmp_path / "a" / "kzgraph.ttl").read_bytes()
    b = (tmp_path / "b" / "kzgraph.ttl").read_bytes()
    assert a == b and len(a) > 10_000
    assert not list((tmp_path / "a").glob(".*tmp"))  # no temporary file left behind
    reparsed = parse_turtle(tmp_path / "a" / "kzgraph.ttl")  # keeps lexical forms
    from kzgraph.build import input_files, read

    from rdflib.compare import isomorphic

    assert isomorphic(reparsed, read(input_files())[0])


def test_build_keeps_previous_output_on_failure(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "kzgraph.ttl").write_text("previous")
    proc = run_cli("build", "-o", str(out), str(DATA / "broken_stake.ttl"))
    assert proc.returncode == 1
    assert (out / "kzgraph.ttl").read_text() == "previous"


def test_stats_cli():
    proc = run_cli("stats", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    import json

    stats = json.loads(proc.stdout)
    assert stats["triples"] > 3000
    classes = {row["class"].rsplit("#", 1)[-1]: row["count"] for row in stats["per_class"]}
    assert classes.get("Observation", 0) > 50
    counts = {row["section"].rsplit("/", 1)[-1]: row["count"] for row in stats["per_section"]}
    assert len(counts) == 21
    # every section is cited, except the "Telephones" heading, which has no text of its own, and
    # "See also", whose two items only link to other articles (docs/coverage.tsv: not modelled)
    assert sorted(s for s, n in counts.items() if n == 0) == ["src-internet-see-also", "src-telecom-telephones"]


def test_help_on_every_command():
    from kzgraph.cli import main

    assert {"validate", "build", "stats", "queries", "query"} <= set(main.commands)
    for command in sorted(main.commands):
        proc = run_cli(command, "--help")
        assert proc.returncode == 0 and "Usage:" in proc.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and "0.1.0" in version.stdout


def test_load_outside_checkout(tmp_path):
    code = "import kzgraph; kg = kzgraph.load(); print(len(kg))"
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 3000


def test_wheel_ships_the_data(tmp_path):
    """The graph files are package data: an installed kzgraph works without the checkout."""
    pytest.importorskip("hatchling")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("kzgraph-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"kzgraph/data/graph/{p.name}" for p in paths.graph_files()}
    expected |= {"kzgraph/data/ontology/kzgraph.ttl", "kzgraph/data/ontology/shapes.ttl",
                 "kzgraph/data/queries/ownership.rq"}
    assert expected <= names


def _test_requirements() -> list[str]:
    import re
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [re.split(r"[<>=!~ ]", spec, maxsplit=1)[0]
            for spec in extras["optional-dependencies"]["test"]]


@pytest.mark.parametrize("name", _test_requirements())
def test_test_requirements_are_installed(name):
    """Some tests skip when an optional package is missing (a user may lack it); the test
    set-up (`make test`) installs them all, so a missing one is a failure here, never a
    silent skip."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        assert version(name)
    except PackageNotFoundError:
        pytest.fail(f"{name} is in the test extras of pyproject.toml but not installed")
