"""Errors of the shared I/O layer: the outbound fetcher, the shared store, disks, secret files, processes.

They belong to the one tree rooted at :class:`credentials.errors.MicrocredError`
and are drawn there (marked ``[infra]``) with the HTTP status each one answers
(:data:`infra.web_errors.HTTP_STATUS`). A network failure means the same in
every app: :class:`FetchRefused` (a URL we do not fetch) is 400,
:class:`RemoteUnreachable` (nobody answered, or a 5xx) is 502,
:class:`UnusableAnswer` (an answer, but not what was asked for) is 400.
Messages name only what the user gave (a host, a setting); a remote's own
error text goes to the log (:mod:`infra.fetch`), never into a message.
"""

from __future__ import annotations

from credentials.errors import ConfigurationError, InvalidInput, MicrocredError

__all__ = ["FetchRefused", "FetchError", "RemoteUnreachable", "UnusableAnswer", "StoreUnavailable", "StorageError",
           "SecretFileExists", "ServiceFailed"]


class FetchRefused(InvalidInput):
    """The URL is not one this service fetches (scheme, credentials, host, address); nothing was sent."""


class FetchError(MicrocredError, ConnectionError):
    """The URL was acceptable, but nothing usable came back.

    ``status`` is the HTTP status of the answer, None when there was none
    (not found, refused, timed out, broken). ``transient``: nobody answered, or
    the server said it failed (5xx) — worth trying again later. Raise one of
    the two subclasses (:meth:`of_status` picks it from the status).
    """

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status is None or self.status >= 500

    @staticmethod
    def of_status(message: str, status: int | None) -> FetchError:
        """:class:`RemoteUnreachable` for no answer or a 5xx, else :class:`UnusableAnswer`."""
        if status is None or status >= 500:
            return RemoteUnreachable(message, status=status)
        return UnusableAnswer(message, status=status)


class RemoteUnreachable(FetchError):
    """Nobody answered in time, or the server answered that it failed (5xx): try again later."""

    def __init__(self, message: str, *, status: int | None = None):
        if status is not None and status < 500:
            raise ValueError(f"expected no status or a 5xx for an unreachable remote, found {status}")
        super().__init__(message, status=status)


class UnusableAnswer(FetchError):
    """The host answered, but not with what was asked for: a 4xx, a redirect, too many bytes, the wrong type."""

    def __init__(self, message: str, *, status: int):
        if status >= 500:
            raise ValueError(f"expected a status below 500 for an unusable answer, found {status}")
        super().__init__(message, status=status)


class StoreUnavailable(MicrocredError, ConnectionError):
    """The shared store (SQLite file or Redis) cannot answer now."""


class StorageError(MicrocredError, OSError):
    """A disk that is full, read-only or failing, named in one line (``"the archive's disk is full (…)"``)."""


class SecretFileExists(ConfigurationError, FileExistsError):
    """A secret file was to be created where one exists already (:mod:`infra.secret_files`); never overwritten."""


class ServiceFailed(MicrocredError, RuntimeError):
    """A service started by ``microcred demo`` exited or did not answer in time; the message names its log."""
