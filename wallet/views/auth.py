"""Accounts: sign up, sign in (throttled, see :mod:`wallet.throttle`), confirm the password again
(fresh sign-in, see :func:`wallet.security.fresh_signin_required`), sign out, sign out everywhere, delete.

The sign-in, sign-up, account and confirmation pages also offer passkeys (:mod:`wallet.views.passkeys`)
when the wallet's public URL is a domain name; an account made with a passkey alone has no password, and
its fresh sign-in is a passkey confirmation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from credentials.errors import InvalidInput
from infra.i18n import N_
from wallet.db import get_db
from wallet.holding import check_password, create_account, delete_account, password_hasher
from wallet.import_limits import signup_refused
from wallet.passkeys import account_passkeys
from wallet.security import (
    end_all_sessions,
    end_session,
    login_required,
    mark_fresh_signin,
    now,
    safe_next,
    start_session,
)
from wallet.throttle import forget_signin_failures, record_signin_failure, signin_retry_after
from wallet.vault import is_vault_sealed, session_vault_key
from wallet.views.passkeys import confirm_form, passkeys_enabled, signin_page

__all__ = ["bp"]

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _next_or_home(target: str | None) -> str:
    return safe_next(target, url_for("credentials.list_credentials"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if request.method == "POST":
        refused = signup_refused()  # each new wallet costs an Argon2id hash and a row that stays
        if refused is not None:
            return refused
        username, password = request.form.get("username", ""), request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            return _signup_page("The two passwords differ.", username), 400
        db = get_db()
        try:
            account_id = create_account(
                db, current_app.extensions["microcred_wallet_secret"], password_hasher(current_app.config),
                username, password, now=now(),
            )
        except InvalidInput as exc:
            return _signup_page(str(exc), username), 400
        start_session(account_id)
        flash(N_("Welcome! Your wallet is ready; add your first credential."))
        return redirect(url_for("credentials.add"))
    return _signup_page(None, "")


def _signup_page(error: str | None, username: str) -> str:
    return render_template("auth/signup.html", error=error, username=username, passkeys=passkeys_enabled())



def _too_many(template: str, wait: int, **context):
    minutes = max(1, -(-wait // 60))
    error = f"Too many failed attempts from this device. Try again in {minutes} minute{'' if minutes == 1 else 's'}."
    if template == "auth/signin.html":
        return signin_page(error=error, status=429, username=context.get("username", ""),
                           next_url=context.get("next"), headers={"Retry-After": str(wait)})
    return render_template(template, error=error, **context), 429, {"Retry-After": str(wait)}


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    next_url = safe_next(request.values.get("next"), "") or None
    if request.method == "POST":
        username, password = request.form.get("username", "")[:200], request.form.get("password", "")
        db = get_db()
        wait = signin_retry_after(db, username, now=now())
        if wait:
            return _too_many("auth/signin.html", wait, username=username, next=next_url)
        account_id = check_password(db, password_hasher(current_app.config), username, password)
        if account_id is None:
            record_signin_failure(db, username, now=now())
            return signin_page(error=N_("That user name and password do not match."), status=401, username=username,
                               next_url=next_url)
        forget_signin_failures(db, username)
        start_session(account_id)
        return redirect(_next_or_home(next_url))
    return signin_page(next_url=next_url)


@bp.post("/signout")
def signout():
    end_session()
    flash(N_("You are signed out."))
    return redirect(url_for("auth.signin"))


@bp.post("/signout-everywhere")
@login_required
def signout_everywhere():
    end_all_sessions(g.account["id"])
    flash(N_("You are signed out on every device."))
    return redirect(url_for("auth.signin"))


@bp.route("/account", methods=["GET"])
@login_required
def account():
    return _account_page(None), 200


def _has_password(account_id: int) -> bool:
    return bool(get_db().execute("SELECT password_hash != '' FROM accounts WHERE id = ?", [account_id]).fetchone()[0])


def _account_page(error: str | None) -> str:
    account_id = g.account["id"]
    return render_template("auth/account.html", error=error, passkeys=account_passkeys(get_db(), account_id),
                           passkeys_enabled=passkeys_enabled(), has_password=_has_password(account_id),
                           vault_sealed=is_vault_sealed(account_id), vault_open=session_vault_key() is not None)


def _password_again(template: str, **context) -> tuple[Any, bool]:
    """The signed-in user's password from the form, throttled like sign-in: (a 429 answer or None, right?)."""
    db = get_db()
    username = g.account["username"]
    if not _has_password(g.account["id"]):  # a passkey-only account: its fresh passkey confirmation stands
        fresh = now() - g.account["authenticated_at"] <= int(current_app.config["REAUTH_MAX_AGE"])
        return None, fresh
    wait = signin_retry_after(db, username, now=now())
    if wait:
        return _too_many(template, wait, **context), False
    if check_password(db, password_hasher(current_app.config), username, request.form.get("password", "")) is None:
        record_signin_failure(db, username, now=now())
        return None, False
    forget_signin_failures(db, username)
    mark_fresh_signin()
    return None, True


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    """Enter the password again, then continue to ``next`` (export, restore, removing a credential)."""
    next_url = safe_next(request.values.get("next"), "") or None
    if request.method == "POST":
        refused, right = _password_again("auth/confirm.html", next=next_url)
        if refused is not None:
            return refused
        if not right:
            return _confirm_page("That password is not right.", next_url), 401
        return redirect(safe_next(next_url, url_for("auth.account")))
    return _confirm_page(None, next_url)


def _confirm_page(error: str | None, next_url: str | None) -> str:
    return render_template("auth/confirm.html", error=error, next=next_url, passkey=confirm_form(g.account["id"]),
                           has_password=_has_password(g.account["id"]))


@bp.post("/delete")
@login_required
def delete():
    """Delete the account; the password in the form is the fresh sign-in, checked and throttled here."""
    refused, right = _password_again("auth/account.html")
    if refused is not None:
        return refused
    if not right:
        error = ("That password is not right; nothing was deleted." if _has_password(g.account["id"])
                 else "Confirm with your passkey first; nothing was deleted.")
        return _account_page(error), 400
    db = get_db()
    delete_account(db, g.account["id"])
    end_session()
    flash(N_("Your account and everything in it were deleted."))
    return redirect(url_for("auth.signup"))
