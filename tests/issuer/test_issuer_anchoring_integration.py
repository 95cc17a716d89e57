"""Anchoring against a real Anvil node (session fixtures from tests/conftest.py)."""

from __future__ import annotations

import hashlib

import pytest
from _issuer_support import make_csv, make_row
from click.testing import CliRunner

from issuer.archive import Archive
from issuer.cli import EXIT_ANCHOR_PENDING
from microcred.cli import main

pytestmark = pytest.mark.integration


def run(*args):
    return CliRunner().invoke(main, ["issuer", *args])


def issue_two(home, tmp_path) -> list[str]:
    source = tmp_path / "batch.csv"
    source.write_text(make_csv([make_row(1), make_row(2), make_row(3)]), encoding="utf-8")
    result = run("--issuer", home.identity.name, "issue", "--from", str(source))
    assert result.exit_code == 0, result.output
    assert "anchored status list" in result.output
    assert "version 1" in result.output
    return [r.id for r in Archive(home.archive_path).credentials()]


def test_revocations_made_together_cost_one_anchor(accredited_issuer, ledger, tmp_path):
    home, _ = accredited_issuer
    ids = issue_two(home, tmp_path)
    result = run("--issuer", home.identity.name, "revoke", ids[0], ids[1])
    assert result.exit_code == 0, result.output
    archive = Archive(home.archive_path)
    record = archive.status_lists()[0]
    anchor = ledger.status.latest_anchor(home.identity.did, record.id)
    assert anchor.version == 2 == record.anchored_version
    assert anchor.sha256 == hashlib.sha256(record.token.encode("ascii")).digest()
    events = ledger.status.anchor_events(home.identity.did, record.id)
    assert [e.version for e in events] == [1, 2]  # issue, then both revocations in one transaction
    # The chain carries the signed Status List Token itself: its hash is the anchor.
    assert events[-1].compressed_list == record.token.encode("ascii")
    assert hashlib.sha256(events[-1].compressed_list).digest() == anchor.sha256


def test_chain_down_leaves_a_retryable_pending_anchor(accredited_issuer, ledger, tmp_path, monkeypatch, ledger_env):
    home, _ = accredited_issuer
    ids = issue_two(home, tmp_path)
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    down = run("--issuer", home.identity.name, "revoke", ids[2])
    assert down.exit_code == EXIT_ANCHOR_PENDING, down.output
    assert "NOT anchored" in down.output
    assert "microcred issuer publish" in down.output
    archive = Archive(home.archive_path)
    record = archive.status_lists()[0]
    assert archive.credential(ids[2]).status == "revoked"
    assert record.anchor_pending
    assert ledger.status.latest_anchor(home.identity.did, record.id).version == 1
    monkeypatch.setenv("MICROCRED_RPC_URL", ledger_env["MICROCRED_RPC_URL"])
    retried = run("--issuer", home.identity.name, "publish")
    assert retried.exit_code == 0, retried.output
    assert ledger.status.latest_anchor(home.identity.did, record.id).version == 2
    assert run("--issuer", home.identity.name, "publish").output.startswith("every status list is anchored")


def test_a_revoked_issuer_cannot_anchor(accredited_issuer, ledger, tmp_path):
    home, tao_account = accredited_issuer
    ids = issue_two(home, tmp_path)
    ledger.trust.revoke(home.identity.did, account=tao_account)
    refused = run("--issuer", home.identity.name, "suspend", ids[0])
    assert refused.exit_code == EXIT_ANCHOR_PENDING, refused.output
    assert "NotAccredited" in refused.output or "not accredited" in refused.output.lower(), refused.output
    archive = Archive(home.archive_path)
    assert archive.credential(ids[0]).status == "suspended"
    assert archive.status_lists()[0].anchor_pending


def test_anchoring_the_same_version_twice_is_done_once(accredited_issuer, ledger):
    from issuer.ledger_link import LedgerStatusAnchor
    from ledger.errors import TransactionReverted

    home, _ = accredited_issuer
    anchor = LedgerStatusAnchor(home)
    digest = hashlib.sha256(b"token v1").digest()
    first = anchor.anchor(home.identity.did, "race", digest, 1)
    again = anchor.anchor(home.identity.did, "race", digest, 1)  # a racing retry finds it done
    assert again.block_number == first.block_number
    assert [e.version for e in ledger.status.anchor_events(home.identity.did, "race")] == [1]
    with pytest.raises(TransactionReverted, match="VersionNotIncreasing|greater version"):
        anchor.anchor(home.identity.did, "race", hashlib.sha256(b"another token").digest(), 1)
