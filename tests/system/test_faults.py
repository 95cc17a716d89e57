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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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

        # A full restore into another account, to know how much CPU one takes in the wallet process.
        reference = _signup(base, "reference")
        cpu_before, started = _cpu_seconds(process.pid), time.monotonic()
        assert _restore(reference, backup).status_code == 302, reference.last_page[:500]
        full_cpu, full = _cpu_seconds(process.pid) - cpu_before, time.monotonic() - started
        assert _count(db_path, "reference") == BACKUP_SIZE
        _note(f"a restore of {BACKUP_SIZE} credentials took {full:.2f} s ({full_cpu:.2f} s of CPU in the wallet)")

        # The same restore into another account, SIGKILLed once the wallet has spent a share of that CPU on it
        # (CPU time, not wall time: the machine is shared and noisy). Should the restore win the race, the
        # drill is repeated, earlier, on a fresh account.
        for attempt, share in enumerate((0.5, 0.3, 0.15), start=1):
            victim_name = f"victim-{attempt}"
            victim = _signup(base, victim_name)
            victim.get("/backup/restore")
            outcome: dict = {}

            def restore_in_background(session=victim, outcome=outcome):
                try:
                    outcome["response"] = session.post("/backup/restore", {"passphrase": PASSPHRASE},
                                                       files={"file": ("backup.json", backup, "application/json")})
                except requests.RequestException as exc:
                    outcome["error"] = exc

            thread = threading.Thread(target=restore_in_background)
            cpu_before = _cpu_seconds(process.pid)
            thread.start()
            _wait_for(lambda: _cpu_seconds(process.pid) - cpu_before >= full_cpu * share or not thread.is_alive(),
                      within=60, step=0.005, what="the restore to use CPU")
            spent = _cpu_seconds(process.pid) - cpu_before
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            thread.join(timeout=30)
            assert "response" in outcome or "error" in outcome, "the restore request neither answered nor failed"
            if "error" in outcome:
                break
            _note(f"attempt {attempt}: the restore finished before the kill; again, earlier")
            process = _start_wallet(data_dir, port)
        else:
            pytest.fail("the restore always finished before the kill; the drill proved nothing")
        _note(f"wallet SIGKILLed after {spent:.2f} s of CPU on the restore (a full one: {full_cpu:.2f} s); "
              f"the client saw {type(outcome['error']).__name__}")

        assert _db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
        after_kill = _count(db_path, victim_name)
        assert after_kill in (0, BACKUP_SIZE), f"expected none or all of the restore, found {after_kill}"
        assert _db_rows(db_path, "SELECT account_id, raw_sha256 FROM credentials "
                                 "GROUP BY account_id, raw_sha256 HAVING COUNT(*) > 1") == []
        assert _count(db_path, "source") == _count(db_path, "reference") == BACKUP_SIZE
        _note(f"after the kill the victim account holds {after_kill} credentials; integrity_check ok")

        # Restarted on the same data: the learner signs in and restores again, ending with exactly one copy each.
        process = _start_wallet(data_dir, port)
        victim = FormSession(base)
        signin = victim.submit("/auth/signin", "/auth/signin", {"username": victim_name, "password": PASSWORD})
        assert signin.status_code == 302
        assert _restore(victim, backup).status_code == 302, victim.last_page[:500]
        assert _count(db_path, victim_name) == BACKUP_SIZE
        listing = victim.get("/credentials")
        assert listing.status_code == 200 and "Backup drill module" in listing.text
        assert _db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


# --------------------------------------------------------------------------- 50 at once


