"""The web foundation each service's factory stands on: settings, headers, CSRF, logging, hosts, hooks.

``wallet.create_app``, ``verifier.create_app`` and ``issuer.web.create_app``
each start with :func:`init_foundation` (the Flask tutorial's factory,
STYLE.md 9) and keep only what is their own::

    web = init_foundation(app, SETTINGS, test_config, scripts=True)
    web.answer_hosts(web.settings.PUBLIC_URL, health=...)   # infra.hosts + /healthz (infra.serving)
    web.protect_forms(refusal="...")                        # CSRF, where the app has forms
    store, fetcher = web.open_store(), web.fetcher(...)     # infra.store, infra.fetch
    web.on_worker_start(task)                               # background work after the fork

What it sets up:

- **Settings** from the app's spec (:mod:`infra.settings`), checked once.
- **Logging**, once per process: one handler on the root logger writing
  ``time level logger: message`` to standard error (gunicorn's error log),
  at ``MICROCRED_LOG_LEVEL`` (default INFO). Not under ``TESTING``, where
  pytest's capture is left alone.
- **Security headers** on every answer (OWASP Secure Headers Project): the one
  Content-Security-Policy (:func:`content_security_policy`: nothing from
  other origins, no inline script; script, camera and ``connect-src`` only
  for apps with ``scripts=True``, the two that scan QR codes), ``nosniff``,
  no referrer, no framing, ``Cross-Origin-Opener-Policy``, a
  ``Permissions-Policy`` with the camera for this origin only where it is
  used; over https, ``Strict-Transport-Security`` (one year). A header a
  view set itself is kept. ``Cache-Control`` comes from the app's own rule
  (``cache_control``).
- **Languages** (:func:`infra.i18n.init_i18n`): Flask-Babel, the page's
  language from ``?lang=``, the ``lang`` cookie, the account, ``Accept-Language``.
- **CSRF** (:meth:`Foundation.protect_forms`): the synchronizer token pattern
  (OWASP CSRF Prevention Cheat Sheet): a random per-session token
  (``session["csrf"]``) in a hidden ``csrf_token`` field of every form
  (``{{ csrf_token() }}`` in templates), compared in constant time on every
  POST of the protected blueprints; a mismatch is 400 with the app's sentence.

Errors become HTTP answers in one place for the three apps,
:func:`infra.web_errors.init_app`, which each factory calls beside these.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, abort, request, session
from flask.json.provider import DefaultJSONProvider

from infra.fetch import FetchPolicy, StrictFetcher, Transport
from infra.hosts import configure_hosts
from infra.i18n import init_i18n
from infra.serving import add_health_route, on_worker_start
from infra.settings import Setting, Settings, load_settings
from infra.store import Store, open_store

__all__ = ["CSRF_FIELD", "LOG_FORMAT", "Foundation", "init_foundation", "foundation_of", "content_security_policy",
           "security_headers", "csrf_token", "new_csrf_token", "configure_logging"]

CSRF_FIELD = "csrf_token"
_CSRF_SESSION_KEY = "csrf"
_CSRF_BYTES = 32
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_EXTENSION = "microcred_foundation"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Sent on every answer over https (not over plain http, where browsers ignore it).
HSTS = ("Strict-Transport-Security", "max-age=31536000")

#: The policy's directives, in order: for every app (None), or only for apps whose pages run scripts
#: (True: the camera and QR scanner) or only for those whose pages run none (False).
_POLICY = (
    ("default-src 'none'", None),
    ("script-src 'self'", True),
    ("style-src 'self'", None),
    ("img-src 'self' data: blob:", True),
    ("img-src 'self'", False),
    ("media-src 'self' blob: mediastream:", True),
    ("connect-src 'self'", True),
    ("form-action 'self'", None),
    ("base-uri 'none'", None),
    ("frame-ancestors 'none'", None),
)


def content_security_policy(*, scripts: bool) -> str:
    """The one Content-Security-Policy; ``scripts`` adds this origin's scripts, camera and fetches."""
    return "; ".join(directive for directive, when in _POLICY if when is None or when == scripts)


