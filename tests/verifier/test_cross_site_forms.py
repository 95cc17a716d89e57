"""The verifier's page forms refuse a post another site's page made a browser send (Fetch Metadata,
``Sec-Fetch-Site: cross-site``): the verifier sets no session cookie, so no CSRF token can tie a form to its
page; without this a page anywhere could make an employer's browser show the result of a presentation of its
choosing, and spend that address's verification limit. The API and the wallets' OpenID4VP answers are for
other sites and programs, and stay open to them."""

from __future__ import annotations

import re
from html import unescape

import pytest

pytestmark = pytest.mark.integration

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Origin": "https://elsewhere.example"}


def test_a_cross_site_post_of_the_scan_form_is_refused_and_verifies_nothing(client, make_issuer):
    presentation = make_issuer().present()
    refused = client.post("/verify", data={"presentation": presentation}, headers=CROSS_SITE)
    assert refused.status_code == 403
    assert "another site" in unescape(refused.get_data(as_text=True))
    # Nothing was verified, so nothing was recorded: the same presentation, sent from the verifier's own page, is
    # verified (not refused as a replay).
    page = client.post("/verify", data={"presentation": presentation}, headers={"Sec-Fetch-Site": "same-origin"})
    assert page.status_code == 200
    assert 'data-verified="true"' in page.get_data(as_text=True)


def test_every_page_form_refuses_a_cross_site_post(client):
    for path, data in (("/verify/photo", {}), ("/openid4vp/new", {}), ("/evidence/" + "A" * 24, {})):
        response = client.post(path, data=data, headers=CROSS_SITE)
        assert response.status_code == 403, path


def test_a_post_without_fetch_metadata_or_from_the_same_site_is_answered(client, make_issuer):
    issuer = make_issuer()
    for headers in ({}, {"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "same-origin"}):
        page = client.post("/verify", data={"presentation": issuer.present()}, headers=headers)
        assert 'data-verified="true"' in page.get_data(as_text=True), headers


def test_the_api_answers_other_sites(client, make_issuer):
    response = client.post("/api/v1/verify", json={"presentation": make_issuer().present()}, headers=CROSS_SITE)
    assert response.status_code == 200
    assert response.get_json()["verified"] is True


def test_the_refusal_page_sends_the_user_back_to_the_verifier(client):
    page = unescape(client.post("/verify", data={"presentation": "x"}, headers=CROSS_SITE).get_data(as_text=True))
    assert re.search(r"open (the|this) verifier", page, re.IGNORECASE)