def test_fifty_concurrent_verifications_each_get_the_right_verdict(running):
    """50 verifications at once over loopback: valid, revoked and tampered, each its own verdict, no 5xx."""
    issuing = DemoIssuing(running.system.data_dir, "tu-musterstadt")
    issued = issuing.issue(6, title="Concurrency drill")
    revoked = [credential_id for credential_id, _ in issued[4:]]
    result = issuing.revoke(revoked)
    assert all(outcome.anchored for outcome in result.anchors)
    _wait_for(lambda: verify_over_http(running.verifier_url, present(issued[4][1], issuing.holder_key))[1]
              .get("verified") is False, within=10, what="the verifier to see the anchored revocation")

    cases = []
    for n in range(50):
        kind = ("valid", "revoked", "forged signature", "forged disclosure")[n % 4]
        sd_jwt = issued[n % 4][1] if kind != "revoked" else issued[4 + n % 2][1]
        presentation = present(sd_jwt, issuing.holder_key)
        if kind == "forged signature":
            presentation = tamper_signature(presentation)
        elif kind == "forged disclosure":
            presentation = tamper_disclosure(presentation)
        cases.append((kind, presentation))
    barrier = threading.Barrier(len(cases))

    def verify(case):
        barrier.wait(timeout=30)
        started = time.monotonic()
        status, answer = verify_over_http(running.verifier_url, case[1], timeout=60)
        return case[0], status, answer, time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        answers = [future.result(timeout=90) for future in [pool.submit(verify, case) for case in cases]]
    took = time.monotonic() - started

    failing_check = {"revoked": "revocation", "forged signature": "signature", "forged disclosure": "disclosures"}
    for kind, status, answer, _ in answers:
        assert status == 200, f"{kind}: expected 200 with a decision, found {status}: {answer}"
        checks = checks_of(answer)
        if kind == "valid":
            assert answer["verified"] is True, f"valid: expected verified, found {checks}"
            assert set(answer["claims"]) == {"title", "ects", "learning_outcomes"}
        else:
            assert answer["verified"] is False, f"{kind}: expected not verified, found {checks}"
            assert checks[failing_check[kind]]["status"] == "failed", f"{kind}: {checks}"
    slowest = max(item[3] for item in answers)
    _note(f"50 concurrent verifications answered in {took:.2f} s (slowest {slowest:.2f} s), all 200 and right")


# --------------------------------------------------------------------------- the status list server


@pytest.fixture(scope="module")
def flaky_issuer(running):
    """A new issuer, accredited under the demo's agency, whose status lists live on a server we control."""
    from issuer.identity import create_issuer

    data_dir = running.system.data_dir
    issuing = DemoIssuing(data_dir, "flaky-uni")
    server = StatusListServer(token_for=issuing.list_token).start()
    home = create_issuer(data_dir, "flaky-uni", legal_name="Université de Démonstration", country="FR",
                         base_url=server.base_url)
    accredit_under_agency(data_dir, home)
    try:
        yield issuing, server
    finally:
        server.stop()


def _anchored_and_seen(running, outcomes) -> None:
    """Every list anchored, and the verifier's view of the chain past the anchoring blocks (none: nothing new)."""
    if not outcomes:
        return
    assert all(o.anchored for o in outcomes), outcomes
    view = running.verifier_app.extensions["microcred_verifier"].ledger_view()
    view.start()  # the watcher starts with the first verification; this test may come before any
    block = max(o.block for o in outcomes)
    _wait_for(lambda: view.head is not None and view.head >= block, within=10, step=0.05,
              what=f"the verifier to process block {block}")


def _verdict(running, issuing, sd_jwt):
    started = time.monotonic()
    status, answer = verify_over_http(running.verifier_url, present(sd_jwt, issuing.holder_key))
    return status, answer, checks_of(answer).get("revocation", {}), time.monotonic() - started


