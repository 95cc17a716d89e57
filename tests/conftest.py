"""Shared fixtures: one real Anvil node per test run, and fresh deployments on it.

No chain mocks. Tests that use these fixtures must be marked
``@pytest.mark.integration`` (a test whose fixtures reach ``anvil`` without the
mark stops the run at collection). What is available:

``anvil``               session: a :class:`ledger.devnet.DevnetRecord` for an Anvil
                        node on a free 127.0.0.1 port, state in a temporary dir,
                        stopped at the end of the session (also on failure).
                        Fails (or skips, see tests/tooling.py) if the node is not
                        installed. ``MICROCRED_TEST_NODE=hardhat`` runs Hardhat
                        Network there instead (tests/evm_nodes.py: what differs,
                        ``mine`` and ``Fork`` for what is not standard JSON-RPC).
``chain``               session: a :class:`ledger.chain.Chain` connected to it.
``root_account``        session: Anvil's first dev account, the root of trust.
``ledger_data_dir``     session: a data dir holding ``deployment.json`` and
                        ``devnet.json`` for the session deployment.
``ledger``              session: a :class:`ledger.deployment.Ledger` (both
                        registries deployed once; clients sign as the root).
``ledger_env``          function: sets ``MICROCRED_DATA_DIR`` and
                        ``MICROCRED_RPC_URL`` to the session deployment (for CLI
                        and service tests) and yields the environment dict.
``fresh_ledger``        function: brand-new contracts (≈50 ms), for a test that
                        needs an empty registry.
``new_account``         factory: a fresh key, funded from the root.
``unique_did``          factory: a DID nobody used yet in this session.
``accredit_issuer``     factory: accredits a new TAO and, under it, a new
                        issuer for the given types; returns ``AccreditedIssuer``
                        (did, controller account, tao did, tao account).
``advance_chain_time``  factory: moves the chain's clock forward by n seconds
                        and mines a block (Anvil ``evm_increaseTime``).
``redis_server``        session: the URL of a real ``redis-server`` (Debian's
                        package) on a free 127.0.0.1 port, data in a temporary
                        dir, stopped at the end of the session; fails when the
                        binary is missing (``make test`` installs it).

The session chain is shared: tests create their own DIDs with
``unique_did`` and read the time from the chain, never from the wall clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.evm_nodes import node_name
from tests.tooling import missing_tool
from tests.waiting import wait_for

ISSUER_VCT = "urn:microcred:vct:micro-credential:1"

_did_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items) -> None:
    """Refuse a run in which a test uses the Anvil node (through any fixture) but is not marked integration."""
    unmarked = [item.nodeid for item in items
                if "anvil" in getattr(item, "fixturenames", ()) and item.get_closest_marker("integration") is None]
    if unmarked:
        raise pytest.UsageError("these tests use the Anvil node but are not marked @pytest.mark.integration: "
                                + ", ".join(unmarked[:20]))


@dataclass(frozen=True)
class AccreditedIssuer:
    """What ``accredit_issuer`` made: the issuer and the TAO that accredited it."""

    did: str
    account: object  # eth_account LocalAccount, the issuer's controller
    tao_did: str
    tao_account: object


@pytest.fixture(scope="session")
def anvil(tmp_path_factory):
    from tests.evm_nodes import start_node

    node, record = start_node(tmp_path_factory.mktemp(node_name()))
    try:
        yield record
    finally:
        node.stop()


@pytest.fixture(scope="session")
def chain(anvil):
    from ledger.chain import Chain

    return Chain(anvil.url)


@pytest.fixture(scope="session")
def root_account():
    from eth_account import Account

    from ledger.devnet import ANVIL_DEV_KEYS

    return Account.from_key(ANVIL_DEV_KEYS[0])


@pytest.fixture(scope="session")
def ledger_data_dir(tmp_path_factory, anvil, chain, root_account):
    import json

    from ledger.config import DEPLOYMENT_FILE, DEVNET_FILE
    from ledger.deployment import deploy

    directory = tmp_path_factory.mktemp("var")
    deploy(chain, root_account).save(directory / DEPLOYMENT_FILE)
    (directory / DEVNET_FILE).write_text(json.dumps(vars(anvil)), encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def ledger(ledger_data_dir, chain, root_account):
    from ledger.config import DEPLOYMENT_FILE
    from ledger.deployment import Deployment, attach

    return attach(chain, Deployment.load(ledger_data_dir / DEPLOYMENT_FILE), account=root_account)


@pytest.fixture
def ledger_env(monkeypatch, ledger_data_dir, anvil) -> Iterator[dict[str, str]]:
    from ledger.config import ENV_CONFIRMATIONS, ENV_DATA_DIR, ENV_RPC_URL

    env = {ENV_DATA_DIR: str(ledger_data_dir), ENV_RPC_URL: anvil.url, ENV_CONFIRMATIONS: "0"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


@pytest.fixture
def fresh_ledger(chain, root_account):
    from ledger.deployment import attach, deploy

    return attach(chain, deploy(chain, root_account), account=root_account)


@pytest.fixture
def new_account(chain, root_account) -> Callable[[], object]:
    from eth_account import Account

    from ledger.keys import DEVNET_FUNDING_WEI

    def make():
        account = Account.create()
        chain.transfer(root_account, account.address, DEVNET_FUNDING_WEI)
        return account

    return make


@pytest.fixture
def unique_did() -> Callable[[str], str]:
    def make(label: str = "org") -> str:
        return f"did:web:{label}-{next(_did_counter)}.example"

    return make


@pytest.fixture
def accredit_issuer(ledger, new_account, unique_did, chain) -> Callable[..., AccreditedIssuer]:
    from ledger.artifacts import Role

    def make(vcts=(ISSUER_VCT,), *, valid_for: int | None = None, max_eqf_level: int | None = None,
             on=None) -> AccreditedIssuer:
        target = on or ledger
        now = chain.block_timestamp()
        tao, tao_account = unique_did("tao"), new_account()
        target.trust.accredit(target.deployment.root_did, tao, role=Role.TAO, vcts=list(vcts),
                              legal_name="Test accreditation agency", country="IT", valid_from=now - 3600,
                              valid_until=None, controller=tao_account.address)
        issuer, issuer_account = unique_did("issuer"), new_account()
        target.trust.accredit(tao, issuer, role=Role.ISSUER, vcts=list(vcts), legal_name="Test university",
                              country="IT", valid_from=now - 60,
                              valid_until=None if valid_for is None else now + valid_for,
                              controller=issuer_account.address, max_eqf_level=max_eqf_level,
                              account=tao_account)
        return AccreditedIssuer(issuer, issuer_account, tao, tao_account)

    return make


@pytest.fixture
def accredit_via_tao(ledger, new_account, unique_did, chain) -> Callable[..., str]:
    """Accredit an existing issuer (its DID, its controller address) under a new TAO; returns the TAO's DID."""
    from ledger.artifacts import Role

    def accredit(did: str, controller: str, *, legal_name: str, country: str = "IT", vcts=(ISSUER_VCT,),
                 valid_from: int | None = None) -> str:
        start = chain.block_timestamp() - 3600 if valid_from is None else valid_from
        tao, tao_account = unique_did("tao"), new_account()
        ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=list(vcts), legal_name="Agency",
                              country=country, valid_from=start, valid_until=None, controller=tao_account.address)
        ledger.trust.accredit(tao, did, role=Role.ISSUER, vcts=list(vcts), legal_name=legal_name, country=country,
                              valid_from=start, valid_until=None, controller=controller, account=tao_account)
        return tao

    return accredit


@pytest.fixture
def advance_chain_time(chain) -> Callable[[int], int]:
    def advance(seconds: int) -> int:
        with chain.guard("advance the chain's clock"):
            chain.w3.provider.make_request("evm_increaseTime", [int(seconds)])
            chain.w3.provider.make_request("evm_mine", [])
        return chain.block_timestamp()

    return advance


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    import shutil
    import socket
    import subprocess

    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        missing_tool("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
                                "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def answering() -> bool:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with {process.returncode} while starting on port {port}", pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        wait_for(answering, within=10, what=f"redis-server to answer PING on port {port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
