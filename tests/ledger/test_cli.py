"""``microcred devnet|deploy|accredit`` through click's runner: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import os

import pytest

from ledger.devnet import free_port
from tests.ledger.cli_runner import one_line_error, run

VCT = "urn:microcred:vct:micro-credential:1"


@pytest.mark.integration
def test_devnet_start_status_stop(tmp_path, anvil):
    env = {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": ""}
    code, out, _ = run(["devnet", "status"], env)
    assert code == 0
    assert "not running" in out
    code, out, _ = run(["devnet", "start"], env)
    try:
        assert code == 0
        assert "devnet running: http://127.0.0.1:" in out
        code, out, _ = run(["devnet", "status", "--json"], env)
        report = json.loads(out)
        assert code == 0
        assert report["running"]
        assert report["answering"]
        assert report["chain_id"] == 31337
        code, _, err = run(["devnet", "start"], env)
        assert code == 1
        assert "already running" in one_line_error(err)
        code, out, _ = run(["deploy"], env)  # the RPC URL comes from the devnet record
        assert code == 0
        assert "TrustRegistry" in out
    finally:
        code, out, _ = run(["devnet", "stop"], env)
    assert code == 0
    assert "devnet stopped" in out
    assert (tmp_path / "anvil" / "state.json").exists()  # state kept for the next start
    code, _, err = run(["accredit", "show", "did:web:root.microcred.localhost"], env)
    assert code == 1
    assert "microcred devnet start" in one_line_error(err)
    code, out, _ = run(["devnet", "start"], env)
    try:
        assert code == 0
        code, out, err = run(["accredit", "show", "did:web:root.microcred.localhost"], env)
        assert code == 0, err  # the deployment survived the restart
        assert "accredited" in out, err
    finally:
        run(["devnet", "stop"], env)
    code, out, _ = run(["devnet", "stop"], env)
    assert code == 0
    assert "no devnet was running" in out


@pytest.mark.integration
def test_deploy_accredit_suspend_revoke(tmp_path, anvil):
    env = {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": anvil.url}
    code, out, _ = run(["deploy", "--root-did", "did:web:ministry.example"], env)
    assert code == 0, out
    deployment = json.loads((tmp_path / "deployment.json").read_text())
    assert deployment["root"]["did"] == "did:web:ministry.example"
    assert deployment["chain_id"] == 31337
    code, out, _ = run(["deploy"], env)
    assert code == 0
    assert "already deployed" in out

    tao_key = tmp_path / "keys" / "tao.key"
    code, out, err = run(["accredit", "grant", "did:web:agency.example", "--role", "tao", "--type", VCT,
                           "--name", "Agency", "--country", "IT", "--max-eqf", "7", "--valid-from", "2020-01-01",
                           "--controller", str(tao_key)], env)
    assert code == 0, err
    assert "created controller key" in out
    assert "funded" in out
    assert "until never" in out
    assert os.stat(tao_key).st_mode & 0o777 == 0o600

    issuer_did = "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IkFBQSJ9"
    code, out, err = run(["accredit", "grant", issuer_did, "--by", "did:web:agency.example", "--type", VCT,
                           "--name", "Università di Prova", "--country", "IT", "--max-eqf", "6",
                           "--valid-until", "2099-12-31", "--controller", str(tmp_path / "keys" / "issuer.key"),
                           "--key-file", str(tao_key)], env)
    assert code == 0, err
    code, out, _ = run(["accredit", "show", issuer_did, "--type", VCT, "--json"], env)
    shown = json.loads(out)
    assert shown["accredited"]
    assert [link["did"] for link in shown["chain"]] == [
        issuer_did, "did:web:agency.example", "did:web:ministry.example"]

    code, _, err = run(["accredit", "grant", "did:web:too-high.example", "--by", "did:web:agency.example",
                         "--type", VCT, "--name", "X", "--country", "IT", "--max-eqf", "8",
                         "--controller", "0x" + "22" * 20, "--key-file", str(tao_key)], env)
    assert code == 1
    assert "EqfLevelOutOfScope" in one_line_error(err)

    code, out, _ = run(["accredit", "suspend", issuer_did, "--key-file", str(tao_key)], env)
    assert code == 0
    assert "suspended" in out
    code, out, _ = run(["accredit", "show", issuer_did], env)
    assert code == 0
    assert out.startswith(f"{issuer_did}: suspended")
    code, out, _ = run(["accredit", "reinstate", issuer_did], env)  # the root may too
    assert code == 0
    code, out, _ = run(["accredit", "revoke", issuer_did], env)
    assert code == 0
    assert "revoked" in out
    code, out, err = run(["accredit", "revoke", issuer_did], env)  # run again: the chain holds it already
    assert code == 0, err
    assert f"already revoked: {issuer_did}" in out
    code, _, err = run(["accredit", "suspend", issuer_did], env)
    assert code == 1
    assert "AlreadyRevoked" in one_line_error(err)


def test_errors_are_one_line(tmp_path):
    env = {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": f"http://127.0.0.1:{free_port()}"}
    code, _, err = run(["deploy"], env)
    assert code == 1
    assert "did not answer" in one_line_error(err)
    code, _, err = run(["accredit", "show", "did:web:x.example"], env)
    assert code == 1
    assert "microcred deploy" in one_line_error(err)
    code, _, err = run(["accredit", "grant", "not-a-did", "--type", VCT, "--name", "X", "--country", "IT",
                         "--controller", "0x" + "22" * 20], env)
    assert code == 1
    code, _, _ = run(["accredit", "grant", "did:web:x.example"], env)
    assert code == 2  # usage error: missing options


def _a_deployment(*, registries: int):
    from ledger.config import DEPLOYMENT_FILE
    from ledger.deployment import ContractRef, Deployment

    refs = [ContractRef(address="0x" + f"{n}" * 40, artifact=f"contracts/artifacts/{n}.json", abi_sha256="00" * 32)
            for n in range(1, 5)]
    deployment = Deployment(chain_id=31337, rpc_url="http://127.0.0.1:8545", deployment_block=7, deployed_at=1,
                            root_address="0x" + "aa" * 20, root_did="did:web:root.example",
                            trust_registry=refs[0], status_registry=refs[1],
                            issuance_registry=refs[2] if registries == 4 else None,
                            did_registry=refs[3] if registries == 4 else None)
    return deployment, DEPLOYMENT_FILE


def test_devnet_status_names_every_registry_deploy_deployed(tmp_path):
    """`deploy` deploys four registries; `devnet status` named only the TrustRegistry and the StatusRegistry."""
    deployment, name = _a_deployment(registries=4)
    deployment.save(tmp_path / name)
    code, out, _ = run(["devnet", "status"], {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": ""})
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("deployment:"))
    assert line == ("deployment: TrustRegistry 0x" + "1" * 40 + ", StatusRegistry 0x" + "2" * 40
                    + ", IssuanceRegistry 0x" + "3" * 40 + ", DidRegistry 0x" + "4" * 40
                    + " on chain 31337 (block 7), root did:web:root.example")


def test_devnet_status_says_which_registries_an_older_deployment_lacks(tmp_path):
    deployment, name = _a_deployment(registries=2)
    deployment.save(tmp_path / name)
    code, out, _ = run(["devnet", "status"], {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": ""})
    assert code == 0
    assert "no DidRegistry, no IssuanceRegistry (made by an older microcred: `microcred deploy`)" in out


def test_help_texts():
    for args in (["devnet", "--help"], ["deploy", "--help"], ["accredit", "--help"], ["accredit", "grant", "--help"],
                 ["accredit", "transfer", "--help"], ["accredit", "accept", "--help"]):
        code, out, _ = run(args, {})
        assert code == 0
        assert "Usage:" in out
    assert "--controller" in run(["accredit", "grant", "--help"], {})[1]


def test_help_says_what_each_command_does():
    """Each command's help in the imperative, and `deploy` naming the four registries it deploys.

    Before: `accredit --help` listed "Suspended the accreditation of DID…" (the past tense of the
    command's own output), and `deploy --help` named only the TrustRegistry and StatusRegistry.
    """
    listing = run(["accredit", "--help"], {})[1]
    for verb in ("suspend", "reinstate", "revoke"):
        assert f"{verb.capitalize()} the accreditation of DID" in run(["accredit", verb, "--help"], {})[1]
        assert f"{verb.capitalize()}d the accreditation" not in listing
    deploy_help = " ".join(run(["deploy", "--help"], {})[1].split())
    for registry in ("TrustRegistry", "StatusRegistry", "IssuanceRegistry", "DidRegistry"):
        assert registry in deploy_help


@pytest.mark.integration
def test_controller_transfer_in_two_steps_for_an_entry_and_the_root(tmp_path, anvil):
    env = {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": anvil.url}
    keys = tmp_path / "keys"
    assert run(["deploy", "--root-did", "did:web:ministry-transfer.example"], env)[0] == 0
    did = "did:web:university-transfer.example"
    code, _, err = run(["accredit", "grant", did, "--type", VCT, "--name", "Uni", "--country", "IT",
                         "--controller", str(keys / "old.key")], env)
    assert code == 0, err

    # a typo: proposed, not transferred; the old key stays in charge and can take it back
    typo = "0x" + "de" * 20
    code, out, err = run(["accredit", "transfer", did, "--to", typo, "--key-file", str(keys / "old.key")], env)
    assert code == 0, err
    assert "stays in charge" in out, err
    shown = json.loads(run(["accredit", "show", did, "--json"], env)[1])
    assert shown["pending_controller"].lower() == typo
    assert shown["chain"][0]["controller"] != shown["pending_controller"]
    code, out, err = run(["accredit", "cancel-transfer", did, "--key-file", str(keys / "old.key")], env)
    assert code == 0, err
    assert "cancelled" in out, err
    assert json.loads(run(["accredit", "show", did, "--json"], env)[1])["pending_controller"] is None

    # a mistyped checksum is a usage error before anything is sent
    code, _, err = run(["accredit", "transfer", did, "--to", "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                         "--key-file", str(keys / "old.key")], env)
    assert code == 2
    assert "checksum" in err

    code, out, err = run(["accredit", "transfer", did, "--to", str(keys / "new.key"),
                           "--key-file", str(keys / "old.key")], env)
    assert code == 0, err
    assert "created controller key" in out, err
    assert "funded" in out, err
    code, _, err = run(["accredit", "accept", did, "--key-file", str(keys / "old.key")], env)
    assert code == 1
    assert "NotPendingController" in one_line_error(err)
    code, out, err = run(["accredit", "accept", did, "--key-file", str(keys / "new.key")], env)
    assert code == 0, err
    assert "now controls" in out, err
    new_address = out.split()[0]
    assert run(["accredit", "show", did], env)[1].splitlines()[-1] == f"controller {new_address}"
    code, _, err = run(["accredit", "accept", did, "--key-file", str(keys / "new.key")], env)
    assert code == 1
    assert "no transfer is pending" in one_line_error(err)
    code, _, err = run(["accredit", "transfer", did, "--to", typo, "--key-file", str(keys / "old.key")], env)
    assert code == 1
    assert "NotController" in one_line_error(err)

    # the root, by its alias: the default root key loses its power only once the new key accepts
    code, out, err = run(["accredit", "transfer", "root", "--to", str(keys / "root2.key")], env)
    assert code == 0, err
    assert "did:web:ministry-transfer.example" in out, err
    grant = ["accredit", "grant", "did:web:later.example", "--type", VCT, "--name", "L", "--country", "IT",
             "--controller", "0x" + "33" * 20]
    assert run(grant, env)[0] == 0  # still the old root until accepted
    code, out, err = run(["accredit", "accept", "root", "--key-file", str(keys / "root2.key")], env)
    assert code == 0, err
    assert "now controls did:web:ministry-transfer.example" in out, err
    code, _, err = run(grant[:2] + ["did:web:later2.example"] + grant[3:], env)
    assert code == 1
    assert "NotController" in one_line_error(err)
    code, _, err = run(grant[:2] + ["did:web:later2.example"] + grant[3:] + ["--key-file", str(keys / "root2.key")],
                        env)
    assert code == 0, err
