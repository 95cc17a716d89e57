"""Clear errors, never raw tracebacks: node down, missing deployment, bad keys, undecodable reverts."""

from __future__ import annotations

import json
import os

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from credentials.errors import ConfigurationError, InvalidDid, InvalidInput, MicrocredError
from ledger.artifacts import Standing, decode_revert
from ledger.chain import Chain
from ledger.config import LedgerSettings
from ledger.deployment import Deployment, attach, deploy, open_ledger
from ledger.devnet import Devnet, free_port
from ledger.errors import (
    DeploymentNotFound,
    InvalidDeployment,
    KeyFileError,
    LedgerUnavailable,
    TransactionReverted,
)
from ledger.keys import create_key_file, load_key_file
from ledger.trust import check_did_syntax

VCT = "urn:microcred:vct:micro-credential:1"


# -------------------------------------------------------------- unit level


def test_decode_a_custom_error_into_words():
    data = keccak(text="VersionNotIncreasing(string,uint64,uint64)")[:4] + abi_encode(
        ["string", "uint64", "uint64"], ["list-7", 3, 2])
    error = decode_revert(data, action="anchor list-7")
    assert isinstance(error, TransactionReverted)
    assert error.error_name == "VersionNotIncreasing"
    assert error.error_args == {"listId": "list-7", "current": 3, "given": 2}
    assert str(error) == ("anchor list-7 reverted (VersionNotIncreasing): status list 'list-7' is at version 3; "
                          "a new anchor needs a greater version, found 2")


def test_decode_a_custom_error_as_hardhat_network_reports_it():
    """Hardhat Network puts the revert data in the error's ``data`` object, beside a message (issue 14, §6)."""
    data = keccak(text="VersionNotIncreasing(string,uint64,uint64)")[:4] + abi_encode(
        ["string", "uint64", "uint64"], ["list-7", 3, 2])
    reported = {"message": "Error: VM Exception while processing transaction: reverted with an unrecognized "
                           f"custom error (return data: 0x{data.hex()})", "data": "0x" + data.hex()}
    error = decode_revert(reported, action="anchor list-7")
    assert error.error_name == "VersionNotIncreasing"
    assert error.error_args == {"listId": "list-7", "current": 3, "given": 2}


def test_an_error_object_without_data_reverts_without_a_reason():
    assert "without a reason" in str(decode_revert({"message": "VM Exception"}, action="anchor"))


def test_decode_enum_arguments_into_words():
    data = keccak(text="IssuerNotAccredited(string,uint8)")[:4] + abi_encode(["string", "uint8"], ["did:x:y", 4])
    error = decode_revert("0x" + data.hex())
    assert error.error_args["standing"] == Standing.SUSPENDED
    assert "did:x:y is suspended" in str(error)


@pytest.mark.parametrize("data, expected", [
    (None, "without a reason"),
    (b"", "without a reason"),
    (keccak(text="Error(string)")[:4] + abi_encode(["string"], ["plain reason"]), "plain reason"),
    (keccak(text="Panic(uint256)")[:4] + abi_encode(["uint256"], [0x11]), "panic code 0x11"),
    (bytes.fromhex("deadbeef") + bytes(32), "unknown error 0xdeadbeef"),
    (keccak(text="NotController(address,address)")[:4] + b"\x01", "undecodable"),
    ("not hex", "not hex"),
])
def test_undecodable_or_foreign_reverts_still_say_something(data, expected):
    error = decode_revert(data)
    assert isinstance(error, TransactionReverted)
    assert expected in str(error)


@pytest.mark.parametrize(
    "bad", ["", "did:", "did:web", "DID:web:x", "did:web:x:", "web:x", "did:we b:x", "did:web:a%zz"])
def test_did_syntax_is_checked(bad):
    with pytest.raises(InvalidDid):
        check_did_syntax(bad)


def test_did_syntax_accepts_other_methods():
    for did in ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "did:ebsi:zvHWX359A3CvfJnCYaAiAde",
                "did:web:example.com:user:alice", "did:web:localhost%3A8443"):
        assert check_did_syntax(did) == did


def test_errors_belong_to_the_one_hierarchy():
    assert issubclass(LedgerUnavailable, ConnectionError)
    assert issubclass(LedgerUnavailable, MicrocredError)
    assert issubclass(DeploymentNotFound, FileNotFoundError)