def test_status_list_server_down_or_slow_answers_from_the_list_carried_on_chain(running, flaky_issuer):
    """Down (not listening) or slow (past the fetch timeout): the list the anchor carried on chain decides."""
    issuing, server = flaky_issuer
    (valid_id, valid), (other_id, _), (third_id, _) = issuing.issue(3)
    _anchored_and_seen(running, issuing.last_anchors)

    status, answer, revocation, _ = _verdict(running, issuing, valid)
    assert status == 200 and answer["verified"] is True, revocation
    assert "carried" not in revocation["detail"] and "is valid" in revocation["detail"], revocation

    server.go_down()  # a new version is anchored meanwhile, so the verifier must fetch again
    _anchored_and_seen(running, issuing.revoke([other_id]).anchors)
    status, answer, revocation, took = _verdict(running, issuing, valid)
    assert status == 200 and answer["verified"] is True, revocation
    assert "carried on chain" in revocation["detail"], revocation
    _note(f"status server down: verdict from the list carried on chain in {took:.2f} s — {revocation['detail']}")

    server.come_back()
    server.mode = "slow"
    _anchored_and_seen(running, issuing.revoke([third_id]).anchors)
    status, answer, revocation, took = _verdict(running, issuing, valid)
    assert status == 200 and answer["verified"] is True, revocation
    assert "carried on chain" in revocation["detail"], revocation
    assert ("slow", f"/status/{issuing.list_of(valid_id)}") in server.requests
    _note(f"status server slow ({server.slow_seconds:.0f} s): verdict from the chain in {took:.2f} s")
    server.mode = "ok"


@pytest.mark.xfail(strict=True, reason=(
    "fails open: the issuer's lists have 2 bits per entry (issuer.service.STATUS_BITS) but the verifier "
    "reads the list carried on chain as 1 bit per entry (credentials.status_check._carried), so a revoked "
    "credential reads as valid while the status list server is down"))
def test_revoked_credential_read_from_the_list_carried_on_chain_stays_revoked(running, flaky_issuer):
    issuing, server = flaky_issuer
    (revoked_id, revoked), = issuing.issue(1)
    _anchored_and_seen(running, issuing.last_anchors)
    server.go_down()
    try:
        _anchored_and_seen(running, issuing.revoke([revoked_id]).anchors)
        status, answer, revocation, _ = _verdict(running, issuing, revoked)
        _note(f"revoked credential, status server down: verified={answer.get('verified')} — {revocation}")
        assert status == 200 and answer["verified"] is False, revocation
        assert revocation["status"] == "failed" and "revoked" in revocation["detail"], revocation
    finally:
        server.come_back()


def test_status_list_server_lying_fails_closed_and_says_so(running, flaky_issuer):
    """A server serving an authentic but stale list (hash not the anchored one): not verified, the detail says why."""
    issuing, server = flaky_issuer
    (valid_id, valid), (revoked_id, revoked) = issuing.issue(2)
    _anchored_and_seen(running, issuing.last_anchors)
    stale = issuing.list_token(issuing.list_of(valid_id))  # before the revocation below: says "valid" for both

    server.mode, server.lie_token = "lie", stale
    _anchored_and_seen(running, issuing.revoke([revoked_id]).anchors)
    for sd_jwt in (revoked, valid):
        status, answer, revocation, _ = _verdict(running, issuing, sd_jwt)
        assert status == 200 and answer["verified"] is False, revocation
        assert revocation["status"] == "failed" and "SHA-256" in revocation["detail"] \
            and "anchored" in revocation["detail"], revocation
    _note(f"status server lying: not verified — {revocation['detail']}")
    server.mode = "ok"


@pytest.mark.xfail(strict=True, reason=(
    "no recovery: verifier.ledger_view.LedgerView._token caches a fetched token per (uri, version) even when "
    "its hash is not the anchored one, so after one lie the list version stays unusable in that process "
    "until the issuer anchors a new version"))
