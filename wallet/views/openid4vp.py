"""OpenID4VP: review a verifier's request (who asks, why, exactly what), choose, consent, send.

The request is read once (:func:`wallet.oid4vp.parse_request`) when the
learner presses Continue, kept for :data:`PENDING_LIFETIME`, and shown as a
consent page (:mod:`wallet.oid4vp.consent`). Sending builds one presentation
per chosen credential, each bound to the request's nonce and to the full
client_id (SD-JWT VC: KB-JWT ``aud``/``nonce``; whole credentials: a
holder-signed VP), and posts them (:func:`wallet.oid4vp.send_response`); a
``redirect_uri`` in the verifier's answer takes the browser there (from the
"sent" page: a form's cross-site redirect is stopped by the CSP). Declining
sends ``error=access_denied``; a request the wallet refuses once the verifier
is known (``transaction_data``, an unusable key…) sends ``error=invalid_request``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from credentials.errors import InvalidInput, MicrocredError, VerificationError
from infra.errors import FetchError, FetchRefused
from infra.i18n import N_
from infra.web_errors import public_message, status_of
from wallet.db import get_db
from wallet.freshness import refresh_shown, shown_state
from wallet.holding import holder_key_for, private_holder_key
from wallet.import_limits import openid4vp_refused
from wallet.oid4vp import PresentationRequest, parse_request, send_error, send_response
from wallet.oid4vp.consent import build_page, choose
from wallet.oid4vp.verifier_id import NO_VERIFIER_ANCHORS
from wallet.presenting import MODE_OPENID4VP, create_share, create_whole_share, holder_of, issuance_proof_of, preview
from wallet.security import FORM_ID_FIELD, claim_form, login_required, now
from wallet.transport import client_from_config
from wallet.vault import holder_secret

__all__ = ["bp", "PENDING_LIFETIME", "start_review"]

bp = Blueprint("openid4vp", __name__, url_prefix="/openid4vp")

#: How long a reviewed request waits for the learner's decision (seconds).
PENDING_LIFETIME = 600
_WHOLE_DISCLOSED = [{"label": "Shared whole", "value": "everything the credential contains"}]


def _rows() -> list[dict[str, Any]]:
    cursor = get_db().execute("SELECT * FROM credentials WHERE account_id = ? ORDER BY id DESC", [g.account["id"]])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _load_pending(request_id: str) -> PresentationRequest:
    row = get_db().execute(
        "SELECT request, expires_at, answered_at FROM vp_requests WHERE id = ? AND account_id = ?",
        [request_id, g.account["id"]],
    ).fetchone()
    if row is None:
        abort(404, description=N_("There is no such request; scan the verifier's code again."))
    if row[2] is not None:
        abort(409, description=N_("You already answered this request."))
    if row[1] <= now():
        abort(410, description=N_("This request has expired; ask the verifier for a new code."))
    try:
        return PresentationRequest.from_json(row[0])
    except (KeyError, TypeError, ValueError):  # kept by an earlier version of the wallet, in another shape
        abort(410, description=N_("This request can no longer be answered; scan the verifier's code again."))


def _tell_verifier(presentation_request: PresentationRequest, error: str, description: str) -> str | None:
    """Best effort: the verifier learns why there is no answer; its redirect_uri, if it gave one."""
    try:
        return send_error(client_from_config(current_app.config), presentation_request, error, description)
    except MicrocredError:
        current_app.logger.info("could not tell the verifier %s", error)
        return None


@bp.get("/review")
@login_required
def review():
    """A link opened on the phone: confirm before the wallet contacts anyone (no fetch on GET)."""
    return render_template("openid4vp/open.html", request_text=request.args.get("request", "")[:4096])


@bp.post("/review")
@login_required
def start():
    return start_review(request.form.get("request", ""))


def start_review(text: str):
    """Fetch and check the request, keep it for the learner's decision, show the consent page.

    Counted against the client's ``MICROCRED_WALLET_OPENID4VP_RATE_LIMIT`` first: each read fetches from wherever
    the scanned code points."""
    refused = openid4vp_refused()
    if refused is not None:
        return refused
    anchors = current_app.extensions.get("microcred_verifier_anchors")
    try:
        presentation_request = parse_request(text, client_from_config(current_app.config), now=now(),
                                             anchors=anchors)
    except (VerificationError, InvalidInput, FetchError) as exc:  # InvalidInput: FetchRefused too
        reason = public_message(exc)
        return render_template("openid4vp/refused.html", reason=reason, told=False,
                               no_anchors=NO_VERIFIER_ANCHORS in reason), status_of(exc)
    if presentation_request.refusal:
        _tell_verifier(presentation_request, "invalid_request", presentation_request.refusal)
        return render_template("openid4vp/refused.html", reason=f"This wallet will not answer it: "
                               f"{presentation_request.refusal}.", told=True, no_anchors=False), 400
    request_id = secrets.token_urlsafe(12)
    expires_at = min(presentation_request.expires_at or now() + PENDING_LIFETIME, now() + PENDING_LIFETIME)
    db = get_db()
    with db.atomic():
        db.execute(
            "INSERT INTO vp_requests (id, account_id, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            [request_id, g.account["id"], presentation_request.to_json(), now(), expires_at],
        )
    return redirect(url_for("openid4vp.consent", request_id=request_id))


@bp.get("/<request_id>")
@login_required
def consent(request_id: str):
    presentation_request = _load_pending(request_id)
    checking = frozenset(refresh_shown(shown_state(get_db(), g.account["id"])))  # stale badges checked again first
    page = build_page(presentation_request.query, _rows(), now=now(), preview=preview, checking=checking)
    return render_template("openid4vp/consent.html", request_id=request_id, req=presentation_request, page=page)


def _presentation(db: Any, presentation_request: PresentationRequest, chosen: Any) -> tuple[Any, str]:
    """One presentation bound to the request's nonce and the full client_id, and the id of its share (recorded)."""
    row = chosen.row
    key = private_holder_key(holder_secret(),
                             holder_key_for(db, g.account["id"], row["holder_key_id"]))
    common = {"account_id": g.account["id"], "credential_id": row["id"], "holder_key": key, "link_base": "",
              "now": now(), "audience": presentation_request.client_id, "nonce": presentation_request.nonce,
              "mode": MODE_OPENID4VP}
    if chosen.paths is not None:
        share = create_share(db, holder=holder_of(row), paths=list(chosen.paths), lifetime=0,
                             **common)
        return share.presentation, share.id
    credential = row["raw"] if row["format"] == "jwt_vc" else json.loads(row["raw"])
    share = create_whole_share(db, credential=credential, disclosed=_WHOLE_DISCLOSED, lifetime=PENDING_LIFETIME,
                               issuance_proof=issuance_proof_of(row), **common)
    return (share.presentation if isinstance(credential, str) else json.loads(share.presentation)), share.id


