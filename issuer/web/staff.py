"""Signing in to the registrar's pages (issue 15, §5): staff accounts, sessions, roles, the audit log.

- No staff account yet (:class:`issuer.staff.StaffBook`): the pages answer
  loopback clients only, as before accounts existed, and not a request a
  proxy relayed (``Forwarded``, ``X-Forwarded-For``…: through a proxy on this
  machine every client looks like 127.0.0.1) (``REGISTRAR_ALLOW_REMOTE``
  lifts that for an operator who puts their own authentication in front); the
  audit log names the actor :data:`issuer.staff.LOCAL_ACTOR`.
- Once an account exists (``microcred issuer staff add``): every client signs
  in, loopback too, so the pages may be served on a network. ``viewer`` sees,
  ``registrar`` also revokes (OWASP Authorization cheat sheet: deny by default,
  checked on every request, server side).

Sessions (OWASP Session Management cheat sheet): Flask's signed cookie,
``HttpOnly``, ``SameSite=Strict``, ``Secure`` when the issuer's URL is https;
cleared and given a new CSRF token at sign-in (no fixation); they end after
``STAFF_SESSION_HOURS``, at sign-out (the session's random id is then kept
as ended in the shared store, so a copy of the cookie is refused too), and
when the account is removed (a new account by the same name gets none of
the old one's sessions). Every
POST, the sign-in form's too, carries the foundation's CSRF token. Sign-in
attempts are limited per client (``STAFF_SIGNIN_RATE_LIMIT``, :mod:`infra.rate_limit`,
429 with ``Retry-After``), and a wrong name costs the same Argon2 work as a wrong
password.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from infra.i18n import gettext
from infra.rate_limit import enforce, parse_rate_limit
from infra.web import foundation_of, new_csrf_token
from issuer.staff import LOCAL_ACTOR, ROLE_REGISTRAR, AuditEntry, StaffBook, StaffMember
from issuer.web.context import EXTENSION, now

__all__ = ["bp", "staff_book", "require_staff", "record_change", "current_actor", "shared_store"]

bp = Blueprint("staff", __name__, url_prefix="/registrar")
_LOOPBACK = {"127.0.0.1", "::1"}
#: Headers a reverse proxy adds (RFC 7239 and the de-facto ones): a request carrying one came through a proxy,
#: so its loopback address is the proxy's, not the client's.
_FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host", "X-Client-IP")
_SESSION_KEY = "staff"
#: The shared store's namespace of signed-out session ids.
_ENDED = "issuer-staff-session-ended"
_STORE = "microcred_issuer_store"


def staff_book() -> StaffBook:
    """The issuer's staff accounts and audit log (``staff.sqlite`` in the issuer's folder)."""
    return StaffBook.of_home(current_app.extensions[EXTENSION]["home"].path)


def _signed_in(book: StaffBook) -> StaffMember | None:
    """The session's account, if it is still there, unchanged, and the session not too old."""
    held = session.get(_SESSION_KEY)
    if not isinstance(held, dict) or not isinstance(held.get("u"), str) or not isinstance(held.get("at"), int):
        return None
    if now() - held["at"] > current_app.config["STAFF_SESSION_HOURS"] * 3600:
        return None
    sid = held.get("sid")
    if not isinstance(sid, str) or shared_store().get(_ENDED, sid) is not None:  # signed out: ended server-side
        return None
    member = book.member(held["u"])
    if member is None or member.session_epoch != held.get("e") or member.created_at != held.get("c"):
        return None  # removed, or removed and made again (by that name, perhaps for someone else)
    return member


def _from_this_machine() -> bool:
    """A client on this machine itself: a loopback address, and not relayed by a proxy (a proxy on this machine,
    as the README's nginx set-up, makes every client on the network look like 127.0.0.1)."""
    if request.remote_addr not in _LOOPBACK:
        return False
    return not any(name in request.headers for name in _FORWARDING_HEADERS)


def require_staff(*, change: bool) -> None:
    """The registrar blueprints' guard: who may see (and, with ``change``, revoke); sets ``g.staff``."""
    book = staff_book()
    if not book.has_accounts():
        if not _from_this_machine() and not current_app.config.get("REGISTRAR_ALLOW_REMOTE"):
            abort(403, description=gettext(
                "The registrar's pages answer this machine only until a staff account exists: "
                "create one with `microcred issuer staff add NAME --role registrar`."))
        g.staff = None
        return
    member = _signed_in(book)
    if member is None:
        session.pop(_SESSION_KEY, None)
        target = request.full_path if request.method == "GET" else url_for("registrar.index")
        abort(redirect(url_for("staff.sign_in", next=target.rstrip("?"))))
    if change and member.role != ROLE_REGISTRAR:
        abort(403, description=gettext("Your account (%(role)s) may look at the registrar's pages but not change a "
                                       "status; a registrar account may.", role=member.role))
    g.staff = member


def current_actor() -> tuple[str, str]:
    """(who, role) for the audit log of this request's change."""
    member = g.get("staff")
    return (member.username, member.role) if member is not None else (LOCAL_ACTOR, ROLE_REGISTRAR)


def record_change(action: str, subject: str, count: int, reason: str) -> None:
    """Add this request's change to the audit log."""
    actor, role = current_actor()
    staff_book().record(AuditEntry(now(), actor, role, action, subject, count, reason, request.remote_addr))


def shared_store():
    """The app's shared short-lived store (:mod:`infra.store`): rate-limit counters."""
    store = current_app.extensions.get(_STORE)
    if store is None:
        store = current_app.extensions[_STORE] = foundation_of(current_app).open_store()
    return store


def _safe_next(target: str | None) -> str:
    """Only a path of this site's registrar (no open redirect)."""
    if not target or not target.startswith("/registrar/") or target.startswith("//") or "\\" in target:
        return url_for("registrar.index")
    parts = urlsplit(target)
    return url_for("registrar.index") if parts.scheme or parts.netloc else target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    book = staff_book()
    target = _safe_next(request.values.get("next"))
    if not book.has_accounts():
        return redirect(target)
    if request.method == "GET":
        return render_template("sign_in.html", next=target, error=None, username="")
    limit = parse_rate_limit(current_app.config["STAFF_SIGNIN_RATE_LIMIT"], setting="MICROCRED_STAFF_SIGNIN_RATE_LIMIT")
    enforce(shared_store(), "issuer-staff-sign-in", limit, request.remote_addr, what="sign-in attempts")
    username = request.form.get("username", "")[:200]
    member = book.check_password(username, request.form.get("password", ""))
    if member is None:
        return render_template("sign_in.html", next=target, username=username,
                               error=gettext("The user name or the password is not right.")), 401
    session.clear()
    session[_SESSION_KEY] = {"u": member.username, "e": member.session_epoch, "c": member.created_at, "at": now(),
                             "sid": secrets.token_urlsafe(16)}
    new_csrf_token()
    return redirect(target)


@bp.post("/sign-out")
def sign_out() -> Response:
    held = session.get(_SESSION_KEY)
    if isinstance(held, dict) and isinstance(held.get("sid"), str):
        # The cookie is the whole session: a copy of it must stop working too, so its id is remembered as ended
        # for as long as it could otherwise last.
        hours = current_app.config["STAFF_SESSION_HOURS"]
        shared_store().put(_ENDED, held["sid"][:64], "signed out", hours * 3600 + 60)
    session.clear()
    return redirect(url_for("staff.sign_in") if staff_book().has_accounts() else url_for("home.index"))


def staff_context() -> dict[str, object]:
    """What the registrar's pages print about the person signed in (``staff_member``)."""
    return {"staff_member": g.get("staff")}
