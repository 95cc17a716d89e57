"""Public endpoints: Status List Tokens, metadata, credential offers, OpenID4VCI.

Status List Tokens at stable URLs (draft-ietf-oauth-status-list §8.1,
``application/statuslist+jwt``), each the version anchored on chain while a
newer one waits for its anchor (:func:`issuer.list_keeper.served_token`); the Open Badge twins' W3C Bitstring Status
List credentials at ``/status/bitstring/<id>`` (``application/vc+jwt``,
VC-JOSE-COSE §6.1); ``/.well-known/jwt-vc-issuer``
(draft-ietf-oauth-sd-jwt-vc §5); ``/.well-known/openid-credential-issuer``
and the pre-authorized code flow (OpenID4VCI 1.0, see :mod:`issuer.oid4vci`);
``/.well-known/oauth-authorization-server`` (RFC 8414).
"""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from credentials.errors import OAuthError
from infra.rate_limit import enforce, parse_rate_limit
from issuer.archive import LIST_KIND_BITSTRING, LIST_KIND_IETF
from issuer.list_keeper import served_token
from issuer.oid4vci import (
    authorization_server_metadata,
    credential_issuer_metadata,
    jwt_vc_issuer_metadata,
    offer_uri,
)
from issuer.service import STATUS_TTL
from issuer.web.context import get_oid4vci, get_service, now, template_context
from issuer.web.staff import shared_store as staff_store

__all__ = ["bp", "STATUS_LIST_MEDIA_TYPE", "BITSTRING_LIST_MEDIA_TYPE"]

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
BITSTRING_LIST_MEDIA_TYPE = "application/vc+jwt"
_MAX_BODY = 64 * 1024

bp = Blueprint("public", __name__)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


bp.app_context_processor(template_context)  # every page, error pages too, prints the issuer's name

#: The OpenID4VCI endpoints anyone may call, each a write to the archive (a nonce, a token, a credential):
#: counted per client against ``ISSUER_OID4VCI_RATE_LIMIT`` (429 with ``Retry-After`` past it).
_COUNTED = frozenset({"public.credential_offer", "public.token", "public.nonce", "public.credential"})


_LIMIT = "microcred_issuer_oid4vci_limit"


@bp.record_once
def _parse_limit(state: Any) -> None:
    """The limit is parsed once, when the app is made (the settings already checked it), not per request."""
    app = state.app
    app.extensions[_LIMIT] = parse_rate_limit(app.config["ISSUER_OID4VCI_RATE_LIMIT"],
                                              setting="MICROCRED_ISSUER_OID4VCI_RATE_LIMIT")


@bp.before_request
def _rate_limited() -> None:
    if request.endpoint not in _COUNTED:
        return
    enforce(staff_store(), "issuer-oid4vci", current_app.extensions[_LIMIT], request.remote_addr,
            what="credential requests")


def _list_response(list_id: str, kind: str, media_type: str) -> Response:
    """The token verifiers are to read (the anchored version while a newer one waits for its anchor); cached
    for :data:`STATUS_TTL` seconds, except while a newer version waits: a cache must not keep serving the old
    token once the chain holds the new one."""
    service = get_service()
    # One read for the token and its header: a token read while its successor waited, whose successor's anchor
    # is confirmed before a second read, would go out cacheable though the chain no longer holds its hash.
    record = service.archive.status_list(list_id)
    token = None if record is None or record.kind != kind else served_token(
        record, ledger=service.anchor is not None, now=now())
    if record is None or token is None:
        abort(404)
    response = Response(token, mimetype=media_type)
    waiting = service.anchor is not None and record.anchor_pending
    response.headers["Cache-Control"] = "no-cache" if waiting else f"public, max-age={STATUS_TTL}"
    return response


def list_endpoint(kind: str) -> str:
    """The endpoint serving a status list of ``kind``: each kind has its own URL (the registrar's and the home
    page's links)."""
    return "public.bitstring_status_list" if kind == LIST_KIND_BITSTRING else "public.status_list"


@bp.get("/status/<list_id>")
def status_list(list_id: str) -> Response:
    return _list_response(list_id, LIST_KIND_IETF, STATUS_LIST_MEDIA_TYPE)


@bp.get("/status/bitstring/<list_id>")
def bitstring_status_list(list_id: str) -> Response:
    return _list_response(list_id, LIST_KIND_BITSTRING, BITSTRING_LIST_MEDIA_TYPE)


@bp.get("/.well-known/jwt-vc-issuer")
def jwt_vc_issuer() -> Response:
    service = get_service()
    return jsonify(jwt_vc_issuer_metadata(service.identity, service.signing_key.public_key()))


@bp.get("/.well-known/openid-credential-issuer")
def openid_credential_issuer() -> Response:
    return jsonify(credential_issuer_metadata(get_service().identity))


@bp.get("/.well-known/oauth-authorization-server")
def oauth_authorization_server() -> Response:
    return jsonify(authorization_server_metadata(get_service().identity))


@bp.get("/credential-offer/<offer_id>")
def credential_offer(offer_id: str) -> Response:
    return _no_store(jsonify(get_oid4vci().offer_document(offer_id, now=now())))


def _offer_or_404(offer_id: str) -> dict[str, Any]:
    offer = get_service().archive.offer(offer_id)
    if offer is None or offer["expires_at"] <= now() or offer["access_token_sha256"]:
        abort(404)
    return offer


@bp.get("/offers/<offer_id>")
def offer_page(offer_id: str) -> str:
    offer = _offer_or_404(offer_id)
    service = get_service()
    record = service.archive.credential(offer["credential_id"])
    return render_template("offer.html", identity=service.identity, record=record, offer_id=offer_id,
                           offer_uri=offer_uri(service.identity, offer_id))


@bp.get("/offers/<offer_id>/qr.svg")
def offer_qr(offer_id: str) -> Response:
    _offer_or_404(offer_id)
    buffer = io.BytesIO()
    segno.make(offer_uri(get_service().identity, offer_id), error="m").save(buffer, kind="svg", scale=6, border=2)
    return _no_store(Response(buffer.getvalue(), mimetype="image/svg+xml"))


@bp.post("/token")
def token() -> Response:
    return _no_store(jsonify(get_oid4vci().token(request.form, now=now())))


@bp.post("/nonce")
def nonce() -> Response:
    return _no_store(jsonify(get_oid4vci().nonce(now=now())))


@bp.post("/credential")
def credential() -> Response:
    # A body sent in chunks has no Content-Length: at most one byte past the limit is read, to tell.
    request.max_content_length = _MAX_BODY + 1
    if (request.content_length or 0) > _MAX_BODY or len(request.get_data(cache=True)) > _MAX_BODY:
        raise OAuthError("invalid_credential_request", f"the request is over {_MAX_BODY} bytes")
    body = request.get_json(silent=True)
    if body is None:
        raise OAuthError("invalid_credential_request", "expected a JSON body (Content-Type: application/json)")
    return _no_store(jsonify(get_oid4vci().credential(request.headers.get("Authorization"), body, now=now())))
