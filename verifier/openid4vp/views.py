"""The OpenID4VP routes of the verifier: the employer's pages, the Request URI, the Response URI, ``/done``.

OpenID4VP 1.0 with the HAIP 1.0 choices, request by reference (RFC 9101
``request_uri``, §5.7 of OpenID4VP: the QR code holds only ``client_id`` and
``request_uri``), Response Modes ``direct_post.jwt`` (default) and
``direct_post`` (§8.2, §8.3.1), session-fixation defences of §13.3 / §14.2.

====================================  =====================================================================
``GET  /openid4vp/new``               the form (:mod:`verifier.openid4vp.query_form`)
``POST /openid4vp/new``               makes a transaction, sets the page's secret cookie, 303 to the page
``GET  /openid4vp/t/<page_id>``       the QR code and the waiting note (cookie required)
``GET  /openid4vp/t/<page_id>/qr.png`` the QR code as an image (cookie required)
``GET  /openid4vp/t/<page_id>/status`` ``{"state": waiting | opened | checking | answered | expired}`` (cookie)
``GET  /openid4vp/t/<page_id>/result`` the outcome (cookie required)
``GET  /openid4vp/request/<request_id>`` the Request Object, once (410 afterwards)
``POST /openid4vp/response``          the wallet's answer; ``200 {"redirect_uri": …/done?response_code=…}``
``GET  /openid4vp/done``              the outcome for the browser holding the cookie; a plain note for anyone else
====================================  =====================================================================

The cookie ``oid4vp_<page_id>`` (HttpOnly, SameSite=Strict, Path=/openid4vp,
Secure over https) holds the transaction's secret; without it every page of
the transaction is 404 "no such request".
"""

from __future__ import annotations

import io
import secrets
from typing import Any
from urllib.parse import urlencode

import segno
from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from credentials.errors import OAuthError
from credentials.microcredential import CLAIM_LABELS
from infra.settings import settings_of
from verifier.api import count_members
from verifier.context import current_service
from verifier.openid4vp.answers import ENC_VALUES, new_encryption_key, public_encryption_jwk, read_answer
from verifier.openid4vp.identity import ClientIdentity, load_identity
from verifier.openid4vp.outcome import render_outcome, request_problems
from verifier.openid4vp.query_form import DEFAULT_CLAIMS, FORM_CLAIMS, SLOTS, VALUE_CHOICES, describe, read_form
from verifier.openid4vp.transactions import (
    ANSWER_LIFETIME_S,
    REQUEST_LIFETIME_S,
    Answer,
    Transaction,
    TransactionStore,
    digest,
    fresh,
)

__all__ = ["bp", "REQUEST_SCHEME", "COOKIE_PREFIX", "SELF_ISSUED_AUDIENCE", "identity_of", "transactions_of",
           "request_link"]

bp = Blueprint("openid4vp", __name__, url_prefix="/openid4vp")

