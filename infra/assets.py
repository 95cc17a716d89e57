"""Browser assets the wallet and the verifier share, served by both at ``/static/shared/…``.

``infra/static/`` holds the one QR scanner (``scan.js``, configured by data-
attributes, no inline script, so the strict Content-Security-Policy
``script-src 'self'`` of each app allows it) and what it needs: jsQR, vendored
unchanged with its LICENSE and a SOURCE.md (``vendor/jsqr/``). An app registers
the blueprint with :func:`init_app`; pages link the files with
``url_for("shared.static", filename="scan.js")``. The files travel in the
package (``[tool.setuptools.package-data]`` of ``pyproject.toml``).
"""

from __future__ import annotations

from flask import Blueprint, Flask

__all__ = ["STATIC_URL_PATH", "bp", "init_app"]

#: Where the shared files are served, beside each app's own ``/static/``.
STATIC_URL_PATH = "/static/shared"

bp = Blueprint("shared", __name__, static_folder="static", static_url_path=STATIC_URL_PATH)


def init_app(app: Flask) -> None:
    """Serve the shared browser assets from ``app`` (endpoint ``shared.static``)."""
    app.register_blueprint(bp)
