"""The query page in a real browser: headless Chromium (Debian's ``chromium`` package) driven
by Playwright opens ``/``, picks a stored query, runs it and sees its rows; the screenshot is
the one the README shows (docs/img/web.png)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.test_server import server_thread

CHROMIUM = os.environ.get("KZGRAPH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# The README's picture; the test refreshes it only when asked (KZGRAPH_UPDATE_SCREENSHOT=1), so
# a test run never leaves the checkout modified.
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "web.png"

if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium: install Debian's chromium: apt-get install chromium",
                allow_module_level=True)
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="pip install playwright (never 'playwright install': the "
                                  "test drives Debian's chromium)")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def site(kg):
    from kzgraph.server import create_app

    with server_thread(create_app(kg)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def test_run_a_stored_query_in_the_page(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside = []
    page.on("request", lambda r: None if r.url.startswith(site) else outside.append(r.url))
    page.goto(site)
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#picker", "owners-of")
    page.fill("#param-org", "kz:kcell")
    page.click("#run")
    page.wait_for_selector("#table tbody tr")
    rows = page.locator("#table tbody tr")
    assert rows.count() >= 1
    assert "Kazakhtelecom" in page.inner_text("#table")
    assert "row" in page.inner_text("#count")
    assert page.locator("#links a").count() == 4      # csv, tsv, json, xml downloads
    target = SCREENSHOT if os.environ.get("KZGRAPH_UPDATE_SCREENSHOT") else tmp_path / "web.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 10_000
    assert outside == []                               # no CDN, nothing off the server
    page.close()


def test_free_sparql_and_error_message(site, browser):
    page = browser.new_page()
    page.goto(site)
    page.wait_for_selector("body[data-ready=true]")
    page.click("#run")                                 # the example query in the editor
    page.wait_for_selector("#table tbody tr")
    assert "Kcell" in page.inner_text("#table")
    page.fill("#query", "SELECT ?x WHERE {")
    page.click("#run")
    page.wait_for_selector(".error")
    assert "syntax error" in page.inner_text(".error")
    page.close()
