"""Accounts: sign up, sign in (throttled, see :mod:`wallet.throttle`), confirm the password again
(fresh sign-in, see :func:`wallet.security.fresh_signin_required`), sign out, sign out everywhere, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from credentials.errors import InvalidInput
from wallet.db import get_db
from wallet.holding import check_password, create_account, delete_account, password_hasher
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

__all__ = ["bp"]

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _next_or_home(target: str | None) -> str:
    return safe_next(target, url_for("credentials.list_credentials"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if request.method == "POST":
        username, password = request.form.get("username", ""), request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            return render_template("auth/signup.html", error="The two passwords differ.", username=username), 400
        db = get_db()
        try:
            account_id = create_account(
                db, current_app.extensions["microcred_wallet_secret"], password_hasher(current_app.config),
                username, password, now=now(),
            )
        except InvalidInput as exc:
            return render_template("auth/signup.html", error=str(exc), username=username), 400
        start_session(account_id)
        flash("Welcome! Your wallet is ready; add your first credential.")
        return redirect(url_for("credentials.add"))
    return render_template("auth/signup.html", error=None, username="")


def _too_many(template: str, wait: int, **context):
    minutes = max(1, -(-wait // 60))
    error = f"Too many failed attempts from this device. Try again in {minutes} minute{'' if minutes == 1 else 's'}."
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
            return render_template(
                "auth/signin.html", error="That user name and password do not match.", username=username, next=next_url
            ), 401
        forget_signin_failures(db, username)
        start_session(account_id)
        return redirect(_next_or_home(next_url))
    return render_template("auth/signin.html", error=None, username="", next=next_url)


@bp.post("/signout")
def signout():
    end_session()
    flash("You are signed out.")
    return redirect(url_for("auth.signin"))


@bp.post("/signout-everywhere")
@login_required
def signout_everywhere():
    end_all_sessions(g.account["id"])
    flash("You are signed out on every device.")
    return redirect(url_for("auth.signin"))


@bp.route("/account", methods=["GET"])
@login_required
def account():
    return render_template("auth/account.html")


def _password_again(template: str, **context) -> tuple[Any, bool]:
    """The signed-in user's password from the form, throttled like sign-in: (a 429 answer or None, right?)."""
    db = get_db()
    username = g.account["username"]
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
            return render_template("auth/confirm.html", error="That password is not right.", next=next_url), 401
        return redirect(safe_next(next_url, url_for("auth.account")))
    return render_template("auth/confirm.html", error=None, next=next_url)


@bp.post("/delete")
@login_required
def delete():
    """Delete the account; the password in the form is the fresh sign-in, checked and throttled here."""
    refused, right = _password_again("auth/account.html")
    if refused is not None:
        return refused
    if not right:
        return render_template("auth/account.html", error="That password is not right; nothing was deleted."), 400
    db = get_db()
    delete_account(db, g.account["id"])
    end_session()
    flash("Your account and everything in it were deleted.")
    return redirect(url_for("auth.signup"))
