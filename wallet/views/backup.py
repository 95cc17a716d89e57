"""Backup and portability: a passphrase-encrypted export, and an all-or-nothing restore
into this or another account or instance (see :mod:`wallet.sealing` for the file format).
Both need a fresh sign-in (:func:`wallet.security.fresh_signin_required`)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for

from credentials.errors import InvalidInput, VerificationError
from credentials.jose import PrivateKey
from infra.i18n import N_, gettext, ngettext
from wallet.checking import badge_for, unverified_badge
from wallet.db import get_db
from wallet.holding import HolderKeyRecord, add_holder_key, holder_keys, private_holder_key
from wallet.importing import FORMAT_UNSIGNED, check_credential, store_credential
from wallet.sealing import decrypt_backup, encrypt_backup
from wallet.security import claim_form, fresh_signin_required, now
from wallet.vault import holder_secret

__all__ = ["bp", "BACKUP_FILENAME", "MAX_BACKUP_CREDENTIALS", "MAX_BACKUP_KEYS"]

bp = Blueprint("backup", __name__, url_prefix="/backup")

BACKUP_FILENAME = "microcred-wallet-backup.json"
MAX_BACKUP_CREDENTIALS = 5000
#: A wallet makes a new holder key rarely (a new device, a restore); far more is not a wallet's backup.
MAX_BACKUP_KEYS = 1000


@bp.route("/export", methods=["GET", "POST"])
@fresh_signin_required
def export():
    if request.method == "GET":
        return render_template("backup/export.html", error=None)
    passphrase = request.form.get("passphrase", "")
    if passphrase != request.form.get("passphrase_again", ""):
        return render_template("backup/export.html", error=N_("The two passphrases differ.")), 400
    db = get_db()
    secret = holder_secret()
    account_id = g.account["id"]
    keys = [private_holder_key(secret, record).to_jwk() for record in holder_keys(db, account_id)]
    credentials = [
        {"format": fmt, "raw": raw}
        for fmt, raw in db.execute(
            "SELECT format, raw FROM credentials WHERE account_id = ? ORDER BY id", [account_id]
        ).fetchall()
    ]
    try:
        text = encrypt_backup({"holder_keys": keys, "credentials": credentials, "exported_at": now()}, passphrase)
    except InvalidInput as exc:
        return render_template("backup/export.html", error=str(exc)), 400
    response = Response(text, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{BACKUP_FILENAME}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _restore(contents: dict) -> tuple[int, int]:
    """Add the backup's keys and credentials in one transaction; (added, already held).

    Every credential is checked first, outside the transaction: the trust check reads the chain and fetches
    status lists from wherever each credential says, and a write lock held over thousands of those would stop
    every other learner's requests. The backup's new keys take part in the checks under provisional ids
    (negative) that become their stored ids inside the transaction.
    """
    keys, credentials = contents.get("holder_keys"), contents.get("credentials")
    if not isinstance(keys, list) or not isinstance(credentials, list) or len(credentials) > MAX_BACKUP_CREDENTIALS:
        raise InvalidInput("the backup does not hold a list of keys and a list of credentials")
    if len(keys) > MAX_BACKUP_KEYS:
        raise InvalidInput(f"the backup holds {len(keys)} keys; a wallet's backup holds at most {MAX_BACKUP_KEYS}")
    db = get_db()
    account_id = g.account["id"]
    secret = holder_secret()
    at = now()
    trust_check = current_app.config["TRUST_CHECK"]
    anchors = current_app.extensions["microcred_x509_anchors"]
    account_keys = holder_keys(db, account_id)
    known = {record.thumbprint for record in account_keys}
    new_keys: dict[int, PrivateKey] = {}
    for jwk in keys:
        key = PrivateKey.from_jwk(jwk)
        thumbprint = key.public_key().thumbprint()
        if thumbprint not in known:
            known.add(thumbprint)
            provisional = -1 - len(new_keys)
            new_keys[provisional] = key
            account_keys.append(HolderKeyRecord(provisional, account_id, thumbprint, key.public_key(), b""))
    held = {row[0] for row in db.execute("SELECT raw_sha256 FROM credentials WHERE account_id = ?", [account_id])}
    checked_items = []
    for number, item in enumerate(credentials, start=1):
        raw = item.get("raw") if isinstance(item, dict) else None
        kept_unverified = isinstance(item, dict) and item.get("format") == FORMAT_UNSIGNED
        try:  # a document kept as unverified is kept so again; anything else must verify
            checked = check_credential(raw, account_keys, now=at, trust_anchors=anchors,
                                       keep_unverified=kept_unverified)
        except VerificationError as exc:
            raise InvalidInput(f"credential {number} of the backup does not check out ({exc.reason}); "
                               "nothing was restored") from exc
        if checked.raw_sha256 in held:
            continue
        held.add(checked.raw_sha256)
        badge = (badge_for(checked.raw, checked.format, now=at, trust_check=trust_check) if checked.verified
                 else unverified_badge())
        checked_items.append((checked, badge))
    added = 0
    with db.atomic():
        claim_form(db)
        stored_ids = {provisional: add_holder_key(db, secret, account_id, key, now=at)
                      for provisional, key in new_keys.items()}
        stored = {row[0] for row in db.execute("SELECT raw_sha256 FROM credentials WHERE account_id = ?",
                                               [account_id])}
        for checked, badge in checked_items:
            if checked.raw_sha256 in stored:  # added meanwhile (another tab)
                continue
            key_id = stored_ids.get(checked.holder_key_id, checked.holder_key_id)
            store_credential(db, account_id, replace(checked, holder_key_id=key_id), badge, now=at)
            added += 1
    return added, len(credentials) - added


@bp.route("/restore", methods=["GET", "POST"])
@fresh_signin_required
def restore():
    if request.method == "GET":
        return render_template("backup/restore.html", error=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("backup/restore.html", error=N_("Choose the backup file to restore.")), 400
    try:
        contents = decrypt_backup(upload.read(), request.form.get("passphrase", ""))
        added, skipped = _restore(contents)
    except InvalidInput as exc:
        failed = gettext("Nothing was restored: %(reason)s", reason=exc)
        return render_template("backup/restore.html", error=failed), 400
    restored = ngettext("Restored %(num)s credential", "Restored %(num)s credentials", added)
    flash(gettext("%(restored)s; %(skipped)s you already had were skipped.", restored=restored,
                  skipped=skipped) if skipped else f"{restored}.")
    return redirect(url_for("credentials.list_credentials"))

