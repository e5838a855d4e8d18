"""The build cache: a hit skips parsing and validation; any input change misses."""
from __future__ import annotations

import shutil

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


def test_oxigraph_engine_is_served_from_an_ntriples_entry(tmp_path, monkeypatch):
    """The Oxigraph engine loads a cached N-Triples entry: no Turtle, no pickle, no rdflib
    serialisation on the second open; same triples as the memory engine."""
    from kzgraph.graph import KZGraph

    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path))
    first = KZGraph.open(engine="oxigraph")
    memory = KZGraph.open(engine="memory")
    entries = list(tmp_path.glob("*.nt"))
    assert len(entries) == 1 and entries[0].read_bytes().startswith(b"# sha256 ")

    def no_build(*_args, **_kwargs):
        raise AssertionError("cache hit expected: no graph must be built")

    monkeypatch.setattr(build, "load_graph", no_build)
    second = KZGraph.open(engine="oxigraph")
    assert len(second) == len(first) == len(memory)
    assert second.query("ownership") == first.query("ownership")


def test_cut_or_damaged_ntriples_entry_is_rebuilt(tmp_path, monkeypatch):
    from kzgraph.graph import KZGraph

    monkeypatch.setenv("KZGRAPH_CACHE", str(tmp_path))
    full = len(KZGraph.open(engine="oxigraph"))
    entry = next(tmp_path.glob("*.nt"))
    lines = entry.read_bytes().splitlines(keepends=True)
    entry.write_bytes(b"".join(lines[: len(lines) // 2]))  # still valid N-Triples, half of it
    digest = entry.stem
    assert cache.lookup_ntriples(digest) is None
    assert len(KZGraph.open(engine="oxigraph")) == full
    assert cache.lookup_ntriples(digest) is not None  # rebuilt and stored again
    entry.write_bytes(b"\xff\xfe garbage")
    assert cache.lookup_ntriples(digest) is None
    assert len(KZGraph.open(engine="oxigraph")) == full
    assert cache.lookup_ntriples(digest) is not None
