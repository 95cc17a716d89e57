"""Passkey pages (:mod:`wallet.passkeys`): sign in, sign up without a password, add, confirm, seal, remove.

Every page that can use a passkey carries a plain form (CSRF token, ceremony id, an empty ``credential``
field) with the WebAuthn options in a data attribute; ``static/passkeys.js`` runs the ceremony, fills the
fields and sends the form. Without JavaScript or without a passkey the password forms still work.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from credentials.errors import InvalidInput
from infra.i18n import N_
from infra.web import foundation_of
from wallet.db import get_db
from wallet.holding import check_username, create_account
from wallet.import_limits import passkey_signin_allowed, signup_refused
from wallet.passkeys import (
    account_passkeys,
    add_passkey,
    authentication_options,
    open_vault,
    prf_salt_b64,
    registration_options,
    relying_party,
    take_ceremony,
    unseal_vault,
    verify_authentication,
    verify_registration,
)
from wallet.security import fresh_signin_required, login_required, mark_fresh_signin, now, safe_next, start_session
from wallet.throttle import forget_signin_failures, record_signin_failure, signin_retry_after
from wallet.vault import remember_vault_key, session_vault_key

__all__ = ["bp", "signin_page", "signin_form", "confirm_form", "passkeys_enabled"]

bp = Blueprint("passkeys", __name__, url_prefix="/auth/passkey")
_STORE = "microcred_wallet_passkey_store"
_PASSKEY_NAME = "\x1fpasskey"  # the throttle's name for passkey sign-ins: not printable, so never a user name


def _store() -> Any:
    store = current_app.extensions.get(_STORE)
    if store is None:
        store = current_app.extensions[_STORE] = foundation_of(current_app).open_store()
    return store


def _rp() -> Any:
    return relying_party(current_app.config.get("PUBLIC_URL"))


def passkeys_enabled() -> bool:
    return _rp() is not None


def _form(action: str, ceremony: tuple[str, str], kind: str) -> dict[str, Any]:
    """What the passkey form partial needs."""
    return {"action": action, "ceremony": ceremony[0], "options": ceremony[1], "kind": kind, "prf": prf_salt_b64()}


def signin_page(*, error: str | None = None, status: int = 200, username: str = "", next_url: str | None = None,
                headers: dict[str, str] | None = None) -> Any:
    """The sign-in page: the password form and, where passkeys work here, a fresh passkey ceremony."""
    page = render_template("auth/signin.html", error=error, username=username, next=next_url, passkey=signin_form())
    return page, status, headers or {}


def signin_form() -> dict[str, Any] | None:
    """The passkey sign-in form, with a fresh ceremony; None without passkeys here or past this client's limit of
    such pages (each one's ceremony is a row in the shared store, written for anyone who loads the page)."""
    rp = _rp()
    if rp is None or not passkey_signin_allowed():
        return None
    return _form(url_for("passkeys.signin"), authentication_options(rp, _store(), "signin"), "get")


def confirm_form(account_id: int) -> dict[str, Any] | None:
    rp = _rp()
    allow = [row["credential_id"] for row in account_passkeys(get_db(), account_id)]
    if rp is None or not allow:
        return None
    return _form(url_for("passkeys.confirm"), authentication_options(rp, _store(), "confirm", account_id=account_id,
                                                                     allow=allow), "get")


def _prf_output() -> bytes | None:
    value = request.form.get("prf", "")
    if not value:
        return None
    try:
        output = base64url_to_bytes(value[:100])
    except ValueError:
        return None
    return output if len(output) == 32 else None


def _open_vault_for(passkey: dict[str, Any], account_id: int) -> bytes | None:
    try:
        return open_vault(get_db(), current_app.extensions["microcred_wallet_secret"], account_id, passkey,
                          _prf_output(), session_vault_key())
    except InvalidInput:
        flash("This passkey's PRF answer did not open your holder keys; sign in with the passkey that sealed them "
              "to share.")
        return session_vault_key()


@bp.post("/signin")
def signin():
    rp, db = _rp(), get_db()
    if rp is None:
        abort(404)
    next_url = safe_next(request.form.get("next"), "") or None
    wait = signin_retry_after(db, _PASSKEY_NAME, now=now())
    if wait:
        abort(429, description=N_("Too many failed passkey sign-ins from this device. Try again in a few minutes."))
    try:
        passkey = verify_authentication(rp, db, take_ceremony(_store(), request.form.get("ceremony", ""), "signin"),
                                        request.form.get("credential", ""), now=now())
    except InvalidInput as exc:
        record_signin_failure(db, _PASSKEY_NAME, now=now())
        return signin_page(error=f"Not signed in: {exc}", status=401, next_url=next_url)
    forget_signin_failures(db, _PASSKEY_NAME)
    start_session(passkey["account_id"])
    remember_vault_key(_open_vault_for(passkey, passkey["account_id"]))
    return redirect(safe_next(next_url, url_for("credentials.list_credentials")))


@bp.post("/signup")
def signup():
    """Step 1 of a passkey-only account: the user name; step 2 (``signup_finish``) creates the passkey."""
    rp = _rp()
    if rp is None:
        abort(404)
    refused = signup_refused()  # counted as the password sign-up is
    if refused is not None:
        return refused
    try:
        username = check_username(request.form.get("username", "")[:200])
    except InvalidInput as exc:
        return render_template("auth/signup.html", error=str(exc), username="", passkeys=True), 400
    if get_db().execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
        return render_template("auth/signup.html", error=N_("this user name is taken; choose another"),
                               username=username, passkeys=True), 400
    handle = bytes_to_base64url(secrets.token_bytes(32))
    ceremony = registration_options(rp, _store(), "signup", username=username, user_handle=handle)
    return render_template("auth/passkey_create.html", username=username,
                           form=_form(url_for("passkeys.signup_finish"), ceremony, "create"))


@bp.post("/signup/finish")
def signup_finish():
    rp, db = _rp(), get_db()
    if rp is None:
        abort(404)
    try:
        ceremony = take_ceremony(_store(), request.form.get("ceremony", ""), "signup")
        verified = verify_registration(rp, ceremony, request.form.get("credential", ""))
        with db.atomic():
            account_id = create_account(db, current_app.extensions["microcred_wallet_secret"], None,
                                        ceremony.username or "", None, now=now())
            db.execute("UPDATE accounts SET user_handle = ? WHERE id = ?", [ceremony.user_handle, account_id])
            passkey_id = add_passkey(db, account_id, verified, name=_name(), prf_capable=_prf_capable(), now=now())
    except InvalidInput as exc:
        return render_template("auth/signup.html", error=f"No account was made: {exc}", username="",
                               passkeys=True), 400
    start_session(account_id)
    remember_vault_key(_open_vault_for({"id": passkey_id, "prf_wrapped": None}, account_id))
    flash(N_("Welcome! Your wallet is ready and you sign in with your passkey; add your first credential."))
    return redirect(url_for("credentials.add"))


def _name() -> str:
    return request.form.get("name", "").strip()[:60] or "Passkey"


def _prf_capable() -> bool:
    return request.form.get("prf_enabled") == "1" or _prf_output() is not None


def _user_handle(account_id: int) -> str:
    db = get_db()
    handle = db.execute("SELECT user_handle FROM accounts WHERE id = ?", [account_id]).fetchone()[0]
    if handle is None:
        handle = bytes_to_base64url(secrets.token_bytes(32))
        with db.atomic():
            db.execute("UPDATE accounts SET user_handle = ? WHERE id = ? AND user_handle IS NULL", [handle, account_id])
        handle = db.execute("SELECT user_handle FROM accounts WHERE id = ?", [account_id]).fetchone()[0]
    return handle


@bp.route("/add", methods=["GET", "POST"])
@fresh_signin_required
def add():
    rp, db, account_id = _rp(), get_db(), g.account["id"]
    if rp is None:
        abort(404, description=N_("Passkeys need this wallet served under a domain name (its PUBLIC_URL)."))
    if request.method == "POST":
        try:
            ceremony = take_ceremony(_store(), request.form.get("ceremony", ""), "add")
            if ceremony.account_id != account_id:
                raise InvalidInput("this passkey request was made for another session")
            verified = verify_registration(rp, ceremony, request.form.get("credential", ""))
            with db.atomic():
                passkey_id = add_passkey(db, account_id, verified, name=_name(), prf_capable=_prf_capable(),
                                         now=now())
        except InvalidInput as exc:
            flash(f"No passkey was added: {exc}")
            return redirect(url_for("auth.account"))
        remember_vault_key(_open_vault_for({"id": passkey_id, "prf_wrapped": None}, account_id))
        flash(N_("Your passkey was added: you can sign in with it."))
        return redirect(url_for("auth.account"))
    existing = [row["credential_id"] for row in account_passkeys(db, account_id)]
    options = registration_options(rp, _store(), "add", username=g.account["username"],
                                   user_handle=_user_handle(account_id), account_id=account_id, exclude=existing)
    return render_template("auth/passkey_create.html", username=g.account["username"],
                           form=_form(url_for("passkeys.add"), options, "create"))


@bp.post("/confirm")
@login_required
def confirm():
    """A fresh sign-in by passkey (export, restore, removal, deleting a passkey-only account); opens the vault."""
    rp, db, account_id = _rp(), get_db(), g.account["id"]
    if rp is None:
        abort(404)
    next_url = safe_next(request.form.get("next"), "") or None
    try:
        passkey = verify_authentication(rp, db, take_ceremony(_store(), request.form.get("ceremony", ""), "confirm"),
                                        request.form.get("credential", ""), now=now())
        if passkey["account_id"] != account_id:
            raise InvalidInput("this passkey belongs to another account")
    except InvalidInput as exc:
        flash(f"Not confirmed: {exc}")
        return redirect(url_for("auth.confirm", next=next_url) if next_url else url_for("auth.confirm"))
    mark_fresh_signin()
    remember_vault_key(_open_vault_for(passkey, account_id))
    return redirect(safe_next(next_url, url_for("auth.account")))


@bp.post("/<int(max=9007199254740991):passkey_id>/remove")
@fresh_signin_required
def remove(passkey_id: int):
    db, account_id = get_db(), g.account["id"]
    passkeys = account_passkeys(db, account_id)
    target = next((row for row in passkeys if row["id"] == passkey_id), None)
    if target is None:
        abort(404, description=N_("That passkey is not one of this account's."))
    has_password = db.execute("SELECT password_hash != '' FROM accounts WHERE id = ?", [account_id]).fetchone()[0]
    if len(passkeys) == 1 and not has_password:
        flash(N_("This is the only way into your account: add another passkey before removing this one."))
        return redirect(url_for("auth.account"))
    sealing = [row for row in passkeys if row["seals"]]
    if target["seals"] and len(sealing) == 1:
        vault = session_vault_key()
        if vault is None:
            flash(N_("This passkey seals your holder keys: confirm with it first, then remove it."))
            return redirect(url_for("auth.account"))
        unseal_vault(db, current_app.extensions["microcred_wallet_secret"], account_id, vault)
        remember_vault_key(None)
    with db.atomic():
        db.execute("DELETE FROM passkeys WHERE id = ? AND account_id = ?", [passkey_id, account_id])
    flash(N_("The passkey was removed."))
    return redirect(url_for("auth.account"))
