"""Running a killed status change again (real Anvil, real child processes): ``issuer revoke`` and
``issuer revoke --from FILE.csv`` killed after their change was saved — before, while or after its anchoring
transaction — are finished by the same command: it says that nothing was left to change and anchors what the
chain lacks, instead of refusing ("cannot make it revoked") and leaving the list pending. The audit log holds
the change whatever moment the kill came, and a Ctrl-C says what was saved (exit 130), never "Aborted!"."""

from __future__ import annotations

import hashlib
import json
import signal

import pytest
from _crash_support import assert_archive_consistent, assert_nothing_left_behind, child_env, run, start
from _issuer_support import make_csv, make_row

from credentials.jose import PrivateKey
from issuer.archive import Archive
from issuer.cli import EXIT_INTERRUPTED
from issuer.staff import StaffBook

pytestmark = pytest.mark.integration


def _issue(home, tmp_path, env, rows: int = 3) -> list[str]:
    source = tmp_path / "batch.csv"
    source.write_text(make_csv([make_row(n) for n in range(1, rows + 1)]), encoding="utf-8")
    result = run(["issuer", "--issuer", home.identity.name, "issue", "--from", str(source)], env)
    assert result.returncode == 0, result.stderr
    archive = Archive(home.archive_path)
    try:
        return sorted(r.id for r in archive.credentials())
    finally:
        archive.close()


def _assert_chain_holds_the_archive(home, ledger) -> None:
    archive = Archive(home.archive_path)
    try:
        for record in archive.status_lists():
            anchor = ledger.status.latest_anchor(home.identity.did, record.id)
            assert anchor is not None, f"status list {record.id} was never anchored"
            assert anchor.version == record.version
            assert anchor.sha256 == hashlib.sha256(record.token.encode("ascii")).digest()
            assert not record.anchor_pending
    finally:
        archive.close()


def _env(ledger_env):
    return child_env(ledger_env["MICROCRED_DATA_DIR"], rpc_url=ledger_env["MICROCRED_RPC_URL"])


@pytest.mark.parametrize("point", ["status-saved", "anchoring", "anchor-sent"])
def test_a_revoke_killed_after_its_change_was_saved_is_finished_by_running_it_again(
        point, accredited_issuer, ledger, ledger_env, tmp_path):
    home, _ = accredited_issuer
    env = _env(ledger_env)
    ids = _issue(home, tmp_path, env)
    args = ["issuer", "--issuer", home.identity.name, "revoke", ids[0], ids[1], "--reason", "exam annulled"]
    killed = start(args, {**env, "MICROCRED_FAULT_AT": point})
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert f"already revoked: {ids[0]}, {ids[1]}" in again.stdout
    assert "nothing was changed" in again.stdout
    assert "Traceback" not in again.stderr
    assert_archive_consistent(home.archive_path, home.path)
    _assert_chain_holds_the_archive(home, ledger)
    entries = StaffBook.of_home(home.path).audit()
    assert [(e.action, e.count) for e in entries] == [("revoked", 2)], "the saved change is not in the audit log"
    assert "exam annulled" in entries[0].reason


@pytest.mark.parametrize("point", ["status-saved", "anchoring"])
def test_a_bulk_revocation_killed_after_its_change_was_saved_is_finished_by_running_it_again(
        point, accredited_issuer, ledger, ledger_env, tmp_path):
    home, _ = accredited_issuer
    env = _env(ledger_env)
    ids = _issue(home, tmp_path, env)
    source = tmp_path / "revoke.csv"
    source.write_text(f"credential_id,reason,note\n{ids[0]},revoked,annulled\n{ids[2]},suspended,under review\n",
                      encoding="utf-8")
    args = ["issuer", "--issuer", home.identity.name, "revoke", "--from", str(source)]
    killed = start(args, {**env, "MICROCRED_FAULT_AT": point})
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stdout
    assert "nothing was changed" in again.stdout
    _assert_chain_holds_the_archive(home, ledger)
    assert [e.count for e in StaffBook.of_home(home.path).audit()] == [2]
    archive = Archive(home.archive_path)
    try:
        assert [archive.credential(i).status for i in ids] == ["revoked", "valid", "suspended"]
    finally:
        archive.close()


def test_ctrl_c_of_a_revoke_says_what_was_saved_and_the_same_command_finishes_it(
        accredited_issuer, ledger, ledger_env, tmp_path):
    home, _ = accredited_issuer
    env = _env(ledger_env)
    ids = _issue(home, tmp_path, env)
    args = ["issuer", "--issuer", home.identity.name, "revoke", ids[0]]
    interrupted = run(args, {**env, "MICROCRED_FAULT_AT": "anchoring:INT"})
    assert interrupted.returncode == EXIT_INTERRUPTED, interrupted.stderr
    assert "Aborted" not in interrupted.stderr
    assert "Traceback" not in interrupted.stderr
    assert "interrupted: the change is saved" in interrupted.stderr
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert f"already revoked: {ids[0]}" in again.stdout
    _assert_chain_holds_the_archive(home, ledger)


