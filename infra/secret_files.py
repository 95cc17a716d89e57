"""Secret files: created once, whole, mode 0600; read only when nobody else may read them.

Every secret a service keeps on disk goes through here: the wallet's server
secret (``wallet-secret.key``), an issuer's signing key, session secret and
controller key, the ledger's root and agency keys.

- :func:`create_secret_file` writes the content to a private temporary file
  in the same directory (``O_EXCL``, mode 0600, flushed to disk) and then
  links it to its name, which fails if the name exists. So a file under its
  final name is always complete, and an existing secret is never replaced.
- :func:`load_or_create_secret_file` is safe when several workers start
  together on a fresh data dir (gunicorn builds the app in each worker): one
  of them creates the file, every other one reads what it wrote, never an
  empty or half-written file.
- :func:`read_secret_file` refuses a file that group or others may read
  ("chmod 600 it"), and names the file and what was found.

Errors are :class:`~credentials.errors.ConfigurationError` (an operator's
problem, reported at start-up); :class:`SecretFileExists` when a create would
overwrite. The POSIX rules relied on: ``open(2)`` with ``O_CREAT | O_EXCL``
and ``link(2)`` fail with ``EEXIST`` when the name exists.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from credentials.errors import ConfigurationError
from infra.errors import SecretFileExists

__all__ = ["SecretFileExists", "create_secret_file", "read_secret_file", "load_or_create_secret_file"]

_PRIVATE = 0o600


def create_secret_file(path: str | Path, content: bytes) -> None:
    """Create ``path`` holding ``content``, mode 0600, complete when it appears; SecretFileExists if it exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
    except OSError as exc:
        raise ConfigurationError(f"could not create the secret file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise SecretFileExists(f"{path} already exists; not overwriting a key") from None
        except OSError as exc:
            raise ConfigurationError(f"could not create the secret file {path}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)


def read_secret_file(path: str | Path) -> bytes:
    """The content of ``path``, which must exist and be readable by its owner only."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"expected a key file at {path}, found none") from None
    except OSError as exc:
        raise ConfigurationError(f"could not read key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"key file {path} has mode {stat.S_IMODE(mode):04o}; expected 0600 (chmod 600 it)")
    return content


def load_or_create_secret_file(path: str | Path, make: Callable[[], bytes]) -> tuple[bytes, bool]:
    """The secret at ``path``, created from ``make()`` if missing; the flag says whether this call created it.

    When two processes race, one creates and both return the same content.
    """
    path = Path(path)
    if not path.exists():
        try:
            content = make()
            create_secret_file(path, content)
            return content, True
        except SecretFileExists:
            return read_secret_file(path), False  # another process created it first: theirs is complete
    return read_secret_file(path), False
