"""The verifier service: the verify API, policies, the scanning page, OpenID4VP.

``create_app(test_config=None)`` builds the Flask app (the Flask tutorial's
pattern): settings from :data:`verifier.service.DEFAULTS`, overridden by
``MICROCRED_*`` environment variables (``app.config.from_prefixed_env``) and
then by ``test_config``; one :class:`~verifier.service.VerifierService` per
process on ``app.extensions["microcred_verifier"]``; blueprints ``api``
(``POST /api/v1/verify``), ``pages`` (scan, upload, paste, result) and
``openid4vp`` (verifier-initiated requests). Error classes map to HTTP codes
in one place (:func:`_register_error_handlers`); nothing a client sends yields
a 500. Every answer carries a strict Content-Security-Policy.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from credentials.errors import ConfigurationError, InvalidInput, VerificationError
from infra import assets as shared_assets

__all__ = ["create_app", "service_of", "CONTENT_SECURITY_POLICY"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Content-Type-Options", "nosniff"),
                     ("Referrer-Policy", "no-referrer"))
_EXTENSION = "microcred_verifier"
_log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from verifier.service import DEFAULTS, VerifierService, check_config

    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MICROCRED")
    if test_config:
        app.config.from_mapping(test_config)
    check_config(app.config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["VERIFIER_MAX_BODY"])
    app.config.setdefault("MAX_FORM_MEMORY_SIZE", int(app.config["VERIFIER_MAX_BODY"]))
    app.extensions[_EXTENSION] = service = VerifierService(app.config)
    _serve_hosts_and_health(app, service)

    from verifier.api import bp as api_bp
    from verifier.openid4vp import bp as openid4vp_bp
    from verifier.pages import bp as pages_bp
    from infra.display import init_jinja

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(openid4vp_bp)
    shared_assets.init_app(app)  # the QR scanner and jsQR, shared with the wallet (infra/static)
    _register_error_handlers(app)
    init_jinja(app)  # bidi controls in claims are shown, not obeyed (infra.display)
    _limit_rates(app)

    @app.after_request
    def _security_headers(response):
        # One pass over the headers instead of a setdefault (a scan each) per header: this runs per request.
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        missing = [(name, value) for name, value in _SECURITY_HEADERS if name.lower() not in present]
        if "cache-control" not in present and (request.path.startswith(("/api/", "/openid4vp/"))
                                               or response.mimetype == "text/html"):
            missing.append(("Cache-Control", "no-store"))
        for name, value in missing:
            headers.add(name, value)
        return response

    return app


def _serve_hosts_and_health(app: Flask, service) -> None:
    """Trusted hosts from ``VERIFIER_PUBLIC_URL``; ``/healthz`` with the chain head this worker has processed;
    the chain watcher started in each serving process after the fork (:mod:`infra.serving`)."""
    import threading

    from infra.hosts import configure_hosts
    from infra.serving import add_health_route, on_worker_start

    configure_hosts(app, app.config.get("VERIFIER_PUBLIC_URL"))

    def health() -> dict:
        view = getattr(service, "_view", None)  # never opens the ledger: a probe must not wait on the chain
        return {"ledger_head": getattr(view, "head", None)}

    def watch_chain() -> None:
        view = service.ledger_view()
        if view is not None:
            view.start()

    add_health_route(app, health)
    on_worker_start(app, lambda: threading.Thread(target=watch_chain, name="ledger-view-open", daemon=True).start())


#: Endpoints counted against a per-client rate limit (``VerifierService.limit`` actions).
_RATE_LIMITED = {"api.verify": "verify", "pages.verify": "verify", "pages.verify_photo": "verify",
                 "openid4vp.create": "openid4vp"}


def _limit_rates(app: Flask) -> None:
    """429 with ``Retry-After`` past a client's limit (``MICROCRED_VERIFIER_RATE_LIMIT`` and friends)."""
    from infra.rate_limit import RateLimited

    @app.before_request
    def _count_client():
        action = _RATE_LIMITED.get(request.endpoint or "")
        if action is not None and request.method == "POST":
            service_of(app).limit(action, request.remote_addr)

    @app.errorhandler(RateLimited)
    def _rate_limited(exc):
        body, code = _error(429, str(exc))
        response = app.make_response((body, code))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response


def service_of(app: Flask):
    """The app's :class:`~verifier.service.VerifierService`."""
    return app.extensions[_EXTENSION]


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/openid4vp/")) or request.accept_mimetypes.best == "application/json"


def _error(code: int, reason: str):
    if _wants_json():
        return jsonify({"error": reason}), code
    from flask import render_template

    return render_template("error.html", code=code, reason=reason), code


def _register_error_handlers(app: Flask) -> None:
    """The one place where error classes become HTTP codes."""

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        return _error(413, f"the request is larger than the limit of {app.config['MAX_CONTENT_LENGTH']} bytes")

    @app.errorhandler(VerificationError)
    @app.errorhandler(InvalidInput)
    def _bad_input(exc):
        return _error(400, getattr(exc, "reason", None) or str(exc))

    @app.errorhandler(ConnectionError)
    def _unavailable(exc):  # the detail (a node's or a store's address) is for the operator only
        _log.warning("a service this verifier depends on is unavailable: %s", exc)
        return _error(503, "a service this verifier depends on is unavailable; try again in a moment")

    @app.errorhandler(ConfigurationError)
    def _misconfigured(exc):
        _log.error("configuration error: %s", exc)
        return _error(503, "the verifier is not configured completely; see its log")

    @app.errorhandler(HTTPException)
    def _http(exc):
        return _error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _internal(exc):
        _log.exception("unexpected error while handling %s %s", request.method, request.path)
        return _error(500, "the verifier failed unexpectedly; the error is in its log")
