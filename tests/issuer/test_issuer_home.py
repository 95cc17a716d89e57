"""The issuer's home page (issue 15, §1 item 1): the URL the README and ``make demo`` print is no bare 404.

It says who the issuer is, its accreditation as the ledger holds it (or that the
ledger could not be read just now), its status lists, and leads to the
registrar's page.
"""

from __future__ import annotations

import re

import pytest
from _issuer_support import NOW, make_csv, make_row

from issuer.batch import parse_csv
from issuer.web import create_app


@pytest.fixture
def client(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    return app.test_client()


def test_home_page_names_the_issuer_its_lists_and_the_registrar(client, home, service, defaults):
    batch = service.issue_batch(parse_csv(make_csv([make_row(1)]), defaults), now=NOW)
    record = service.archive.credential(batch.issued[0].credential_id)
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Università di Prova" in html
    assert home.identity.did in html
    assert f'href="/status/{record.list_id}"' in html
    assert 'href="/registrar/"' in html
    assert 'href="/.well-known/openid-credential-issuer"' in html
    assert "<script" not in html
    assert 'rel="stylesheet"' in html


def test_home_page_says_when_the_ledger_cannot_be_read(client):
    html = client.get("/").get_data(as_text=True)  # MICROCRED_RPC_URL points where nothing listens
    assert "could not be read" in html
    assert "127.0.0.1:9" not in html  # no internal address on the page


@pytest.mark.integration
def test_home_page_shows_the_accreditation_the_ledger_holds(accredited_issuer, ledger_data_dir, anchor):
    home, _tao_account = accredited_issuer
    app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "ISSUER": home.identity.name,
                      "STATUS_ANCHOR": anchor})
    html = app.test_client().get("/").get_data(as_text=True)
    section = re.search(r'<section id="accreditation".*?</section>', html, re.S).group(0)
    assert "Accredited" in section
    assert "Agenzia di prova" in section
    assert "micro-credential" in section
