"""Per-client limits on what costs the wallet work for anyone who asks (issue 10, B18; round 4).

Importing checks a credential (signature, the chain, a status list fetched
from the issuer) and redeeming an OpenID4VCI offer calls the issuer: each
import costs this server outbound work. ``MICROCRED_WALLET_IMPORT_RATE_LIMIT``
(default :data:`DEFAULT_LIMIT`: N imports per S seconds, or ``off``) caps it
per client address. Reading a verifier's OpenID4VP request fetches its
``request_uri`` from wherever the scanned code says
(``MICROCRED_WALLET_OPENID4VP_RATE_LIMIT``, default 30/60), and creating an
account costs an Argon2id hash (64 MiB by default) and a row that stays
(``MICROCRED_WALLET_SIGNUP_RATE_LIMIT``, default 30/600, passkey sign-ups
included). Each sign-in page of a passkey wallet holds a fresh ceremony, a row in
the shared store written for anyone who loads it: past
``MICROCRED_WALLET_PASSKEY_SIGNIN_RATE_LIMIT`` (default 300/600) the page shows
the password form alone and writes none. Counted in the shared store of :mod:`infra.store` (SQLite in
``DATA_DIR``, or Redis with ``MICROCRED_REDIS_URL``), so every worker counts
the same hits. Past a limit the client gets the 429 page with ``Retry-After``
(RFC 6585 §4).
"""

from __future__ import annotations

from flask import Flask, current_app, request

from infra.rate_limit import RateLimited, enforce, parse_rate_limit
from infra.store import StoreUnavailable
from infra.web import foundation_of
from infra.web_errors import error_response

__all__ = ["DEFAULT_LIMIT", "SETTING", "OPENID4VP_SETTING", "SIGNUP_SETTING", "LIMITS", "init_app", "import_refused",
           "openid4vp_refused", "signup_refused", "PASSKEY_SIGNIN_SETTING", "passkey_signin_allowed"]

SETTING = "WALLET_IMPORT_RATE_LIMIT"
DEFAULT_LIMIT = "30/60"
OPENID4VP_SETTING = "WALLET_OPENID4VP_RATE_LIMIT"
SIGNUP_SETTING = "WALLET_SIGNUP_RATE_LIMIT"
PASSKEY_SIGNIN_SETTING = "WALLET_PASSKEY_SIGNIN_RATE_LIMIT"
#: setting → (default, the store's namespace, what is counted, what was not done).
LIMITS = {
    SETTING: (DEFAULT_LIMIT, "rate-wallet-import", "imports", "Nothing was added"),
    OPENID4VP_SETTING: ("30/60", "rate-wallet-openid4vp", "verifier requests", "The request was not read"),
    SIGNUP_SETTING: ("30/600", "rate-wallet-signup", "new wallets", "No wallet was made"),
    PASSKEY_SIGNIN_SETTING: ("300/600", "rate-wallet-passkey-signin", "passkey sign-in pages",
                             "No passkey ceremony was started"),
}
_LIMIT, _STORE = "microcred_wallet_limits", "microcred_wallet_store"


def init_app(app: Flask) -> None:
    """Parse the limits (a bad one fails at start-up) and open the shared store."""
    app.extensions[_LIMIT] = {
        setting: parse_rate_limit(app.config.get(setting, default), setting=f"MICROCRED_{setting}")
        for setting, (default, *_rest) in LIMITS.items()}
    app.extensions[_STORE] = foundation_of(app).open_store()


def _refused(setting: str):
    """None when this client may go on now; otherwise the response to send instead (429, or 503)."""
    _default, namespace, what, undone = LIMITS[setting]
    try:
        enforce(current_app.extensions[_STORE], namespace, current_app.extensions[_LIMIT][setting],
                request.remote_addr, what=what)
    except RateLimited as exc:
        return error_response(429, f"Too many {what} from your address. {undone}; try again "
                                   f"in {exc.retry_after} seconds.", headers={"Retry-After": str(exc.retry_after)})
    except StoreUnavailable:
        return error_response(503, f"The wallet cannot take {what} right now. {undone}; please try again in a minute.")
    return None


def import_refused():
    """None when this client may import now; otherwise the response to send instead (429, or 503)."""
    return _refused(SETTING)


def openid4vp_refused():
    """None when this client may have a verifier's request read now; otherwise the 429 (or 503) answer."""
    return _refused(OPENID4VP_SETTING)


def signup_refused():
    """None when this client may create a wallet now; otherwise the 429 (or 503) answer."""
    return _refused(SIGNUP_SETTING)


def passkey_signin_allowed() -> bool:
    """Whether this client's sign-in page may start a passkey ceremony (a row in the shared store) now: False past
    the limit or while the store cannot be written (the page then offers the password form alone)."""
    _default, namespace, what, _undone = LIMITS[PASSKEY_SIGNIN_SETTING]
    try:
        enforce(current_app.extensions[_STORE], namespace, current_app.extensions[_LIMIT][PASSKEY_SIGNIN_SETTING],
                request.remote_addr, what=what)
    except (RateLimited, StoreUnavailable):
        return False
    return True
