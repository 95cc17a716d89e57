"""Twins on a real Anvil node: the Bitstring list is served and anchored, and revoking a credential
anchors its list and its twin's list in ONE transaction (issue 12, item 5; session fixtures of tests/conftest.py)."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from _issuer_support import make_csv, make_row
from click.testing import CliRunner

from credentials.eudi_learning import EUDI_LEARNING_VCT
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.verification_types import OB3_TYPE
from issuer.archive import Archive
from issuer.identity import load_issuer
from issuer.list_keeper import ListKeeper
from issuer.web import create_app
from ledger.keys import load_key_file
from microcred.cli import main
from microcred.system import DEMO_TYPES, UNIVERSITIES, _ensure_trust

pytestmark = pytest.mark.integration


def run(*args):
    return CliRunner().invoke(main, ["issuer", *args])


def issue_with_badges(home, tmp_path) -> Archive:
    source = tmp_path / "batch.csv"
    source.write_text(make_csv([make_row(1), make_row(2)]), encoding="utf-8")
    result = run("--issuer", home.identity.name, "issue", "--from", str(source), "--also", "ob3")
    assert result.exit_code == 0, result.output
    assert "2 credential(s), 0 signed file(s), 2 offer(s), 2 twin(s)" in result.output
    return Archive(home.archive_path)


def served(home, ledger_data_dir, path: str) -> str:
    client = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "ISSUER": home.identity.name}).test_client()
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_bitstring_list_is_served_and_anchored_like_the_ietf_lists(accredited_issuer, ledger, ledger_data_dir,
                                                                       tmp_path):
    home, _ = accredited_issuer
    archive = issue_with_badges(home, tmp_path)
    (ietf,) = archive.status_lists_of("ietf")
    (bitstring,) = archive.status_lists_of("bitstring")
    token = served(home, ledger_data_dir, f"/status/bitstring/{bitstring.id}")
    anchor = ledger.status.latest_anchor(home.identity.did, bitstring.id)
    assert anchor.version == 1
    assert anchor.sha256 == hashlib.sha256(token.encode("ascii")).digest()
    ietf_token = served(home, ledger_data_dir, f"/status/{ietf.id}")
    assert ledger.status.latest_anchor(home.identity.did, ietf.id).sha256 == hashlib.sha256(
        ietf_token.encode("ascii")).digest()
    # Two new lists at once: one transaction anchored both.
    events = ledger.status.anchor_events(home.identity.did)
    assert {e.list_id for e in events} == {ietf.id, bitstring.id}
    assert len({e.transaction_hash for e in events}) == 1
    # The chain carries the signed list credential itself; the id on chain is the URI's last segment.
    assert [e.compressed_list for e in events if e.list_id == bitstring.id] == [token.encode("ascii")]
    assert home.identity.bitstring_status_list_uri(bitstring.id).rsplit("/", 1)[-1] == bitstring.id


def test_revoking_a_credential_anchors_its_list_and_its_twins_in_one_transaction(accredited_issuer, ledger,
                                                                                  ledger_data_dir, tmp_path):
    home, _ = accredited_issuer
    archive = issue_with_badges(home, tmp_path)
    credential = archive.credentials()[0]
    (twin,) = archive.twins(credential.id)
    since = ledger.status.latest_block()

    result = run("--issuer", home.identity.name, "revoke", credential.id)
    assert result.exit_code == 0, result.output
    assert f"revoked: {credential.id}, {twin.id}" in result.output

    events = ledger.status.anchor_events(home.identity.did, from_block=since + 1)
    assert sorted((e.list_id, e.version) for e in events) == sorted([(credential.list_id, 2), (twin.list_id, 2)])
    (transaction,) = {e.transaction_hash for e in events}  # one receipt holds both anchors
    assert f"tx {transaction}" in result.output
    for list_id, path in ((credential.list_id, f"/status/{credential.list_id}"),
                          (twin.list_id, f"/status/bitstring/{twin.list_id}")):
        record = archive.status_list(list_id)
        assert (record.version, record.anchored_version, record.anchored_tx) == (2, 2, transaction)
        token = served(home, ledger_data_dir, path)
        assert ledger.status.latest_anchor(home.identity.did, list_id).sha256 == hashlib.sha256(
            token.encode("ascii")).digest()
    archive.close()


def test_lists_left_pending_while_the_ledger_was_down_are_anchored_together(accredited_issuer, ledger, ledger_env,
                                                                            tmp_path, monkeypatch):
    home, _ = accredited_issuer
    archive = issue_with_badges(home, tmp_path)
    credential = archive.credentials()[1]
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    down = run("--issuer", home.identity.name, "revoke", credential.id)
    assert down.exit_code == 3, down.output
    assert all(record.anchor_pending for record in archive.status_lists())
    monkeypatch.setenv("MICROCRED_RPC_URL", ledger_env["MICROCRED_RPC_URL"])
    since = ledger.status.latest_block()
    published = run("--issuer", home.identity.name, "publish")
    assert published.exit_code == 0, published.output
    events = ledger.status.anchor_events(home.identity.did, from_block=since + 1)
    assert len(events) == 2
    assert len({e.transaction_hash for e in events}) == 1
    assert not any(record.anchor_pending for record in archive.status_lists())
    archive.close()


def test_a_list_the_chain_already_holds_sends_the_other_alone(accredited_issuer, ledger, tmp_path):
    """The batch is only a shortcut: a racing anchorer got one list there first, the other is anchored after."""
    home, _ = accredited_issuer
    archive = issue_with_badges(home, tmp_path)
    credential = archive.credentials()[0]
    (twin,) = archive.twins(credential.id)
    with archive.transaction():  # what a revoke commits before it anchors
        archive.set_status([credential.id, twin.id], "revoked")
        keeper = ListKeeper(home.identity, archive, home.signing_key(), random_below=lambda n: 0,
                            random_id=lambda: "unused")
        keeper.sign(credential.list_id, now=ledger.chain.block_timestamp())
        keeper.sign(twin.list_id, now=ledger.chain.block_timestamp())
    ietf = archive.status_list(credential.list_id)
    racer = load_key_file(home.controller_key_path)
    ledger.status.anchor(home.identity.did, ietf.id, bytes.fromhex(ietf.token_sha256), ietf.version, account=racer)
    published = run("--issuer", home.identity.name, "publish")
    assert published.exit_code == 0, published.output
    for list_id in (credential.list_id, twin.list_id):
        record = archive.status_list(list_id)
        assert ledger.status.latest_anchor(home.identity.did, list_id).version == record.version == 2
        assert not record.anchor_pending
    archive.close()


def test_the_demo_accredits_its_universities_for_every_kind_the_issuer_makes(fresh_ledger, tmp_path):
    """microcred/system.py: the agency (TAO) and the universities it accredits hold microcred's vct, the EUDI
    learning vct and the verifier's Open Badge type string, so the twins pass issuer_trust by default."""
    said: list[str] = []
    names = _ensure_trust(fresh_ledger, SimpleNamespace(data_dir=tmp_path), said.append, {})
    assert names == tuple(u.name for u in UNIVERSITIES)
    for name in names:
        did = load_issuer(tmp_path, name).identity.did
        for kind in (MICRO_CREDENTIAL_VCT, EUDI_LEARNING_VCT, OB3_TYPE):
            assert fresh_ledger.trust.lookup(did, kind).accredited, (name, kind)
        assert not fresh_ledger.trust.lookup(did, "urn:example:other-type").accredited
    assert DEMO_TYPES == (MICRO_CREDENTIAL_VCT, EUDI_LEARNING_VCT, OB3_TYPE)
    again: list[str] = []
    _ensure_trust(fresh_ledger, SimpleNamespace(data_dir=tmp_path), again.append, {})  # idempotent, nothing to add
    assert not [line for line in again if "not accredited for" in line]
