"""OpenID4VP 1.0, verifier-initiated, same-device or cross-device by QR.

The request (OpenID for Verifiable Presentations 1.0, §5; passed by value in
the QR, §5.1; the ``redirect_uri`` Client Identifier Prefix, §5.9.3; Response
Mode ``direct_post``, §8.2; DCQL, §6)::

    openid4vp://?client_id=redirect_uri%3A<response_uri>
                &response_type=vp_token
                &response_mode=direct_post
                &response_uri=<base>/openid4vp/response
                &nonce=<fresh, 128 bits, base64url>
                &state=<fresh, 128 bits, base64url>
                &dcql_query=<JSON, URL-encoded>

    dcql_query = {"credentials": [{"id": "microcredential", "format": "dc+sd-jwt",
                   "meta": {"vct_values": ["urn:microcred:vct:micro-credential:1"]},
                   "claims": [{"path": ["title"]}, {"path": ["ects"]}, …]}]}

The wallet answers with an HTTP POST to ``response_uri``,
``application/x-www-form-urlencoded``, parameters ``vp_token`` (a JSON object
keyed by the DCQL credential query id, each value an array of presentations:
``{"microcredential": ["<SD-JWT>~…~<KB-JWT>"]}``, §8.1) and ``state``; or
``error`` / ``error_description`` / ``state`` when the learner declines. The
KB-JWT must carry ``nonce`` = the request's nonce and ``aud`` = the request's
``client_id`` (with its ``redirect_uri:`` prefix, §B.3.6). The verifier answers
``200 {}``; an unknown or used ``state`` gets ``400 {"error": "invalid_request"}``.

Pending requests live in this process's memory for :data:`REQUEST_LIFETIME_S`
(one ``microcred verifier serve`` process; behind several workers, route
``/openid4vp/`` to one of them).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from credentials.errors import InvalidInput
from credentials.jose import json_loads
from credentials.microcredential import CLAIM_LABELS, MICRO_CREDENTIAL_VCT, MICROCRED_CLAIMS
from credentials.verification_model import VerificationResult

__all__ = ["bp", "CREDENTIAL_QUERY_ID", "REQUEST_SCHEME", "REQUEST_LIFETIME_S", "CLIENT_ID_PREFIX",
           "PendingRequest", "dcql_query", "request_url"]

bp = Blueprint("openid4vp", __name__, url_prefix="/openid4vp")

REQUEST_SCHEME = "openid4vp://"
CLIENT_ID_PREFIX = "redirect_uri:"
CREDENTIAL_QUERY_ID = "microcredential"
SD_JWT_VC_FORMAT = "dc+sd-jwt"
REQUEST_LIFETIME_S = 300
DEFAULT_CLAIMS = ("title", "ects", "eqf_level")
_MAX_PENDING = 10_000


@dataclass
class PendingRequest:
    state: str
    nonce: str
    client_id: str
    response_uri: str
    claims: tuple[str, ...]
    created: float
    result: VerificationResult | None = None
    presentation: str | None = None
    answered_at: int | None = None
    wallet_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expired(self, now: float) -> bool:
        return self.result is None and self.wallet_error is None and now - self.created > REQUEST_LIFETIME_S


class _Store:
    def __init__(self) -> None:
        self._items: dict[str, PendingRequest] = {}
        self._lock = threading.Lock()

    def add(self, item: PendingRequest) -> None:
        with self._lock:
            if len(self._items) >= _MAX_PENDING:
                cutoff = time.monotonic() - REQUEST_LIFETIME_S * 2
                self._items = {k: v for k, v in self._items.items() if v.created > cutoff}
            self._items[item.state] = item

    def get(self, state: str) -> PendingRequest | None:
        with self._lock:
            return self._items.get(state)


def _store() -> _Store:
    return current_app.extensions.setdefault("microcred_openid4vp", _Store())


def dcql_query(claims: tuple[str, ...]) -> dict[str, Any]:
    """The DCQL query for a micro-credential disclosing ``claims`` (top-level claim names)."""
    return {"credentials": [{
        "id": CREDENTIAL_QUERY_ID, "format": SD_JWT_VC_FORMAT, "meta": {"vct_values": [MICRO_CREDENTIAL_VCT]},
        "claims": [{"path": [name]} for name in claims],
    }]}


def request_url(pending: PendingRequest) -> str:
    """The by-value authorization request a wallet scans."""
    return REQUEST_SCHEME + "?" + urlencode({
        "client_id": pending.client_id, "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": pending.response_uri, "nonce": pending.nonce, "state": pending.state,
        "dcql_query": json.dumps(dcql_query(pending.claims), separators=(",", ":")),
    })


def _qr_data_uri(text: str) -> str:
    import segno

    # svg_data_uri, not svg_inline: an <img> needs a standalone SVG (with its xmlns).
    return segno.make(text, error="m").svg_data_uri(scale=4, border=4)


def _base_url() -> str:
    configured = current_app.config.get("VERIFIER_PUBLIC_URL")
    return (configured or request.host_url).rstrip("/")


def _fresh() -> str:
    return secrets.token_urlsafe(16)


@bp.get("/new")
def new():
    choices = [(name, CLAIM_LABELS.get(name, name), name in DEFAULT_CLAIMS) for name in MICROCRED_CLAIMS]
    return render_template("openid4vp_new.html", choices=choices)


@bp.post("/new")
def create():
    chosen = tuple(name for name in MICROCRED_CLAIMS if name in request.form.getlist("claim"))
    if not chosen:
        raise InvalidInput("choose at least one thing to ask for")
    response_uri = _base_url() + url_for("openid4vp.response")
    pending = PendingRequest(state=_fresh(), nonce=_fresh(), client_id=CLIENT_ID_PREFIX + response_uri,
                             response_uri=response_uri, claims=chosen, created=time.monotonic())
    _store().add(pending)
    return redirect(url_for("openid4vp.show", state=pending.state), code=303)


def _pending_or_404(state: str) -> PendingRequest:
    pending = _store().get(state)
    if pending is None:
        abort(404, description="no such request; it may have expired")
    return pending


@bp.get("/<state>")
def show(state: str):
    pending = _pending_or_404(state)
    url = request_url(pending)
    labels = [CLAIM_LABELS.get(name, name) for name in pending.claims]
    return render_template("openid4vp_show.html", pending=pending, url=url, qr=_qr_data_uri(url), labels=labels)


@bp.get("/<state>/status")
def status(state: str):
    pending = _pending_or_404(state)
    if pending.result is not None or pending.wallet_error is not None:
        return jsonify({"state": "answered"})
    return jsonify({"state": "expired" if pending.expired(time.monotonic()) else "waiting"})


@bp.get("/<state>/result")
def result(state: str):
    pending = _pending_or_404(state)
    if pending.wallet_error is not None:
        return render_template("error.html", code=200, reason=f"The wallet declined: {pending.wallet_error}")
    if pending.result is None:
        return redirect(url_for("openid4vp.show", state=state), code=303)
    from verifier.pages import render_result

    return render_result(pending.result, pending.presentation or "", pending.answered_at or 0)


def _presentation_of(vp_token: str) -> str:
    token = json_loads(vp_token, what="vp_token")
    if not isinstance(token, dict) or not isinstance(token.get(CREDENTIAL_QUERY_ID), list):
        raise InvalidInput(f"vp_token must be a JSON object with a {CREDENTIAL_QUERY_ID!r} array of presentations")
    presentations = token[CREDENTIAL_QUERY_ID]
    if len(presentations) != 1 or not isinstance(presentations[0], str):
        raise InvalidInput(f"vp_token.{CREDENTIAL_QUERY_ID} must hold exactly one presentation string")
    return presentations[0]


@bp.post("/response")
def response():
    state = request.form.get("state", "")
    pending = _store().get(state) if state else None
    if pending is None or pending.result is not None or pending.wallet_error is not None \
            or pending.expired(time.monotonic()):
        return jsonify({"error": "invalid_request", "error_description": "unknown, used or expired state"}), 400
    if request.form.get("error"):
        pending.wallet_error = (request.form.get("error_description") or request.form["error"])[:300]
        return jsonify({})
    vp_token = request.form.get("vp_token")
    if not vp_token:
        return jsonify({"error": "invalid_request", "error_description": "vp_token is missing"}), 400
    try:
        presentation = _presentation_of(vp_token)
    except InvalidInput as exc:
        return jsonify({"error": "invalid_request", "error_description": str(exc)}), 400
    from verifier import service_of

    service = service_of(current_app)
    now = int(service.clock())
    outcome = service.verify(presentation, nonce=pending.nonce, audience=pending.client_id, now=now)
    pending.presentation, pending.answered_at, pending.result = presentation, now, outcome
    return jsonify({})