def security_headers(*, scripts: bool) -> tuple[tuple[str, str], ...]:
    """The headers every answer of an app carries (a view may set its own instead)."""
    camera = "camera=(self)" if scripts else "camera=()"
    return (("Content-Security-Policy", content_security_policy(scripts=scripts)),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Permissions-Policy", f"{camera}, microphone=(), geolocation=()"))


class _SecurityHeaders:
    """WSGI middleware: ``headers`` on every answer of the app, each unless the answer already has it.

    At the WSGI level, on the plain header list, rather than in an ``after_request`` hook through werkzeug's
    ``Headers`` (which checks every value again on each request): the values are this module's constants.
    Every answer the app makes passes through it, error pages included (issue 16: per-request cost).
    """

    def __init__(self, wsgi_app: Any, headers: tuple[tuple[str, str], ...]):
        self.wsgi_app = wsgi_app
        self.headers = tuple((name.lower(), (name, value)) for name, value in headers)
        # Over https (TLS served directly, or a trusted proxy's X-Forwarded-Proto): browsers keep to https
        # for a year (RFC 6797), so a later plain-http link or a stripping middleman gets no clear-text visit.
        self.headers_https = (*self.headers, ("strict-transport-security", HSTS))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        headers = self.headers_https if environ.get("wsgi.url_scheme") == "https" else self.headers

        def start(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in response_headers}
            return start_response(status, response_headers + [header for lower, header in headers
                                                              if lower not in present], exc_info)

        return self.wsgi_app(environ, start)


def _add_headers(app: Flask, headers: tuple[tuple[str, str], ...],
                 cache_control: Callable[[Response], str | None] | None) -> None:
    app.wsgi_app = _SecurityHeaders(app.wsgi_app, headers)  # type: ignore[method-assign]
    if cache_control is None:
        return

    @app.after_request
    def _cache_control(response: Response) -> Response:
        caching = cache_control(response)
        if caching is not None:
            response.headers["Cache-Control"] = caching
        return response


# ---------------------------------------------------------------- CSRF


def csrf_token() -> str:
    """This session's CSRF token (made on first use); templates put it in a hidden ``csrf_token`` field."""
    token = session.get(_CSRF_SESSION_KEY)
    if not token:
        token = session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(_CSRF_BYTES)
    return token


def new_csrf_token() -> None:
    """A fresh token for this session (at sign-in, so a token seen before it is worth nothing after)."""
    session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(_CSRF_BYTES)


def _csrf_check(exempt: frozenset[str], refusal: str) -> Callable[[], None]:
    def check() -> None:
        if request.method in _SAFE_METHODS or request.endpoint in exempt:
            return
        expected = session.get(_CSRF_SESSION_KEY)
        sent = request.form.get(CSRF_FIELD, "")
        if not expected or not isinstance(expected, str) or not secrets.compare_digest(expected, sent):
            abort(400, description=refusal)

    return check


# ---------------------------------------------------------------- logging


class _OperatorLog(logging.StreamHandler):
    """The one handler :func:`configure_logging` installs (found again by its type)."""


def configure_logging(level: str) -> None:
    """The operator log: standard error, :data:`LOG_FORMAT`, at ``level``; installed once per process."""
    root = logging.getLogger()
    if not any(isinstance(handler, _OperatorLog) for handler in root.handlers):
        handler = _OperatorLog(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(level)


# ---------------------------------------------------------------- the foundation


class Foundation:
    """What :func:`init_foundation` set up for one app, and the shared parts it hands out."""

    def __init__(self, app: Flask, settings: Settings):
        self.app = app
        self.settings = settings

    def answer_hosts(self, public_url: str | None, *, health: Callable[[], dict[str, Any]] | None = None) -> None:
        """Answer only ``public_url``'s host (+ ``MICROCRED_TRUSTED_HOSTS``); ``GET /healthz`` with ``health()``."""
        configure_hosts(self.app, public_url)
        add_health_route(self.app, health)

    def protect_forms(self, *, refusal: str, blueprints: Iterable[str] | None = None,
                      exempt: Iterable[str] = ()) -> None:
        """Check the CSRF token on every POST (of ``blueprints``, if given; not of ``exempt`` endpoints).

        The check runs after the hooks registered before it (the app's, or each
        blueprint's own, e.g. the registrar's loopback-only rule).
        """
        check = _csrf_check(frozenset(exempt), refusal)
        for scope in (blueprints if blueprints is not None else (None,)):
            self.app.before_request_funcs.setdefault(scope, []).append(check)
        self.app.jinja_env.globals["csrf_token"] = csrf_token

    def fetch_policy(self, **overrides: Any) -> FetchPolicy:
        """The strict fetcher's policy of the app's settings (``DEV_LOOPBACK``, ``FETCH_*``), with ``overrides``.

        Read from ``app.config`` (where the checked values were written) when called, as the hooks below.
        """
        return FetchPolicy.from_config(self.app.config, **overrides)

    def fetcher(self, *, transport: Transport | None = None, **overrides: Any) -> StrictFetcher:
        """The one strict outbound fetcher (:mod:`infra.fetch`) under :meth:`fetch_policy`."""
        return StrictFetcher(self.fetch_policy(**overrides), transport=transport)

    def open_store(self, *, clock: Callable[[], float] = time.time) -> Store:
        """The shared short-lived state (:mod:`infra.store`): Redis at ``REDIS_URL``, else SQLite in ``DATA_DIR``."""
        return open_store(self.app.config["DATA_DIR"], self.app.config.get("REDIS_URL"), clock=clock)

    def on_worker_start(self, task: Callable[[], None]) -> None:
        """Run ``task`` in each serving process after the fork (:func:`infra.serving.on_worker_start`)."""
        on_worker_start(self.app, task)


class _JsonBodies(DefaultJSONProvider):
    """Flask's JSON, but a body nested deeper than the parser may go (its RecursionError) is malformed JSON, as
    ``request.get_json`` treats any other: ``None`` when silent, else 400 (before, a 500 on every JSON route)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def init_foundation(app: Flask, spec: tuple[Setting, ...], test_config: Mapping[str, Any] | None = None, *,
                    scripts: bool, cache_control: Callable[[Response], str | None] | None = None) -> Foundation:
    """Settings (checked once), logging, security headers; the :class:`Foundation` for the rest."""
    settings = load_settings(app, spec, test_config)
    app.json = _JsonBodies(app)
    if not app.testing:
        configure_logging(settings.LOG_LEVEL)
    _add_headers(app, security_headers(scripts=scripts), cache_control)
    init_i18n(app)  # the pages in en / it / de / fr, the language switcher, dates and numbers (infra.i18n)
    foundation = app.extensions[_EXTENSION] = Foundation(app, settings)
    return foundation


def foundation_of(app: Flask) -> Foundation:
    """The :class:`Foundation` :func:`init_foundation` made for ``app``."""
    return app.extensions[_EXTENSION]
