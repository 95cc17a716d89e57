"""What the issuer leaves when the machine fails it: worker processes after a SIGKILL of their
parent, and a full or read-only archive (one line naming the cause, nothing half-written)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from _crash_support import assert_archive_consistent, child_env, session_members, signed_files, start, wait_until
from _issuer_support import jwk_cell, make_csv, make_row
from click.testing import CliRunner

from credentials.jose import PrivateKey
from issuer.archive import Archive
from issuer.cli import EXIT_STORAGE
from issuer.identity import create_issuer
from microcred.cli import main
from tests.tooling import missing_tool


@pytest.fixture
def issuer_home(data_dir):
    return create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT")


@pytest.mark.parametrize("phase", ["checking", "signing"])
def test_workers_die_with_their_parent(phase, issuer_home, data_dir, tmp_path):
    key = PrivateKey.generate()
    source = tmp_path / "big.csv"
    source.write_text(make_csv([make_row(n, holder_jwk=jwk_cell(key)) for n in range(1, 2201)]), encoding="utf-8")
    process = start(["issuer", "issue", "--from", str(source)],
                    child_env(data_dir, MICROCRED_ISSUER_WORKERS="2"))
    batches = issuer_home.path / "batches"

    def workers_running():
        members = [pid for pid in session_members(process.pid) if pid != process.pid]
        if len(members) < 2:
            return False
        return phase == "checking" or bool(signed_files(batches))

    seen = wait_until(workers_running, timeout=60, step=0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert seen, f"expected worker processes while {phase}, found none: {process.stderr.read()}"
    gone = wait_until(lambda: not session_members(process.pid), timeout=5)
    left = session_members(process.pid)
    for pid in left:  # started by this test: never leave them behind, even when it fails
        os.kill(pid, signal.SIGKILL)
    assert gone, f"worker processes outlived their parent: {left}"
    assert_archive_consistent(issuer_home.archive_path, issuer_home.path)


class _SmallArchive(Archive):
    """The archive on a disk with room for only a few more pages (SQLite ``max_page_count``)."""

    def __init__(self, path):
        super().__init__(path)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {pages + 2}")


class _ReadOnlyArchive(Archive):
    def __init__(self, path):
        super().__init__(path)
        self.conn.execute("PRAGMA query_only = 1")


@pytest.mark.parametrize(("archive_class", "cause"), [
    (_SmallArchive, "the archive's disk is full (database or disk is full)"),
    (_ReadOnlyArchive, "the archive is read-only"),
])
def test_a_full_or_read_only_archive_is_one_clear_line(archive_class, cause, issuer_home, tmp_path, monkeypatch):
    Archive(issuer_home.archive_path).close()  # the tables exist; the disk fills after that
    key = PrivateKey.generate()
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(n, holder_jwk=jwk_cell(key)) for n in range(1, 301)]), encoding="utf-8")
    monkeypatch.setattr("issuer.cli.Archive", archive_class)
    result = CliRunner().invoke(main, ["issuer", "issue", "--from", str(source)])
    assert result.exit_code == EXIT_STORAGE, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith(f"Error: {cause}"), result.output
    assert "nothing of this batch was saved" in lines[-1]
    assert "Traceback" not in result.output
    assert "cannot rollback" not in result.output
    assert not signed_files(issuer_home.path)
    assert assert_archive_consistent(issuer_home.archive_path, issuer_home.path) == {}


@pytest.fixture
def small_disk(tmp_path):
    """A real 256 KiB tmpfs (mounting needs root: the test set-up's, as for Anvil and Chromium)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        missing_tool(f"cannot mount a small tmpfs for the disk-full test: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_disk_that_fills_while_files_are_written_keeps_what_was_saved(issuer_home, tmp_path, small_disk):
    key = PrivateKey.generate()
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(n, holder_jwk=jwk_cell(key)) for n in range(1, 601)]), encoding="utf-8")
    out = small_disk / "autumn"
    result = CliRunner().invoke(main, ["issuer", "issue", "--from", str(source), "--out", str(out)])
    assert result.exit_code == EXIT_STORAGE, result.output
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert last.startswith("Error: the batch folder's disk is full")
    assert "run the same command again" in last
    assert "Traceback" not in result.output
    assert 0 < len(signed_files(small_disk)) < 600
    assert len(assert_archive_consistent(issuer_home.archive_path, small_disk)) == 600  # archived, some signed
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    finished = CliRunner().invoke(main, ["issuer", "issue", "--from", str(source)])
    assert "resuming batch" in finished.output, finished.output
    assert "600 credential(s)" in finished.output, finished.output
    assert len(signed_files(out)) == 600
    assert not list(small_disk.glob(".batch-*"))
    assert_archive_consistent(issuer_home.archive_path, small_disk)
