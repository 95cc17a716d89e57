"""Attacks on the issuer's web service that got through in round 4 (each test failed before its fix).

- A reverse proxy on the issuer's own machine (the README's nginx set-up) made
  every client look like 127.0.0.1: with no staff account yet, the registrar's
  pages, meant for "this machine only", answered anyone on the network.
"""

from __future__ import annotations

from html import unescape

import pytest
from _issuer_support import NOW

from issuer.web import create_app


@pytest.fixture
def app(home, data_dir, anchor):
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                       "CLOCK": lambda: NOW})


@pytest.mark.parametrize("header", [
    ("X-Forwarded-For", "203.0.113.9"),
    ("Forwarded", "for=203.0.113.9;proto=https"),
    ("X-Real-IP", "203.0.113.9"),
])
def test_a_client_forwarded_by_a_proxy_on_this_machine_is_not_this_machine(app, header):
    client = app.test_client()
    assert client.get("/registrar/").status_code == 200  # this machine itself, no proxy: as before
    forwarded = client.get("/registrar/", headers=[header])
    assert forwarded.status_code == 403
    assert "microcred issuer staff add" in unescape(forwarded.get_data(as_text=True))
    bulk = client.get("/registrar/bulk/", headers=[header])
    assert bulk.status_code == 403


def test_a_forwarded_client_is_not_this_machine_behind_a_trusted_proxy_either(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW, "TRUSTED_PROXIES": 1})
    spoofed = app.test_client().get("/registrar/", headers={"X-Forwarded-For": "127.0.0.1"},
                                    environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert spoofed.status_code == 403
