"""OpenID4VP: review a verifier's request (who asks, exactly what), choose, consent, send."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from credentials.errors import InvalidInput, MicrocredError, VerificationError
from credentials.microcredential import CLAIM_LABELS
from credentials.sd_jwt import HolderSdJwt
from infra.errors import FetchError, FetchRefused
from infra.web_errors import public_message, status_of
from wallet.db import get_db
from wallet.holding import holder_key_for, private_holder_key
from wallet.importing import FORMAT_SD_JWT_VC
from wallet.oid4vp_client import PresentationRequest, match_paths, parse_request, send_refusal, send_response
from wallet.presenting import MODE_OPENID4VP, create_share, preview
from wallet.security import claim_form, login_required, now
from wallet.transport import client_from_config

__all__ = ["bp", "PENDING_LIFETIME", "start_review"]

bp = Blueprint("openid4vp", __name__, url_prefix="/openid4vp")

#: How long a reviewed request waits for the learner's decision (seconds).
PENDING_LIFETIME = 600


def _describe(path: tuple) -> str:
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return "claim"
    label = CLAIM_LABELS.get(".".join(names)) or CLAIM_LABELS.get(names[0], names[0])
    if any(p is None for p in path):
        return f"{label} (all)"
    index = next((p for p in path if isinstance(p, int)), None)
    return f"{label} {index + 1}" if index is not None else label


def _candidates(presentation_request: PresentationRequest) -> dict[str, list[dict]]:
    """For each DCQL query, the learner's credentials that can answer it."""
    rows = get_db().execute(
        "SELECT id, title, issuer_name, registry_name, vct, raw FROM credentials WHERE account_id = ? AND format = ? "
        "ORDER BY id DESC",
        [g.account["id"], FORMAT_SD_JWT_VC],
    ).fetchall()
    found: dict[str, list[dict]] = {q.id: [] for q in presentation_request.queries}
    for credential_id, title, issuer_name, registry_name, vct, raw in rows:
        holder = HolderSdJwt.parse(raw)
        for query in presentation_request.queries:
            paths = match_paths(query, vct, holder)
            if paths is not None:
                found[query.id].append({"id": credential_id, "title": title, "issuer_name": issuer_name,
                                        "registry_name": registry_name, "seen": preview(holder, paths)})
    return found


def _load_pending(request_id: str) -> PresentationRequest:
    row = get_db().execute(
        "SELECT request, expires_at, answered_at FROM vp_requests WHERE id = ? AND account_id = ?",
        [request_id, g.account["id"]],
    ).fetchone()
    if row is None:
        abort(404, description="There is no such request; scan the verifier's code again.")
    if row[2] is not None:
        abort(409, description="You already answered this request.")
    if row[1] <= now():
        abort(410, description="This request has expired; ask the verifier for a new code.")
    return PresentationRequest.from_json(row[0])


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
    """Fetch and check the request, keep it for the learner's decision, show the consent page."""
    try:
        presentation_request = parse_request(text, client_from_config(current_app.config), now=now())
    except (VerificationError, InvalidInput, FetchError) as exc:  # InvalidInput: FetchRefused too
        return render_template("openid4vp/refused.html", reason=public_message(exc)), status_of(exc)
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
    asked = [(q, [_describe(p) for p in q.claim_paths]) for q in presentation_request.queries]
    return render_template("openid4vp/consent.html", request_id=request_id, req=presentation_request, asked=asked,
                           candidates=_candidates(presentation_request))


@bp.post("/<request_id>/send")
@login_required
def send(request_id: str):
    presentation_request = _load_pending(request_id)
    db = get_db()
    secret = current_app.extensions["microcred_wallet_secret"]
    vp_token: dict[str, list[str]] = {}
    with db.atomic():
        claim_form(db)
        for query in presentation_request.queries:
            chosen = request.form.get(f"credential-{query.id}", "")
            row = db.execute(
                "SELECT id, vct, raw, holder_key_id FROM credentials WHERE id = ? AND account_id = ? AND format = ?",
                [chosen if chosen.isdigit() else -1, g.account["id"], FORMAT_SD_JWT_VC],
            ).fetchone()
            if row is None:
                raise InvalidInput("choose one of your credentials for every item the verifier asks for")
            holder = HolderSdJwt.parse(row[2])
            paths = match_paths(query, row[1], holder)
            if paths is None:
                raise InvalidInput("that credential cannot answer what the verifier asks for")
            key = private_holder_key(secret, holder_key_for(db, g.account["id"], row[3]))
            share = create_share(
                db, account_id=g.account["id"], credential_id=row[0], holder=holder, holder_key=key, paths=paths,
                link_base="", now=now(), lifetime=0, audience=presentation_request.client_id,
                nonce=presentation_request.nonce, mode=MODE_OPENID4VP,
            )
            vp_token[query.id] = [share.presentation]
        db.execute("UPDATE vp_requests SET answered_at = ? WHERE id = ?", [now(), request_id])
        try:
            follow = send_response(client_from_config(current_app.config), presentation_request, vp_token)
        except FetchError as exc:  # raised inside the transaction: nothing is recorded as shared
            raise FetchError.of_status(f"{exc}; nothing was shared", exc.status) from None
        except FetchRefused as exc:
            raise FetchRefused(f"{exc}; nothing was shared") from None
    if follow:
        return redirect(follow)
    return render_template("openid4vp/sent.html", req=presentation_request)


@bp.post("/<request_id>/decline")
@login_required
def decline(request_id: str):
    presentation_request = _load_pending(request_id)
    db = get_db()
    with db.atomic():
        db.execute("UPDATE vp_requests SET answered_at = ? WHERE id = ?", [now(), request_id])
    try:
        send_refusal(client_from_config(current_app.config), presentation_request)
    except MicrocredError:
        current_app.logger.info("could not tell the verifier about the refusal")
    return render_template("openid4vp/declined.html", req=presentation_request)
