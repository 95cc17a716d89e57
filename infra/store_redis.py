"""The Redis / Valkey backend of :mod:`infra.store` (``MICROCRED_REDIS_URL``; see there)."""

from __future__ import annotations

import logging
import math
import threading
import weakref
from typing import Any, cast

from credentials.errors import ConfigurationError
from infra import store_checks
from infra.errors import StoreUnavailable
from infra.store_checks import RateDecision, checked, checked_limit

__all__ = ["ENV_REDIS_URL", "RedisStore"]

ENV_REDIS_URL = "MICROCRED_REDIS_URL"
_log = logging.getLogger(__name__)


#: KEYS[1] the counter; ARGV[1] the window in ms. Returns {count, ms left in the window}.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisStore:
    """The networked backend: Redis or Valkey at ``url`` (``redis://``, ``rediss://``, ``unix://``)."""

    def __init__(self, url: str, *, prefix: str = "microcred", timeout: float = 2.0):
        import redis  # here: the client library is needed only with MICROCRED_REDIS_URL

        try:
            self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                               decode_responses=True)
        except ValueError as exc:
            raise ConfigurationError(f"{ENV_REDIS_URL} must be a redis://, rediss:// or unix:// URL: {exc}") from None
        self._errors = (redis.RedisError,)
        self._no_script = redis.exceptions.NoScriptError
        self._prefix = prefix
        self._hit_sha = self._redis.register_script(_HIT_SCRIPT).sha  # the SHA1 of the script, computed here
        self._local = threading.local()
        # The threads' own connections, disconnected by close(); weakly held, so the connection of a thread that
        # ended (a server making a thread per request) is closed with it (redis' Connection.__del__ disconnects).
        self._own: weakref.WeakSet[Any] = weakref.WeakSet()
        self._own_lock = threading.Lock()
        self._opened = 0  # how many times close() was called: a thread's connection of an earlier one is not used

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}:{namespace}:{key}"

    def _command(self, *args: Any, script: str | None = None) -> Any:
        """One command on this thread's own connection, made with the client's settings outside its pool (the
        client's per-command machinery cost twice the round trip: issue 16); a failure drops the connection, so
        the next command connects afresh. No retry, as the client was configured. ``script``: the text of the
        script an EVALSHA in ``args`` runs, sent with EVAL (which loads it) when the server answers NOSCRIPT (it
        was restarted or its scripts flushed); any other failure of either is StoreUnavailable."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is None or local.made != (store_checks.pid, self._opened):
            conn = self._redis.connection_pool.make_connection()
            with self._own_lock:
                self._own.add(conn)
                local.conn, local.made = conn, (store_checks.pid, self._opened)
        try:
            conn.send_command(*args)
            try:
                return conn.read_response()
            except self._no_script:
                if script is None:
                    raise
                conn.send_command("EVAL", script, *args[2:])
                return conn.read_response()
        except self._errors as exc:
            conn.disconnect()
            _log.warning("shared store (Redis): %s: %s", type(exc).__name__, exc)
            raise StoreUnavailable("the shared state store (Redis) did not answer") from None

    def add_once(self, namespace: str, key: str, ttl: float) -> bool:
        checked(namespace, key, ttl)
        return self._command("SET", self._key(namespace, key), "1", "NX", "PX", _ms(ttl)) == "OK"

    def put(self, namespace: str, key: str, value: str, ttl: float) -> None:
        checked(namespace, key, ttl)
        if not isinstance(value, str):
            raise ValueError(f"a store value is a string, found {type(value).__name__}")
        self._command("SET", self._key(namespace, key), value, "PX", _ms(ttl))

    def get(self, namespace: str, key: str) -> str | None:
        checked(namespace, key)
        return cast("str | None", self._command("GET", self._key(namespace, key)))

    def pop(self, namespace: str, key: str) -> str | None:
        checked(namespace, key)
        return cast("str | None", self._command("GETDEL", self._key(namespace, key)))

    def hit(self, namespace: str, key: str, window: float, limit: int) -> RateDecision:
        """One EVALSHA of the counting script on this thread's own connection (EVAL when the server lost it)."""
        checked(namespace, key)
        checked_limit(window, limit)
        count, left_ms = self._command("EVALSHA", self._hit_sha, 1, self._key(namespace, key), _ms(window),
                                       script=_HIT_SCRIPT)
        if int(count) <= limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(1, math.ceil(int(left_ms) / 1000)))

    def close(self) -> None:
        with self._own_lock:
            own, self._own = list(self._own), weakref.WeakSet()
            self._opened += 1
        for conn in own:
            conn.disconnect()
        self._redis.close()
