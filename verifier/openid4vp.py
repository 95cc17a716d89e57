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

Transactions live in the shared store (:mod:`infra.store`: SQLite in the data
dir, or Redis), so a request created by one worker or instance is answered
through any other, with no sticky sessions. A waiting request is kept for
:data:`REQUEST_LIFETIME_S` (then reported expired); the wallet's answer pops
it atomically, so of two answers racing for one ``state`` only one is
verified; the outcome is kept for :data:`ANSWER_LIFETIME_S` for the result page.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

import segno
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from credentials.errors import InvalidInput
from credentials.jose import json_loads
from credentials.microcredential import CLAIM_LABELS, MICRO_CREDENTIAL_VCT, MICROCRED_CLAIMS
from credentials.verification_model import CheckResult, TrustLink, VerificationResult
from verifier.context import current_service, service_of
from verifier.pages import render_result

__all__ = ["bp", "CREDENTIAL_QUERY_ID", "REQUEST_SCHEME", "REQUEST_LIFETIME_S", "ANSWER_LIFETIME_S",
           "CLIENT_ID_PREFIX", "PendingRequest", "dcql_query", "request_url", "transaction"]

bp = Blueprint("openid4vp", __name__, url_prefix="/openid4vp")

REQUEST_SCHEME = "openid4vp://"
CLIENT_ID_PREFIX = "redirect_uri:"
CREDENTIAL_QUERY_ID = "microcredential"
SD_JWT_VC_FORMAT = "dc+sd-jwt"
REQUEST_LIFETIME_S = 300
ANSWER_LIFETIME_S = 30 * 60
DEFAULT_CLAIMS = ("title", "ects", "eqf_level")
#: Store namespaces: requests waiting for the wallet, and requests answered (or being answered).
_WAITING, _ANSWERED = "openid4vp-waiting", "openid4vp-answered"
#: What :func:`_fresh` makes; anything else is no state of ours and is never looked up.
_STATE = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass
class PendingRequest:
    state: str
    nonce: str
    client_id: str
    response_uri: str
    claims: tuple[str, ...]
    created: float  # wall-clock seconds: compared across processes and machines
    result: VerificationResult | None = None
    presentation: str | None = None
    answered_at: int | None = None
    wallet_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expired(self, now: float) -> bool:
        return self.answered_at is None and now - self.created > REQUEST_LIFETIME_S

    def to_json(self) -> str:
        record = {**asdict(self), "result": None}
        if self.result is not None:
            result = self.result
            record["result"] = {"format": result.format, "checks": [asdict(c) for c in result.checks],
                                "issuer": result.issuer, "claims": result.claims, "status": result.status,
                                "trust_chain": [asdict(link) for link in result.trust_chain],
                                "holder_binding": result.holder_binding}
        return json.dumps(record, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PendingRequest:
        record = json.loads(text)
        result = record.pop("result")
        if result is not None:
            result = VerificationResult(result["format"], tuple(CheckResult(**c) for c in result["checks"]),
                                        result["issuer"], result["claims"], result["status"],
                                        tuple(TrustLink(**link) for link in result["trust_chain"]),
                                        result["holder_binding"])
        return cls(**{**record, "claims": tuple(record["claims"]), "result": result})


def transaction(app: Any, state: str) -> PendingRequest | None:
    """The request ``state`` as the shared store holds it now (answered or waiting), or None."""
    if not isinstance(state, str) or not _STATE.fullmatch(state):
        return None
    store = service_of(app).store
    # Answered first, waiting next, answered again: an answer moving it between the two is not missed.
    for namespace in (_ANSWERED, _WAITING, _ANSWERED):
        raw = store.get(namespace, state)
        if raw is not None:
            return PendingRequest.from_json(raw)
    return None


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
    service = current_service()
    pending = PendingRequest(state=_fresh(), nonce=_fresh(), client_id=CLIENT_ID_PREFIX + response_uri,
                             response_uri=response_uri, claims=chosen, created=service.clock())
    # Kept twice its lifetime, so that the waiting page can still be told "expired".
    service.store.put(_WAITING, pending.state, pending.to_json(), REQUEST_LIFETIME_S * 2)
    return redirect(url_for("openid4vp.show", state=pending.state), code=303)


def _pending_or_404(state: str) -> PendingRequest:
    pending = transaction(current_app, state)
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
    return jsonify({"state": "expired" if pending.expired(current_service().clock()) else "waiting"})


@bp.get("/<state>/result")
def result(state: str):
    pending = _pending_or_404(state)
    if pending.wallet_error is not None:
        return render_template("error.html", code=200, title="Cannot check this",
                               message=f"The wallet declined: {pending.wallet_error}")
    if pending.result is None:
        return redirect(url_for("openid4vp.show", state=state), code=303)
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
    service = current_service()
    unknown = jsonify({"error": "invalid_request", "error_description": "unknown, used or expired state"}), 400
    waiting = service.store.get(_WAITING, state) if _STATE.fullmatch(state) else None
    if waiting is None or PendingRequest.from_json(waiting).expired(service.clock()):
        return unknown
    wallet_error, presentation = request.form.get("error"), ""  # a presentation unless the wallet sent an error
    if not wallet_error:
        vp_token = request.form.get("vp_token")
        if not vp_token:
            return jsonify({"error": "invalid_request", "error_description": "vp_token is missing"}), 400
        try:
            presentation = _presentation_of(vp_token)
        except InvalidInput as exc:
            return jsonify({"error": "invalid_request", "error_description": str(exc)}), 400
    claimed = service.store.pop(_WAITING, state)  # atomic: of two answers racing, one alone gets it
    if claimed is None:
        return unknown
    pending = PendingRequest.from_json(claimed)
    now = int(service.clock())
    pending.answered_at = now
    if wallet_error:
        pending.wallet_error = (request.form.get("error_description") or wallet_error)[:300]
        service.store.put(_ANSWERED, state, pending.to_json(), ANSWER_LIFETIME_S)
        return jsonify({})
    service.store.put(_ANSWERED, state, pending.to_json(), ANSWER_LIFETIME_S)  # "being answered", not expired
    outcome = service.verify(presentation, nonce=pending.nonce, audience=pending.client_id, now=now)
    pending.presentation, pending.result = presentation, outcome
    service.store.put(_ANSWERED, state, pending.to_json(), ANSWER_LIFETIME_S)
    return jsonify({})
