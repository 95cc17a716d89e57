"""A dedicated Anvil for the tests that stop, freeze or rewrite their chain (the session's shared one must not).

:func:`dedicated_ledger` starts it in ``data_dir/devnet``, deploys the registries as
the root account and saves the deployment in ``data_dir`` (where a service
configured with ``DATA_DIR`` finds it); :func:`accredit_tao_and_issuer` puts a
TAO and an issuer under the root, as the chain outage, hung node and reorg
tests need.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.evm_nodes import start_node


@contextmanager
def dedicated_ledger(data_dir: Path, *, persist_state: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """``(devnet, its record, the deployed ledger acting as root)``; the node is stopped on leaving.

    The node is the one ``MICROCRED_TEST_NODE`` selects (tests/evm_nodes.py); a test that needs its state
    kept across a restart (``persist_state``) is skipped on Hardhat Network, which cannot.
    """
    from eth_account import Account

    from ledger.chain import Chain
    from ledger.config import DEPLOYMENT_FILE
    from ledger.deployment import attach, deploy
    from ledger.devnet import ANVIL_DEV_KEYS

    devnet, record = start_node(data_dir / "devnet", persist_state=persist_state)
    try:
        chain = Chain(record.url)
        root = Account.from_key(ANVIL_DEV_KEYS[0])
        deployment = deploy(chain, root)
        deployment.save(data_dir / DEPLOYMENT_FILE)
        yield devnet, record, attach(chain, deployment, account=root)
    finally:
        devnet.stop()


def accredit_tao_and_issuer(ledger: Any, tao_did: str, issuer_did: str, *, vcts: Sequence[str],
                            legal_name: str) -> tuple[Any, Any]:
    """Accredit ``tao_did`` under the root and ``issuer_did`` under it, valid from an hour ago.

    Returns their controller accounts (the second and third Anvil dev keys).
    """
    from eth_account import Account

    from ledger.artifacts import Role
    from ledger.devnet import ANVIL_DEV_KEYS

    tao, issuer = Account.from_key(ANVIL_DEV_KEYS[1]), Account.from_key(ANVIL_DEV_KEYS[2])
    start = min(ledger.chain.block_timestamp(), int(time.time())) - 3600
    ledger.trust.accredit(ledger.deployment.root_did, tao_did, role=Role.TAO, vcts=list(vcts), legal_name="Agency",
                          country="IT", valid_from=start, valid_until=None, controller=tao.address)
    ledger.trust.accredit(tao_did, issuer_did, role=Role.ISSUER, vcts=list(vcts), legal_name=legal_name,
                          country="IT", valid_from=start, valid_until=None, controller=issuer.address, account=tao)
    return tao, issuer
