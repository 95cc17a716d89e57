"""The wallet's errors to pages: the one mapping of :mod:`infra.web_errors`, on the wallet app.

Kept so that the factory's ``errors.init_app(app)`` reads as before; the
table and the handlers live in :mod:`infra.web_errors`.
"""

from __future__ import annotations

from flask import Flask

from infra import web_errors

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    web_errors.init_app(app)
