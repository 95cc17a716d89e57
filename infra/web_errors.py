"""Errors to HTTP answers, in one place for the three web apps (STYLE.md 8).

:data:`HTTP_STATUS` is the one table from error class to HTTP status (RFC 9110
§15); the tree it covers is drawn, with the same numbers, in
:mod:`credentials.errors`, and a test keeps the classes, the drawing and this
table equal. :func:`init_app` registers the handlers on an app; every factory
calls it once.

- The answer is JSON (``{"error": …}``; an OAuth error's own members, RFC 6749
  §5.2) when the path is one of the app's API paths or the client asks for
  JSON (``Accept``), else the app's own ``error.html`` page.
- A 4xx, and the 502 of a failed outbound request, shows the error's message:
  it is written for the user and says what was expected and what was found.
  Any other 5xx shows a generic sentence; the exception goes to the
  operator's log.
- An unexpected exception (a bug) is logged with its traceback and a request
  id, and the client gets a generic 500 page carrying that id, never the
  traceback. Under test (``TESTING`` with ``PROPAGATE_EXCEPTIONS`` not set to
  False) it propagates instead, so that the test fails loudly.
- ``Retry-After`` on 429 (RFC 9110 §10.2.3), ``WWW-Authenticate`` on an
  invalid access token (RFC 6750 §3), ``Cache-Control: no-store`` on OAuth
  errors (RFC 6749 §5.1).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from credentials.errors import (
    ConfigurationError,
    InvalidAccessToken,
    MicrocredError,
    OAuthError,
    RateLimited,
    VerificationError,
)
from infra.errors import FetchError
from infra.i18n import N_

__all__ = ["HTTP_STATUS", "TITLES", "init_app", "status_of", "public_message", "error_response", "request_id"]

#: The one table: every class of the tree (by name: ``infra`` does not import ``ledger``), its HTTP status.
#: Drawn, with the same numbers, in :mod:`credentials.errors`; tests/test_error_tree.py keeps them equal.
HTTP_STATUS: dict[str, int] = {
    "MicrocredError": 500,
    # credentials.errors: what a client sent, and the checks it failed
    "InvalidInput": 400, "InvalidDid": 400, "InvalidKey": 400, "InvalidStatusList": 400,
    "InvalidCredentialData": 400, "InvalidPresentationRequest": 400, "InvalidCredentialOffer": 400,
    "UnknownCredential": 404, "DuplicateCredential": 409, "StatusChangeRefused": 409,
    "VerificationError": 400, "FormatError": 400, "SignatureError": 400, "DisclosureError": 400,
    "HolderBindingError": 400, "ReplayError": 400, "ValidityPeriodError": 400, "IssuerTrustError": 400,
    "RevocationError": 400, "SchemaViolation": 400,
    "OAuthError": 400, "InvalidAccessToken": 401, "OfferNotFound": 404,
    "DoubleSubmit": 409, "RateLimited": 429, "ConfigurationError": 503,
    # infra.errors: outbound requests, shared state, disks, processes
    "FetchRefused": 400, "FetchError": 502, "RemoteUnreachable": 502, "UnusableAnswer": 400,
    "StoreUnavailable": 503, "StorageError": 503, "SecretFileExists": 503, "ServiceFailed": 500,
    # ledger.errors: the chain
    "LedgerError": 502, "LedgerUnavailable": 503, "RpcTransportError": 503, "RpcErrorResponse": 502,
    "DeploymentNotFound": 503, "InvalidDeployment": 503, "TransactionReverted": 502, "DevnetError": 500,
    "KeyFileError": 503, "CompilationError": 500,
}

#: Page titles by status.
TITLES = {
    400: N_("That did not work"),
    401: N_("Not signed in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Already done"),
    410: N_("No longer available"),
    413: N_("Too large"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    502: N_("Could not reach it"),
    503: N_("Not available right now"),
}

#: What a client is told for a 5xx whose message is for the operator only.
_GENERIC = {
    500: N_("Something went wrong on our side. Nothing was changed; please try again."),
    502: N_("A service this one depends on gave an answer that cannot be used; try again in a moment."),
    503: N_("A service this one depends on is not available right now; try again in a moment."),
}
#: What a page says instead of werkzeug's own English description (an address no route has, a wrong method).
_PLAIN = {
    404: N_("There is no page at this address; check the link, or start again from the start page."),
    405: N_("This address does not take that kind of request; start again from the start page."),
}
_CONFIGURATION = N_("This service is not configured completely; its operator has been told.")
_EXTENSION = "microcred_web_errors"
_log = logging.getLogger(__name__)


def status_of(exc: BaseException) -> int:
    """The HTTP status of ``exc``: its class's entry in :data:`HTTP_STATUS` (the nearest one up its MRO); 500 else."""
    if isinstance(exc, HTTPException):
        return exc.code or 500
    for klass in type(exc).__mro__:
        if issubclass(klass, MicrocredError) and klass.__name__ in HTTP_STATUS:
            return HTTP_STATUS[klass.__name__]
    return 500


