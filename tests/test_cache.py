"""The build cache: a hit skips parsing and validation; any input change misses."""
from __future__ import annotations

import shutil

import pytest

from kzgraph import build, cache, paths


def test_second_load_is_served_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path / "cache"))
    files = build.input_files()
    first = build.load_graph(files)
    assert list((tmp_path / "cache").glob("*.pickle"))

    def no_parsing(_files):
        raise AssertionError("cache hit expected: files must not be parsed again")

    monkeypatch.setattr(build, "read", no_parsing)
    second = build.load_graph(files)
    assert len(second) == len(first)
    assert set(second) == set(first)


def test_changed_input_changes_the_key(tmp_path):
    source = paths.graph_files()[0]
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    before = cache.key([copy], "v")
    copy.write_text(copy.read_text() + "\n# a comment changes the bytes\n")
    assert cache.key([copy], "v") != before
    assert cache.key([copy], "v") != cache.key([copy], "w")


def test_damaged_entry_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path))
    (tmp_path / "abc.pickle").write_bytes(b"not a pickle")
    assert cache.lookup("abc") is None


def test_unusable_cache_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be created inside a file")
    monkeypatch.setenv("KZGRAPH_CACHE", str(blocker / "sub"))
    assert cache.store("x", {"a": 1}) is None
    assert cache.lookup("x") is None


def test_oxigraph_engine_is_served_from_the_persisted_store(tmp_path, monkeypatch):
    """The first open builds the N-Triples entry, the persisted store, the name index and the
    verdicts; the second opens the store read-only: no Turtle, no pickle, no N-Triples,
    no bulk load, and the same triples as the memory engine."""
    from kzgraph.graph import KZGraph

    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path))
    first = KZGraph.open(engine="oxigraph")
    memory = KZGraph.open(engine="memory")
    entries = list(tmp_path.glob("*.nq"))
    assert len(entries) == 1 and entries[0].read_bytes().startswith(b"# sha256 ")
    digest = entries[0].stem
    assert (tmp_path / f"{digest}.oxigraph" / "complete").is_file()
    assert (tmp_path / f"{digest}.names.sqlite").is_file()
    assert list(tmp_path.glob("verdicts-*.json"))
    assert not list(tmp_path.glob(".*"))  # no temporary entry left behind

    def no_build(*_args, **_kwargs):
        raise AssertionError("cache hit expected: nothing must be built or loaded")

    monkeypatch.setattr(build, "load_graph", no_build)
    monkeypatch.setattr(build, "load_nquads", no_build)
    second = KZGraph.open(engine="oxigraph")
    assert len(second) == len(first) == len(memory)
    assert second.query("ownership") == first.query("ownership") == memory.query("ownership")
    assert second.entity("Kcell").iri.endswith("/kcell")  # the index from the cache


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A build cache made once for this module (store, index, verdicts, pickle)."""
    import os

    from kzgraph.graph import KZGraph

    folder = tmp_path_factory.mktemp("built-cache")
    before = os.environ.get("KZGRAPH_CACHE")
    os.environ["KZGRAPH_CACHE"] = str(folder)
    try:
        KZGraph.open(engine="oxigraph")
    finally:
        if before is None:
            os.environ.pop("KZGRAPH_CACHE", None)
        else:
            os.environ["KZGRAPH_CACHE"] = before
    return folder


@pytest.fixture
def warm(built, tmp_path, monkeypatch):
    """A private copy of the module's build cache, set as $KZGRAPH_CACHE."""
    folder = tmp_path / "cache"
    shutil.copytree(built, folder)
    monkeypatch.setenv("KZGRAPH_CACHE", str(folder))
    return folder