def _forget_shares(db: Any, share_ids: set[str], request_id: str) -> None:
    """The answer was not delivered: its shares leave the history, the request may be answered again, and this
    form may be sent again (as when all of it was one transaction, rolled back)."""
    with db.atomic():
        for share_id in share_ids:
            db.execute("DELETE FROM shares WHERE id = ? AND account_id = ?", [share_id, g.account["id"]])
        db.execute("UPDATE vp_requests SET answered_at = NULL WHERE id = ? AND account_id = ?",
                   [request_id, g.account["id"]])
        db.execute("DELETE FROM used_forms WHERE form_id = ?", [request.form.get(FORM_ID_FIELD, "")])


@bp.post("/<request_id>/send")
@login_required
def send(request_id: str):
    presentation_request = _load_pending(request_id)
    db = get_db()
    rows = {row["id"]: row for row in _rows()}
    form = {name: request.form.getlist(name) for name in request.form}
    vp_token: dict[str, list[Any]] = {}
    with db.atomic():
        claim_form(db)
        made: set[str] = set()
        for chosen in choose(presentation_request.query, rows, form):
            presentation, share_id = _presentation(db, presentation_request, chosen)
            vp_token.setdefault(chosen.query_id, []).append(presentation)
            made.add(share_id)
        answered = db.execute("UPDATE vp_requests SET answered_at = ? WHERE id = ? AND answered_at IS NULL",
                              [now(), request_id]).rowcount
        if answered != 1:  # another tab sent its answer meanwhile: all of this is rolled back
            abort(409, description=N_("You already answered this request."))
    # Sent after the transaction: the verifier's server (anyone's) may take up to MICROCRED_HTTP_TIMEOUT, and no
    # write lock may be held over the network; if it fails, what was recorded is taken back.
    try:
        follow = send_response(client_from_config(current_app.config), presentation_request, vp_token)
    except Exception as exc:
        _forget_shares(db, made, request_id)
        if isinstance(exc, FetchError):
            raise FetchError.of_status(f"{exc}; nothing was shared", exc.status) from None
        if isinstance(exc, FetchRefused):
            raise FetchRefused(f"{exc}; nothing was shared") from None
        raise
    # Not a 302: the page's CSP (form-action 'self') rightly stops a form's redirect to another site, so the
    # browser goes on to the verifier's redirect_uri (§8.2, same device) from this page, by refresh or link.
    return render_template("openid4vp/sent.html", req=presentation_request, follow=follow)


@bp.post("/<request_id>/decline")
@login_required
def decline(request_id: str):
    presentation_request = _load_pending(request_id)
    db = get_db()
    with db.atomic():
        claim_form(db)
        db.execute("UPDATE vp_requests SET answered_at = ? WHERE id = ?", [now(), request_id])
    follow = _tell_verifier(presentation_request, "access_denied", "the holder declined")
    return render_template("openid4vp/declined.html", req=presentation_request, follow=follow)
