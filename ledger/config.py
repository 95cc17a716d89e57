"""Settings of the chain-access layer, read from the environment with defaults.

=========================  ==========================================  ==================
variable                   meaning                                     default
=========================  ==========================================  ==================
``MICROCRED_DATA_DIR``     where state lives (deployment, keys, devnet) ``./var``
``MICROCRED_RPC_URL``      Ethereum JSON-RPC endpoint                   the devnet's URL
``MICROCRED_CONFIRMATIONS`` blocks to wait for after a transaction,     ``0``
                           and the depth below the head at which
                           verifiers read (``ledger.view``)
``MICROCRED_ANVIL``        path of the native ``anvil`` binary          from node_modules
=========================  ==========================================  ==================

The devnet's URL is the one ``microcred devnet start`` recorded in
``<data dir>/devnet.json``. The data dir's default is worked out in one place,
:func:`infra.settings.default_data_dir`; a service's checked settings become
a :class:`LedgerSettings` with :meth:`LedgerSettings.of`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credentials.errors import ConfigurationError
from infra.settings import ENV_DATA_DIR, default_data_dir

__all__ = [
    "ENV_DATA_DIR",
    "ENV_RPC_URL",
    "ENV_CONFIRMATIONS",
    "ENV_ANVIL",
    "DEPLOYMENT_FILE",
    "DEVNET_FILE",
    "LedgerSettings",
    "repo_root",
    "data_dir",
]

ENV_RPC_URL = "MICROCRED_RPC_URL"
ENV_CONFIRMATIONS = "MICROCRED_CONFIRMATIONS"
ENV_ANVIL = "MICROCRED_ANVIL"

DEPLOYMENT_FILE = "deployment.json"
DEVNET_FILE = "devnet.json"


def repo_root() -> Path:
    """The checkout's root (where package.json, contracts/ and node_modules/ are)."""
    return Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """``MICROCRED_DATA_DIR`` or ``./var``, absolute (:func:`infra.settings.default_data_dir`)."""
    return default_data_dir()


@dataclass(frozen=True)
class LedgerSettings:
    """Where the node is, where state lives, and how many confirmations to wait for."""

    data_dir: Path
    rpc_url: str | None
    confirmations: int

    @property
    def deployment_path(self) -> Path:
        return self.data_dir / DEPLOYMENT_FILE

    @property
    def devnet_path(self) -> Path:
        return self.data_dir / DEVNET_FILE

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LedgerSettings:
        env = os.environ if environ is None else environ
        directory = default_data_dir(env)
        raw_confirmations = env.get(ENV_CONFIRMATIONS) or "0"
        try:
            confirmations = int(raw_confirmations)
        except ValueError:
            confirmations = -1
        if confirmations < 0:
            raise ConfigurationError(
                f"{ENV_CONFIRMATIONS} must be a whole number >= 0, found {raw_confirmations!r}"
            )
        return cls(directory, env.get(ENV_RPC_URL) or None, confirmations)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> LedgerSettings:
        """The ledger settings of a service's checked settings (``DATA_DIR``, ``RPC_URL``, ``CONFIRMATIONS``)."""
        return cls(Path(settings["DATA_DIR"]), settings.get("RPC_URL") or None, int(settings.get("CONFIRMATIONS") or 0))

    def resolve_rpc_url(self) -> str:
        """``MICROCRED_RPC_URL``, else the running devnet's URL, else a clear error."""
        if self.rpc_url:
            return self.rpc_url
        try:
            record = json.loads(self.devnet_path.read_text(encoding="utf-8"))
            return str(record["url"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"no ledger configured: expected {ENV_RPC_URL} or a devnet record at {self.devnet_path} "
                "(run `microcred devnet start`)"
            ) from exc
