"""``microcred issuer issue`` killed at every step (real child processes, ledger down).

After each fault: the archive is intact, no signed credential exists that the archive does
not know, re-running the same command completes the batch (and reports it) without issuing
any learner twice, and re-running after success issues nothing unless ``--again``.
"""

from __future__ import annotations

import csv
import signal

import pytest
from _crash_support import (
    assert_archive_consistent,
    assert_nothing_left_behind,
    child_env,
    file_sha256,
    run,
    signed_files,
    start,
    wait_until,
)
from _issuer_support import jwk_cell, make_csv, make_row

from credentials.jose import PrivateKey
from issuer.archive import Archive
from issuer.cli import EXIT_ANCHOR_PENDING, EXIT_INTERRUPTED
from issuer.identity import create_issuer

ROWS = 40


@pytest.fixture
def issuer_home(data_dir):
    return create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT")


@pytest.fixture
def export(tmp_path):
    keys = [PrivateKey.generate() for _ in range(4)]
    rows = [make_row(n, holder_jwk=jwk_cell(keys[n % 4])) if n % 2 else make_row(n) for n in range(1, ROWS + 1)]
    source = tmp_path / "export.csv"
    source.write_text(make_csv(rows), encoding="utf-8")
    return source


def assert_complete(home, out_root, *, expected=ROWS):
    counts = assert_archive_consistent(home.archive_path, home.path, out_root)
    assert len(counts) == expected
    assert set(counts.values()) == {1}
    batches = [p for p in (home.path / "batches").iterdir() if not p.name.startswith(".")]
    assert len(batches) == 1
    assert not [p for p in (home.path / "batches").iterdir() if p.name.startswith(".")]
    manifest = list(csv.DictReader((batches[0] / "manifest.csv").open(encoding="utf-8")))
    assert len(manifest) == expected
    archive = Archive(home.archive_path)
    try:
        for row in manifest:
            record = archive.credential(row["credential_id"])
            if record.holder_jwk:
                assert file_sha256(batches[0] / row["file"]) == record.sd_jwt_sha256
            else:
                assert row["offer_uri"]
                assert not row["file"]
    finally:
        archive.close()
    assert len(signed_files(batches[0])) == expected // 2


@pytest.mark.parametrize("point", ["batch-checked", "batch-saved", "batch-chunk-written", "batch-signed",
                                   "batch-delivered"])
def test_a_batch_killed_at_any_step_is_completed_by_the_same_command(point, issuer_home, data_dir, export):
    args = ["issuer", "issue", "--from", str(export)]
    killed = start(args, child_env(data_dir, fault=point))
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    assert_archive_consistent(issuer_home.archive_path, issuer_home.path)

    again = run(args, child_env(data_dir))
    assert again.returncode == EXIT_ANCHOR_PENDING, again.stderr
    assert f"{ROWS} credential(s)" in again.stdout
    assert ("resuming batch" in again.stdout) == (point != "batch-checked")
    assert_complete(issuer_home, issuer_home.path)

    third = run(args, child_env(data_dir))
    assert "already issued (batch " in third.stdout
    assert f"{ROWS} credentials, files in " in third.stdout
    assert_complete(issuer_home, issuer_home.path)


TWIN_ROWS = 12


@pytest.mark.parametrize("point", ["batch-saved", "batch-chunk-written", "batch-signed"])
def test_twins_are_part_of_the_batch_a_re_run_completes(point, issuer_home, data_dir, tmp_path):
    """Issue 12: the Open Badge and EUDI learning twins are archived with their row before signing,
    delivered with the batch, and finished by the same command after a kill."""
    keys = [PrivateKey.generate() for _ in range(3)]
    rows = [make_row(n, holder_jwk=jwk_cell(keys[n % 3]), language_of_classes="en") if n % 2
            else make_row(n, language_of_classes="en") for n in range(1, TWIN_ROWS + 1)]
    source = tmp_path / "twins.csv"
    source.write_text(make_csv(rows), encoding="utf-8")
    args = ["issuer", "issue", "--from", str(source), "--also", "ob3", "--also", "eudi-learning"]
    killed = start(args, child_env(data_dir, fault=point))
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    assert_archive_consistent(issuer_home.archive_path, issuer_home.path)

    again = run(args, child_env(data_dir))
    assert again.returncode == EXIT_ANCHOR_PENDING, again.stderr
    assert f"{TWIN_ROWS} credential(s), {TWIN_ROWS // 2} signed file(s), {TWIN_ROWS // 2} offer(s), " \
           f"{2 * TWIN_ROWS} twin(s)" in again.stdout
    counts = assert_archive_consistent(issuer_home.archive_path, issuer_home.path)
    assert set(counts.values()) == {1}
    (batch,) = [p for p in (issuer_home.path / "batches").iterdir() if not p.name.startswith(".")]
    manifest = list(csv.DictReader((batch / "manifest.csv").open(encoding="utf-8")))
    assert sorted(row["kind"] for row in manifest) == sorted(["microcred", "ob3", "eudi-learning"] * TWIN_ROWS)
    archive = Archive(issuer_home.archive_path)
    try:
        for row in manifest:
            record = archive.credential(row["credential_id"])
            assert (record.kind, record.twin_of or "") == (row["kind"], row["twin_of"])
            if record.holder_jwk:
                assert file_sha256(batch / row["file"]) == record.sd_jwt_sha256
    finally:
        archive.close()
    assert len(signed_files(batch)) == 3 * TWIN_ROWS // 2
    assert "already issued" in run(args, child_env(data_dir)).stdout


