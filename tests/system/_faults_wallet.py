"""Helpers for the fault tests (tests/system/test_faults.py): bounded waits, the verifier's view of
the chain, the learner's wallet pages, and a wallet run as its own process (``microcred wallet
serve``) with accounts, CPU time and rows read from outside.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.system._faults_support import FormSession, checks_of, present, verify_over_http
from tests.waiting import wait_for

__all__ = ["BACKUP_SIZE", "PASSPHRASE", "PASSWORD", "anchored_and_seen", "count_credentials", "cpu_seconds", "db_rows",
           "fill_account", "learner_session", "microcred_script", "note", "restore_backup", "share_first_credential",
           "signup", "start_wallet", "verdict", "wait_for", "wait_gone"]

BACKUP_SIZE = 1000
PASSPHRASE = "a long passphrase for the drill"
PASSWORD = "correct horse battery staple"


def note(line: str) -> None:
    print(f"[faults] {line}")


def microcred_script() -> str:
    return str(Path(sys.executable).parent / "microcred")


def start_wallet(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "MICROCRED_DATA_DIR": str(data_dir)}
    env.pop("MICROCRED_RPC_URL", None)
    log = open(data_dir.parent / f"wallet-{port}.log", "ab")  # noqa: SIM115 (kept open by the child)
    process = subprocess.Popen(  # noqa: S603 (our own console script)
        [microcred_script(), "wallet", "serve", "--port", str(port), "--data-dir", str(data_dir)],
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

    wait_for(answering, within=30, what="the wallet process to answer")
    return process


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of the process group ``pid`` leads: gunicorn's master and its workers (/proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def signup(base_url: str, username: str) -> FormSession:
    session = FormSession(base_url)
    response = session.submit("/auth/signup", "/auth/signup",
                              {"username": username, "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    return session


def restore_backup(session: FormSession, backup: bytes):
    session.get("/backup/restore")
    return session.post("/backup/restore", {"passphrase": PASSPHRASE},
                        files={"file": ("backup.json", backup, "application/json")})


def db_rows(db_path: Path, sql: str, params=()):
    connection = sqlite3.connect(str(db_path), timeout=10)
    try:
        return connection.execute(sql, list(params)).fetchall()
    finally:
        connection.close()


def count_credentials(db_path: Path, username: str) -> int:
    return db_rows(db_path, "SELECT COUNT(*) FROM credentials JOIN accounts ON accounts.id = credentials.account_id "
                             "WHERE accounts.username = ?", [username])[0][0]


def fill_account(data_dir: Path, tmp_path: Path, username: str, count: int) -> None:
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
        defaults = BatchDefaults(issuer_country="PT", awarding_body=home.identity.awarding_body(),
                                 issued_on="2026-05-01")
        issued = service.issue_batch(parse_json(json_dumps(rows), defaults), now=now).issued
        keys = holder_keys(db, account)
        with db.atomic():
            for item in issued:
                import_credential(db, account, keys, item.sd_jwt, now=now, trust_check=None)
    finally:
        db.close()
        service.archive.close()


def wait_gone(pid: int, *, within: float = 15.0) -> None:
    def gone() -> bool:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
            return reaped == pid
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            return False

    wait_for(gone, within=within, step=0.02, what=f"process {pid} to exit")


def anchored_and_seen(running, outcomes) -> None:
    """Every list anchored, and the verifier's view of the chain past the anchoring blocks (none: nothing new).

    The verifier runs in gunicorn workers: one reports the block in ``/healthz``; every other worker's
    view is then at most its freshness window behind (it polls, and refreshes itself when older).
    """
    from ledger.view import DEFAULT_MAX_LAG_S, DEFAULT_POLL_INTERVAL_S

    if not outcomes:
        return
    assert all(o.anchored for o in outcomes), outcomes
    block = max(o.block for o in outcomes)
    wait_for(lambda: (running.verifier_health().get("ledger_head") or -1) >= block, within=10, step=0.05,
             what=f"the verifier to process block {block}")
    # The other workers cannot be asked one by one: the time is their contract (a view older than this refreshes).
    time.sleep(DEFAULT_MAX_LAG_S + 2 * DEFAULT_POLL_INTERVAL_S)


def verdict(running, issuing, sd_jwt):
    started = time.monotonic()
    status, answer = verify_over_http(running.verifier_url, present(sd_jwt, issuing.holder_key))
    return status, answer, checks_of(answer).get("revocation", {}), time.monotonic() - started


def learner_session(running) -> FormSession:
    from microcred.system import LEARNER

    session = FormSession(running.wallet_url)
    response = session.submit("/auth/signin", "/auth/signin",
                              {"username": LEARNER["username"], "password": LEARNER["password"]})
    assert response.status_code == 302, response.text[:300]
    return session


def share_first_credential(running, session: FormSession) -> str:
    """Share title and ECTS of the learner's first credential through the wallet's pages; the QR's text."""
    from wallet.db import DB_FILE

    db_path = running.system.data_dir / DB_FILE
    credential_id = db_rows(db_path, "SELECT id FROM credentials WHERE account_id = ? ORDER BY id LIMIT 1",
                             [running.system.learner_account])[0][0]
    claims = ['["title"]', '["ects"]']
    assert session.get(f"/credentials/{credential_id}/share").status_code == 200
    assert session.post(f"/credentials/{credential_id}/share/preview", {"claim": claims}).status_code == 200
    created = session.post(f"/credentials/{credential_id}/share", {"claim": claims})
    assert created.status_code == 302, created.text[:300]
    share_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    shown = session.get(f"/shares/{share_id}")
    assert shown.status_code == 200
    assert "<svg" in shown.text
    return db_rows(db_path, "SELECT qr_text FROM shares WHERE id = ?", [share_id])[0][0]
