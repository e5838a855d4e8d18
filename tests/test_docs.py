"""Documentation: pyLODE ontology page (offline, no warnings), query catalog, class pages."""
from __future__ import annotations

import logging
import re
import warnings

import pytest

from kzgraph import catalog


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from kzgraph import docs

    out = tmp_path_factory.mktemp("docs")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problems = docs.build(out)
    return out, problems, caught


def test_docs_build_without_warnings(built, caplog):
    out, problems, caught = built
    assert problems == []
    relevant = [w for w in caught if not issubclass(w.category, (DeprecationWarning, ResourceWarning))]
    assert relevant == [], [str(w.message) for w in relevant]


def test_no_logged_warnings(tmp_path, caplog):
    from kzgraph import docs

    with caplog.at_level(logging.WARNING):
        page, problems = docs.ontology_html()
    assert problems == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_ontology_page_is_offline(built):
    out, _, _ = built
    page = (out / "ontology.html").read_text(encoding="utf-8")
    assert "kzgraph ontology" in page
    assert "Internet shutdown" in page
    # nothing loaded from the network: no external scripts, stylesheets or images
    assert not re.search(r'<script[^>]+src="https?:', page)
    assert not re.search(r'<link[^>]+href="https?:', page)
    assert not re.search(r'<img[^>]+src="https?:', page)


def test_query_catalog_page(built):
    out, _, _ = built
    page = (out / "queries.html").read_text(encoding="utf-8")
    for name, q in catalog.load().items():
        assert f'id="{name}"' in page
    assert "Shutdown and blocking timeline" in page


def test_class_pages_have_shacl_constraints(built):
    out, _, _ = built
    index = (out / "classes" / "index.html").read_text(encoding="utf-8")
    assert "InternetShutdown.html" in index
    page = (out / "classes" / "InternetShutdown.html").read_text(encoding="utf-8")
    assert "kzsh:InternetShutdownShape" in page
    assert "inherited from" in page and "kzsh:EventShape" in page
    assert "kzo:scope" in page
    stake = (out / "classes" / "OwnershipStake.html").read_text(encoding="utf-8")
    assert "kzo:owner" in stake and "minCount 1" in stake


def test_docs_are_deterministic(built, tmp_path):
    from kzgraph import docs

    out, _, _ = built
    docs.build(tmp_path)
    for path in sorted(out.rglob("*.html")):
        assert (tmp_path / path.relative_to(out)).read_bytes() == path.read_bytes(), path
