"""A minimal OpenID4VP wallet for the verifier's tests, written from OpenID4VP 1.0 (not from the verifier's code).

It works through a Flask test client or anything with ``get(path)`` / ``post(path, data=)``
answering like ``requests``. It reads the request text the employer's page shows (``id="request-url"``),
fetches the Request Object when the link is by reference (RFC 9101; checks
``typ``, ``client_id`` and the signature: the ``x5c`` leaf, a did:jwk ``kid``,
or ``alg: none``), or takes the parameters as they are when the request is by
value, and answers: ``direct_post.jwt`` (a JWE made with jwcrypto, ECDH-ES to
the ``client_metadata`` key) or ``direct_post`` (form fields).
"""

from __future__ import annotations

import base64
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from jwcrypto import jwe, jwk

from credentials.dids import resolve_public_key
from credentials.jose import PublicKey, b64url_decode, verify_jws

__all__ = ["request_text", "link_params", "fetch_request", "answer_form", "post_answer", "result_url",
           "jwe_answer"]


def request_text(page: str) -> str:
    """The request the employer's page shows (what its QR code holds)."""
    return unescape(re.search(r'id="request-url">([^<]+)<', page).group(1))


def result_url(page: str) -> str:
    return unescape(re.search(r'data-result-url="([^"]+)"', page).group(1))


def link_params(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


def _decode(part: str) -> dict:
    return json.loads(b64url_decode(part))


def fetch_request(client, link: str) -> dict:
    """The authorization request behind ``link``: fetched and checked when by reference, as given when by value."""
    params = link_params(link)
    if "request_uri" not in params:
        return {**params, "dcql_query": json.loads(params["dcql_query"])}
    answer = client.get(urlsplit(params["request_uri"]).path)
    token = answer.get_data(as_text=True) if hasattr(answer, "get_data") else answer.text  # Flask's or requests'
    assert answer.status_code == 200, token
    assert answer.headers["Content-Type"].split(";")[0] == "application/oauth-authz-req+jwt"
    header = _decode(token.split(".")[0])
    assert header["typ"] == "oauth-authz-req+jwt"
    if header["alg"] == "none":
        payload = _decode(token.split(".")[1])
        assert token.endswith(".")
    else:
        if "x5c" in header:
            leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            key = PublicKey.from_cryptography(leaf.public_key())
        else:
            key = resolve_public_key(header["kid"])
        payload = verify_jws(token, key, expected_typ=("oauth-authz-req+jwt",)).payload
    assert payload["client_id"] == params["client_id"]
    return {**payload, "_header": header}


def jwe_answer(request: dict, payload: dict, *, enc: str = "A128GCM", alg: str = "ECDH-ES",
               kid: str | None = None, extra_header: dict | None = None) -> str:
    key = request["client_metadata"]["jwks"]["keys"][0]
    header = {"alg": alg, "enc": enc, "kid": kid or key["kid"], **(extra_header or {})}
    message = jwe.JWE(json.dumps(payload).encode(), protected=json.dumps(header))
    message.add_recipient(jwk.JWK(**{k: v for k, v in key.items() if k in ("kty", "crv", "x", "y")}))
    return message.serialize(compact=True)


def answer_form(request: dict, vp_token: dict, **jwe_options) -> dict:
    """The form a wallet posts to ``response_uri`` for ``vp_token``, in the response mode the request asks."""
    if request["response_mode"] == "direct_post.jwt":
        return {"response": jwe_answer(request, {"vp_token": vp_token, "state": request["state"]}, **jwe_options)}
    return {"vp_token": json.dumps(vp_token), "state": request["state"]}


def post_answer(client, request: dict, vp_token: dict, **jwe_options):
    return client.post(urlsplit(request["response_uri"]).path, data=answer_form(request, vp_token, **jwe_options))
