"""Send the answer to the verifier's ``response_uri`` (OpenID4VP 1.0 §8.2 ``direct_post``, §8.3 encrypted).

- ``direct_post``: a form with ``vp_token`` (JSON text: query id → list of
  presentations) and ``state``.
- ``direct_post.jwt``: a form with one ``response`` field, a compact JWE
  (RFC 7516) encrypted to the verifier's key from ``client_metadata.jwks``:
  ``alg`` ECDH-ES (RFC 7518 §4.6, direct key agreement, an ephemeral ``epk``
  per answer), ``enc`` as chosen when the request was read (A128GCM by
  default, A256GCM), ``kid`` the verifier key's; the payload is the JSON
  object ``{"vp_token": {...}, "state": "..."}``.
- Errors (``error``, ``error_description``, ``state``) go as plain form fields
  in either mode (§8.5).

The verifier answers 200 with a JSON object; its ``redirect_uri`` (§8.2) is
where the learner's browser goes next (same-device), if the wallet would
fetch such a URL at all. Redirects from the response URI are not followed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from jwcrypto import jwe, jwk

from infra.errors import FetchError, FetchRefused
from wallet.oid4vp.request import MODE_DIRECT_POST_JWT, EncryptionKey, PresentationRequest
from wallet.transport import Client

__all__ = ["encrypt_response", "send_response", "send_error"]

_log = logging.getLogger(__name__)
_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


def encrypt_response(payload: Mapping[str, Any], key: EncryptionKey) -> str:
    """``payload`` as a compact JWE for the verifier's ``key`` (ECDH-ES, ``key.enc``, ``kid``)."""
    protected = {"alg": "ECDH-ES", "enc": key.enc, "kid": key.kid}
    token = jwe.JWE(json.dumps(dict(payload), separators=(",", ":")).encode("utf-8"),
                    protected=json.dumps(protected))
    token.add_recipient(jwk.JWK(**key.jwk))
    return str(token.serialize(compact=True))


def _post(client: Client, request: PresentationRequest, form: Mapping[str, str]) -> str | None:
    response = client.request("POST", request.response_uri, what="verifier", body=urlencode(form).encode("utf-8"),
                              headers=_FORM)
    if response.status >= 400 or 300 <= response.status < 400:
        failed = "failed to take" if response.status >= 500 else "refused"
        raise FetchError.of_status(f"the verifier {failed} the answer (HTTP {response.status})", response.status)
    try:
        answer = json.loads(response.body) if response.body.strip() else None
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        answer = None
    redirect = answer.get("redirect_uri") if isinstance(answer, Mapping) else None
    if redirect is None:
        return None
    try:  # the answer was delivered either way: a redirect the wallet would not follow is dropped, not an error
        return client.check(redirect, "redirect_uri")
    except FetchRefused as exc:
        _log.info("not following the verifier's redirect_uri: %s", exc)
        return None


def send_response(client: Client, request: PresentationRequest, vp_token: Mapping[str, list[Any]]) -> str | None:
    """POST the answer in the request's response mode; the verifier's ``redirect_uri`` if it gave one."""
    if request.response_mode == MODE_DIRECT_POST_JWT:
        if request.encryption is None:  # parse_request never leaves it so; fail closed all the same
            raise FetchRefused("the request asks for an encrypted answer but has no key; nothing was sent")
        payload: dict[str, Any] = {"vp_token": dict(vp_token)}
        if request.state is not None:
            payload["state"] = request.state
        return _post(client, request, {"response": encrypt_response(payload, request.encryption)})
    form = {"vp_token": json.dumps(dict(vp_token), separators=(",", ":"))}
    if request.state is not None:
        form["state"] = request.state
    return _post(client, request, form)


def send_error(client: Client, request: PresentationRequest, error: str, description: str) -> str | None:
    """Tell the verifier why there is no answer (``access_denied``, ``invalid_request``…), as plain form fields."""
    form = {"error": error, "error_description": description[:300]}
    if request.state is not None:
        form["state"] = request.state
    return _post(client, request, form)
