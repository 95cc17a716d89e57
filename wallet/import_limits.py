"""A per-client limit on credential imports (issue 10, B18).

Importing checks a credential (signature, the chain, a status list fetched
from the issuer) and redeeming an OpenID4VCI offer calls the issuer: each
import costs this server outbound work. ``MICROCRED_WALLET_IMPORT_RATE_LIMIT``
(default :data:`DEFAULT_LIMIT`: N imports per S seconds, or ``off``) caps it
per client address, counted in the shared store of :mod:`infra.store` (SQLite
in ``DATA_DIR``, or Redis with ``MICROCRED_REDIS_URL``), so every worker counts
the same hits. Past the limit the client gets the 429 page with
``Retry-After`` (RFC 6585 §4).
"""

from __future__ import annotations

from flask import Flask, current_app, request

from infra.rate_limit import RateLimited, enforce, parse_rate_limit
from infra.store import StoreUnavailable
from infra.web import foundation_of
from infra.web_errors import error_response

__all__ = ["DEFAULT_LIMIT", "SETTING", "init_app", "import_refused"]

SETTING = "WALLET_IMPORT_RATE_LIMIT"
DEFAULT_LIMIT = "30/60"
NAMESPACE = "rate-wallet-import"
_LIMIT, _STORE = "microcred_wallet_import_limit", "microcred_wallet_store"


def init_app(app: Flask) -> None:
    """Parse the limit (a bad one fails at start-up) and open the shared store."""
    app.extensions[_LIMIT] = parse_rate_limit(app.config.get(SETTING, DEFAULT_LIMIT), setting=f"MICROCRED_{SETTING}")
    app.extensions[_STORE] = foundation_of(app).open_store()


def import_refused():
    """None when this client may import now; otherwise the response to send instead (429, or 503)."""
    try:
        enforce(current_app.extensions[_STORE], NAMESPACE, current_app.extensions[_LIMIT], request.remote_addr,
                what="imports")
    except RateLimited as exc:
        return error_response(429, f"Too many imports from your address. Nothing was added; try again "
                                   f"in {exc.retry_after} seconds.", headers={"Retry-After": str(exc.retry_after)})
    except StoreUnavailable:
        return error_response(503, "The wallet cannot take imports right now. Nothing was added; "
                                   "please try again in a minute.")
    return None
