"""Sign-in throttling that an attacker cannot turn into a lockout of the owner.

OWASP Authentication cheat sheet ("Login Throttling"; "account lockout …
can be abused to lock users out") and NIST SP 800-63B §5.2.2 (rate limiting
that does not let an attacker deny the subscriber): failures are counted per
*(account, client)* pair and per client, never per account alone.

- A pair gets ``SIGNIN_FREE_FAILURES`` failures free; after that it waits
  ``SIGNIN_BACKOFF_BASE`` seconds after its last failure, doubling with each
  further failure up to ``SIGNIN_BACKOFF_MAX``. Another client is not affected,
  so the owner signing in from their own device is never blocked by a
  stranger's guesses.
- Account-wide, once ``SIGNIN_ACCOUNT_SLOWDOWN`` failures (from all clients)
  fall within the window, every client that has already failed on that
  account backs off from its *first* failure: a distributed guesser is slowed
  to about one guess per client and back-off period. A client with no
  failures on the account still signs in at once.
- One client guessing across many accounts gets ``SIGNIN_CLIENT_FREE_FAILURES``
  failures free, then the same back-off.

Failures are remembered for ``SIGNIN_WINDOW`` seconds in the wallet's SQLite
file (shared by every worker of the instance); a successful sign-in forgets
the pair's failures. The client is ``request.remote_addr`` (an IPv6 address by
its /64): behind a reverse proxy, the proxy must set it from the forwarded address.
"""

from __future__ import annotations

from flask import current_app, request
from sqlite_utils import Database

from infra.rate_limit import client_key

__all__ = ["client_address", "signin_retry_after", "record_signin_failure", "forget_signin_failures"]

#: Doubling stops here (2**20 × the base is far past any sane maximum).
_MAX_DOUBLINGS = 20
_MAX_USERNAME = 200


def client_address() -> str:
    """Whose failures these are: the remote address, an IPv6 client counted by its /64 (one host holds a whole
    /64 and may take a new address per guess), as :func:`infra.rate_limit.client_key` counts every limit."""
    return client_key(request.remote_addr)


def _wait(failures: int, free: int, last_at: int | None, now: int) -> int:
    """Seconds still to wait after ``failures`` failures, the last at ``last_at``."""
    if failures < free or last_at is None:
        return 0
    config = current_app.config
    delay = min(int(config["SIGNIN_BACKOFF_BASE"]) * 2 ** min(failures - free, _MAX_DOUBLINGS),
                int(config["SIGNIN_BACKOFF_MAX"]))
    return max(0, last_at + delay - now)


def signin_retry_after(db: Database, username: str, *, now: int) -> int:
    """Seconds this client must wait before trying ``username`` again; 0 when it may try now."""
    config = current_app.config
    since = now - int(config["SIGNIN_WINDOW"])
    client = client_address()
    username = username[:_MAX_USERNAME]
    pair_failures, pair_last = db.execute(
        "SELECT COUNT(*), MAX(at) FROM signin_attempts WHERE username = ? AND client = ? AND at > ?",
        [username, client, since],
    ).fetchone()
    account_failures = db.execute(
        "SELECT COUNT(*) FROM signin_attempts WHERE username = ? AND at > ?", [username, since]
    ).fetchone()[0]
    client_failures, client_last = db.execute(
        "SELECT COUNT(*), MAX(at) FROM signin_attempts WHERE client = ? AND at > ?", [client, since]
    ).fetchone()
    pair_free = 1 if account_failures >= int(config["SIGNIN_ACCOUNT_SLOWDOWN"]) else int(config["SIGNIN_FREE_FAILURES"])
    return max(_wait(pair_failures, pair_free, pair_last, now),
               _wait(client_failures, int(config["SIGNIN_CLIENT_FREE_FAILURES"]), client_last, now))


def record_signin_failure(db: Database, username: str, *, now: int) -> None:
    with db.atomic():
        db.execute("INSERT INTO signin_attempts (username, client, at) VALUES (?, ?, ?)",
                   [username[:_MAX_USERNAME], client_address(), now])
        db.execute("DELETE FROM signin_attempts WHERE at <= ?", [now - int(current_app.config["SIGNIN_WINDOW"])])


def forget_signin_failures(db: Database, username: str) -> None:
    """After a successful sign-in: this client's failures on this account no longer count."""
    with db.atomic():
        db.execute("DELETE FROM signin_attempts WHERE username = ? AND client = ?",
                   [username[:_MAX_USERNAME], client_address()])
