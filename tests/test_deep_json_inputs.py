"""JSON from outside nested deeper than the parser goes (its RecursionError, at Python's default recursion limit)
is refused as malformed JSON with a clear reason where it enters, never an unexpected error (issue 16, after
the recursion limit was put back: 7578b74)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credentials.errors import InvalidInput

DEEP = "[" * 5000 + "]" * 5000


def test_a_passkey_answer_nested_too_deep_is_not_json():
    from wallet.passkeys import _credential_json

    with pytest.raises(InvalidInput, match="not JSON"):
        _credential_json(DEEP)


def test_a_jwk_set_nested_too_deep_is_not_a_jwk_set():
    from verifier.evidence_check import verifier_keys

    with pytest.raises(InvalidInput, match="JWK Set"):
        verifier_keys(DEEP, Path("/nonexistent"))


def test_a_node_answering_json_nested_too_deep_is_a_transport_error():
    """A node (or whatever answers at MICROCRED_RPC_URL) is outside: its answer is parsed like any other input."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ledger._rpc import RawJsonRpc, RpcTransportError

    class Deep(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            body = DEEP.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Deep)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rpc = RawJsonRpc(f"http://127.0.0.1:{server.server_address[1]}", timeout=5)
        with pytest.raises(RpcTransportError, match="not JSON"):
            rpc.request("eth_blockNumber", [])
    finally:
        server.shutdown()
        server.server_close()
