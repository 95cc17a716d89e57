"""Credentials: the list of cards with the stack summary, a detail page, import
(paste, upload, OpenID4VCI offer, camera scan), re-check and delete."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from credentials.errors import FormatError, MicrocredError, VerificationError
from credentials.presentation_codec import KIND_CREDENTIAL_OFFER, KIND_OPENID4VP, classify_scanned
from infra.i18n import N_, gettext, translate
from infra.web_errors import public_message, status_of
from wallet.annex import FORMAT_NAMES, FORMAT_SD_JWT_VC, languages_in, lines_of, page_languages, view_of
from wallet.db import get_db
from wallet.freshness import RELOAD_AFTER_S, check_row, refresh_shown, shown_state, store_badge
from wallet.holding import current_holder_key, holder_keys, private_holder_key
from wallet.import_limits import import_refused
from wallet.importing import (
    MAX_JSON_BYTES,
    DuplicateCredential,
    assess_credential,
    store_credential,
    unsigned_document_kind,
)
from wallet.library import list_cards, load_row, stack_of, standing
from wallet.oid4vci_client import redeem_offer
from wallet.security import claim_form, fresh_signin_required, login_required, now
from wallet.transport import client_from_config
from wallet.vault import holder_secret
from wallet.views.openid4vp import start_review

__all__ = ["bp", "index"]

bp = Blueprint("credentials", __name__, url_prefix="/credentials")


def index():
    if g.get("account") is None:
        return redirect(url_for("auth.signin"))
    return redirect(url_for("credentials.list_credentials"))


@bp.get("")
@login_required
def list_credentials():
    """The cards; stale ones are checked again first (bounded: :mod:`wallet.freshness`)."""
    languages = page_languages(request.args.get("lang"))
    db = get_db()
    checking = frozenset(refresh_shown(shown_state(db, g.account["id"])))
    cards = list_cards(db, g.account["id"], languages, checking)
    return render_template("credentials/list.html", cards=cards, summary=stack_of(cards), lang=languages[0],
                           reload_after=RELOAD_AFTER_S if checking else None)


@bp.get("/<int(max=9007199254740991):credential_id>")
@login_required
def detail(credential_id: int):
    db = get_db()
    checking = bool(refresh_shown(shown_state(db, g.account["id"], credential_id)))
    row = load_row(db, g.account["id"], credential_id)
    if row is None:
        abort(404, description=N_("There is no such credential in your wallet."))
    languages = page_languages(request.args.get("lang"))
    view = view_of(row)
    return render_template(
        "credentials/detail.html", row=row, view=view, elements=lines_of(view, languages), languages=languages,
        available=languages_in(view), kind_name=FORMAT_NAMES.get(view.kind, view.kind),
        selective=row["format"] == FORMAT_SD_JWT_VC, checking=checking, standing=standing(row, checking=checking),
        reload_after=RELOAD_AFTER_S if checking else None)


def _refused(text: str, exc: VerificationError):
    """The add page with the reason; for an unsigned OB 3.0 / ELM document, the offer to keep it as unverified."""
    keepable = unsigned_document_kind(text, now=now()) if exc.check == "signature" else None
    return render_template("credentials/add.html", error=f"Not added: {exc.reason}", keepable=keepable,
                           document=text if keepable else None), 400


def _import_text(text: str, *, keep_unverified: bool = False):
    db = get_db()
    account_id = g.account["id"]
    try:
        # Checked (chain reads, a status list fetched) before the transaction: no write lock over the network.
        checked, badge = assess_credential(
            holder_keys(db, account_id), text, now=now(), trust_check=current_app.config["TRUST_CHECK"],
            trust_anchors=current_app.extensions["microcred_x509_anchors"], keep_unverified=keep_unverified,
        )
        with db.atomic():
            claim_form(db)
            credential_id = store_credential(db, account_id, checked, badge, now=now())
    except DuplicateCredential as exc:
        flash(N_("This credential is already in your wallet."))
        return redirect(url_for("credentials.detail", credential_id=exc.existing_id))
    except VerificationError as exc:
        return _refused(text, exc)
    flash(gettext("Added. %(status)s.", status=translate(badge.label)))
    return redirect(url_for("credentials.detail", credential_id=credential_id))


@bp.route("/add", methods=["GET", "POST"])
@login_required
def add():
    if request.method == "GET":
        return render_template("credentials/add.html", error=None, keepable=None, document=None)
    refused = import_refused()
    if refused is not None:
        return refused
    upload = request.files.get("file")
    text = request.form.get("credential", "")
    if upload is not None and upload.filename:
        data = upload.read(MAX_JSON_BYTES + 1)  # more is refused by size, not read
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return render_template("credentials/add.html", error=N_("Not added: the file is not a text credential."),
                                   keepable=None, document=None), 400
    stripped = text.strip()
    if stripped.lower().startswith("openid-credential-offer://"):
        return _redeem(stripped)
    return _import_text(text, keep_unverified=request.form.get("keep_unverified") == "yes")


def _redeem(offer_text: str):
    db = get_db()
    account_id = g.account["id"]
    key_record = current_holder_key(db, account_id)
    holder_key = private_holder_key(holder_secret(), key_record)
    try:
        credential = redeem_offer(offer_text, holder_key, client=client_from_config(current_app.config), now=now())
    except MicrocredError as exc:
        return render_template("credentials/add.html", error=f"Not added: {public_message(exc)}", keepable=None,
                               document=None), status_of(exc)
    return _import_text(credential)


@bp.post("/scan")
@login_required
def scanned():
    """Route what the camera (or a pasted link) read."""
    try:
        found = classify_scanned(request.form.get("scanned", ""))
    except FormatError as exc:
        return render_template("credentials/scan.html",
                               error=f"That code is not one the wallet knows: {exc.reason}"), 400
    if found.kind == KIND_CREDENTIAL_OFFER:
        return import_refused() or _redeem(found.value)
    if found.kind == KIND_OPENID4VP:
        return start_review(found.value)
    return render_template(
        "credentials/scan.html", error="That code is a presentation for a verifier to scan, not something to add."
    ), 400


@bp.get("/scan")
@login_required
def scan():
    return render_template("credentials/scan.html", error=None)


@bp.post("/<int(max=9007199254740991):credential_id>/recheck")
@login_required
def recheck(credential_id: int):
    db = get_db()
    row = load_row(db, g.account["id"], credential_id)
    if row is None:
        abort(404, description=N_("There is no such credential in your wallet."))
    at = now()
    badge = check_row(row, current_app.config["TRUST_CHECK"], at)  # one without a signature stays unverified
    with db.atomic():
        store_badge(db, g.account["id"], credential_id, badge, now=at, events_seen=row["status_events"])
    flash(gettext("Checked again. %(status)s.", status=translate(badge.label)))
    return redirect(url_for("credentials.detail", credential_id=credential_id))


@bp.route("/<int(max=9007199254740991):credential_id>/delete", methods=["GET", "POST"])
@fresh_signin_required
def delete(credential_id: int):
    db = get_db()
    if request.method == "GET":
        row = load_row(db, g.account["id"], credential_id)
        if row is None:
            abort(404, description=N_("There is no such credential in your wallet."))
        return render_template("credentials/remove.html", row=row)
    with db.atomic():
        cursor = db.execute("DELETE FROM credentials WHERE id = ? AND account_id = ?", [credential_id, g.account["id"]])
    if cursor.rowcount == 0:
        abort(404, description=N_("There is no such credential in your wallet."))
    flash(N_("The credential was removed from your wallet."))
    return redirect(url_for("credentials.list_credentials"))
