"""Bulk revocation from a CSV file (issue 14, §4) on a real Anvil node.

``microcred issuer revoke --from FILE.csv``: every row checked first (precise
errors with line numbers, nothing changed if any row is bad); each affected
status list changes once; ALL changed lists are anchored in ONE transaction,
counted from the chain's blocks; the reasons go to the archive, never on chain.
"""

from __future__ import annotations

import pytest
from _issuer_support import make_csv, make_row
from click.testing import CliRunner

from issuer.archive import Archive
from issuer.list_keeper import MAX_FILL
from microcred.cli import main

pytestmark = pytest.mark.integration


def run(*args):
    return CliRunner().invoke(main, ["issuer", *args])


def issue(home, tmp_path, name: str, numbers, *also: str) -> None:
    source = tmp_path / f"{name}.csv"
    source.write_text(make_csv([make_row(n) for n in numbers]), encoding="utf-8")
    extra = [arg for kind in also for arg in ("--also", kind)]
    result = run("--issuer", home.identity.name, "issue", "--from", str(source), "--batch-id", name, *extra)
    assert result.exit_code == 0, result.output


def fill(archive: Archive) -> None:
    """Make the open IETF list count as full, so the next batch opens a second list."""
    for record in archive.status_lists_of("ietf"):
        with archive.transaction():
            archive.update_status_list(record.id, used=int(record.size * MAX_FILL) + 1)


def transactions_from(chain, address: str, since: int) -> list[str]:
    """Every transaction ``address`` sent in the blocks after ``since``, read from the chain itself."""
    found = []
    for number in range(since + 1, chain.block_number() + 1):
        block = chain.w3.eth.get_block(number, full_transactions=True)
        found += [tx["hash"].hex() for tx in block["transactions"] if tx["from"] == address]
    return found


@pytest.fixture
def two_batches(accredited_issuer, tmp_path):
    """Batch ``a`` (2 credentials with Open Badge twins: an IETF list and a Bitstring list) and batch ``b``
    (2 credentials on a second IETF list)."""
    home, _ = accredited_issuer
    issue(home, tmp_path, "a", [1, 2], "ob3")
    archive = Archive(home.archive_path)
    fill(archive)
    issue(home, tmp_path, "b", [3, 4])
    return home, archive


def test_one_file_revokes_and_suspends_across_three_lists_anchored_in_one_transaction(
        two_batches, ledger, chain, tmp_path):
    home, archive = two_batches
    b_first, b_second = archive.batch_credentials("b")
    assert b_first.list_id != archive.batch_credentials("a")[0].list_id
    csv_file = tmp_path / "revoke.csv"
    csv_file.write_text("batch_id,credential_id,reason,note\n"
                        "a,,revoked,course withdrawn by the senate\n"
                        f",{b_first.id},suspended,plagiarism inquiry\n", encoding="utf-8")
    since = ledger.status.latest_block()

    result = run("--issuer", home.identity.name, "revoke", "--from", str(csv_file))

    assert result.exit_code == 0, result.output
    assert "revoke.csv: 3 credentials in 3 lists (2 revoked, 1 suspended)" in result.output
    sent = transactions_from(chain, home.identity.controller_address, since)
    assert len(sent) == 1, sent
    events = ledger.status.anchor_events(home.identity.did, from_block=since + 1)
    assert len(events) == 3
    assert {"0x" + e.transaction_hash.removeprefix("0x") for e in events} == {"0x" + sent[0].removeprefix("0x")}
    fresh = Archive(home.archive_path)
    assert {r.status for r in fresh.batch_credentials("a")} == {"revoked"}  # twins included
    assert fresh.credential(b_first.id).status == "suspended"
    assert fresh.credential(b_second.id).status == "valid"
    (logged,) = fresh.status_changes(b_first.id)
    assert (logged.status, logged.reason, logged.source, logged.line) == ("suspended", "plagiarism inquiry",
                                                                          "revoke.csv", 3)
    for event in events:  # the reasons are in the archive only: never in what the chain carries
        assert b"plagiarism" not in (event.compressed_list or b"")
    for tx in sent:
        assert b"plagiarism" not in bytes(chain.w3.eth.get_transaction(tx)["input"])


def test_any_bad_row_refuses_the_whole_file_with_line_numbers_and_changes_nothing(
        two_batches, ledger, chain, tmp_path):
    home, archive = two_batches
    b_first, _ = archive.batch_credentials("b")
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("credential_id,batch_id,reason\n"
                        f"{b_first.id},,revoked\n"
                        "no-such-credential,,revoked\n"
                        ",no-such-batch,suspended\n"
                        f"{b_first.id},,suspended\n"
                        f"{b_first.id},a,revoked\n"
                        ",b,deleted\n", encoding="utf-8")
    since = ledger.status.latest_block()
    versions = {r.id: r.version for r in archive.status_lists()}

    result = run("--issuer", home.identity.name, "revoke", "--from", str(csv_file))

    assert result.exit_code != 0
    assert "nothing was changed" in result.output
    assert "line 3: no credential with id 'no-such-credential'" in result.output
    assert "line 4: no batch with id 'no-such-batch'" in result.output
    assert f"line 5: credential {b_first.id} is revoked by line 2; a credential takes one status" in result.output
    assert "line 6: expected a credential_id or a batch_id (one of them), found both" in result.output
    assert "line 7: reason: expected revoked or suspended, found 'deleted'" in result.output
    fresh = Archive(home.archive_path)
    assert {r.status for r in fresh.credentials(twins=True)} == {"valid"}
    assert {r.id: r.version for r in fresh.status_lists()} == versions
    assert transactions_from(chain, home.identity.controller_address, since) == []


def test_a_dry_run_previews_and_changes_nothing(two_batches, tmp_path):
    home, archive = two_batches
    csv_file = tmp_path / "preview.csv"
    csv_file.write_text("batch_id,reason\nb,revoked\n", encoding="utf-8")

    result = run("--issuer", home.identity.name, "revoke", "--from", str(csv_file), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "preview.csv: 2 credentials in 1 list (2 revoked)" in result.output
    assert "dry run: nothing was changed" in result.output
    assert {r.status for r in Archive(home.archive_path).batch_credentials("b")} == {"valid"}


def test_a_run_killed_after_the_archive_changed_is_anchored_by_publish_in_one_transaction(
        two_batches, ledger, chain, tmp_path, ledger_data_dir, anvil):
    from _crash_support import child_env
    from _crash_support import run as run_child

    home, archive = two_batches
    csv_file = tmp_path / "killed.csv"
    csv_file.write_text("batch_id,reason\na,revoked\nb,suspended\n", encoding="utf-8")
    since = ledger.status.latest_block()
    args = ["issuer", "--issuer", home.identity.name]

    killed = run_child([*args, "revoke", "--from", str(csv_file)],
                       child_env(ledger_data_dir, fault="status-saved", rpc_url=anvil.url))

    assert killed.returncode == -9, killed.stderr
    assert {r.status for r in Archive(home.archive_path).batch_credentials("b")} == {"suspended"}
    assert transactions_from(chain, home.identity.controller_address, since) == []
    published = run("--issuer", home.identity.name, "publish")
    assert published.exit_code == 0, published.output
    assert len(transactions_from(chain, home.identity.controller_address, since)) == 1
    assert len(ledger.status.anchor_events(home.identity.did, from_block=since + 1)) == 3
