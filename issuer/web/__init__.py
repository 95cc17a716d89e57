"""``microcred issuer serve``: the issuer's web service (Flask application factory).

Settings come from ``MICROCRED_*`` environment variables
(``app.config.from_prefixed_env("MICROCRED")``) or ``test_config``:

==================  ===========================================================
``ISSUER``          the issuer's name under ``DATA_DIR/issuers`` (default: the only one)
``DATA_DIR``        where state lives (default ``./var``)
``SECRET_KEY``      session secret (default: the issuer's ``secret.key``, 0600)
``STATUS_ANCHOR``   an object with ``anchor(...)`` (tests); default: the ledger
``CLOCK``           a callable giving epoch seconds (tests); default ``time.time``
``REGISTRAR_ALLOW_REMOTE``  serve the registrar pages to non-loopback clients
``ANCHOR_RETRY_SECONDS``    how often to compare the chain with the archive and anchor what is behind; 0: never (default 5)
==================  ===========================================================

A background thread anchors whatever the chain holds behind the archive (at
start, then every ``ANCHOR_RETRY_SECONDS``), so a revocation made while the
chain was down, or killed before it anchored, or lost by a restarted node, is
anchored without a command or a restart. It
runs in the serving worker (``infra.serving.on_worker_start``), one per
machine. The app answers only the host of the issuer's base URL
(``infra.hosts``; ``MICROCRED_TRUSTED_HOSTS`` adds more).

Blueprints: :mod:`issuer.web.public` (status lists, metadata, OpenID4VCI) and
:mod:`issuer.web.registrar` (the registrar's pages). Views are a few lines
each and call :mod:`issuer.service` / :mod:`issuer.oid4vci`; the archive
connection lives on ``g`` and is closed on teardown.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g

from credentials.errors import MicrocredError
from issuer.archive import Archive
from issuer.identity import data_dir, list_issuers, load_issuer
from issuer.oid4vci import Oid4vciIssuer
from issuer.service import IssuerService

__all__ = ["create_app", "get_service", "get_oid4vci", "now"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the issuer app for one issuer."""
    app = Flask(__name__)
    app.config.from_prefixed_env("MICROCRED")
    if test_config:
        app.config.update(test_config)
    root = Path(app.config.get("DATA_DIR") or data_dir())
    name = app.config.get("ISSUER")
    if not name:
        names = list_issuers(root)
        name = names[0] if len(names) == 1 else None
    if not name:
        from credentials.errors import ConfigurationError

        raise ConfigurationError(f"expected MICROCRED_ISSUER naming one of the issuers under {root}")
    home = load_issuer(root, name)
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = home.session_secret()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
    app.extensions["microcred_issuer"] = {"home": home, "signing_key": home.signing_key()}
    from infra.hosts import configure_hosts
    from infra.serving import add_health_route

    configure_hosts(app, home.identity.base_url)  # the URL its status lists and offers carry
    add_health_route(app)
    if "STATUS_ANCHOR" not in app.config:
        from issuer.ledger_link import LedgerStatusAnchor
        from ledger.config import LedgerSettings

        # The ledger of this app's DATA_DIR, whatever the environment says by the time of a revoke.
        env = LedgerSettings.from_env()
        app.config["STATUS_ANCHOR"] = LedgerStatusAnchor(home, LedgerSettings(root, env.rpc_url, env.confirmations))

    from issuer.web import public, registrar

    app.register_blueprint(public.bp)
    app.register_blueprint(registrar.bp)
    app.teardown_appcontext(_close_archive)
    app.after_request(_security_headers)
    _start_anchor_retry(app)
    return app


log = logging.getLogger(__name__)


def _start_anchor_retry(app: Flask) -> None:
    """Make the chain agree with the archive, at start and every ``ANCHOR_RETRY_SECONDS``.

    Each round compares every list's version on chain with the archive's
    latest (:func:`issuer.anchoring.converge`) — a revoke killed before it
    anchored, an anchor the chain lost, a node on a new port — and anchors
    what is behind. Only changes and new errors are logged.
    """
    from infra.serving import MachineLock, on_worker_start

    interval = float(app.config.get("ANCHOR_RETRY_SECONDS", 5))
    if interval <= 0 or app.config.get("TESTING"):
        return
    # Started in each serving worker after the fork, never in gunicorn's master; one worker per machine works.
    lock = MachineLock(app.extensions["microcred_issuer"]["home"].path / "anchor-retry.lock")

    def converge_forever() -> None:
        last_problem = None
        while True:
            if not lock.acquire():  # another worker converges; take over should it exit
                time.sleep(interval)
                continue
            problem = None
            try:
                with app.app_context():
                    for outcome in get_service().converge_anchors():
                        if outcome.anchored:
                            log.info("status list %s version %s is anchored", outcome.list_id, outcome.version)
                        else:
                            problem = f"status list {outcome.list_id} version {outcome.version}: {outcome.error}"
            except (MicrocredError, OSError, sqlite3.Error) as exc:
                problem = str(exc)
            if problem and problem != last_problem:
                log.warning("anchoring is behind: %s", problem)
            last_problem = problem
            time.sleep(interval)

    on_worker_start(app, lambda: threading.Thread(target=converge_forever, name="anchor-retry", daemon=True).start())


def _close_archive(exc: BaseException | None = None) -> None:
    archive = g.pop("archive", None)
    if archive is not None:
        archive.close()


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def now() -> int:
    clock = current_app.config.get("CLOCK") or time.time
    return int(clock())


def get_service() -> IssuerService:
    if "service" not in g:
        parts = current_app.extensions["microcred_issuer"]
        home = parts["home"]
        g.archive = Archive(home.archive_path)
        g.service = IssuerService(home.identity, g.archive, parts["signing_key"],
                                  anchor=current_app.config.get("STATUS_ANCHOR"))
    return g.service


def get_oid4vci() -> Oid4vciIssuer:
    return Oid4vciIssuer(get_service())