def test_missing_deployment_file(tmp_path):
    with pytest.raises(DeploymentNotFound, match="microcred deploy"):
        Deployment.load(tmp_path / "deployment.json")
    (tmp_path / "deployment.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidDeployment):
        Deployment.load(tmp_path / "deployment.json")
    (tmp_path / "deployment.json").write_text(json.dumps({"format": 1}), encoding="utf-8")
    with pytest.raises(InvalidDeployment, match="lacks"):
        Deployment.load(tmp_path / "deployment.json")


def test_settings_from_environment(tmp_path):
    settings = LedgerSettings.from_env({"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_CONFIRMATIONS": "2"})
    assert settings.deployment_path == tmp_path / "deployment.json"
    assert settings.confirmations == 2
    with pytest.raises(ConfigurationError, match="devnet start"):
        settings.resolve_rpc_url()
    with pytest.raises(ConfigurationError, match="whole number"):
        LedgerSettings.from_env({"MICROCRED_CONFIRMATIONS": "-1"})
    assert LedgerSettings.from_env({"MICROCRED_RPC_URL": "http://node:8545"}).resolve_rpc_url() == "http://node:8545"


def test_key_files_are_private(tmp_path):
    path = tmp_path / "keys" / "issuer.key"
    account = create_key_file(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_key_file(path).address == account.address
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="0600"):
        load_key_file(path)
    with pytest.raises(KeyFileError, match="found none"):
        load_key_file(tmp_path / "missing.key")
    garbage = tmp_path / "garbage.key"
    garbage.write_text("0xnothex\n", encoding="ascii")
    os.chmod(garbage, 0o600)
    with pytest.raises(KeyFileError) as caught:
        load_key_file(garbage)
    assert "nothex" not in str(caught.value)


def test_nothing_listens(tmp_path):
    chain = Chain(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(LedgerUnavailable, match="did not answer"):
        chain.block_number()
    settings = LedgerSettings.from_env({"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": chain.rpc_url})
    with pytest.raises(DeploymentNotFound):
        open_ledger(settings)


# ------------------------------------------------------- against real nodes


@pytest.mark.integration
def test_node_down_mid_use(tmp_path, root_account, anvil):
    devnet = Devnet(tmp_path)
    record = devnet.start(persist_state=False)
    try:
        chain = Chain(record.url, timeout=2)
        ledger = attach(chain, deploy(chain, root_account), account=root_account)
        issuer_did = "did:web:down.example"
        now = chain.block_timestamp()
        ledger.trust.accredit(ledger.deployment.root_did, issuer_did, vcts=[VCT], legal_name="X", country="IT",
                              valid_from=now - 1, valid_until=None, controller=root_account.address)
        assert ledger.trust.accreditation_at(issuer_did, VCT, now) is not None
    finally:
        devnet.stop()
    with pytest.raises(LedgerUnavailable, match="did not answer while trying to look up"):
        ledger.trust.accreditation_at(issuer_did, VCT, now)
    with pytest.raises(LedgerUnavailable):
        ledger.status.latest_anchor(issuer_did, "list")
    with pytest.raises(LedgerUnavailable):
        ledger.status.anchor(issuer_did, "list", bytes(range(32)), 1)
    with pytest.raises(LedgerUnavailable):
        ledger.status.anchor_events(issuer_did)
    with pytest.raises(LedgerUnavailable):
        ledger.trust.events()


@pytest.mark.integration
def test_deployment_for_another_chain_or_without_code(ledger, chain):
    elsewhere = Deployment(**{**vars(ledger.deployment), "chain_id": 1})
    with pytest.raises(InvalidDeployment, match="chain 1"):
        attach(chain, elsewhere)
    no_code = Deployment(**{**vars(ledger.deployment),
                            "trust_registry": type(ledger.deployment.trust_registry)(
                                "0x" + "11" * 20, ledger.deployment.trust_registry.artifact,
                                ledger.deployment.trust_registry.abi_sha256)})
    with pytest.raises(InvalidDeployment, match="no TrustRegistry contract"):
        attach(chain, no_code)
    other_abi = Deployment(**{**vars(ledger.deployment),
                              "status_registry": type(ledger.deployment.status_registry)(
                                  ledger.deployment.status_registry.address,
                                  ledger.deployment.status_registry.artifact, "0" * 64)})
    with pytest.raises(InvalidDeployment, match="another ABI"):
        attach(chain, other_abi)


@pytest.mark.integration
def test_deployment_file_round_trip(ledger, tmp_path, ledger_env):
    path = tmp_path / "deployment.json"
    ledger.deployment.save(path)
    assert Deployment.load(path) == ledger.deployment
    assert open_ledger().deployment == ledger.deployment


@pytest.mark.integration
def test_arguments_that_do_not_fit_the_abi(ledger):
    now = ledger.chain.block_timestamp()
    with pytest.raises(InvalidInput, match="do not fit"):
        ledger.trust.accredit(ledger.deployment.root_did, "did:web:bad-controller.example", vcts=[VCT],
                              legal_name="X", country="IT", valid_from=now, valid_until=None, controller="0x12")


@pytest.mark.integration
def test_confirmations_wait_for_later_blocks(anvil, root_account):
    import threading

    watcher = Chain(anvil.url)
    start = watcher.block_number()

    def mine_after_inclusion():
        while watcher.block_number() <= start:
            threading.Event().wait(0.005)
        for _ in range(2):
            watcher.w3.provider.make_request("evm_mine", [])

    miner = threading.Thread(target=mine_after_inclusion, daemon=True)
    miner.start()
    result = Chain(anvil.url, confirmations=2).transfer(root_account, "0x" + "33" * 20, 1)
    miner.join(timeout=30)
    assert watcher.block_number() >= result.block_number + 2


def test_a_malformed_rpc_url_is_a_configuration_error():
    for url in ("localhost:8545", "ws://127.0.0.1:8545", ""):
        with pytest.raises(ConfigurationError, match="http"):
            Chain(url)


def test_logs_of_other_contracts_are_ignored():
    from ledger._events import EventDecoder
    from ledger.artifacts import STATUS_REGISTRY, load_artifact

    decoder = EventDecoder(load_artifact(STATUS_REGISTRY).abi)
    foreign = {"topics": ["0x" + "ab" * 32], "data": "0x", "blockNumber": "0x1", "logIndex": "0x0",
               "transactionHash": "0x" + "00" * 32}
    assert decoder.decode(foreign) is None
    assert decoder.decode({"topics": [], "data": "0x"}) is None
