"""Staying up under faults (issue 7): the whole system on loopback, with real processes.

- the wallet process is SIGKILLed in the middle of restoring a backup of 1,000 credentials:
  the database is intact and holds none or all of that restore, with no duplicates;
- 50 concurrent verifications (valid, revoked, tampered) each get their right verdict, no 5xx;
- a status list server that is down, slow or lying: the verifier says which, reads the list
  carried on chain, or fails closed;
- Anvil is stopped while presentations are being verified: 503 ``unavailable``, never
  "verified"; the wallet lists and shares; the issuer's revoke stays pending; after Anvil
  restarts from its saved state everything recovers without restarting a service.

The system is the one ``microcred demo`` runs (:func:`microcred.demo.start_system`), on free
ports, with its own Anvil and data directory. Durations are printed (``-s``), never asserted;
each wait is bounded so that a hang fails instead of blocking the run.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.system._faults_support import (
    DemoIssuing,
    FormSession,
    StatusListServer,
    accredit_under_agency,
    checks_of,
    present,
    tamper_disclosure,
    tamper_signature,
    verify_over_http,
)

pytestmark = pytest.mark.integration

_ENV_KEYS = ("MICROCRED_DATA_DIR", "MICROCRED_RPC_URL")
BACKUP_SIZE = 1000
PASSPHRASE = "a long passphrase for the drill"
PASSWORD = "correct horse battery staple"


def _note(line: str) -> None:
    print(f"[faults] {line}")


def _wait_for(predicate, *, within: float, step: float = 0.1, what: str):
    """Poll ``predicate`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"expected {what} within {within:.0f} s; it did not happen")
        time.sleep(step)


def _wait_gone(pid: int, *, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.02)
    pytest.fail(f"expected process {pid} to exit within {within:.0f} s")


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """The demo system on free loopback ports, its own Anvil and data dir; the environment restored after."""
    from ledger.devnet import Devnet, DevnetError, find_anvil, free_port
    from microcred.demo import start_system
    from microcred.system import UNIVERSITIES

    try:
        find_anvil()
    except DevnetError as exc:
        pytest.skip(f"Anvil is not installed: {exc}")
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    os.environ.pop("MICROCRED_RPC_URL", None)
    data_dir = tmp_path_factory.mktemp("faults-system")
    system = None
    try:
        system = start_system(data_dir, wallet_port=free_port(), verifier_port=free_port(),
                              issuer_ports={u.name: free_port() for u in UNIVERSITIES})
        yield system
    finally:
        if system is not None:
            system.stop()
        Devnet(data_dir).stop()  # a devnet restarted by a test is stopped too
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --------------------------------------------------------------------------- the wallet killed


def _microcred() -> str:
    return str(Path(sys.executable).parent / "microcred")


def _start_wallet(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "MICROCRED_DATA_DIR": str(data_dir)}
    env.pop("MICROCRED_RPC_URL", None)
    log = open(data_dir.parent / f"wallet-{port}.log", "ab")  # noqa: SIM115 (kept open by the child)
    process = subprocess.Popen(  # noqa: S603 (our own console script)
        [_microcred(), "wallet", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()

    def answering():
        import requests

        if process.poll() is not None:
            pytest.fail(f"the wallet process exited with {process.returncode} while starting")
        try:
            return requests.get(f"http://127.0.0.1:{port}/auth/signin", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    _wait_for(answering, within=30, what="the wallet process to answer")
    return process


def _signup(base_url: str, username: str) -> FormSession:
    session = FormSession(base_url)
    response = session.submit("/auth/signup", "/auth/signup",
                              {"username": username, "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    return session


def _restore(session: FormSession, backup: bytes):
    session.get("/backup/restore")
    return session.post("/backup/restore", {"passphrase": PASSPHRASE},
                        files={"file": ("backup.json", backup, "application/json")})


def _db_rows(db_path: Path, sql: str, params=()):
    connection = sqlite3.connect(str(db_path), timeout=10)
    try:
        return connection.execute(sql, list(params)).fetchall()
    finally:
        connection.close()


def _count(db_path: Path, username: str) -> int:
    return _db_rows(db_path, "SELECT COUNT(*) FROM credentials JOIN accounts ON accounts.id = credentials.account_id "
                             "WHERE accounts.username = ?", [username])[0][0]


def _fill_account(data_dir: Path, tmp_path: Path, username: str, count: int) -> None:
    """Issue ``count`` credentials to the account's holder key and import them with the wallet's own code."""
    from credentials.jose import json_dumps
    from issuer.archive import Archive
    from issuer.batch import BatchDefaults, parse_json
    from issuer.identity import create_issuer
    from issuer.service import IssuerService
    from tests.system._faults_support import ROW
    from wallet.db import DB_FILE, open_database
    from wallet.holding import current_holder_key, holder_keys
    from wallet.importing import import_credential

    home = create_issuer(tmp_path / "issuer-home", "drill-uni", legal_name="Drill University", country="PT",
                         base_url="http://127.0.0.1:9/drill")
    service = IssuerService(home.identity, Archive(home.archive_path), home.signing_key())  # no ledger needed
    db = open_database(data_dir / DB_FILE)
    try:
        account = db.execute("SELECT id FROM accounts WHERE username = ?", [username]).fetchone()[0]
        holder_jwk = current_holder_key(db, account).public_key.to_jwk()
        now = int(time.time())
        rows = [{**ROW, "title": f"Backup drill module {n:04d}", "holder_jwk": holder_jwk,
                 "quality_assurance": "Internal quality assurance",
                 "learner": {"given_name": "Rui", "family_name": "Costa", "birth_date": "1998-02-03",
                             "student_id": f"B-{n:05d}"}} for n in range(count)]
        defaults = BatchDefaults(issuer_country="PT", awarding_body=home.identity.awarding_body(), issued_on="2026-05-01")
        issued = service.issue_batch(parse_json(json_dumps(rows), defaults), now=now).issued
        keys = holder_keys(db, account)
        with db.atomic():
            for item in issued:
                import_credential(db, account, keys, item.sd_jwt, now=now, trust_check=None)
    finally:
        db.close()
        service.archive.close()


def test_wallet_killed_mid_restore_keeps_database_whole(tmp_path):
    """SIGKILL during the restore of a 1,000-credential backup: intact database, none or all, no duplicates."""
    import requests

    from ledger.devnet import free_port
    from wallet.db import DB_FILE

    data_dir = tmp_path / "wallet"
    data_dir.mkdir()
    db_path = data_dir / DB_FILE
    port = free_port()
    process = _start_wallet(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        source = _signup(base, "source")
        _fill_account(data_dir, tmp_path, "source", BACKUP_SIZE)
        export = source.submit("/backup/export", "/backup/export",
                               {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE})
        assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
        backup = export.content

        # A full restore into another account, to know how long one takes on this machine.
        reference = _signup(base, "reference")
        started = time.monotonic()
        assert _restore(reference, backup).status_code == 302, reference.last_page[:500]
        full = time.monotonic() - started
        assert _count(db_path, "reference") == BACKUP_SIZE
        _note(f"a restore of {BACKUP_SIZE} credentials took {full:.2f} s")

        # The same restore into a third account, killed halfway through.
        victim = _signup(base, "victim")
        victim.get("/backup/restore")
        outcome: dict = {}

        def restore_in_background():
            try:
                outcome["response"] = victim.post("/backup/restore", {"passphrase": PASSPHRASE},
                                                  files={"file": ("backup.json", backup, "application/json")})
            except requests.RequestException as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=restore_in_background)
        thread.start()
        time.sleep(full * 0.5)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        thread.join(timeout=30)
        assert "response" not in outcome, "the restore finished before the kill; the drill proved nothing"
        assert "error" in outcome, "the restore request neither answered nor failed"
        _note(f"wallet SIGKILLed {full * 0.5:.2f} s into the restore (of {full:.2f} s); the client saw "
              f"{type(outcome['error']).__name__}")

        assert _db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
        after_kill = _count(db_path, "victim")
        assert after_kill in (0, BACKUP_SIZE), f"expected none or all of the restore, found {after_kill}"
        assert _db_rows(db_path, "SELECT account_id, raw_sha256 FROM credentials "
                                 "GROUP BY account_id, raw_sha256 HAVING COUNT(*) > 1") == []
        assert _count(db_path, "source") == _count(db_path, "reference") == BACKUP_SIZE
        _note(f"after the kill the victim account holds {after_kill} credentials; integrity_check ok")

        # Restarted on the same data: the learner signs in and restores again, ending with exactly one copy each.
        process = _start_wallet(data_dir, port)
        victim = FormSession(base)
        signin = victim.submit("/auth/signin", "/auth/signin", {"username": "victim", "password": PASSWORD})
        assert signin.status_code == 302
        assert _restore(victim, backup).status_code == 302, victim.last_page[:500]
        assert _count(db_path, "victim") == BACKUP_SIZE
        listing = victim.get("/credentials")
        assert listing.status_code == 200 and "Backup drill module" in listing.text
        assert _db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