def public_message(exc: BaseException) -> str:
    """What the client may read about ``exc``: its own message for a 4xx (and a fetch's 502), else a generic one."""
    status = status_of(exc)
    if status < 500 or isinstance(exc, FetchError):
        return exc.reason if isinstance(exc, VerificationError) else str(exc)
    if isinstance(exc, ConfigurationError):
        return _CONFIGURATION
    return _GENERIC.get(status, _GENERIC[500])


def request_id() -> str:
    """The id of the current request in the operator's log (made on first use, kept on ``g``)."""
    if "request_id" not in g:
        g.request_id = secrets.token_hex(8)
    return g.request_id


def init_app(app: Flask, *, api_paths: Iterable[str] = ()) -> None:
    """Map errors to answers on ``app``: JSON under ``api_paths`` (prefixes) or when asked, else ``error.html``."""
    app.extensions[_EXTENSION] = tuple(api_paths)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(MicrocredError, _microcred_error)
    app.register_error_handler(Exception, _unexpected)


def error_response(status: int, message: str, *, headers: dict[str, str] | None = None,
                   body: dict[str, Any] | None = None, reference: str | None = None) -> Response:
    """The answer for ``status``: ``body`` (or ``{"error": message}``) as JSON, or the app's error page."""
    if _wants_json():
        answer = dict(body) if body is not None else {"error": message}
        if reference:
            answer["request_id"] = reference
        response = jsonify(answer)
    else:
        page = render_template("error.html", code=status, title=TITLES.get(status, TITLES[500]), message=message,
                               request_id=reference)
        response = current_app.make_response(page)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _wants_json() -> bool:
    if not has_request_context():
        return False
    if request.path.startswith(current_app.extensions.get(_EXTENSION, ())):
        return True
    return request.accept_mimetypes.best == "application/json"


def _http_error(exc: HTTPException) -> WerkzeugResponse:
    if exc.code is None:  # not an error answer (a routing redirect): as werkzeug made it
        return exc.get_response()
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length
        message = "The request is too large" + (f" (the limit is {_size(limit)})." if limit else ".")
    elif exc.description == type(exc).description and exc.code in _PLAIN:  # werkzeug's sentence, not ours
        message = _PLAIN[exc.code]
    else:
        message = exc.description or exc.name
    extra = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
    return error_response(exc.code, message, headers=extra)


def _microcred_error(exc: MicrocredError) -> Response:
    status = status_of(exc)
    if status >= 500:
        # The message may name a node, a path or a setting: for the operator only.
        _log.warning("%s answered %s: %s: %s", request.path, status, type(exc).__name__, exc)
    headers: dict[str, str] = {}
    body = None
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, OAuthError):
        body = exc.to_json()
        headers["Cache-Control"] = "no-store"
        if isinstance(exc, InvalidAccessToken):
            headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return error_response(status, public_message(exc), headers=headers, body=body)


def _unexpected(exc: Exception) -> Response:
    if current_app.testing and current_app.config.get("PROPAGATE_EXCEPTIONS") is not False:
        raise exc
    reference = request_id()
    _log.error("unexpected error in request %s (%s %s)", reference, request.method, request.path, exc_info=exc)
    try:
        return error_response(500, f"{_GENERIC[500]} (reference {reference})", reference=reference)
    except Exception:  # the error page itself failed: plain text, still without the traceback
        _log.exception("the error page of request %s failed", reference)
        return Response(f"{_GENERIC[500]} (reference {reference})\n", status=500, mimetype="text/plain")


def _size(limit: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"
