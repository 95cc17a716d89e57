"""``issuer rotate-key`` killed at each of its steps, then run again (real Anvil, real child processes).

The steps: the next key written beside the old one (``key-rotating``), the rotation mined on the DidRegistry
but not yet in the issuer's files (``key-rotated``), the new key and kid in place but the status lists still
signed with the old key (``key-replaced``). Run again, the command finishes that rotation — exactly one
rotation on chain, never a second — and says so: the issuer's kid names its signing key, that key is the
DID's key on chain, every status list is signed with it and anchored.
"""

from __future__ import annotations

import hashlib
import itertools
import signal

import pytest
from _crash_support import assert_nothing_left_behind, child_env, run, start
from _issuer_support import make_csv, make_row

from credentials.did_mcr import key_id_of
from credentials.jose import UnverifiedJws
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from issuer.archive import Archive
from issuer.did_keys import NEXT_KEY_FILE
from issuer.identity import load_issuer

pytestmark = pytest.mark.integration

_names = itertools.count(1)


@pytest.fixture
def mcr_issuer(ledger_env, ledger_data_dir, accredit_via_tao, tmp_path):
    from issuer.did_keys import register_did
    from issuer.identity import create_issuer

    home = create_issuer(ledger_data_dir, f"rotating-{next(_names)}", legal_name="Universidade Exemplo",
                         country="PT", did_method="mcr", register_did=register_did)
    accredit_via_tao(home.identity.did, home.identity.controller_address, legal_name="Universidade Exemplo",
                     country="PT", vcts=[MICRO_CREDENTIAL_VCT])
    env = child_env(ledger_env["MICROCRED_DATA_DIR"], rpc_url=ledger_env["MICROCRED_RPC_URL"])
    source = tmp_path / "batch.csv"
    source.write_text(make_csv([make_row(1), make_row(2)]), encoding="utf-8")
    issued = run(["issuer", "--issuer", home.identity.name, "issue", "--from", str(source)], env)
    assert issued.returncode == 0, issued.stderr
    return home, env


def _assert_one_finished_rotation(home, ledger_data_dir, ledger) -> None:
    rotated = load_issuer(ledger_data_dir, home.identity.name)
    key = rotated.signing_key().public_key()
    assert rotated.identity.kid == f"{rotated.identity.did}#{key.thumbprint()}", "the kid does not name the key"
    assert not (rotated.path / NEXT_KEY_FILE).exists()
    methods = ledger.dids.record(rotated.identity.did).methods
    assert len(methods) == 2, f"expected one rotation on chain, found {len(methods) - 1}"
    assert methods[1].key_id == key_id_of(key)
    assert methods[1].valid_until_block is None
    assert methods[0].valid_until_block == methods[1].valid_from_block
    archive = Archive(rotated.archive_path)
    try:
        lists = archive.status_lists()
        assert lists
        for record in lists:
            assert UnverifiedJws.parse(record.token).header["kid"] == rotated.identity.kid, record.id
            anchor = ledger.status.latest_anchor(rotated.identity.did, record.id)
            assert anchor.version == record.version
            assert anchor.sha256 == hashlib.sha256(record.token.encode("ascii")).digest()
    finally:
        archive.close()


@pytest.mark.parametrize("point", ["key-rotating", "key-rotated", "key-replaced"])
def test_a_rotation_killed_at_any_step_is_finished_by_running_it_again(point, mcr_issuer, ledger, ledger_data_dir):
    home, env = mcr_issuer
    args = ["issuer", "--issuer", home.identity.name, "rotate-key"]
    killed = start(args, {**env, "MICROCRED_FAULT_AT": point})
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert "finishing the key rotation interrupted earlier" in again.stdout
    _assert_one_finished_rotation(home, ledger_data_dir, ledger)


def test_ctrl_c_of_a_rotation_says_what_to_do_and_running_it_again_finishes_it(mcr_issuer, ledger, ledger_data_dir):
    home, env = mcr_issuer
    args = ["issuer", "--issuer", home.identity.name, "rotate-key"]
    interrupted = run(args, {**env, "MICROCRED_FAULT_AT": "key-rotated:INT"})
    assert interrupted.returncode == 130, interrupted.stderr
    assert "Traceback" not in interrupted.stderr
    assert "interrupted" in interrupted.stderr
    assert "run `microcred issuer rotate-key` again to finish it" in interrupted.stderr
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    _assert_one_finished_rotation(home, ledger_data_dir, ledger)


def test_a_rotation_the_chain_lost_is_sent_again_by_running_the_command_again(mcr_issuer, ledger, chain,
                                                                              ledger_data_dir):
    """The rotation mined and the files updated, then the node loses the blocks (a reorganisation, a node
    restarted from an older state): the issuer signs with a key its DID no longer lists. Run again, the
    command rotates from the key the chain holds to the issuer's key instead of failing 'UnknownKeyId'."""
    home, env = mcr_issuer
    args = ["issuer", "--issuer", home.identity.name, "rotate-key"]
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    rotated = run(args, env)
    assert rotated.returncode == 0, rotated.stderr
    chain.w3.provider.make_request("evm_revert", [snapshot])
    assert len(ledger.dids.record(home.identity.did).methods) == 1
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert "the chain does not list the issuer's key" in again.stdout
    _assert_one_finished_rotation(home, ledger_data_dir, ledger)


def test_a_rotation_killed_after_the_chain_lost_the_previous_one_is_finished_by_running_it_again(
        mcr_issuer, ledger, chain, ledger_data_dir):
    home, env = mcr_issuer
    args = ["issuer", "--issuer", home.identity.name, "rotate-key"]
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    assert run(args, env).returncode == 0
    killed = start(args, {**env, "MICROCRED_FAULT_AT": "key-rotating"})  # the next one killed before it is sent
    assert_nothing_left_behind(killed)
    chain.w3.provider.make_request("evm_revert", [snapshot])  # then the chain loses the first rotation
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert "finishing the key rotation interrupted earlier" in again.stdout
    _assert_one_finished_rotation(home, ledger_data_dir, ledger)
