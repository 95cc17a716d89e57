"""The holder wallet: a mobile-first Flask web app over a SQLite store.

``create_app(test_config=None)`` follows the Flask tutorial's factory on the
services' one foundation (:func:`infra.web.init_foundation`): the settings of
:mod:`wallet.settings` (defaults, then ``MICROCRED_*`` environment variables,
then ``test_config``, checked once), security headers, CSRF, hosts and
``/healthz``. Blueprints, one per resource: ``auth``, ``passkeys``, ``credentials``,
``share``, ``openid4vp``, ``backup``. Errors map to pages in one place
(:mod:`infra.web_errors`); nothing a client sends yields a 500.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask

from credentials.europass import parse_trust_anchors
from credentials.x509_trust import TrustAnchors
from infra import assets as shared_assets
from infra import web_errors
from infra.display import init_jinja
from infra.web import init_foundation
from ledger.config import LedgerSettings
from wallet import db, freshness, import_limits, language, security
from wallet.checking import ledger_trust_check, w3c_list_source
from wallet.sealing import derive_key, load_or_create_secret
from wallet.settings import DEFAULT_CONFIG, SETTINGS
from wallet.transport import client_from_config
from wallet.views import auth, backup, credentials, openid4vp, passkeys, share

__all__ = ["create_app", "DEFAULT_CONFIG"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    web = init_foundation(app, SETTINGS, test_config, scripts=True, cache_control=security.cache_control)
    web.answer_hosts(web.settings.PUBLIC_URL)
    data_dir = web.settings.DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)

    secret = load_or_create_secret(data_dir)
    app.extensions["microcred_wallet_secret"] = secret
    app.secret_key = derive_key(secret, b"microcred wallet session cookies v1")

    anchors_file = web.settings.X509_TRUST_ANCHORS
    anchors = parse_trust_anchors(Path(anchors_file).read_bytes()) if anchors_file else None
    app.extensions["microcred_x509_anchors"] = anchors
    verifier_anchors = web.settings.WALLET_VERIFIER_TRUST_ANCHORS  # who may certify an OpenID4VP verifier
    app.extensions["microcred_verifier_anchors"] = (
        TrustAnchors.from_pem(Path(verifier_anchors).read_bytes()) if verifier_anchors else None)
    if app.config["TRUST_CHECK"] is None and app.config["CHAIN_CHECKS"] and (data_dir / "deployment.json").exists():
        fetcher = client_from_config(app.config).fetcher

        def fetch_status_token(uri: str, *, revalidate: bool = False) -> str:
            return fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list",
                                    revalidate=revalidate)

        # a list whose hash is not the anchored one is fetched again asking caches to revalidate (a CDN's stale copy)
        app.config["TRUST_CHECK"] = ledger_trust_check(
            LedgerSettings.of(web.settings), fetch_status_token, anchors, w3c_list_source(fetcher),
            refetch_status_token=partial(fetch_status_token, revalidate=True),
            refetch_status_list=w3c_list_source(fetcher, revalidate=True))
    db.init_app(app)
    freshness.init_app(app)  # the re-checks of stored badges: started in each serving process, stopped on close
    language.init_app(app)  # the signed-in account's page language (infra.i18n)
    security.init_app(app)
    init_jinja(app)  # bidi controls in anything a page prints are shown, not obeyed
    web_errors.init_app(app)
    import_limits.init_app(app)

    for module in (auth, passkeys, credentials, share, openid4vp, backup):
        app.register_blueprint(module.bp)
    shared_assets.init_app(app)  # the QR scanner and jsQR, shared with the verifier (infra/static)
    app.add_url_rule("/", endpoint="index", view_func=credentials.index)
    return app