def test_cut_or_damaged_ntriples_entry_is_rebuilt(warm):
    from kzgraph.graph import KZGraph

    tmp_path = warm
    full = len(KZGraph.open(engine="oxigraph"))
    entry = next(tmp_path.glob("*.nq"))
    digest = entry.stem
    shutil.rmtree(tmp_path / f"{digest}.oxigraph")  # the store is rebuilt from the entry
    lines = entry.read_bytes().splitlines(keepends=True)
    entry.write_bytes(b"".join(lines[: len(lines) // 2]))  # still valid N-Triples, half of it
    assert cache.lookup_nquads(digest) is None
    assert len(KZGraph.open(engine="oxigraph")) == full
    assert cache.lookup_nquads(digest) is not None  # rebuilt and stored again
    shutil.rmtree(tmp_path / f"{digest}.oxigraph")
    entry.write_bytes(b"\xff\xfe garbage")
    assert cache.lookup_nquads(digest) is None
    assert len(KZGraph.open(engine="oxigraph")) == full
    assert cache.lookup_nquads(digest) is not None


@pytest.mark.parametrize("damage", ["unfinished", "garbage"])
def test_unfinished_or_damaged_store_is_rebuilt(warm, damage):
    """A store folder without its 'complete' mark (a build stopped half-way) or with
    broken database files is not opened; the store is rebuilt from the N-Triples entry."""
    from kzgraph.graph import KZGraph

    tmp_path = warm
    full = len(KZGraph.open(engine="oxigraph"))
    digest = next(tmp_path.glob("*.nq")).stem
    folder = tmp_path / f"{digest}.oxigraph"
    if damage == "unfinished":
        (folder / "complete").unlink()
    else:
        for item in folder.iterdir():
            if item.name != "complete":
                item.unlink() if item.is_file() else shutil.rmtree(item)
        (folder / "CURRENT").write_bytes(b"not a database\n")
    assert cache.open_store(digest) is None
    assert len(KZGraph.open(engine="oxigraph")) == full
    assert cache.open_store(digest) is not None


def test_damaged_name_index_is_rebuilt(warm):
    from kzgraph.graph import KZGraph
    from kzgraph.names import NameIndex

    index = next(warm.glob("*.names.sqlite"))
    index.write_bytes(b"garbage, not SQLite")
    assert NameIndex.open(index) is None
    kg = KZGraph.open(engine="oxigraph")
    assert kg.entity("GSM Kazakhstan").iri.endswith("/kcell")
    assert NameIndex.open(index) is not None


def test_name_index_equals_the_entity_names_query(kg):
    """The stored index holds exactly the rows of the entity-names query (independent
    truth: the query on the memory engine)."""
    from kzgraph import api_queries
    from kzgraph.graph import KZGraph
    from kzgraph.names import normalize

    memory = KZGraph.open(engine="memory")
    expected = sorted((normalize(r["name"]), r["entity"], r["name"], r["nameKind"])
                      for r in api_queries.rows(memory, "entity-names"))
    assert len(expected) > 500
    assert sorted(kg.names.names) == expected


def test_verdicts_cover_packaged_queries_only(warm, monkeypatch):
    """Stored queries get their verdict from the cache (same form and variables as a full
    vetting); a changed text, a user query and a refused query are vetted in full."""
    from kzgraph import catalog, sparql

    tmp_path = warm
    monkeypatch.setattr(sparql, "_VERDICTS", None)
    stored = catalog.get("ownership").text
    known = sparql.known_verdict(stored)
    assert known is not None and known.from_cache  # no rdflib parse needed
    full = sparql._vet(stored)
    assert (known.form, known.variables, known.concat) == (full.form, full.variables,
                                                           full.concat)
    assert sparql.known_verdict(stored + " ") is None
    hostile = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
    assert sparql.known_verdict(hostile) is None
    with pytest.raises(sparql.QueryRefused):
        sparql.prepare(hostile)
    # a planted verdict for another version of the rules is never read
    (tmp_path / "verdicts-0.json").write_text('{"%s": ["SELECT", [], []]}'
                                              % sparql._text_key(hostile))
    monkeypatch.setattr(sparql, "_VERDICTS", None)
    assert sparql.known_verdict(hostile) is None


def test_cold_query_needs_no_rdflib(warm):
    """`kzgraph query NAME` on a warm cache runs without importing rdflib or pyparsing,
    and prints the same table as the memory engine."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT, run_cli

    env = {"KZGRAPH_CACHE": str(warm)}
    warm = run_cli("query", "effective-state-ownership", env=env)  # builds the cache
    assert warm.returncode == 0, warm.stderr
    code = ("import sys, runpy; sys.argv = ['kzgraph', 'query', 'effective-state-ownership'];"
            "import kzgraph.cli as c\ntry:\n    c.main()\nexcept SystemExit:\n    pass\n"
            "print('MODULES', sorted(m for m in sys.modules if m.split('.')[0] in "
            "('rdflib', 'pyparsing')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "MODULES []" in done.stdout
    assert done.stdout.split("MODULES")[0] == warm.stdout
    memory = run_cli("--engine", "memory", "query", "effective-state-ownership", env=env)
    assert memory.stdout == warm.stdout
