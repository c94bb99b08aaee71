"""Shared by the browser tests of the pages microgradnet writes: headless Chromium, and a page
opened with every console error, page error, network request and dialog recorded."""

import shutil

import pytest
from conftest import require, require_program

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    require("playwright")
    chromium = require_program("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which(chromium), args=ARGS)
        yield b
        b.close()


def open_page(browser, path, viewport=(1300, 900), **kw):
    """The page at ``path`` and what it did: ``{"errors", "requests", "dialogs"}``."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]}, **kw)
    seen = {"errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    return page, seen


def assert_quiet(seen):
    """No console error, no dialog, and nothing fetched but the file itself (and data: URIs)."""
    assert seen["errors"] == []
    assert seen["dialogs"] == []
    assert seen["requests"] and all(u.startswith(("file:", "data:")) for u in seen["requests"])


def csp_of(page) -> str:
    return page.evaluate(
        "() => document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').getAttribute('content')"
    )