def test_verifier_recovers_once_the_status_list_server_tells_the_truth(running, flaky_issuer):
    issuing, server = flaky_issuer
    (valid_id, valid), (other_id, _) = issuing.issue(2)
    _anchored_and_seen(running, issuing.last_anchors)
    server.mode, server.lie_token = "lie", issuing.list_token(issuing.list_of(valid_id))
    _anchored_and_seen(running, issuing.revoke([other_id]).anchors)
    assert _verdict(running, issuing, valid)[1]["verified"] is False
    server.mode = "ok"
    deadline = time.monotonic() + 8  # four times the verifier's retry interval for a failed fetch
    while (answer := _verdict(running, issuing, valid))[1]["verified"] is not True and time.monotonic() < deadline:
        time.sleep(0.5)
    _note(f"after the server tells the truth again: verified={answer[1]['verified']} — {answer[2]['detail']}")
    assert answer[1]["verified"] is True, answer[2]


# --------------------------------------------------------------------------- Anvil stopped


def _learner_session(running) -> FormSession:
    from microcred.system import LEARNER

    session = FormSession(running.wallet_url)
    response = session.submit("/auth/signin", "/auth/signin",
                              {"username": LEARNER["username"], "password": LEARNER["password"]})
    assert response.status_code == 302, response.text[:300]
    return session


def _share(running, session: FormSession) -> str:
    """Share title and ECTS of the learner's first credential through the wallet's pages; the QR's text."""
    from wallet.db import DB_FILE

    db_path = running.system.data_dir / DB_FILE
    credential_id = _db_rows(db_path, "SELECT id FROM credentials WHERE account_id = ? ORDER BY id LIMIT 1",
                             [running.system.learner_account])[0][0]
    claims = ['["title"]', '["ects"]']
    assert session.get(f"/credentials/{credential_id}/share").status_code == 200
    assert session.post(f"/credentials/{credential_id}/share/preview", {"claim": claims}).status_code == 200
    created = session.post(f"/credentials/{credential_id}/share", {"claim": claims})
    assert created.status_code == 302, created.text[:300]
    share_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    shown = session.get(f"/shares/{share_id}")
    assert shown.status_code == 200 and "<svg" in shown.text
    return _db_rows(db_path, "SELECT qr_text FROM shares WHERE id = ?", [share_id])[0][0]


