"""What the issuer's blueprints need from the app, in a module of its own.

:mod:`issuer.web.public` and :mod:`issuer.web.registrar` import this module,
never the package that registers them, so no import runs in a circle.

The archive is opened once per app, that is once per serving worker
(:func:`get_archive`, on the first request, after gunicorn's fork), and
shared by the worker's threads: each thread has its own SQLite connection
(:class:`issuer.archive.Archive`). A request gets a fresh
:class:`~issuer.service.IssuerService` over it on ``g``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import current_app, g

from issuer.archive import Archive
from issuer.identity import IssuerIdentity
from issuer.oid4vci import Oid4vciIssuer
from issuer.service import IssuerService

__all__ = ["EXTENSION", "get_archive", "get_service", "get_oid4vci", "now", "identity", "close_archive",
           "template_context"]

#: Where the factory keeps the issuer's home and signing key (``app.extensions``).
EXTENSION = "microcred_issuer"
_OPENING = threading.Lock()
log = logging.getLogger(__name__)


def now() -> int:
    """The current time in epoch seconds, from the app's ``CLOCK`` (tests may fix it)."""
    clock = current_app.config.get("CLOCK") or time.time
    return int(clock())


def identity() -> IssuerIdentity:
    """The identity of the issuer this app serves."""
    return current_app.extensions[EXTENSION]["home"].identity


def get_archive() -> Archive:
    """The app's archive, opened (and its schema brought up to date) by the first request of the worker."""
    parts = current_app.extensions[EXTENSION]
    archive = parts.get("archive")
    if archive is None:
        with _OPENING:
            archive = parts.get("archive")
            if archive is None:
                archive = parts["archive"] = Archive(parts["home"].archive_path)
    return archive


def get_service() -> IssuerService:
    """The request's :class:`~issuer.service.IssuerService` over the worker's archive."""
    if "service" not in g:
        parts = current_app.extensions[EXTENSION]
        g.service = IssuerService(parts["home"].identity, get_archive(), parts["signing_key"],
                                  anchor=current_app.config.get("STATUS_ANCHOR"))
    return g.service


def get_oid4vci() -> Oid4vciIssuer:
    return Oid4vciIssuer(get_service())


def close_archive(exc: BaseException | None = None) -> None:
    """Teardown: the worker's archive stays open; a transaction the request left open on this
    thread's connection (a bug: :meth:`~issuer.archive.Archive.transaction` never does) is rolled
    back, as closing a per-request connection did, so the thread's next request starts clean."""
    archive = current_app.extensions[EXTENSION].get("archive")
    if archive is not None and archive.roll_back_unfinished():
        log.error("a request left an archive transaction open; rolled back")


def template_context() -> dict[str, Any]:
    """What every issuer page may print (``identity``): error pages too, which no view renders."""
    return {"identity": identity()}
