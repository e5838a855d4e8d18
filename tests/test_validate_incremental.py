"""Incremental validation (kzgraph/incremental.py): after an edit of one graph file only the focus
nodes the edit can reach are validated again, and the report is the one a full validation gives:
an edit that breaks a node in the edited file, and one that breaks nodes of ANOTHER file through a
reference, are both reported; fixing the edit makes the graph conform again. The CLI says what it
reused. (The speed-up is measured in bench/validate.py, not here.)"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kzgraph import incremental, paths
from kzgraph.incremental import validate_files

from .conftest import run_cli


@pytest.fixture
def files(tmp_path, monkeypatch) -> list[Path]:
    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "graph"
    shutil.copytree(paths.data_root() / "graph", copy)
    return [paths.ontology_file(), *sorted(copy.glob("*.ttl"))]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _full(files):
    return validate_files(files, use_cache=False).report.to_dict()


def test_unchanged_files_reuse_everything(files):
    first = validate_files(files)
    assert first.report.conforms
    assert first.reuse.full and first.reuse.files_reused == 0
    again = validate_files(files)
    assert again.reuse.full == "" and again.reuse.files_reused == len(files)
    assert again.reuse.focus_checked == 0 and again.reuse.focus > 500
    assert again.report.to_dict() == first.report.to_dict()


def test_edit_breaking_a_node_of_the_edited_file(files):
    validate_files(files)
    places = next(f for f in files if f.name == "places.ttl")
    _edit(places, 'rdfs:label "Almaty"@en ;', 'rdfs:label "Almaty" ;')
    out = validate_files(files)
    assert out.reuse.full == ""
    assert out.reuse.files_reused == len(files) - 1
    assert 0 < out.reuse.focus_checked < out.reuse.focus / 4
    broken = [v for v in out.report.violations if v.focus == "kz:almaty"]
    assert [(v.shape, v.source_file) for v in broken] == [("kzsh:Label-english", "places.ttl")]
    assert out.report.to_dict() == _full(files)


def test_edit_breaking_nodes_of_another_file_through_a_reference(files):
    validate_files(files)
    places = next(f for f in files if f.name == "places.ttl")
    _edit(places, "kz:kazakhstan a kzo:Country ;", "kz:kazakhstan a kzo:Region ;")
    out = validate_files(files)
    assert out.reuse.full == ""
    elsewhere = {v.focus for v in out.report.violations if v.source_file == "organisations.ttl"
                 and v.path == "kzo:country"}
    assert "kz:kcell" in elsewhere and len(elsewhere) > 10
    assert out.report.to_dict() == _full(files)
    # and back: the fix is seen incrementally too
    _edit(places, "kz:kazakhstan a kzo:Region ;", "kz:kazakhstan a kzo:Country ;")
    fixed = validate_files(files)
    assert fixed.reuse.full == "" and fixed.report.conforms


def test_schema_edits_validate_everything(files):
    validate_files(files)
    concepts = next(f for f in files if f.name == "concepts.ttl")
    concepts.write_text(concepts.read_text(encoding="utf-8") +
                        "\nkz:tech-4g rdfs:subClassOf kzo:Technology .\n", encoding="utf-8")
    out = validate_files(files)
    assert out.reuse.full == "a schema axiom or a blank node changed"
    assert out.report.to_dict() == _full(files)


def test_cli_says_what_it_reused(files, tmp_path):
    env = {"KZGRAPH_CACHE": str(tmp_path / "cache")}
    extra = tmp_path / "mine.ttl"
    extra.write_text("@prefix kz: <https://w3id.org/kzgraph/id/> .\n"
                     "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                     'kz:almaty rdfs:comment "A note of my own."@en .\n', encoding="utf-8")
    first = run_cli("validate", "--no-reasoning", str(extra), env=env)
    assert first.returncode == 0, first.stderr
    assert "no earlier validation" in first.stderr
    extra.write_text(extra.read_text(encoding="utf-8").replace('"@en', '"'), encoding="utf-8")
    second = run_cli("validate", "--no-reasoning", str(extra), env=env)
    assert second.returncode == 1
    assert "reused: " in second.stderr and "validated again" in second.stderr
    assert "kz:almaty" in second.stdout and "kzsh:Comment-english" not in second.stderr
    assert incremental.Reuse(files=3, files_reused=2, focus=10, focus_checked=1).text() == (
        "reused: 2 of 3 files parsed before, SHACL results of 9 of 10 focus nodes "
        "(1 validated again)")


def test_owl_rl_verdict_reused_only_when_no_rule_sees_the_edit(files):
    """An edit no OWL RL rule applies to (a comment) reuses the verdict; an edit that types a
    node (a clash), or uses a property with a domain, or adds a literal of an OWL RL datatype
    not in use, runs the reasoner again — and the verdict is always a full validation's."""
    from kzgraph import reason

    places = next(f for f in files if f.name == "places.ttl")
    validate_files(files)
    tail = places.read_text(encoding="utf-8")
    cases = [
        ('kz:almaty rdfs:comment "Edited."@en .', True, False),
        ('kz:almaty rdfs:comment "Edited again."@en .', True, False),
        ("kz:almaty a kzo:Event .", False, True),                 # Place and Event: disjoint
        ("kz:almaty kzo:brandOf kz:kazakhtelecom .", False, True),  # domain kzo:Brand
        # xsd:double is in no literal of the graph: its disjointness with others is new
        ('kz:almaty rdfs:comment "7.5"^^<http://www.w3.org/2001/XMLSchema#double> .', False,
         False),
    ]
    for turtle, reused, clash in cases:
        places.write_text(tail + "\n" + turtle + "\n", encoding="utf-8")
        out = validate_files(files)
        assert out.reuse.consistency is reused, turtle
        assert bool(out.report.inconsistencies) is clash, turtle
        assert out.report.inconsistencies == reason.consistency_problems(
            out.graph, reasoner="owlrl"), turtle
        assert out.report.to_dict() == _full(files), turtle
        if reused:
            assert "the OWL RL verdict" in out.reuse.text()


def test_checks_verdicts_kept_for_the_next_process(files):
    """After a validation the quality checks' vetting verdicts are in the build cache (the
    same form and variables as vetting them again), so a new process skips rdflib's parser;
    a changed text has no verdict."""
    from kzgraph import catalog, sparql

    validate_files(files)
    sparql._VERDICTS = None  # as a new process: read from the cache
    for query in catalog.checks().values():
        known = sparql.known_verdict(query.text)
        assert known is not None, query.name
        vetted = sparql._vet(query.text)
        assert (known.form, known.variables, known.concat) == \
            (vetted.form, vetted.variables, vetted.concat)
        assert sparql.known_verdict(query.text + "\n# changed") is None
