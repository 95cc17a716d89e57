"""Errors of the chain-access layer, in the one microcred hierarchy.

Every class derives from :class:`credentials.errors.MicrocredError` and from
the builtin it resembles, so a caller can catch ``LedgerUnavailable`` or just
``ConnectionError``. The whole tree, with the HTTP status of each class, is
drawn in :mod:`credentials.errors`; this part of it::

    MicrocredError
    └── LedgerError                                 anything ledger/ raises on purpose
        ├── LedgerUnavailable (ConnectionError)     node down, unreachable, or timed out
        │   └── RpcTransportError                   a JSON-RPC request not sent or its answer not read
        ├── RpcErrorResponse                        the node answered with a JSON-RPC error object
        ├── DeploymentNotFound (FileNotFoundError)  no deployment.json in the data dir
        ├── InvalidDeployment (ValueError)          deployment.json unreadable or for another chain
        ├── TransactionReverted                     a call or transaction reverted; the
        │                                           custom error decoded (``error_name``,
        │                                           ``error_args``) and said in words
        ├── DevnetError (RuntimeError)              Anvil missing, would not start or stop
        ├── KeyFileError (ValueError)               a controller key file is unreadable
        └── CompilationError (RuntimeError)         solc missing, wrong version or failing

Messages say what was expected and what was found; none contains key material.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credentials.errors import MicrocredError

__all__ = [
    "LedgerError",
    "LedgerUnavailable",
    "RpcTransportError",
    "RpcErrorResponse",
    "DeploymentNotFound",
    "InvalidDeployment",
    "TransactionReverted",
    "DevnetError",
    "KeyFileError",
    "CompilationError",
]


class LedgerError(MicrocredError):
    """Root of the errors raised by ``ledger/``."""


class LedgerUnavailable(LedgerError, ConnectionError):
    """The Ethereum JSON-RPC node cannot be reached or did not answer in time."""


class RpcTransportError(LedgerUnavailable):
    """A JSON-RPC request could not be sent or its answer not read (:mod:`ledger._rpc`)."""


class RpcErrorResponse(LedgerError):
    """The node answered with a JSON-RPC error object; ``code``, ``message`` and ``data`` (revert data) as sent."""

    def __init__(self, error: Mapping[str, Any]):
        self.code = error.get("code")
        self.message = str(error.get("message", ""))
        self.data = error.get("data")
        super().__init__(self.message)


class DeploymentNotFound(LedgerError, FileNotFoundError):
    """The deployment file is missing: run ``microcred deploy`` first."""


class InvalidDeployment(LedgerError, ValueError):
    """The deployment file is malformed, or names contracts the node does not have."""


class TransactionReverted(LedgerError):
    """A contract call or transaction reverted.

    ``error_name`` is the custom error's name (``"NotController"``) or ``""``
    when the revert carried none we know; ``error_args`` its decoded arguments
    by name; ``str(exc)`` a sentence in words.
    """

    def __init__(self, sentence: str, *, error_name: str = "", error_args: Mapping[str, Any] | None = None):
        self.error_name = error_name
        self.error_args = dict(error_args or {})
        self.sentence = sentence
        super().__init__(sentence)


class DevnetError(LedgerError, RuntimeError):
    """The local Anvil devnet could not be found, started or stopped."""


class KeyFileError(LedgerError, ValueError):
    """A controller key file is missing, unreadable or not a private key."""


class CompilationError(LedgerError, RuntimeError):
    """The Solidity compiler is missing, is not the pinned version, or failed."""
