"""What every verifier blueprint needs from the app, in a module of its own.

The blueprints (:mod:`verifier.api`, :mod:`verifier.pages`,
:mod:`verifier.openid4vp`) import this module, never the package that
registers them, so no import runs in a circle.
"""

from __future__ import annotations

from flask import Flask, current_app

from verifier.service import VerifierService

__all__ = ["EXTENSION", "service_of", "current_service"]

#: Where the factory keeps the app's service (``app.extensions``).
EXTENSION = "microcred_verifier"


def service_of(app: Flask) -> VerifierService:
    """The app's :class:`~verifier.service.VerifierService`."""
    return app.extensions[EXTENSION]


def current_service() -> VerifierService:
    """The service of the app handling the current request."""
    return service_of(current_app)
