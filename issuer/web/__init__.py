"""``microcred issuer serve``: the issuer's web service (Flask application factory).

The app stands on the services' one foundation (:func:`infra.web.init_foundation`):
settings (:mod:`issuer.web.settings`: defaults, ``MICROCRED_*`` environment
variables, then ``test_config``, checked once), security headers and the one
Content-Security-Policy (no script: the issuer's pages run none), CSRF on the
registrar's forms, hosts and ``/healthz``. Its own settings:

==================  ===========================================================
``ISSUER``          the issuer's name under ``DATA_DIR/issuers`` (default: the only one)
``DATA_DIR``        where state lives (default ``./var``)
``SECRET_KEY``      session secret (default: the issuer's ``secret.key``, 0600)
``STATUS_ANCHOR``   an object with ``anchor(...)`` (tests); default: the ledger
``CLOCK``           a callable giving epoch seconds (tests); default ``time.time``
``REGISTRAR_ALLOW_REMOTE``  serve the registrar pages to non-loopback clients while no staff account exists
``STAFF_SESSION_HOURS``     a registrar's session ends this long after sign-in (default 8)
``STAFF_SIGNIN_RATE_LIMIT`` sign-in attempts per client, ``N/S`` or ``off`` (default ``10/300``)
``ANCHOR_RETRY_SECONDS``    how often to compare the chain with the archive and anchor what is
                            behind; 0: never (default 5)
==================  ===========================================================

A background thread anchors whatever the chain holds behind the archive (at
start, then every ``ANCHOR_RETRY_SECONDS``), so a revocation made while the
chain was down, or killed before it anchored, or lost by a restarted node, is
anchored without a command or a restart. It
runs in the serving worker (``infra.serving.on_worker_start``), one per
machine. The app answers only the host of the issuer's base URL
(``infra.hosts``; ``MICROCRED_TRUSTED_HOSTS`` adds more).

Blueprints: :mod:`issuer.web.home` (``/``: who the issuer is), :mod:`issuer.web.public`
(status lists, metadata, OpenID4VCI), :mod:`issuer.web.registrar` (the registrar's pages),
:mod:`issuer.web.registrar_bulk` (revoke or suspend from a CSV file, previewed and confirmed)
and :mod:`issuer.web.staff` (staff sign-in, roles, the audit log); what they need from the
app is in :mod:`issuer.web.context`. Views are a few lines each and call
:mod:`issuer.service` / :mod:`issuer.oid4vci`. Errors answer through the one
table of :mod:`infra.web_errors`: JSON (OAuth's form for OpenID4VCI) on
:data:`API_PATHS`, the issuer's own ``error.html`` elsewhere.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from typing import Any

from flask import Flask, request
from markupsafe import Markup, escape

from credentials.errors import ConfigurationError, MicrocredError
from infra import web_errors
from infra.display import init_jinja
from infra.serving import MachineLock
from infra.web import Foundation, init_foundation
from issuer.identity import list_issuers, load_issuer
from issuer.ledger_link import LedgerStatusAnchor
from issuer.web import home as home_page
from issuer.web import public, registrar, registrar_bulk, staff
from issuer.web.context import EXTENSION, close_archive, get_oid4vci, get_service, now
from issuer.web.settings import SETTINGS
from ledger.config import LedgerSettings

__all__ = ["create_app", "get_service", "get_oid4vci", "now", "code_spans"]

#: Paths answered in JSON, errors included: OpenID4VCI / OAuth endpoints, metadata, status lists.
API_PATHS = ("/token", "/nonce", "/credential", "/.well-known/", "/status/")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the issuer app for one issuer."""
    app = Flask(__name__)
    web = init_foundation(app, SETTINGS, test_config, scripts=False, cache_control=_cache_control)
    root = web.settings.DATA_DIR
    name = web.settings.ISSUER
    if not name:
        names = list_issuers(root)
        name = names[0] if len(names) == 1 else None
    if not name:
        raise ConfigurationError(f"expected MICROCRED_ISSUER naming one of the issuers under {root}")
    home = load_issuer(root, name)
    if not web.settings.SECRET_KEY:
        app.config["SECRET_KEY"] = home.session_secret()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=home.identity.base_url.startswith("https://"))
    app.extensions[EXTENSION] = {"home": home, "signing_key": home.signing_key()}
    web.answer_hosts(home.identity.base_url)  # the URL its status lists and offers carry
    if web.settings.STATUS_ANCHOR is None:
        # The ledger of this app's settings, whatever the environment says by the time of a revoke.
        app.config["STATUS_ANCHOR"] = LedgerStatusAnchor(home, LedgerSettings.of(web.settings))

    app.register_blueprint(home_page.bp)  # /: who the issuer is, its accreditation and lists, the registrar's page
    app.register_blueprint(public.bp)
    app.register_blueprint(registrar.bp)
    app.register_blueprint(registrar_bulk.bp)  # /registrar/bulk: revoke or suspend from a CSV file
    app.register_blueprint(staff.bp)  # /registrar/sign-in, sign-out: staff accounts (issuer.staff)
    app.context_processor(staff.staff_context)
    web.protect_forms(blueprints=("registrar", "registrar_bulk", "staff"),
                      refusal="This form has expired; open the page again.")
    app.jinja_env.filters["code_spans"] = code_spans  # `a command` in a sentence shown as code
    init_jinja(app)  # bidi controls in titles, names and reasons are shown, not obeyed (infra.display)
    web_errors.init_app(app, api_paths=API_PATHS)
    app.teardown_appcontext(close_archive)
    _start_anchor_retry(web)
    return app


