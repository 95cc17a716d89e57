"""The verifier service: the verify API, policies, the scanning page, OpenID4VP.

``create_app(test_config=None)`` builds the Flask app (the Flask tutorial's
pattern) on the services' one foundation (:func:`infra.web.init_foundation`):
the settings of :mod:`verifier.settings` (defaults, ``MICROCRED_*``
environment variables, then ``test_config``, checked once), security headers,
hosts and ``/healthz``; one :class:`~verifier.service.VerifierService` per
process on ``app.extensions["microcred_verifier"]``; blueprints ``api``
(``POST /api/v1/verify``), ``pages`` (scan, upload, paste, result) and
``openid4vp`` (verifier-initiated requests), ``trust_lists`` (``GET /trust/lote.json``:
the TrustRegistry as an ETSI TS 119 602 list), ``evidence`` (the result page's signed evidence file,
``GET /.well-known/jwks.json``). Error classes map to HTTP codes
in one place (:mod:`infra.web_errors`); nothing a client sends yields
a 500. Every answer carries the foundation's strict Content-Security-Policy.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import Forbidden, UnsupportedMediaType

from infra import assets as shared_assets
from infra import web_errors
from infra.display import init_jinja
from infra.web import Foundation, init_foundation
from verifier.api import HANDED_OVER, CappedChunkedBodies, DirectVerify
from verifier.api import bp as api_bp
from verifier.context import EXTENSION, service_of
from verifier.evidence import bp as evidence_bp
from verifier.openid4vp import bp as openid4vp_bp
from verifier.pages import PHOTO_MAX_BYTES
from verifier.pages import bp as pages_bp
from verifier.service import VerifierService
from verifier.settings import SETTINGS
from verifier.trust_lists import bp as trust_lists_bp

__all__ = ["create_app", "service_of"]

#: Paths answered in JSON, errors included (the API, OpenID4VP); other paths get the error page.
API_PATHS = ("/api/", "/openid4vp/request/", "/openid4vp/response", "/trust/")
_log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    # POST /api/v1/verify answered at the WSGI level, inside what init_foundation and the hosts wrap around it
    app.wsgi_app = DirectVerify(app, app.wsgi_app)  # type: ignore[method-assign]
    web = init_foundation(app, SETTINGS, test_config, scripts=True, cache_control=_cache_control)
    # Whole credentials (a Europass EDC is about 0.5 MB) may fill VERIFIER_MAX_IMPORTED_BODY; an SD-JWT VC
    # presentation is held to VERIFIER_MAX_BODY once its format is known (verifier.api, verifier.pages).
    body_cap = max(web.settings.VERIFIER_MAX_BODY, web.settings.VERIFIER_MAX_IMPORTED_BODY)
    app.config["MAX_CONTENT_LENGTH"] = body_cap
    # a chunked body past its cap is 413, not cut at the cap and read as if whole (verifier.api)
    app.wsgi_app = CappedChunkedBodies(app.wsgi_app, body_cap,  # type: ignore[method-assign]
                                       {"/verify/photo": PHOTO_MAX_BYTES})
    app.config.setdefault("MAX_FORM_MEMORY_SIZE", body_cap)
    app.extensions[EXTENSION] = service = VerifierService(web.settings)
    _serve_hosts_and_health(web, service)

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(openid4vp_bp)
    app.register_blueprint(trust_lists_bp)  # GET /trust/lote.json, /trust/accreditations.json
    app.register_blueprint(evidence_bp)  # POST /evidence/<id> (download), GET /.well-known/jwks.json
    shared_assets.init_app(app)  # the QR scanner and jsQR, shared with the wallet (infra/static)
    web_errors.init_app(app, api_paths=API_PATHS)
    init_jinja(app)  # bidi controls in claims are shown, not obeyed (infra.display)
    _refuse_cross_site_forms(app)  # before the rate limit: another site's post spends nobody's verifications
    _limit_rates(app)
    _refuse_compressed_bodies(app)  # after the rate limit: a refused request still counts
    return app


def _cache_control(response):
    """Answers of the API and of OpenID4VP, and pages, are never cached (unless a view said otherwise)."""
    if "Cache-Control" not in response.headers and (request.path.startswith(("/api/", "/openid4vp/"))
                                                    or response.mimetype == "text/html"):
        return "no-store"
    return None


def _serve_hosts_and_health(web: Foundation, service) -> None:
    """Trusted hosts from ``VERIFIER_PUBLIC_URL``; ``/healthz`` with the chain head this worker has processed;
    the chain watcher started in each serving process after the fork (:mod:`infra.serving`)."""
    def health() -> dict:
        view = getattr(service, "_view", None)  # never opens the ledger: a probe must not wait on the chain
        return {"ledger_head": getattr(view, "head", None)}

    def watch_chain() -> None:
        view = service.ledger_view()
        if view is not None:
            view.start()

    web.answer_hosts(web.settings.VERIFIER_PUBLIC_URL, health=health)
    web.on_worker_start(lambda: threading.Thread(target=watch_chain, name="ledger-view-open", daemon=True).start())


#: Endpoints counted against a per-client rate limit (``VerifierService.limit`` actions).
_RATE_LIMITED = {"api.verify": "verify", "pages.verify": "verify", "pages.verify_photo": "verify",
                 "openid4vp.create": "openid4vp", "openid4vp.response": "verify", "evidence.download": "verify"}


def _refuse_cross_site_forms(app: Flask) -> None:
    """Refuse (403) a post to the pages' forms that a browser says another site's page made it send (Fetch Metadata,
    ``Sec-Fetch-Site: cross-site``). The verifier keeps no session, so no CSRF token can tie a form to its page;
    a program without the header (curl, a wallet) and the API and OpenID4VP answers under :data:`API_PATHS`,
    which other sites and programs are meant to use, are not concerned."""

    @app.before_request
    def _same_site_forms_only():
        if (request.method == "POST" and request.headers.get("Sec-Fetch-Site") == "cross-site"
                and not request.path.startswith(API_PATHS)):
            raise Forbidden("This form was sent from another site. Open the verifier's own page and scan or paste "
                            "the presentation there.")


def _refuse_compressed_bodies(app: Flask) -> None:
    """415 for a body sent with a ``Content-Encoding`` (gzip, deflate, br…): no route here inflates one, so a
    compressed body (a "gzip bomb" among them) is refused saying so rather than read as garbage."""

    @app.before_request
    def _identity_bodies_only():
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            raise UnsupportedMediaType(f"the request body is sent with Content-Encoding {encoding[:40]}; this "
                                       "verifier reads bodies only uncompressed (no Content-Encoding)")


def _limit_rates(app: Flask) -> None:
    """Count clients: RateLimited (429 with ``Retry-After``, :mod:`infra.web_errors`) past a client's limit
    (``MICROCRED_VERIFIER_RATE_LIMIT`` and friends)."""

    @app.before_request
    def _count_client():
        action = _RATE_LIMITED.get(request.endpoint or "")
        if action is not None and request.method == "POST" and HANDED_OVER not in request.environ:
            service_of(app).limit(action, request.remote_addr)


