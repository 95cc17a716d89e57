"""Errors to pages, in one place (STYLE.md 8).

A client's mistake gets its status code and a sentence that says what was
expected; internals go to the log. Nothing a client sends yields a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from credentials.errors import ConfigurationError, MicrocredError, VerificationError

__all__ = ["init_app", "page_for"]

log = logging.getLogger(__name__)

_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Already done",
    410: "No longer available",
    413: "Too large",
    429: "Too many attempts",
    502: "Could not reach it",
}


def page_for(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", title=_TITLES.get(status, "Something went wrong"), message=message), status


def _http_error(exc: HTTPException) -> Any:
    if exc.code == 413:
        return page_for(413, "That file or text is too large for a credential (the limit is 1 MB).")
    return page_for(exc.code or 500, exc.description or "")


def _microcred_error(exc: MicrocredError) -> Any:
    from wallet.security import DoubleSubmit

    if isinstance(exc, ConfigurationError):
        log.error("configuration problem: %s", exc)
        return page_for(500, "The wallet is not configured correctly; its operator has been told.")
    if isinstance(exc, DoubleSubmit):
        return page_for(409, str(exc))
    message = exc.reason if isinstance(exc, VerificationError) else str(exc)
    if isinstance(exc, ConnectionError):  # infra.fetch.FetchError: 502 when nobody (usable) answered
        return page_for(502 if getattr(exc, "transient", True) else 400, message)
    return page_for(400, message)


def _unexpected(exc: Exception) -> Any:
    log.exception("unexpected error")
    return page_for(500, "Something went wrong on our side. Nothing was changed; please try again.")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(MicrocredError, _microcred_error)
    if not app.testing:  # under test, an unexpected error should fail the test loudly
        app.register_error_handler(Exception, _unexpected)