log = logging.getLogger(__name__)

_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(text: object) -> Markup:
    """``text`` escaped, each `backticked` span of it (a command the sentence names) in ``<code>``.

    Escaped first, so a message quoting what a client sent stays text; only the backticks become markup.
    """
    return Markup(_CODE_SPAN.sub(lambda match: f"<code>{match.group(1)}</code>", str(escape(text))))

#: Pages no cache may keep: the registrar's (learners' names, student numbers, the audit log) and a learner's
#: offer (whoever holds it redeems the credential).
_PRIVATE_PATHS = ("/registrar", "/offers/")


def _cache_control(response: Any) -> str | None:
    """``no-store`` for :data:`_PRIVATE_PATHS` and any answer to a POST; the rest keep their own (status lists)."""
    return "no-store" if request.method != "GET" or request.path.startswith(_PRIVATE_PATHS) else None


def _start_anchor_retry(web: Foundation) -> None:
    """Make the chain agree with the archive, at start and every ``ANCHOR_RETRY_SECONDS``.

    Each round compares every list's version on chain with the archive's
    latest (:func:`issuer.anchoring.converge`) — a revoke killed before it
    anchored, an anchor the chain lost, a node on a new port — and anchors
    what is behind. Only changes and new errors are logged.
    """
    app = web.app
    interval = web.settings.ANCHOR_RETRY_SECONDS
    if interval <= 0 or app.testing:
        return
    # Started in each serving worker after the fork, never in gunicorn's master; one worker per machine works.
    lock = MachineLock(app.extensions[EXTENSION]["home"].path / "anchor-retry.lock")

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
                    for tree in get_service().converge_issuance():  # batch roots left pending (issuer.issuance)
                        if tree.anchored:
                            log.info("issuance batch root %s is anchored in block %s", tree.root[:16], tree.block)
                        else:
                            problem = f"issuance batch root {tree.root[:16]}: {tree.error}"
            except (MicrocredError, OSError, sqlite3.Error) as exc:
                problem = str(exc)
            if problem and problem != last_problem:
                log.warning("anchoring is behind: %s", problem)
            last_problem = problem
            time.sleep(interval)

    web.on_worker_start(lambda: threading.Thread(target=converge_forever, name="anchor-retry", daemon=True).start())

