"""Web security of the wallet: sessions, CSRF, one-time forms, sign-in limits, headers.

- Sessions: the signed Flask cookie holds only a random session id; the
  database keeps its SHA-256, so "sign out everywhere" deletes every row of an
  account and every cookie stops working at once. A session ends after
  ``SESSION_IDLE_TIMEOUT`` seconds without a request and after
  ``SESSION_LIFETIME`` seconds in any case (OWASP Session Management cheat
  sheet: idle and absolute timeouts).
- Fresh sign-in: views under :func:`fresh_signin_required` (export, restore,
  credential removal) need the password entered within ``REAUTH_MAX_AGE``
  seconds; otherwise they send the user to ``/auth/confirm`` and back.
- CSRF: the foundation's per-session token (:meth:`infra.web.Foundation.protect_forms`)
  in a hidden field of every form, checked on every POST; a fresh one at sign-in.
- One-time forms: forms that change state carry a ``form_id``; the view claims
  it inside the same transaction as its effect, so a double submit is refused
  and a failed submit can be retried.
- Sign-in limits: see :mod:`wallet.throttle` (per account *and* client, with back-off).
- Headers: the foundation's (:mod:`infra.web`: a strict Content-Security-Policy
  with no inline script, no framing, no referrer, camera only for this origin);
  answers to a signed-in learner, and to any POST, are never cached.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from sqlite_utils import Database

from credentials.errors import DoubleSubmit
from infra.i18n import gettext
from infra.web import foundation_of, new_csrf_token
from wallet.db import get_db

__all__ = [
    "DoubleSubmit",
    "now",
    "sha256_hex",
    "start_session",
    "end_session",
    "end_all_sessions",
    "login_required",
    "fresh_signin_required",
    "mark_fresh_signin",
    "claim_form",
    "safe_next",
    "cache_control",
    "init_app",
]

_SESSION_ID = "sid"
FORM_ID_FIELD = "form_id"


def now() -> int:
    """The current time in epoch seconds, from the app's clock (tests may fix it)."""
    return int(current_app.config.get("CLOCK", time.time)())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def start_session(account_id: int) -> None:
    """A fresh session for ``account_id`` (a new id, so no fixation)."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    db = get_db()
    at = now()
    with db.atomic():
        db.execute(
            "INSERT INTO sessions (id_sha256, account_id, created_at, last_seen_at, authenticated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [sha256_hex(session_id), account_id, at, at, at],
        )
    session[_SESSION_ID] = session_id
    new_csrf_token()
    session.permanent = True


def end_session() -> None:
    session_id = session.get(_SESSION_ID)
    if session_id:
        db = get_db()
        with db.atomic():
            db.execute("DELETE FROM sessions WHERE id_sha256 = ?", [sha256_hex(session_id)])
    session.clear()


def end_all_sessions(account_id: int) -> None:
    db = get_db()
    with db.atomic():
        db.execute("DELETE FROM sessions WHERE account_id = ?", [account_id])
    session.clear()


def _load_account() -> None:
    g.account = None
    session_id = session.get(_SESSION_ID)
    if not session_id:
        return
    db = get_db()
    key = sha256_hex(session_id)
    row = db.execute(
        "SELECT accounts.id, accounts.username, sessions.created_at, sessions.last_seen_at, sessions.authenticated_at "
        "FROM sessions JOIN accounts ON accounts.id = sessions.account_id WHERE sessions.id_sha256 = ?",
        [key],
    ).fetchone()
    if row is None:
        session.clear()
        return
    account_id, username, created_at, last_seen_at, authenticated_at = row
    at, config = now(), current_app.config
    if at - created_at >= int(config["SESSION_LIFETIME"]) or at - last_seen_at >= int(config["SESSION_IDLE_TIMEOUT"]):
        with db.atomic():
            db.execute("DELETE FROM sessions WHERE id_sha256 = ?", [key])
        session.clear()
        g.session_timed_out = True
        return
    if at > last_seen_at:
        with db.atomic():
            db.execute("UPDATE sessions SET last_seen_at = ? WHERE id_sha256 = ?", [at, key])
    g.account = {"id": account_id, "username": username, "authenticated_at": authenticated_at}


def _to_signin() -> Any:
    if g.get("session_timed_out"):
        minutes = int(current_app.config["SESSION_IDLE_TIMEOUT"]) // 60
        flash(gettext("You were signed out: the session ended (after %(minutes)s minutes without activity, "
                      "or at its maximum age). Sign in again to continue.", minutes=minutes))
    return redirect(url_for("auth.signin", next=request.path))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("account") is None:
            return _to_signin()
        return view(*args, **kwargs)

    return wrapped


def fresh_signin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in, with the password entered at most ``REAUTH_MAX_AGE`` seconds ago.

    Otherwise: to ``/auth/confirm``, which comes back to this path (a GET of
    it: a POST's form, and its file, is not carried across; the page is shown
    again to be sent again).
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("account") is None:
            return _to_signin()
        if now() - g.account["authenticated_at"] > int(current_app.config["REAUTH_MAX_AGE"]):
            return redirect(url_for("auth.confirm", next=request.path), code=303)
        return view(*args, **kwargs)

    return wrapped


def mark_fresh_signin() -> None:
    """The password was just entered again in this session."""
    session_id = session.get(_SESSION_ID)
    if not session_id:
        return
    db = get_db()
    with db.atomic():
        db.execute("UPDATE sessions SET authenticated_at = ? WHERE id_sha256 = ?", [now(), sha256_hex(session_id)])


#: The longest ``next`` followed; anything longer falls back to the home page.
MAX_NEXT_LENGTH = 2000
#: Percent-decoding rounds looked through (``%252F`` is ``%2F`` is ``/``).
_NEXT_DECODE_ROUNDS = 3


def _is_plain_local_path(text: str) -> bool:
    """A path on this origin: one leading ``/``, no backslash, no whitespace or control/format character."""
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def safe_next(target: object, fallback: str) -> str:
    """``target`` if it is a same-origin relative path, else ``fallback``.

    Every place that honours a ``next`` goes through here. Browsers drop tabs
    and newlines from URLs and treat ``\\`` like ``/``, so ``/<TAB>/evil`` and
    ``/\\evil`` lead off-site; a proxy may decode ``%2F``. So the value and each
    percent-decoding of it must be a plain local path (OWASP Unvalidated
    Redirects cheat sheet: allow only relative paths, fail closed).
    """
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_LENGTH:
        return fallback
    seen = target
    for _ in range(_NEXT_DECODE_ROUNDS + 1):
        if not _is_plain_local_path(seen):
            return fallback
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return fallback


def _apply_upload_limit() -> None:
    """A larger body limit for the endpoints of ``UPLOAD_LIMITS``, set before the form is read."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    limit = current_app.config.get("UPLOAD_LIMITS", {}).get(request.endpoint)
    if limit is not None:
        request.max_content_length = limit
        request.max_form_memory_size = limit  # a pasted credential is a form field, not a file


