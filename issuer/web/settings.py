"""The issuer service's settings: ``MICROCRED_<NAME>`` in the environment, ``app.config[NAME]`` in the app.

Checked once, at start-up, by :mod:`infra.settings`; the README's
configuration table lists those an operator sets. The issuer's public URL is
not a setting: it is the base URL of its identity (``issuer init --url``),
which the status URIs and offers it signed carry.
"""

from __future__ import annotations

import time

from infra.rate_limit import rate_limit_check
from infra.settings import COMMON, Setting

__all__ = ["SETTINGS"]


SETTINGS: tuple[Setting, ...] = COMMON + (
    Setting("ISSUER", "str", None, "the issuer's name under DATA_DIR/issuers; default: the only one"),
    Setting("MAX_CONTENT_LENGTH", "int", 1024 * 1024,
            "bytes of a request body, sent whole or in chunks (the bulk revocation page allows its file's size)",
            minimum=1),
    Setting("SECRET_KEY", "str", None, "session secret; default: the issuer's secret.key (0600)"),
    Setting("STATUS_ANCHOR", "object", None, "an object with anchor(...) (tests); default: the ledger"),
    Setting("CLOCK", "object", time.time, "epoch seconds (tests fix it)", callable=True),
    Setting("REGISTRAR_ALLOW_REMOTE", "bool", False,
            "serve the registrar pages to non-loopback clients while no staff account exists (your own "
            "authentication in front); with staff accounts every client signs in and this is not needed"),
    Setting("STAFF_SESSION_HOURS", "float", 8.0, "a registrar's session ends this many hours after sign-in",
            minimum=0.01),
    Setting("STAFF_SIGNIN_RATE_LIMIT", "str", "10/300", "registrar sign-in attempts per client: N/S seconds, or off",
            check=rate_limit_check("STAFF_SIGNIN_RATE_LIMIT")),
    Setting("ISSUER_OID4VCI_RATE_LIMIT", "str", "600/60",
            "OpenID4VCI requests (offer, token, nonce, credential) per client: N/S seconds, or off",
            check=rate_limit_check("ISSUER_OID4VCI_RATE_LIMIT")),
    Setting("ANCHOR_RETRY_SECONDS", "float", 5.0,
            "how often to compare the chain with the archive and anchor what is behind; 0: never", minimum=0),
)
