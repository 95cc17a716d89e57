"""The holder wallet: a mobile-first Flask web app over a SQLite store.

``create_app(test_config=None)`` follows the Flask tutorial's factory: defaults,
then ``MICROCRED_*`` environment settings (``MICROCRED_DATA_DIR`` →
``DATA_DIR``), then ``test_config``. Blueprints, one per resource: ``auth``,
``credentials``, ``share``, ``openid4vp``, ``backup``. Errors map to pages in
one place (:mod:`wallet.errors`); nothing a client sends yields a 500.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from infra import assets as shared_assets

__all__ = ["create_app", "DEFAULT_CONFIG"]

DEFAULT_CONFIG: dict[str, Any] = {
    "DATA_DIR": "./var",
    "PUBLIC_URL": None,  # base of one-time links, and the host it answers (infra.hosts); `wallet serve` sets it
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "UPLOAD_LIMITS": {"backup.restore": 16 * 1024 * 1024},
    "SESSION_COOKIE_NAME": "microcred_wallet",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    "SESSION_LIFETIME": 14 * 24 * 3600,  # absolute maximum age of a session, whatever the activity
    "SESSION_IDLE_TIMEOUT": 30 * 60,  # a session ends after this long without a request
    "REAUTH_MAX_AGE": 5 * 60,  # export, restore, credential removal: password entered at most this long ago
    "SIGNIN_WINDOW": 24 * 3600,  # failed sign-ins are remembered this long (see wallet.throttle)
    "SIGNIN_FREE_FAILURES": 5,  # per (account, client) before back-off starts
    "SIGNIN_BACKOFF_BASE": 30,  # seconds; doubles with each further failure
    "SIGNIN_BACKOFF_MAX": 15 * 60,
    "SIGNIN_ACCOUNT_SLOWDOWN": 100,  # failures on one account (all clients) that make failed clients back off at once
    "SIGNIN_CLIENT_FREE_FAILURES": 50,  # per client across accounts
    "SHARE_LIFETIME": 300,
    "DEV_LOOPBACK": False,  # MICROCRED_DEV_LOOPBACK=1: fetch from this machine, plain http to it (development)
    "FETCH_ALLOW_PRIVATE": False,  # fetch from RFC 1918 / unique-local addresses (a LAN or intranet deployment)
    "FETCH_CA_FILE": None,  # extra CA certificates (PEM) to trust for outbound https
    "HTTP_TIMEOUT": 5.0,  # one deadline per outbound request, seconds
    "HTTP_TRANSPORT": None,  # tests may inject (method, url, headers, body) -> infra.fetch.Response
    "TRUST_CHECK": None,  # (raw, format, now) -> checks; see wallet.checking
    "CHAIN_CHECKS": True,  # with no TRUST_CHECK: check on the chain of DATA_DIR's deployment.json, if any
    "CLOCK": time.time,
    "CSRF_EXEMPT": (),  # endpoints taking POSTs from elsewhere; none today
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULT_CONFIG)
    app.config.from_prefixed_env("MICROCRED")
    if test_config is not None:
        app.config.from_mapping(test_config)
    from infra.hosts import configure_hosts
    from infra.serving import add_health_route

    configure_hosts(app, app.config["PUBLIC_URL"])
    add_health_route(app)
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)

    from infra.display import init_jinja
    from wallet import db, errors, security
    from wallet.sealing import derive_key, load_or_create_secret

    secret = load_or_create_secret(data_dir)
    app.extensions["microcred_wallet_secret"] = secret
    app.secret_key = derive_key(secret, b"microcred wallet session cookies v1")

    if app.config["TRUST_CHECK"] is None and app.config["CHAIN_CHECKS"] and (data_dir / "deployment.json").exists():
        from wallet.checking import ledger_trust_check
        from wallet.transport import client_from_config

        fetcher = client_from_config(app.config).fetcher

        def fetch_status_token(uri: str) -> str:
            return fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list")

        app.config["TRUST_CHECK"] = ledger_trust_check(data_dir, fetch_status_token)
    db.init_app(app)
    security.init_app(app)
    init_jinja(app)  # bidi controls in anything a page prints are shown, not obeyed
    errors.init_app(app)
    from wallet import import_limits

    import_limits.init_app(app)

    from wallet.views import auth, backup, credentials, openid4vp, share

    for module in (auth, credentials, share, openid4vp, backup):
        app.register_blueprint(module.bp)
    shared_assets.init_app(app)  # the QR scanner and jsQR, shared with the verifier (infra/static)
    app.add_url_rule("/", endpoint="index", view_func=credentials.index)
    return app
