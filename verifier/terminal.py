"""What the verifier's commands (``microcred verify``, ``verify --evidence``) say about the ledger at a terminal.

The person at the terminal runs or chose the ledger, so a ledger that cannot be read is named as it is
configured (the node ``MICROCRED_RPC_URL`` names, or the local devnet) with what to do; never by the node's URL
(an internal address, or one holding an API key) nor by a path. The services' own log lines about the ledger
(written for a service's operator, naming exactly those) are not printed while a command verifies.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from ledger.config import ENV_DATA_DIR, ENV_RPC_URL, LedgerSettings

#: The loggers whose lines name the node's URL or the deployment's path.
_SERVICE_LOGGERS = ("verifier.service", "verifier.trust_lists", "ledger.view", "ledger.issuance")


def ledger_problem(settings: LedgerSettings, *, answered: bool, no_record: bool = False,
                   unusable_record: bool = False, made_on: str = "") -> str:
    """Why the ledger cannot be read, and what to do. ``answered``: a node answered, but not as this data dir's
    deployment expects; ``no_record`` / ``unusable_record``: the data dir's deployment record was not found / cannot
    be used; ``made_on`` is added after the ledger's name (e.g. which chain an evidence file was made on)."""
    if no_record or not settings.deployment_path.is_file():
        return ("no ledger is set up in this data dir (it holds no deployment): run this where the verifier runs, "
                f"or set {ENV_DATA_DIR} to the verifier's data dir")
    if unusable_record:
        return (f"the ledger's deployment record in this data dir cannot be used: set {ENV_DATA_DIR} to the "
                "verifier's data dir, or deploy the ledger again")
    if settings.rpc_url:
        which = f"the ledger node {ENV_RPC_URL} names"
        todo = "check that it is running and that this machine can reach it"
    elif not settings.devnet_path.is_file():
        return (f"no ledger is configured: {ENV_RPC_URL} is not set and no local devnet was started here{made_on}; "
                f"set {ENV_RPC_URL}, or start the devnet with `microcred devnet start`, then run this again")
    else:
        which = "the local devnet"
        todo = "start it with `microcred devnet start` (`microcred devnet status` says whether it runs)"
    if answered:
        return (f"{which} answered, but not as the deployment of this data dir expects (another chain, or no "
                f"registries){made_on}: point {ENV_RPC_URL} at the verifier's ledger, then run this again")
    return f"{which} did not answer{made_on}: {todo}, then run this again"


@contextlib.contextmanager
def services_log_muted() -> Iterator[None]:
    """While a command verifies: the service's and the ledger readers' log lines are not printed; the command's
    check details and findings say what failed in the terminal user's terms."""
    loggers = [logging.getLogger(name) for name in _SERVICE_LOGGERS]

    def mute(record: logging.LogRecord) -> bool:
        return False

    for logger in loggers:
        logger.addFilter(mute)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(mute)
