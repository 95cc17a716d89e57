"""OpenID4VP session safety (issue 13 §2, §6; OpenID4VP 1.0 §13.3, §14.2, §14.6), against the real verifier app.

The attack run's three findings, reproduced first: whoever saw the request QR
code could read the learner's result, could answer before the learner's wallet,
and an answer lacking the claims asked for said "Verified".
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from tests.verifier.conftest import CLAIMS
from tests.verifier.openid4vp_wallet import fetch_request, link_params, post_answer, request_text, result_url

pytestmark = pytest.mark.integration

ASKED = ["title", "ects", "eqf_level", "learning_outcomes"]


def overall(page: str) -> str:
    """The page's one verdict (the result page's and the stack page's ``#verdict``)."""
    return re.search(r'id="verdict" data-verified="(\w+)"', page).group(1)


def _new_request(client, claims=ASKED, **fields):
    created = client.post("/openid4vp/new", data={"claim": claims, **fields})
    assert created.status_code == 303
    page = unescape(client.get(created.location).get_data(as_text=True))
    return page, request_text(page)


def _learner_answers(client, issuer, link, paths=(("title",), ("ects",), ("eqf_level",), ("learning_outcomes",))):
    request = fetch_request(client, link)
    query_id = request["dcql_query"]["credentials"][0]["id"]
    presentation = issuer.present(paths=list(paths), nonce=request["nonce"], audience=request["client_id"])
    return request, post_answer(client, request, {query_id: [presentation]})


def test_whoever_saw_the_qr_code_cannot_read_the_result(app, client, make_issuer):
    issuer = make_issuer()
    page, link = _new_request(client)
    request, answered = _learner_answers(client, issuer, link)
    assert answered.status_code == 200
    assert overall(unescape(client.get(result_url(page)).get_data(as_text=True))) == "true"

    onlooker = app.test_client()  # another browser: no cookie of the employer's page
    known = [*link_params(link).values(), request["state"]]  # even the state, had it leaked
    known += [segment for value in list(known) for segment in urlsplit(value).path.split("/") if len(segment) > 15]
    for value in known:
        for path in (f"/openid4vp/{value}/result", f"/openid4vp/t/{value}/result", f"/openid4vp/{value}/status",
                     f"/openid4vp/t/{value}/status", f"/openid4vp/t/{value}"):
            seen = onlooker.get(path)
            assert seen.status_code in (404, 405), path
            assert CLAIMS["title"] not in seen.get_data(as_text=True)
    # The employer's own page, without its cookie, is no page at all.
    assert onlooker.get(urlsplit(result_url(page)).path).status_code == 404


def test_whoever_saw_the_qr_code_cannot_answer_after_the_learners_wallet_fetched_it(app, client, make_issuer):
    issuer, stranger = make_issuer(), make_issuer()
    page, link = _new_request(client)
    learner_request = fetch_request(client, link)  # the learner's wallet opens the request first

    onlooker = app.test_client()
    params = link_params(link)
    if "request_uri" in params:
        again = onlooker.get(urlsplit(params["request_uri"]).path)
        assert again.status_code == 410
        assert "already opened" in again.get_json()["error_description"]
        stolen = {}
    else:
        stolen = fetch_request(onlooker, link)
    if stolen:  # what the QR code showed is enough to answer: the onlooker answers with his own credential
        presentation = stranger.present(paths=[("title",)], nonce=stolen["nonce"], audience=stolen["client_id"])
        assert post_answer(onlooker, stolen, {"microcredential": [presentation]}).status_code >= 400
    for guess in params.values():
        assert onlooker.post("/openid4vp/response", data={"state": guess, "vp_token": "{}"}).status_code == 400

    presentation = issuer.present(paths=[("title",), ("ects",), ("eqf_level",), ("learning_outcomes",)],
                                  nonce=learner_request["nonce"], audience=learner_request["client_id"])
    assert post_answer(client, learner_request, {"microcredential": [presentation]}).status_code == 200
    result = unescape(client.get(result_url(page)).get_data(as_text=True))
    assert overall(result) == "true"
    assert CLAIMS["title"] in result


def test_an_answer_with_one_of_four_claims_is_not_verified(client, make_issuer):
    issuer = make_issuer()
    page, link = _new_request(client)
    _, answered = _learner_answers(client, issuer, link, paths=[("title",)])
    assert answered.status_code == 200
    result = unescape(client.get(result_url(page)).get_data(as_text=True))
    assert overall(result) == "false"
    problems = re.search(r'id="stack-problems".*?</section>', result, re.S).group(0)
    for name in ("ects", "eqf_level", "learning_outcomes"):
        assert name in problems


def test_the_redirect_shows_the_result_only_to_the_browser_that_made_the_request(app, client, make_issuer):
    issuer = make_issuer()
    page, link = _new_request(client)
    _, answered = _learner_answers(client, issuer, link)
    redirect_uri = answered.get_json()["redirect_uri"]
    assert "/openid4vp/done?response_code=" in redirect_uri
    done = urlsplit(redirect_uri)
    own = unescape(client.get(f"{done.path}?{done.query}").get_data(as_text=True))
    assert overall(own) == "true"
    assert CLAIMS["title"] in own

    other = app.test_client().get(f"{done.path}?{done.query}")
    assert other.status_code == 200
    text = other.get_data(as_text=True)
    assert "The answer was sent" in text
    assert CLAIMS["title"] not in text
    assert 'http-equiv="refresh"' in text  # one same-site retry: a cross-site redirect carries no Strict cookie
    retried = app.test_client().get(f"{done.path}?{done.query}&again=1").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in retried
    assert "The answer was sent" in app.test_client().get("/openid4vp/done?response_code=made-up-code-123456").text


def test_the_page_secret_is_an_httponly_strict_cookie_and_never_the_state(client):
    created = client.post("/openid4vp/new", data={"claim": ["title"]})
    cookie = created.headers["Set-Cookie"]
    page_id = urlsplit(created.location).path.rsplit("/", 1)[1]
    assert cookie.startswith(f"oid4vp_{page_id}=")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/openid4vp"):
        assert flag in cookie
    page = unescape(client.get(created.location).get_data(as_text=True))
    link = request_text(page)
    request = fetch_request(client, link)
    request_id = urlsplit(link_params(link)["request_uri"]).path.rsplit("/", 1)[1]
    secret = cookie.split(";", 1)[0].split("=", 1)[1]
    names = {page_id, request_id, request["state"], request["nonce"], secret}
    assert len(names) == 5
    assert request["state"] not in page
    assert secret not in page
    assert page_id not in link
