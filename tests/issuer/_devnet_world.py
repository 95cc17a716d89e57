"""A devnet of one's own for the tests that stop, kill and restart the node: its own data dir
(``devnet.json``, ``deployment.json``, the node's state), the registries deployed, and one
accredited issuer. Started and stopped with :class:`ledger.devnet.Devnet`, as ``microcred
devnet start|stop`` does, so the node moves to a new port on every start.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from credentials.microcredential import MICRO_CREDENTIAL_VCT
from tests.waiting import wait_for


@dataclass
class DevnetIssuer:
    data_dir: Path
    devnet: object
    home: object
    url: str

    @classmethod
    def create(cls, data_dir: Path) -> DevnetIssuer:
        from eth_account import Account

        from issuer.identity import create_issuer
        from ledger.artifacts import Role
        from ledger.chain import Chain
        from ledger.config import DEPLOYMENT_FILE
        from ledger.deployment import attach, deploy
        from ledger.devnet import ANVIL_DEV_KEYS, Devnet
        from ledger.keys import DEVNET_FUNDING_WEI

        data_dir.mkdir(parents=True, exist_ok=True)
        devnet = Devnet(data_dir)
        record = devnet.start()
        try:
            chain = Chain(record.url)
            root = Account.from_key(ANVIL_DEV_KEYS[0])
            tao = Account.from_key(ANVIL_DEV_KEYS[1])
            deployment = deploy(chain, root)
            deployment.save(data_dir / DEPLOYMENT_FILE)
            ledger = attach(chain, deployment, account=root)
            home = create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT")
            now = chain.block_timestamp()
            ledger.trust.accredit(deployment.root_did, "did:web:tao.example", role=Role.TAO,
                                  vcts=[MICRO_CREDENTIAL_VCT], legal_name="Agenzia di prova", country="IT",
                                  valid_from=now - 3600, valid_until=None, controller=tao.address)
            ledger.trust.accredit("did:web:tao.example", home.identity.did, role=Role.ISSUER,
                                  vcts=[MICRO_CREDENTIAL_VCT], legal_name=home.identity.legal_name, country="IT",
                                  valid_from=now - 60, valid_until=None,
                                  controller=home.identity.controller_address, account=tao)
            chain.transfer(root, home.identity.controller_address, DEVNET_FUNDING_WEI)
        except BaseException:
            devnet.stop()
            raise
        return cls(data_dir, devnet, home, record.url)

    @staticmethod
    def free_port() -> int:
        from ledger.devnet import free_port

        return free_port()

    def status(self):
        """A StatusRegistry client on the node's current address."""
        from ledger.config import LedgerSettings
        from ledger.deployment import open_ledger

        return open_ledger(LedgerSettings(self.data_dir, None, 0)).status

    def _state_block(self) -> int:
        try:
            state = json.loads((self.data_dir / "anvil" / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return -1
        number = state.get("best_block_number") or (state.get("block") or {}).get("number") or "0x0"
        return int(number, 16) if isinstance(number, str) else int(number)

    def wait_until_state_saved(self, timeout: float = 15.0) -> None:
        """Until the node's state file holds its latest block (the node dumps it periodically)."""
        from ledger.devnet import rpc_request

        head = int(rpc_request(self.url, "eth_blockNumber"), 16)
        wait_for(lambda: self._state_block() >= head, within=timeout, step=0.1,
                 what=f"the node's state file to reach block {head}")

    def kill_node(self) -> None:
        record = self.devnet.status().record
        os.kill(record.pid, signal.SIGKILL)
        wait_for(lambda: not self.devnet.status().alive, within=15, step=0.02, what="the killed node to be gone")

    def stop_node(self) -> None:
        self.devnet.stop()

    def start_node(self) -> None:
        self.url = self.devnet.start().url

    def close(self) -> None:
        self.devnet.stop()
