"""What the issuer's blueprints need from the app, in a module of its own.

:mod:`issuer.web.public` and :mod:`issuer.web.registrar` import this module,
never the package that registers them, so no import runs in a circle. The
archive connection of a request lives on ``g`` and is closed on teardown
(:func:`close_archive`), as in the Flask tutorial's ``db.py``.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, g

from issuer.archive import Archive
from issuer.identity import IssuerIdentity
from issuer.oid4vci import Oid4vciIssuer
from issuer.service import IssuerService

__all__ = ["EXTENSION", "get_service", "get_oid4vci", "now", "identity", "close_archive", "template_context"]

#: Where the factory keeps the issuer's home and signing key (``app.extensions``).
EXTENSION = "microcred_issuer"


def now() -> int:
    """The current time in epoch seconds, from the app's ``CLOCK`` (tests may fix it)."""
    clock = current_app.config.get("CLOCK") or time.time
    return int(clock())


def identity() -> IssuerIdentity:
    """The identity of the issuer this app serves."""
    return current_app.extensions[EXTENSION]["home"].identity


def get_service() -> IssuerService:
    """The request's :class:`~issuer.service.IssuerService` over an archive connection kept on ``g``."""
    if "service" not in g:
        parts = current_app.extensions[EXTENSION]
        home = parts["home"]
        g.archive = Archive(home.archive_path)
        g.service = IssuerService(home.identity, g.archive, parts["signing_key"],
                                  anchor=current_app.config.get("STATUS_ANCHOR"))
    return g.service


def get_oid4vci() -> Oid4vciIssuer:
    return Oid4vciIssuer(get_service())


def close_archive(exc: BaseException | None = None) -> None:
    """Teardown: close the request's archive connection, if it opened one."""
    archive = g.pop("archive", None)
    if archive is not None:
        archive.close()


def template_context() -> dict[str, Any]:
    """What every issuer page may print (``identity``): error pages too, which no view renders."""
    return {"identity": identity()}
