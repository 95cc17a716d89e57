"""A lean JSON-RPC 2.0 client for the read path (``eth_call``, ``eth_blockNumber``, …).

web3.py costs ≈ 2 ms of Python per request and a contract call ≈ 5–9 ms;
the wire costs ≈ 0.3 ms on a persistent ``http.client`` connection
(``shared/BASELINES.md``). Reads a verifier makes on every presentation go
through here; transactions and log queries stay on web3.py. One connection per
thread; a connection the server closed is reopened once (reads are
idempotent). Failures raise :class:`RpcTransportError` (could not talk) or
:class:`RpcErrorResponse` (the node answered with an error, maybe with revert
data); :class:`ledger.chain.Chain` turns both into ledger errors.

A per-call timeout is not enough against a node that accepts connections but
never answers (a hung or frozen process): a verification makes several reads
and each would wait its full timeout. :func:`deadline` sets one instant, for
the current thread (a :mod:`contextvars` variable), by which every request
made inside it has ended: each request's socket timeout is the time left, and
a request that would start after the deadline fails at once.
"""

from __future__ import annotations

import contextvars
import http.client
import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from credentials.errors import ConfigurationError
from ledger.errors import RpcErrorResponse, RpcTransportError

__all__ = ["RpcTransportError", "RpcErrorResponse", "RawJsonRpc", "deadline", "time_left"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("microcred_rpc_deadline", default=None)


class deadline:  # noqa: N801 (used as a function: ``with deadline(5) as at:``)
    """Requests made inside end within ``seconds`` from now (an enclosing, earlier deadline wins).

    A class, not a @contextmanager generator: every verification enters one (issue 16), and a generator's
    context manager costs an object, a generator and two resumptions more."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def __enter__(self) -> float:
        at = time.monotonic() + max(0.0, float(self._seconds))
        enclosing = _DEADLINE.get()
        if enclosing is not None:
            at = min(at, enclosing)
        self._token = _DEADLINE.set(at)
        return at

    def __exit__(self, *exc_info: object) -> None:
        _DEADLINE.reset(self._token)


def time_left() -> float | None:
    """Seconds left before the current deadline (may be <= 0), or None outside :func:`deadline`."""
    at = _DEADLINE.get()
    return None if at is None else at - time.monotonic()


class RawJsonRpc:
    """``request(method, params)`` over keep-alive HTTP(S), one connection per thread."""

    def __init__(self, url: str, *, timeout: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"expected an http(s) JSON-RPC URL (MICROCRED_RPC_URL), found {url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path or "/"
        if parts.query:
            self._path += "?" + parts.query
        self._timeout = timeout
        self._local = threading.local()
        self._ids = itertools.count(1)

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = factory(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        timeout = self._timeout
        left = time_left()
        if left is not None:
            if left <= 0:
                raise RpcTransportError("the deadline of this verification passed before the request was sent")
            timeout = min(timeout, left)
        connection.timeout = timeout  # used when it (re)connects
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def request(self, method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        for attempt in (0, 1):
            connection = self._connection(fresh=attempt == 1)
            try:
                connection.request("POST", self._path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                if attempt == 1:
                    raise RpcTransportError(f"{type(exc).__name__}: {exc}") from None
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                self._local.connection = None
                raise RpcTransportError(f"{type(exc).__name__}: {exc}") from None
        if response.status != 200:
            raise RpcTransportError(f"HTTP {response.status} from the node")
        try:
            answer = json.loads(payload)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise RpcTransportError("the node's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise RpcTransportError("the node's answer is not a JSON-RPC object")
        if "error" in answer:
            error = answer["error"]
            raise RpcErrorResponse(error if isinstance(error, dict) else {"message": str(error)})
        return answer.get("result")