def test_a_completed_batch_is_issued_again_only_when_asked(issuer_home, data_dir, export):
    args = ["issuer", "issue", "--from", str(export)]
    first = run(args, child_env(data_dir))
    assert first.returncode == EXIT_ANCHOR_PENDING, first.stderr
    second = run(args, child_env(data_dir))
    assert "already issued" in second.stdout
    assert "--again" in second.stdout
    assert_complete(issuer_home, issuer_home.path)
    again = run([*args, "--again"], child_env(data_dir))
    assert again.returncode == EXIT_ANCHOR_PENDING, again.stderr
    archive = Archive(issuer_home.archive_path)
    assert archive.count_credentials()["valid"] == 2 * ROWS
    archive.close()


def test_a_kill_while_files_are_written_leaves_no_unknown_credential(issuer_home, data_dir, tmp_path):
    key = PrivateKey.generate()
    source = tmp_path / "long.csv"
    source.write_text(make_csv([make_row(n, holder_jwk=jwk_cell(key)) for n in range(1, 601)]), encoding="utf-8")
    args = ["issuer", "issue", "--from", str(source)]
    batches = issuer_home.path / "batches"
    process = start(args, child_env(data_dir))
    seen = wait_until(lambda: signed_files(batches), timeout=60, step=0.01)
    process.send_signal(signal.SIGKILL)
    assert_nothing_left_behind(process)
    assert seen, "no signed file appeared before the command ended"
    assert_archive_consistent(issuer_home.archive_path, issuer_home.path)
    again = run(args, child_env(data_dir))
    assert again.returncode == EXIT_ANCHOR_PENDING, again.stderr
    assert len(assert_archive_consistent(issuer_home.archive_path, issuer_home.path)) == 600


def test_ctrl_c_after_the_commit_keeps_the_output(issuer_home, data_dir, export):
    args = ["issuer", "issue", "--from", str(export)]
    interrupted = run(args, child_env(data_dir, fault="batch-signed:INT"))
    assert interrupted.returncode == EXIT_INTERRUPTED, interrupted.stderr
    assert "Traceback" not in interrupted.stderr
    assert "interrupted" in interrupted.stderr
    assert "run the same command again" in interrupted.stderr
    files = signed_files(issuer_home.path)
    assert len(files) == ROWS // 2  # the signed output is kept
    assert_archive_consistent(issuer_home.archive_path, issuer_home.path)
    finished = run(args, child_env(data_dir))
    assert finished.returncode == EXIT_ANCHOR_PENDING
    assert "resuming batch" in finished.stdout
    assert_complete(issuer_home, issuer_home.path)


def test_ctrl_c_before_the_commit_saves_nothing(issuer_home, data_dir, export):
    interrupted = run(["issuer", "issue", "--from", str(export)], child_env(data_dir, fault="batch-checked:INT"))
    assert interrupted.returncode == EXIT_INTERRUPTED
    assert "nothing of this batch was saved" in interrupted.stderr
    assert not signed_files(issuer_home.path)


def test_a_batch_id_given_twice_for_other_rows_is_refused(issuer_home, data_dir, export, tmp_path):
    first = run(["issuer", "issue", "--from", str(export), "--batch-id", "autumn-2026"], child_env(data_dir))
    assert first.returncode == EXIT_ANCHOR_PENDING
    assert "batch autumn-2026" in first.stdout
    other = tmp_path / "other.csv"
    other.write_text(make_csv([make_row(900)]), encoding="utf-8")
    refused = run(["issuer", "issue", "--from", str(other), "--batch-id", "autumn-2026"], child_env(data_dir))
    assert refused.returncode == 1
    assert "other rows" in refused.stderr
    bad = run(["issuer", "issue", "--from", str(other), "--batch-id", "../x"], child_env(data_dir))
    assert bad.returncode == 2
    assert "--batch-id" in bad.stderr
