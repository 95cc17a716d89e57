"""Share: choose claims, preview, QR with a countdown, history with withdrawal,
and the public one-time link ``/p/<token>`` (ARCHITECTURE.md "Holder-shown QR" ⚑).

An SD-JWT VC discloses the claims the learner ticks. Any other verified
credential (Europass EDC, Open Badge, JWT VC) cannot disclose selectively: its
share page is a consent page that lists everything it contains and says it is
shared whole; on consent the wallet signs a Verifiable Presentation around it
(:func:`wallet.presenting.create_whole_share`). A document kept as unverified
is never shared: its share pages answer 400 and say why.

A stack (``/stack/share``): the learner picks several credentials (any issuer,
any format), ticks the claims of each SD-JWT VC, sees which are shared whole,
and gets one QR code: a one-time link answering ``{"presentations": [...]}``,
each presentation bound to the same nonce and to the share's audience
(:func:`wallet.presenting.create_stack_share`). Only verified credentials that
name this wallet's key can be stacked: a verifier refuses a stack member
nobody can tie to the person showing it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from credentials.errors import InvalidInput
from credentials.presentation_codec import STACK_MEDIA_TYPE
from credentials.presentation_vp import VP_MEDIA_TYPES
from credentials.sd_jwt import HolderSdJwt
from credentials.stack import MAX_STACK_PRESENTATIONS
from infra.i18n import N_, format_when, gettext
from wallet.annex import FORMAT_JWT_VC, FORMAT_NAMES, FORMAT_SD_JWT_VC, lines_of, page_languages, view_of
from wallet.db import get_db
from wallet.freshness import current_badge
from wallet.holding import holder_key_for, private_holder_key
from wallet.library import list_cards, load_row
from wallet.oid4vp.consent import STATUS_WARNINGS
from wallet.presenting import (
    MODE_INLINE,
    MODE_OPENID4VP,
    STACK_PRESENTATION,
    StackMember,
    choices,
    create_share,
    create_stack_share,
    create_whole_share,
    gone_link,
    holder_of,
    issuance_proof_of,
    parse_paths,
    preview,
    qr_svg,
    redeem_link,
)
from wallet.security import claim_form, login_required, now
from wallet.vault import holder_secret

__all__ = ["bp", "PRESENTATION_MEDIA_TYPE"]

PRESENTATION_MEDIA_TYPE = "application/dc+sd-jwt"
#: What a one-time link answers, by the share's presentation format (SD-JWT VC presentations by default).
_MEDIA_TYPES = {**VP_MEDIA_TYPES, STACK_PRESENTATION: STACK_MEDIA_TYPE}

bp = Blueprint("share", __name__)


def _shareable_row(credential_id: int) -> dict:
    row = load_row(get_db(), g.account["id"], credential_id)
    if row is None:
        abort(404, description=N_("There is no such credential in your wallet."))
    if not row["verified"]:
        abort(400, description="This document is kept as unverified (it carries no signature), so the wallet "
                               "does not share it: a verifier could not tell who issued it.")
    return row


def _status_warning(row: dict) -> str | None:
    """The OpenID4VP consent page's warning for a revoked, suspended or expired credential (its badge checked again
    first when stale, :func:`wallet.freshness.current_badge`); None for any other."""
    badge = current_badge(g.account["id"], int(row["id"]))
    return STATUS_WARNINGS.get(badge.status) if badge is not None else None


def _sd_jwt_row(credential_id: int) -> tuple[dict, HolderSdJwt]:
    row = _shareable_row(credential_id)
    if row["format"] != FORMAT_SD_JWT_VC:
        abort(400, description=N_("Only SD-JWT credentials can disclose single claims; this one is shared whole."))
    return row, holder_of(row)


@bp.get("/credentials/<int(max=9007199254740991):credential_id>/share")
@login_required
def choose(credential_id: int):
    row = _shareable_row(credential_id)
    if row["format"] != FORMAT_SD_JWT_VC:
        return _whole_consent(row)
    holder = HolderSdJwt.parse(row["raw"])
    return render_template("share/choose.html", row=row, choices=choices(holder), error=None,
                           warning=_status_warning(row))


def _whole_consent(row: dict):
    languages = page_languages(request.args.get("lang"))
    view = view_of(row)
    return render_template("share/whole.html", row=row, view=view, elements=lines_of(view, languages),
                           languages=languages, kind_name=FORMAT_NAMES.get(view.kind, view.kind),
                           warning=_status_warning(row))


def _whole_disclosed(row: dict) -> list[dict[str, str]]:
    """What the share history lists for a whole credential: each Annex I element, then More details."""
    view = view_of(row)
    seen = [{"label": label, "value": "; ".join(line.text for line in lines)[:300]}
            for _, label, lines in lines_of(view, ("en",))]
    if view.more_details:
        seen.append({"label": "More details", "value": f"{len(view.more_details)} more items, all shared"})
    return [{"label": "Shared whole", "value": "everything the credential contains"}, *seen]


@bp.post("/credentials/<int(max=9007199254740991):credential_id>/share/whole")
@login_required
def create_whole(credential_id: int):
    row = _shareable_row(credential_id)
    if row["format"] == FORMAT_SD_JWT_VC:
        abort(400, description=N_("This credential discloses single claims; choose them on its share page."))
    credential = row["raw"] if row["format"] == FORMAT_JWT_VC else json.loads(row["raw"])
    db = get_db()
    key = private_holder_key(
        holder_secret(), holder_key_for(db, g.account["id"], row["holder_key_id"])
    )
    with db.atomic():
        claim_form(db)
        share = create_whole_share(
            db, account_id=g.account["id"], credential_id=credential_id, credential=credential, holder_key=key,
            disclosed=_whole_disclosed(row), link_base=current_app.config["PUBLIC_URL"] or request.host_url,
            now=now(), lifetime=current_app.config["SHARE_LIFETIME"], issuance_proof=issuance_proof_of(row),
        )
    return redirect(url_for("share.show", share_id=share.id))


@bp.post("/credentials/<int(max=9007199254740991):credential_id>/share/preview")
@login_required
def show_preview(credential_id: int):
    row, holder = _sd_jwt_row(credential_id)
    keys = request.form.getlist("claim")
    try:
        paths = parse_paths(keys, holder)
    except InvalidInput as exc:
        return render_template("share/choose.html", row=row, choices=choices(holder), error=str(exc),
                               warning=_status_warning(row)), 400
    return render_template("share/preview.html", row=row, keys=keys, seen=preview(holder, paths),
                           warning=_status_warning(row))


@bp.post("/credentials/<int(max=9007199254740991):credential_id>/share")
@login_required
def create(credential_id: int):
    row, holder = _sd_jwt_row(credential_id)
    paths = parse_paths(request.form.getlist("claim"), holder)
    db = get_db()
    key = private_holder_key(
        holder_secret(), holder_key_for(db, g.account["id"], row["holder_key_id"])
    )
    with db.atomic():
        claim_form(db)
        share = create_share(
            db, account_id=g.account["id"], credential_id=credential_id, holder=holder, holder_key=key, paths=paths,
            link_base=current_app.config["PUBLIC_URL"] or request.host_url, now=now(),
            lifetime=current_app.config["SHARE_LIFETIME"],
        )
    return redirect(url_for("share.show", share_id=share.id))


# --- a stack: several credentials in one QR code -------------------------------------------------------


def _stackable(row: dict) -> bool:
    return bool(row["verified"]) and bool(row["subject_bound"])


def _stack_rows(values: list[str]) -> list[dict]:
    """The chosen credentials, in the order chosen (each once); InvalidInput saying what is wrong."""
    ids: list[int] = []
    for value in values[:MAX_STACK_PRESENTATIONS + 1]:
        if not value.isascii() or not value.isdigit() or len(value) > 16:
            raise InvalidInput("a chosen credential is not one of your wallet's; reload the page")
        if int(value) not in ids:
            ids.append(int(value))
    if not ids:
        raise InvalidInput("choose at least one credential for the stack")
    if len(ids) > MAX_STACK_PRESENTATIONS:
        raise InvalidInput(f"a stack holds at most {MAX_STACK_PRESENTATIONS} credentials")
    rows = []
    for credential_id in ids:
        row = load_row(get_db(), g.account["id"], credential_id)
        if row is None:
            raise InvalidInput("a chosen credential is not one of your wallet's; reload the page")
        if not _stackable(row):
            raise InvalidInput(f"{row['title'][:80]} cannot be part of a stack: it is kept as unverified or does not "
                               "name this wallet's key, so a verifier could not tie it to you")
        rows.append(row)
    return rows


def _stack_entries(rows: list[dict]) -> list[dict]:
    """What the choose page shows of each chosen credential: its claims to tick, or that it goes whole."""
    entries: list[dict[str, Any]] = []
    for row in rows:
        if row["format"] == FORMAT_SD_JWT_VC:
            entries.append({"row": row, "choices": choices(HolderSdJwt.parse(row["raw"])), "whole": None})
        else:
            view = view_of(row)
            entries.append({"row": row, "choices": None, "whole": lines_of(view, ("en",)),
                            "kind_name": FORMAT_NAMES.get(view.kind, view.kind), "more": len(view.more_details)})
    return entries


@bp.get("/stack/share")
@login_required
def stack_pick():
    cards = list_cards(get_db(), g.account["id"])
    return render_template("share/stack_pick.html", cards=[c for c in cards if _stackable(c.row)],
                           left_out=[c for c in cards if not _stackable(c.row)], limit=MAX_STACK_PRESENTATIONS)


@bp.get("/stack/share/choose")
@login_required
def stack_choose():
    rows = _stack_rows(request.args.getlist("credential"))
    return render_template("share/stack_choose.html", entries=_stack_entries(rows), error=None)


@bp.post("/stack/share")
@login_required
def stack_create():
    rows = _stack_rows(request.form.getlist("credential"))
    db = get_db()
    secret = holder_secret()
    members = []
    for row in rows:
        key = private_holder_key(secret, holder_key_for(db, g.account["id"], row["holder_key_id"]))
        if row["format"] == FORMAT_SD_JWT_VC:
            holder = holder_of(row)
            try:
                paths = parse_paths(request.form.getlist(f"claim-{row['id']}"), holder)
            except InvalidInput as exc:
                error = f"{row['title'][:80]}: {exc}"
                return render_template("share/stack_choose.html", entries=_stack_entries(rows), error=error), 400
            seen = [{"label": label, "value": value} for label, value in preview(holder, paths)]
            members.append(StackMember(row["id"], row["title"], key, seen, holder=holder, paths=paths))
        else:
            credential = row["raw"] if row["format"] == FORMAT_JWT_VC else json.loads(row["raw"])
            members.append(StackMember(row["id"], row["title"], key, _whole_disclosed(row), credential=credential,
                                       issuance_proof=issuance_proof_of(row)))
    with db.atomic():
        claim_form(db)
        share = create_stack_share(db, account_id=g.account["id"], members=members,
                                   link_base=current_app.config["PUBLIC_URL"] or request.host_url, now=now(),
                                   lifetime=current_app.config["SHARE_LIFETIME"])
    return redirect(url_for("share.show", share_id=share.id))


def _share_row(share_id: str) -> dict:
    cursor = get_db().execute("SELECT * FROM shares WHERE id = ? AND account_id = ?", [share_id, g.account["id"]])
    row = cursor.fetchone()
    if row is None:
        abort(404, description=N_("There is no such share."))
    found = dict(zip([d[0] for d in cursor.description], row, strict=True))
    found["disclosed"] = json.loads(found["disclosed"])
    return found


def _state(share: dict, at: int) -> str:
    if share["mode"] == MODE_OPENID4VP:
        return "sent"
    if share["withdrawn_at"]:
        return "withdrawn"
    if share["fetched_at"]:
        return "used"
    if share["expires_at"] <= at:
        return "expired"
    return "live"


@bp.get("/shares/<share_id>")
@login_required
def show(share_id: str):
    share = _share_row(share_id)
    at = now()
    state = _state(share, at)
    live = state == "live" and share["qr_text"]
    svg = qr_svg(share["qr_text"], inline=share["mode"] == MODE_INLINE) if live else None
    return render_template("share/show.html", share=share, state=state, svg=svg, now=at,
                           state_text=_state_text(share, state))


def _state_text(share: dict, state: str) -> str:
    """What became of a share, in a sentence with its time ("Used at 14:02 UTC by a verifier")."""
    def clock(moment: int) -> str:
        return format_when(moment, "HH:mm")

    if state == "used":
        return gettext("Used at %(time)s by a verifier", time=clock(share["fetched_at"]))
    if state == "withdrawn":
        return gettext("Withdrawn at %(time)s; the link no longer works", time=clock(share["withdrawn_at"]))
    if state == "expired":
        return gettext("Expired unused at %(time)s", time=clock(share["expires_at"]))
    if state == "sent":
        return gettext("Sent at %(time)s", time=clock(share["created_at"]))
    return gettext("Valid until %(time)s", time=clock(share["expires_at"]))


@bp.get("/shares/<share_id>/state")
@login_required
def state(share_id: str):
    """The share's state for the code's page, which asks every few seconds and stops counting once it is used."""
    share = _share_row(share_id)
    current = _state(share, now())
    return {"state": current, "text": _state_text(share, current)}


@bp.get("/shares")
@login_required
def history():
    cursor = get_db().execute(
        "SELECT shares.*, credentials.title FROM shares JOIN credentials ON credentials.id = shares.credential_id "
        "WHERE shares.account_id = ? ORDER BY shares.created_at DESC LIMIT 200",
        [g.account["id"]],
    )
    names = [d[0] for d in cursor.description]
    at = now()
    shares = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["disclosed"] = json.loads(item["disclosed"])
        item["state"] = _state(item, at)
        shares.append(item)
    return render_template("share/history.html", shares=shares)


@bp.post("/shares/<share_id>/withdraw")
@login_required
def withdraw(share_id: str):
    db = get_db()
    with db.atomic():
        cursor = db.execute(
            "UPDATE shares SET withdrawn_at = ?, presentation = NULL, qr_text = NULL "
            "WHERE id = ? AND account_id = ? AND withdrawn_at IS NULL AND fetched_at IS NULL AND expires_at > ?",
            [now(), share_id, g.account["id"], now()],
        )
    flash(N_("The link was withdrawn; it no longer works.") if cursor.rowcount
          else N_("That share was no longer live."))
    return redirect(url_for("share.history"))


@bp.get("/p/<token>")
def fetch_presentation(token: str):
    """Public and one-time: the verifier fetches the presentation behind a QR link.

    A link that no longer serves answers ``410 Gone`` saying why and when (``used 2026-11-28T14:02:00Z``,
    ``withdrawn …``, ``expired …``), so the employer learns which; a link this wallet never made, 404. A HEAD
    request answers the same status and headers without using the link up (link previews and proxies send one)."""
    found = redeem_link(get_db(), token, now=now(), use_up=request.method != "HEAD")
    gone = gone_link(get_db(), token, now=now()) if found is None else None
    if gone is not None:  # 410 and why, first word: used / withdrawn / expired (verifier.wording reads it)
        reason, at = gone
        stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = Response(f"{reason} {stamp}\n", status=410, mimetype="text/plain")
    elif found is None:
        response = Response("this link is unknown to this wallet\n", status=404, mimetype="text/plain")
    else:
        presentation, presentation_format = found
        media_type = _MEDIA_TYPES.get(presentation_format, PRESENTATION_MEDIA_TYPE)
        response = Response(presentation, status=200, mimetype=media_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

