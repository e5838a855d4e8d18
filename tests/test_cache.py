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