REQUEST_SCHEME = "openid4vp://"
COOKIE_PREFIX = "oid4vp_"
#: §5.8: the Request Object's ``aud`` under static discovery.
SELF_ISSUED_AUDIENCE = "https://self-issued.me/v2"
REQUEST_OBJECT_TYPE = "application/oauth-authz-req+jwt"
#: What a wallet's answer is posted as (§8.2: a form; a multipart form is read the same way).
ANSWER_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_IDENTITY = "microcred_openid4vp_identity"
#: §11 / B.3 of OpenID4VP: what this verifier accepts for SD-JWT VCs (ARCHITECTURE.md: ES256, EdDSA).
VP_FORMATS = {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256", "EdDSA"], "kb-jwt_alg_values": ["ES256", "EdDSA"]}}


@bp.record_once
def _load_identity(state: Any) -> None:
    """Checked once when the app is built: a certificate that does not fit stops start-up (ConfigurationError)."""
    app = state.app
    app.extensions[_IDENTITY] = load_identity(settings_of(app), now=int(app.extensions["microcred_verifier"].clock()))


def identity_of(app: Any) -> ClientIdentity:
    return app.extensions[_IDENTITY]


def transactions_of(app: Any) -> TransactionStore:
    return TransactionStore(app.extensions["microcred_verifier"].store)


def _base_url() -> str:
    configured = current_app.config.get("VERIFIER_PUBLIC_URL")
    return (configured or request.host_url).rstrip("/")


def request_link(tx: Transaction) -> str:
    """What the QR code holds: ``openid4vp://?client_id=…&request_uri=…`` (§5.7; method get, RFC 9101)."""
    return REQUEST_SCHEME + "?" + urlencode({
        "client_id": tx.client_id,
        "request_uri": f"{tx.base_url}{url_for('openid4vp.request_object', request_id=tx.request_id)}"})


@bp.get("/new")
def new():
    labels = {name: CLAIM_LABELS.get(name, name) for name in FORM_CLAIMS}
    return render_template("openid4vp_new.html", slots=range(1, SLOTS + 1), claims=FORM_CLAIMS, labels=labels,
                           defaults=DEFAULT_CLAIMS, value_choices=VALUE_CHOICES,
                           default_mode=current_app.config["VERIFIER_RESPONSE_MODE"])


@bp.post("/new")
def create():
    asked = read_form(request.form, default_mode=current_app.config["VERIFIER_RESPONSE_MODE"])
    service, identity = current_service(), identity_of(current_app)
    base = _base_url()
    response_uri = base + url_for("openid4vp.response")
    secret = secrets.token_urlsafe(32)
    jwt_mode = asked.response_mode == "direct_post.jwt"
    tx = Transaction(page_id=fresh(), secret_hash=digest(secret), request_id=fresh(), state=fresh(), nonce=fresh(),
                     client_id=identity.client_id(response_uri), base_url=base, response_uri=response_uri,
                     response_mode=asked.response_mode, dcql=asked.query.to_json(), asking=describe(asked.query),
                     created=service.clock(), enc_key=new_encryption_key(fresh()) if jwt_mode else None)
    transactions_of(current_app).create(tx)
    answer = redirect(url_for("openid4vp.show", page_id=tx.page_id), code=303)
    answer.set_cookie(COOKIE_PREFIX + tx.page_id, secret, max_age=REQUEST_LIFETIME_S * 2 + ANSWER_LIFETIME_S,
                      path="/openid4vp", secure=request.is_secure, httponly=True, samesite="Strict")
    return answer


def _own_transaction(page_id: str) -> Transaction:
    """The transaction of this page, for the browser that made it (its cookie); 404 for anyone else."""
    tx = transactions_of(current_app).load(page_id)
    if tx is None or not tx.secret_matches(request.cookies.get(COOKIE_PREFIX + page_id)):
        abort(404, description="no such request; it may have expired")
    return tx


@bp.get("/t/<page_id>")
def show(page_id: str):
    tx = _own_transaction(page_id)
    return render_template("openid4vp_show.html", tx=tx, url=request_link(tx),
                           verifier=identity_of(current_app).describe(),
                           encrypted=tx.response_mode == "direct_post.jwt")


@bp.get("/t/<page_id>/qr.png")
def qr(page_id: str):
    tx = _own_transaction(page_id)
    image = io.BytesIO()
    segno.make(request_link(tx), error="m").save(image, kind="png", scale=4, border=4)
    return Response(image.getvalue(), mimetype="image/png")


@bp.get("/t/<page_id>/status")
def status(page_id: str):
    tx = _own_transaction(page_id)
    transactions = transactions_of(current_app)
    if tx.answered_at is not None:
        return jsonify({"state": "answered" if tx.checked else "checking"})
    if tx.expired(current_service().clock()):
        return jsonify({"state": "expired"})
    return jsonify({"state": "opened" if transactions.opened(tx) else "waiting"})


@bp.get("/t/<page_id>/result")
def result(page_id: str):
    tx = _own_transaction(page_id)
    if not tx.checked:
        return redirect(url_for("openid4vp.show", page_id=page_id), code=303)
    return render_outcome(tx)


@bp.get("/request/<request_id>")
def request_object(request_id: str):
    transactions = transactions_of(current_app)
    tx = transactions.by_request(request_id)
    now = current_service().clock()
    if tx is None:
        return _request_uri_error(404, "no such request; it may have expired")
    if tx.answered_at is not None or tx.expired(now):
        return _request_uri_error(410, "this request is no longer open; ask the verifier for a new one")
    if not transactions.serve_once(tx):
        return _request_uri_error(410, "this request was already opened by a wallet; whoever saw the QR code "
                                       "cannot open it again; ask the verifier for a new one")
    payload: dict[str, Any] = {
        "client_id": tx.client_id, "response_type": "vp_token", "response_mode": tx.response_mode,
        "response_uri": tx.response_uri, "nonce": tx.nonce, "state": tx.state, "dcql_query": tx.dcql,
        "aud": SELF_ISSUED_AUDIENCE, "iat": int(now), "exp": int(now) + REQUEST_LIFETIME_S,
        "client_metadata": _client_metadata(tx)}
    return Response(identity_of(current_app).request_object(payload), mimetype=REQUEST_OBJECT_TYPE)


def _request_uri_error(status: int, description: str):
    """RFC 9101 §7 ``invalid_request_uri``, with the plain reason (a wallet stops at any error, §5.10.2)."""
    return jsonify({"error": "invalid_request_uri", "error_description": description}), status


def _client_metadata(tx: Transaction) -> dict[str, Any]:
    metadata: dict[str, Any] = {"vp_formats_supported": VP_FORMATS}
    if tx.enc_key is not None:
        metadata["jwks"] = {"keys": [public_encryption_jwk(tx.enc_key)]}
        metadata["encrypted_response_enc_values_supported"] = list(ENC_VALUES)
    return metadata


@bp.post("/response")
def response():
    service = current_service()
    transactions = transactions_of(current_app)
    now = service.clock()
    if request.mimetype not in ANSWER_CONTENT_TYPES:
        raise OAuthError("invalid_request", "the answer must be sent as application/x-www-form-urlencoded "
                                            f"(OpenID4VP direct_post); found {request.mimetype[:60] or 'none'}")
    answer = read_answer(request.form, transactions, now)
    tx = answer.tx
    if answer.vp_token is not None:  # the request counted one verification; each further presentation one more
        count_members([text for texts in answer.vp_token.values() for text in texts])
    if not transactions.claim_answer(tx):  # atomic: of two answers racing, one alone gets it
        raise OAuthError("invalid_request", "this request was already answered")
    tx.answered_at, tx.enc_key = int(now), None  # the ephemeral key has done its work
    if answer.vp_token is None:
        tx.wallet_error = (answer.error_description or answer.error or "")[:300]
        tx.checked = True
    else:
        transactions.save(tx)  # "checking": answered, not expired
        sent = [(query, text) for query, texts in answer.vp_token.items() for text in texts]
        results = service.verify_members([text for _, text in sent], nonce=tx.nonce, audience=tx.client_id,
                                         now=int(now))  # presentations, never links to fetch
        tx.answers = [Answer(query, text, result) for (query, text), result in zip(sent, results, strict=True)]
        tx.problems = request_problems(tx)
        tx.checked = True
    transactions.save(tx)
    code = transactions.new_response_code(tx)
    return jsonify({"redirect_uri": f"{tx.base_url}{url_for('openid4vp.done')}?"
                                    + urlencode({"response_code": code})})


@bp.get("/done")
def done():
    """Where the wallet sends the learner's browser (§8.2 ``redirect_uri``): the outcome for the browser that
    made the request; a note for any other. A cross-site redirect does not carry SameSite=Strict cookies, so a
    browser without one is sent here once more, now from this site (a meta refresh), before it is told so."""
    code = request.args.get("response_code", "")
    tx = transactions_of(current_app).by_response_code(code)
    if tx is not None and tx.checked and tx.secret_matches(request.cookies.get(COOKIE_PREFIX + tx.page_id)):
        return render_outcome(tx)
    again = None
    if not request.args.get("again") and tx is not None:
        again = url_for("openid4vp.done", response_code=code, again="1")
    return render_template("openid4vp_done.html", again=again)