def test_anvil_stopped_during_verification_fails_closed_and_everything_recovers(running):
    """Anvil stops mid-stream: 503 unavailable, never verified; wallet and issuer keep working; all recovers."""
    from ledger.config import DEVNET_FILE
    from ledger.devnet import Devnet, DevnetRecord, rpc_request

    data_dir = running.system.data_dir
    issuing = DemoIssuing(data_dir, "uni-esempio")
    (keep_id, keep), (doomed_id, doomed) = issuing.issue(2, title="Chain outage drill")
    _anchored_and_seen(running, issuing.last_anchors)
    status, answer = verify_over_http(running.verifier_url, present(keep, issuing.holder_key))
    assert status == 200 and answer["verified"] is True
    record = DevnetRecord.load(data_dir / DEVNET_FILE)
    block_before = int(rpc_request(record.url, "eth_blockNumber"), 16)

    # A stream of verifications while Anvil is stopped (SIGTERM: Anvil writes its --state file on the way out).
    answers: list[tuple[float, int, dict]] = []
    stop = threading.Event()

    def keep_verifying():
        while not stop.is_set():
            status, answer = verify_over_http(running.verifier_url, present(keep, issuing.holder_key), timeout=30)
            answers.append((time.monotonic(), status, answer))
            time.sleep(0.05)

    stream = threading.Thread(target=keep_verifying, name="verifications")
    stream.start()
    try:
        time.sleep(0.5)
        stopped_at = time.monotonic()
        os.kill(record.pid, signal.SIGTERM)
        _wait_gone(record.pid)
        time.sleep(2.0)
    finally:
        stop.set()
        stream.join(timeout=60)
    after = [(at - stopped_at, status, answer) for at, status, answer in answers if at > stopped_at]
    assert after, "no verification ran while Anvil was down"
    assert {status for _, status, _ in after} <= {200, 503}, [status for _, status, _ in after]
    still_verified = [offset for offset, status, answer in after if answer.get("verified") is not False]
    assert not still_verified or max(still_verified) < 1.5, f"verified {max(still_verified):.2f} s after the stop"
    last = after[-1][2]
    assert after[-1][1] == 503 and last["verified"] is False
    last_checks = checks_of(last)
    assert last_checks["issuer_trust"]["status"] == "unavailable"
    assert last_checks["revocation"]["status"] == "unavailable"
    first_503 = min(offset for offset, status, _ in after if status == 503)
    _note(f"Anvil stopped: {len(after)} verifications after the stop, answers 200 verified for up to "
          f"{max(still_verified, default=0):.2f} s (the view's freshness window), first 503 at {first_503:.2f} s; "
          f"revocation detail: {last_checks['revocation']['detail'][:120]}")

    # The wallet still lists and shares; the share is answered 503 by the verifier while the chain is down.
    learner = _learner_session(running)
    listing = learner.get("/credentials")
    assert listing.status_code == 200 and "Applied Machine Learning for Public Health" in listing.text
    qr_text = _share(running, learner)
    status, answer = verify_over_http(running.verifier_url, qr_text)
    assert status == 503 and answer["verified"] is False

    # The registrar revokes through the issuer's pages: saved, served, and kept pending.
    registrar = FormSession(running.issuer_urls["uni-esempio"])
    started = time.monotonic()
    revoked = registrar.submit(f"/registrar/credentials/{doomed_id}/revoke", f"/registrar/credentials/{doomed_id}/revoke",
                               redirects=True)
    revoke_took = time.monotonic() - started
    assert revoked.status_code == 200 and "NOT anchored yet" in revoked.text
    doomed_list = issuing.list_of(doomed_id)
    assert doomed_list in issuing.pending_lists()
    _note(f"revoke with the chain down answered in {revoke_took:.2f} s; list {doomed_list} pending")

    # Anvil restarts from its saved state, on the same port; no service is restarted.
    restarted_at = time.monotonic()
    Devnet(data_dir).start(port=record.port, persist_state=True)
    assert int(rpc_request(record.url, "eth_blockNumber"), 16) >= block_before  # the state came back

    def verified_again():
        status, answer = verify_over_http(running.verifier_url, present(keep, issuing.holder_key))
        return status == 200 and answer["verified"] is True

    _wait_for(verified_again, within=20, step=0.1, what="the verifier to answer 'verified' again")
    recovered = time.monotonic() - restarted_at
    _note(f"Anvil back (same state, port {record.port}): verifier verified again {recovered:.2f} s after the restart")

    # The pending anchor goes out with `microcred issuer publish` (the issuer service is not restarted).
    env = {**os.environ, "MICROCRED_DATA_DIR": str(data_dir)}
    published = subprocess.run([_microcred(), "issuer", "--issuer", "uni-esempio", "publish"], env=env,
                               capture_output=True, text=True, timeout=60)
    assert published.returncode == 0, published.stdout + published.stderr
    assert issuing.pending_lists() == []
    anchored_at = time.monotonic()

    def revoked_seen():
        status, answer = verify_over_http(running.verifier_url, present(doomed, issuing.holder_key))
        revocation = checks_of(answer).get("revocation", {})
        return status == 200 and answer["verified"] is False and revocation.get("status") == "failed" \
            and "revoked" in revocation.get("detail", "")

    _wait_for(revoked_seen, within=10, what="the verifier to honour the revocation anchored after the outage")
    _note(f"the pending revocation anchored after the outage is honoured {time.monotonic() - anchored_at:.2f} s "
          "after `microcred issuer publish`")

    # The wallet's share and the registrar's pages work as before.
    status, answer = verify_over_http(running.verifier_url, _share(running, learner))
    assert status == 200 and answer["verified"] is True
    page = registrar.get("/registrar/")
    assert page.status_code == 200 and "anchor pending" not in page.text
