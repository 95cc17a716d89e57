"""Headless Chromium for the page tests: an app served on a loopback port, and a browser page to drive it.

Debian's chromium is driven through Playwright (``make test`` installs both); a missing one fails the test
(:func:`tests.tooling.missing_tool`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.tooling import missing_tool

__all__ = ["CHROMIUM", "PHONE", "QUIET_CHROMIUM_ARGS", "chromium_page", "serving"]

CHROMIUM = Path("/usr/bin/chromium")
#: A small phone's viewport, CSS pixels.
PHONE = {"width": 360, "height": 740}
#: Headless, and no traffic of Chromium's own (updates, sync, QUIC probes) besides the pages'.
QUIET_CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` (a WSGI app) served by werkzeug on a free loopback port, in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium_page(*, viewport: dict[str, int] = PHONE,
                  args: Sequence[str] = ("--headless", "--no-sandbox")) -> Iterator[Any]:
    """A new page of a headless Chromium started with ``args``, at ``viewport``; the browser closes after."""
    if not CHROMIUM.exists():
        missing_tool(f"Debian chromium is not installed at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        try:
            yield browser.new_page(viewport=viewport)
        finally:
            browser.close()