def test_ctrl_c_before_a_revoke_is_saved_says_nothing_changed(accredited_issuer, ledger_env, tmp_path):
    home, _ = accredited_issuer
    env = _env(ledger_env)
    ids = _issue(home, tmp_path, env)
    source = tmp_path / "revoke.csv"
    source.write_text(f"credential_id,reason\n{ids[1]},revoked\n", encoding="utf-8")
    interrupted = run(["issuer", "--issuer", home.identity.name, "revoke", "--from", str(source)],
                      {**env, "MICROCRED_FAULT_AT": "status-saving:INT"})
    assert interrupted.returncode == EXIT_INTERRUPTED, interrupted.stderr
    assert "interrupted: nothing was changed" in interrupted.stderr
    archive = Archive(home.archive_path)
    try:
        assert archive.credential(ids[1]).status == "valid"
    finally:
        archive.close()


def test_publish_anchors_again_an_issuance_root_the_chain_lost(accredited_issuer, ledger, chain, ledger_env, tmp_path):
    """A batch's root anchored, then the node loses the blocks (a reorganisation, a node restarted from an older
    state): ``issuer publish`` anchors the root again, as it does a status list the chain lost."""
    home, _ = accredited_issuer
    env = _env(ledger_env)
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    source = tmp_path / "files.csv"
    holder = '{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",' \
             '"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}'
    source.write_text(make_csv([make_row(n, holder_jwk=holder) for n in (1, 2)]), encoding="utf-8")
    issued = run(["issuer", "--issuer", home.identity.name, "issue", "--from", str(source)], env)
    assert issued.returncode == 0, issued.stderr
    archive = Archive(home.archive_path)
    try:
        (tree,) = archive.issuance_trees()
    finally:
        archive.close()
    assert ledger.issuance.anchor_of(bytes.fromhex(tree.root)) is not None
    chain.w3.provider.make_request("evm_revert", [snapshot])
    assert ledger.issuance.anchor_of(bytes.fromhex(tree.root)) is None
    published = run(["issuer", "--issuer", home.identity.name, "publish"], env)
    assert published.returncode == 0, published.stderr
    assert f"anchored issuance batch root {tree.root[:16]}" in published.stdout
    anchor = ledger.issuance.anchor_of(bytes.fromhex(tree.root))
    assert anchor is not None, "the chain lost the batch root and nothing anchored it again"
    assert anchor.issuer.lower() == home.identity.controller_address.lower()
    _assert_chain_holds_the_archive(home, ledger)
    again = run(["issuer", "--issuer", home.identity.name, "publish"], env)
    assert "every issuance batch root is anchored; nothing to do" in again.stdout


def test_ctrl_c_of_publish_is_exit_130_and_running_it_again_anchors(accredited_issuer, ledger, ledger_env, tmp_path):
    home, _ = accredited_issuer
    env = _env(ledger_env)
    ids = _issue(home, tmp_path, env)
    pending = run(["issuer", "--issuer", home.identity.name, "revoke", ids[0]], {**env, "MICROCRED_RPC_URL":
                                                                                  "http://127.0.0.1:9"})
    assert pending.returncode == 3, pending.stderr
    interrupted = run(["issuer", "--issuer", home.identity.name, "publish"], {**env, "MICROCRED_FAULT_AT":
                                                                               "anchoring:INT"})
    assert interrupted.returncode == EXIT_INTERRUPTED, interrupted.stderr
    assert "Aborted" not in interrupted.stderr
    assert "interrupted: what was saved is kept" in interrupted.stderr
    published = run(["issuer", "--issuer", home.identity.name, "publish"], env)
    assert published.returncode == 0, published.stderr
    _assert_chain_holds_the_archive(home, ledger)


def test_a_reissue_killed_before_its_file_was_written_is_finished_by_running_it_again(
        accredited_issuer, ledger, ledger_env, tmp_path):
    """Killed while anchoring, a re-issue has saved the new credential (the old one revoked) but written no
    file: the learner has nothing. Run again, it re-issues that undelivered credential once more and writes
    the file, instead of refusing 'already re-issued'."""
    home, _ = accredited_issuer
    env = _env(ledger_env)
    ids = _issue(home, tmp_path, env)
    jwk_file = tmp_path / "holder.jwk"
    jwk_file.write_text(json.dumps(PrivateKey.generate().public_key().to_jwk()), encoding="utf-8")
    target = tmp_path / "new.sd-jwt"
    args = ["issuer", "--issuer", home.identity.name, "reissue", ids[0], "--holder-jwk", str(jwk_file),
            "--out", str(target)]
    killed = start(args, {**env, "MICROCRED_FAULT_AT": "anchoring"})
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    assert not target.exists()
    again = run(args, env)
    assert again.returncode == 0, again.stderr
    assert "finishing the re-issue" in again.stdout
    assert target.exists()
    archive = Archive(home.archive_path)
    try:
        assert archive.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        first = archive.credential(ids[0])
        undelivered = archive.credential(first.replaced_by)
        delivered = archive.credential(undelivered.replaced_by)
        assert (first.status, undelivered.status, delivered.status) == ("revoked", "revoked", "valid")
        assert delivered.sd_jwt_sha256 == hashlib.sha256(target.read_text().strip().encode("ascii")).hexdigest()
    finally:
        archive.close()
    _assert_chain_holds_the_archive(home, ledger)
