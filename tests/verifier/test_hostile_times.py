"""Issue 10 A1 over HTTP: time claims like 1e400 (inf) answered with a named failed check, never a 500.

Before the fix, ``int(inf)`` raised OverflowError inside the verifier core and
each of these endpoints answered 500. The presentations are signed by a real
accredited issuer and holder, so only the time check can refuse them.
"""

from __future__ import annotations

from html import unescape

import pytest

from tests.forging import forge_issuer_claim, forge_kb_claim
from tests.verifier.openid4vp_wallet import fetch_request, post_answer, request_text, result_url

pytestmark = pytest.mark.integration


def _checks(answer):
    return {c["check"]: c for c in answer["checks"]}


def _hostile(issuer, where: str, literal: str, **present) -> str:
    if where == "credential":
        return issuer.present(forge_issuer_claim(issuer.credential(), issuer.key, "exp", literal), **present)
    return forge_kb_claim(issuer.present(**present), issuer.holder, "iat", literal)


@pytest.mark.parametrize("where,check", [("credential", "validity_period"), ("kb_jwt", "holder_binding")])
@pytest.mark.parametrize("literal", ["1e400", "-1e400"])
def test_api_verify_answers_200_with_the_failed_check(client, make_issuer, where, check, literal):
    issuer = make_issuer()
    response = client.post("/api/v1/verify", json={"presentation": _hostile(issuer, where, literal)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    answer = response.get_json()
    assert answer["verified"] is False
    assert _checks(answer)[check]["status"] == "failed"
    assert "1970" in _checks(answer)[check]["detail"]


def test_scan_page_answers_with_the_failed_check(client, make_issuer):
    issuer = make_issuer()
    response = client.post("/verify", data={"presentation": _hostile(issuer, "credential", "1e400")})
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert 'data-verified="false"' in html
    assert "1970" in html


def test_openid4vp_response_answers_and_shows_the_failed_check(client, make_issuer):
    issuer = make_issuer()
    created = client.post("/openid4vp/new", data={"claim": ["title"]})
    page = unescape(client.get(created.location).get_data(as_text=True))
    request = fetch_request(client, request_text(page))
    query_id = request["dcql_query"]["credentials"][0]["id"]
    presentation = _hostile(issuer, "kb_jwt", "1e400", paths=[("title",)], nonce=request["nonce"],
                            audience=request["client_id"])
    answered = post_answer(client, request, {query_id: [presentation]})
    assert answered.status_code == 200
    assert "response_code=" in answered.get_json()["redirect_uri"]
    result = client.get(result_url(page))
    assert result.status_code == 200
    html = unescape(result.get_data(as_text=True))
    assert 'data-verified="false"' in html
    assert "Key Binding JWT" in html
