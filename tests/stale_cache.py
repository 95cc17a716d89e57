"""A real HTTP server on 127.0.0.1 that answers as a shared cache holding a status list from before a revocation.

It serves :data:`STALE` unless the request asks it to revalidate (``Cache-Control: no-cache``, RFC 9111
§5.2.1.4), then :data:`FRESH`, and records each request's ``Cache-Control`` and ``Pragma``. Used by the
verifier's (tests/ledger/test_view_revalidate.py) and the wallet's (tests/wallet/test_wallet_status_revalidate.py)
tests of the second fetch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STALE = "eyJ0eXAiOiJzdGF0dXNsaXN0K2p3dCJ9.c3RhbGU.c2ln"
FRESH = "eyJ0eXAiOiJzdGF0dXNsaXN0K2p3dCJ9.ZnJlc2g.c2ln"


class _StaleCache(BaseHTTPRequestHandler):
    """A shared cache holding the list before the revocation: the issuer's answer only when asked to revalidate."""

    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        cache_control = (self.headers.get("Cache-Control") or "").lower()
        pragma = (self.headers.get("Pragma") or "").lower()
        self.seen.append((cache_control, pragma))
        body = (FRESH if "no-cache" in cache_control else STALE).encode("ascii")
        self.send_response(200)
        self.send_header("Content-Type", "application/statuslist+jwt")
        self.send_header("Cache-Control", "public, max-age=300")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        return


@contextmanager
def stale_cache_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """``(base URL, the (Cache-Control, Pragma) of every request so far)``; stopped on leaving."""
    seen: list[tuple[str, str]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_StaleCache,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