def new_form_id() -> str:
    return secrets.token_urlsafe(16)


def claim_form(db: Database) -> None:
    """Mark this request's ``form_id`` as used; call inside the view's transaction."""
    form_id = request.form.get(FORM_ID_FIELD, "")
    if not form_id or len(form_id) > 64:
        raise DoubleSubmit("this form is missing its one-time id; reload the page and try again")
    try:
        db.execute("INSERT INTO used_forms (form_id, at) VALUES (?, ?)", [form_id, now()])
    except sqlite3.IntegrityError as exc:
        raise DoubleSubmit("this form was already sent once; nothing was done twice") from exc


def cache_control(response: Any) -> str | None:
    """``no-store`` for whatever a signed-in learner sees and for any POST (the foundation's ``cache_control``)."""
    return "no-store" if g.get("account") is not None or request.method != "GET" else None


def init_app(app: Flask) -> None:
    """Sessions, upload limits, then CSRF on every POST (after the limit, which must precede reading the form)."""
    app.before_request(_load_account)
    app.before_request(_apply_upload_limit)
    foundation_of(app).protect_forms(
        exempt=app.config["CSRF_EXEMPT"],
        refusal="This form has expired or did not come from this wallet. Reload the page and try again.")
    app.jinja_env.globals.update(new_form_id=new_form_id)
