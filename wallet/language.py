"""The wallet remembers each account's page language (issue 15: English, Italian, German, French).

:mod:`infra.i18n` picks a page's language from ``?lang=``, the ``lang``
cookie, then the hook registered here: the signed-in account's stored choice
(``accounts.language``, migration ``m007_account_language``), then
``Accept-Language``. A choice made with the switcher (``?lang=``) while
signed in is stored on the account, so a new device or browser opens in it
after sign-in; a ``?lang=`` on a request another site started is not.
"""

from __future__ import annotations

from flask import Flask, g, request

from infra.i18n import SUPPORTED, i18n_of
from wallet.db import get_db

__all__ = ["init_app", "stored_language", "store_language"]


def stored_language() -> str | None:
    """The signed-in account's language, or None (nobody signed in, no choice yet)."""
    account = g.get("account")
    if not account:
        return None
    if "language" not in account:
        row = get_db().execute("SELECT language FROM accounts WHERE id = ?", [account["id"]]).fetchone()
        account["language"] = row[0] if row is not None and row[0] in SUPPORTED else None
    return account["language"]


#: ``Sec-Fetch-Site`` values of a request another site started (Fetch Metadata, W3C): a link or image there.
_FROM_ELSEWHERE = frozenset({"cross-site", "same-site"})


def store_language(code: str) -> None:
    """Keep ``code`` (one of :data:`infra.i18n.SUPPORTED`) on the signed-in account; nobody signed in: nothing.

    Not when another site sent the browser here (``Sec-Fetch-Site: cross-site``): a link or an image elsewhere
    may show this one page in its language, but must not change the account's setting (cross-site request
    forgery on a GET)."""
    account = g.get("account")
    if not account or code not in SUPPORTED:
        return
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() in _FROM_ELSEWHERE:
        return
    db = get_db()
    with db.atomic():
        db.execute("UPDATE accounts SET language = ? WHERE id = ?", [code, account["id"]])
    account["language"] = code


def init_app(app: Flask) -> None:
    i18n_of(app).remember(stored_language, store_language)
