"""The wallet's settings: ``MICROCRED_<NAME>`` in the environment, ``app.config[NAME]`` in the app.

Checked once at start-up by :func:`infra.settings.load_settings` (the kinds,
ranges and the error a bad value gives are described there); the README's
configuration table lists those an operator sets. Sessions follow the OWASP
Session Management cheat sheet (idle and absolute timeouts); sign-in limits
are explained in :mod:`wallet.throttle`.
"""

from __future__ import annotations

import time
from datetime import timedelta

from infra.rate_limit import rate_limit_check
from infra.settings import COMMON, WALLET_VERIFIER_TRUST_ANCHORS, X509_TRUST_ANCHORS, Setting, spec_defaults

__all__ = ["SETTINGS", "DEFAULT_CONFIG"]

_DAY = 24 * 3600


SETTINGS: tuple[Setting, ...] = COMMON + (
    Setting("PUBLIC_URL", "url", None, "base of one-time links, and the only host answered; `wallet serve` sets it"),
    Setting("MAX_CONTENT_LENGTH", "int", 1024 * 1024, "bytes of a request body", minimum=1),
    Setting("UPLOAD_LIMITS", "object",
            {"backup.restore": 16 * 1024 * 1024, "credentials.add": 2 * 1024 * 1024 + 64 * 1024},
            "larger body limits for some endpoints (endpoint → bytes)"),
    Setting("SESSION_COOKIE_NAME", "str", "microcred_wallet", "the session cookie's name"),
    Setting("SESSION_COOKIE_SECURE", "bool", True, "send the session cookie over https only"),
    Setting("SESSION_COOKIE_HTTPONLY", "bool", True, "hide the session cookie from scripts"),
    Setting("SESSION_COOKIE_SAMESITE", "str", "Lax", "the session cookie's SameSite", choices=("Lax", "Strict")),
    Setting("PERMANENT_SESSION_LIFETIME", "object", timedelta(days=14), "the session cookie's lifetime"),
    Setting("SESSION_LIFETIME", "int", 14 * _DAY, "seconds a session lasts whatever the activity", minimum=1),
    Setting("SESSION_IDLE_TIMEOUT", "int", 30 * 60, "seconds without a request that end a session", minimum=1),
    Setting("REAUTH_MAX_AGE", "int", 5 * 60,
            "export, restore, credential removal: seconds since the password was entered", minimum=0),
    Setting("SIGNIN_WINDOW", "int", _DAY, "seconds failed sign-ins are remembered", minimum=1),
    Setting("SIGNIN_FREE_FAILURES", "int", 5, "failures per (account, client) before back-off", minimum=0),
    Setting("SIGNIN_BACKOFF_BASE", "int", 30, "seconds of the first back-off; doubles per failure", minimum=1),
    Setting("SIGNIN_BACKOFF_MAX", "int", 15 * 60, "the longest back-off, seconds", minimum=1),
    Setting("SIGNIN_ACCOUNT_SLOWDOWN", "int", 100,
            "failures on one account (all clients) that make failed clients back off at once", minimum=1),
    Setting("SIGNIN_CLIENT_FREE_FAILURES", "int", 50, "failures per client across accounts", minimum=1),
    Setting("SHARE_LIFETIME", "int", 300, "seconds a one-time share link lives", minimum=1),
    Setting("HTTP_TIMEOUT", "float", 5.0, "one deadline per outbound request, seconds", above=0),
    Setting("HTTP_TRANSPORT", "object", None, "tests: (method, url, headers, body) -> infra.fetch.Response",
            callable=True),
    Setting("TRUST_CHECK", "object", None, "(raw, format, now) -> checks; see wallet.checking", callable=True),
    Setting("CHAIN_CHECKS", "bool", True, "with no TRUST_CHECK: check on the chain of DATA_DIR's deployment"),
    Setting("WALLET_STATUS_MAX_AGE", "int", 60,
            "seconds a credential's status check stays fresh; an older card or page is checked again when shown",
            minimum=0),
    Setting("CLOCK", "object", time.time, "epoch seconds (tests fix it)", callable=True),
    Setting("CSRF_EXEMPT", "list", (), "endpoints taking POSTs from elsewhere; none today"),
    Setting("ARGON2_TIME_COST", "int", 3, "Argon2id passes for passwords", minimum=1),
    Setting("ARGON2_MEMORY_COST", "int", 64 * 1024, "Argon2id memory for passwords, KiB", minimum=8),
    Setting("ARGON2_PARALLELISM", "int", 4, "Argon2id lanes for passwords", minimum=1),
    X509_TRUST_ANCHORS,
    WALLET_VERIFIER_TRUST_ANCHORS,
    Setting("WALLET_IMPORT_RATE_LIMIT", "str", "30/60", "credential imports per client: N/S seconds, or off",
            check=rate_limit_check("WALLET_IMPORT_RATE_LIMIT")),
    Setting("WALLET_OPENID4VP_RATE_LIMIT", "str", "30/60",
            "verifiers' OpenID4VP requests read (fetched) per client: N/S seconds, or off",
            check=rate_limit_check("WALLET_OPENID4VP_RATE_LIMIT")),
    Setting("WALLET_SIGNUP_RATE_LIMIT", "str", "30/600",
            "wallets (accounts) created per client, passkey sign-ups included: N/S seconds, or off",
            check=rate_limit_check("WALLET_SIGNUP_RATE_LIMIT")),
    Setting("WALLET_PASSKEY_SIGNIN_RATE_LIMIT", "str", "300/600",
            "sign-in pages holding a passkey ceremony (a shared-store row) per client: N/S seconds, or off; past it "
            "the page offers the password form alone",
            check=rate_limit_check("WALLET_PASSKEY_SIGNIN_RATE_LIMIT")),
)

#: ``{name: default}`` (read-only).
DEFAULT_CONFIG = spec_defaults(SETTINGS)
