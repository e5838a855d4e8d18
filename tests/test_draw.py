"""Pictures: the ownership network (Graphviz SVG) and the timeline (matplotlib PNG/SVG)."""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from .conftest import ROOT, run_cli

# CI installs Graphviz (.ci/run sets KZGRAPH_REQUIRE_DOT=1): there a missing 'dot' fails.
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("KZGRAPH_REQUIRE_DOT"),
                               reason="Graphviz 'dot' not installed (Debian package graphviz)")


@needs_dot
def test_ownership_svg(tmp_path):
    target = tmp_path / "ownership.svg"
    done = run_cli("draw", "ownership", "-o", str(target))
    assert done.returncode == 0, done.stderr
    svg = target.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("Government of Kazakhstan", "Kazakhtelecom", "Kcell", "51 %", "49 %", "50 %",
                  "80 %", "undated"):
        assert f">{label}" in svg or label in svg, label
    # the same picture on a second run
    again = tmp_path / "again.svg"
    assert run_cli("draw", "ownership", "-o", str(again)).returncode == 0
    assert again.read_bytes() == target.read_bytes()


def test_ownership_dot_source(kg):
    from kzgraph.draw import ownership_dot

    source = ownership_dot(kg).source
    assert "kz_kazakhtelecom -> kz_kcell" in source
    assert "49 %" in source


def test_missing_dot_says_how_to_install(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = run_cli("draw", "ownership", "-o", str(tmp_path / "o.svg"), env={"PATH": str(empty)})
    assert done.returncode == 2
    assert "graphviz" in done.stderr and "apt-get install graphviz" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o.svg").exists()


def test_timeline_png(tmp_path):
    target = tmp_path / "timeline.png"
    done = run_cli("draw", "timeline", "-o", str(target))
    assert done.returncode == 0, done.stderr
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    from PIL import Image

    with Image.open(target) as image:
        assert image.size[0] >= 1000 and image.size[1] >= 800
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 50  # not blank


def test_timeline_labels(kg, tmp_path):
    from kzgraph.draw import draw_timeline, timeline_items

    items = timeline_items(kg)
    lanes = {lane for lane, *_ in items}
    assert lanes == {0, 1, 2, 3}  # shutdowns, blocking, laws, launches all drawn
    svg = draw_timeline(kg, tmp_path / "timeline.svg").read_text(encoding="utf-8")
    for text in ("January 2022, day by day", "Nationwide internet shutdown of January 2022",
                 "Partial internet restoration on 7 January 2022", "Laws", "Launches",
                 "Blocking", "Shutdowns &amp; throttling"):
        assert text in svg, text
    png = draw_timeline(kg, tmp_path / "a.png").read_bytes()
    assert draw_timeline(kg, tmp_path / "b.png").read_bytes() == png


def test_bad_picture_suffix(tmp_path):
    done = run_cli("draw", "timeline", "-o", str(tmp_path / "t.gif"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_readme_pictures_exist():
    for name in ("ownership.svg", "timeline.png"):
        path = ROOT / "docs" / "img" / name
        assert path.is_file() and path.stat().st_size > 1000, path
