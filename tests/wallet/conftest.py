"""Fixtures for the wallet: an app on a temporary data dir with a settable clock,
a browser-like client, an issuer, a signed-in learner holding a credential."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from wallet_helpers import Clock, Issuer, WalletClient

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jose import PrivateKey
from tests.tooling import missing_tool

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    return Issuer(key, did, verification_method_id(did))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, clock: Clock):
    from wallet import create_app

    return create_app({
        "TESTING": True,
        "DATA_DIR": str(tmp_path / "var"),
        "CLOCK": clock,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024,
        "ARGON2_PARALLELISM": 1,
        "SESSION_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://127.0.0.1:5001",
    })


@pytest.fixture
def client(app) -> WalletClient:
    return WalletClient(app.test_client())


@pytest.fixture
def signed_in(app, client) -> WalletClient:
    client.signup()
    return client


@pytest.fixture
def held(app, signed_in, issuer):
    """A signed-in learner holding one micro-credential; returns (client, credential id)."""
    response = signed_in.add(issuer.issue(signed_in.holder_jwk(app)))
    assert response.status_code == 302, signed_in.last_page
    credential_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return signed_in, credential_id


@pytest.fixture
def serve_wallet(tmp_path: Path) -> Iterator[Callable[..., tuple[Any, str]]]:
    """Start the wallet (data in ``tmp_path``, fast Argon2, plain-http cookies, plus ``config``) on a free
    127.0.0.1 port: ``serve_wallet(**config) -> (app, base URL)``; stopped after the test."""
    from werkzeug.serving import make_server

    from wallet import create_app

    running: list[tuple[Any, threading.Thread]] = []

    def start(**config: Any) -> tuple[Any, str]:
        app = create_app({"DATA_DIR": str(tmp_path / "var"), "SESSION_COOKIE_SECURE": False,
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, **config})
        http = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        running.append((http, thread))
        return app, f"http://127.0.0.1:{http.server_port}"

    try:
        yield start
    finally:
        for http, thread in running:
            http.shutdown()
            thread.join(timeout=5)


@pytest.fixture
def page() -> Iterator[Any]:
    """A headless Chromium tab at a phone's size (390×844); ``page.csp_errors`` collects console errors."""
    if shutil.which(CHROMIUM) is None:
        missing_tool("Debian chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        errors: list[str] = []
        tab = context.new_page()
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.csp_errors = errors
        try:
            yield tab
        finally:
            context.close()
            browser.close()
