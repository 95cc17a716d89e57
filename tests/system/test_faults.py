"""Staying up under faults (issue 7): the whole system on loopback, with real processes.

- the wallet (gunicorn's master and workers) is SIGKILLed in the middle of restoring a backup of 1,000 credentials:
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
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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
from tests.system._faults_wallet import (
    BACKUP_SIZE,
    PASSPHRASE,
    PASSWORD,
    anchored_and_seen,
    count_credentials,
    cpu_seconds,
    db_rows,
    fill_account,
    learner_session,
    note,
    restore_backup,
    share_first_credential,
    signup,
    start_wallet,
    verdict,
    wait_for,
    wait_gone,
)
from tests.tooling import missing_tool
from tests.waiting import poll

pytestmark = pytest.mark.integration

_ENV_KEYS = ("MICROCRED_DATA_DIR", "MICROCRED_RPC_URL")


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """The demo system on free loopback ports, its own Anvil and data dir; the environment restored after."""
    from ledger.devnet import Devnet, DevnetError, find_anvil, free_port
    from microcred.demo import start_system
    from microcred.system import UNIVERSITIES

    try:
        find_anvil()
    except DevnetError as exc:
        missing_tool(f"Anvil is not installed: {exc}")
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


def test_wallet_killed_mid_restore_keeps_database_whole(tmp_path):
    """SIGKILL during the restore of a 1,000-credential backup: intact database, none or all, no duplicates."""
    import requests

    from ledger.devnet import free_port
    from wallet.db import DB_FILE

    data_dir = tmp_path / "wallet"
    data_dir.mkdir()
    db_path = data_dir / DB_FILE
    port = free_port()
    process = start_wallet(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        source = signup(base, "source")
        fill_account(data_dir, tmp_path, "source", BACKUP_SIZE)
        export = source.submit("/backup/export", "/backup/export",
                               {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE})
        assert export.status_code == 200
        assert "attachment" in export.headers["Content-Disposition"]
        backup = export.content

        # A full restore into another account, to know how much CPU one takes in the wallet process.
        reference = signup(base, "reference")
        cpu_before, started = cpu_seconds(process.pid), time.monotonic()
        assert restore_backup(reference, backup).status_code == 302, reference.last_page[:500]
        full_cpu, full = cpu_seconds(process.pid) - cpu_before, time.monotonic() - started
        assert count_credentials(db_path, "reference") == BACKUP_SIZE
        note(f"a restore of {BACKUP_SIZE} credentials took {full:.2f} s ({full_cpu:.2f} s of CPU in the wallet)")

        # The same restore into another account, SIGKILLed once the wallet has spent a share of that CPU on it
        # (CPU time, not wall time: the machine is shared and noisy). Should the restore win the race, the
        # drill is repeated, earlier, on a fresh account.
        for attempt, share in enumerate((0.5, 0.3, 0.15), start=1):
            victim_name = f"victim-{attempt}"
            victim = signup(base, victim_name)
            victim.get("/backup/restore")
            outcome: dict = {}

            def restore_in_background(session=victim, outcome=outcome):
                try:
                    outcome["response"] = session.post("/backup/restore", {"passphrase": PASSPHRASE},
                                                       files={"file": ("backup.json", backup, "application/json")})
                except requests.RequestException as exc:
                    outcome["error"] = exc

            thread = threading.Thread(target=restore_in_background)
            cpu_before = cpu_seconds(process.pid)
            thread.start()

            def used_its_share(pid=process.pid, cpu_before=cpu_before, share=share, thread=thread):
                return cpu_seconds(pid) - cpu_before >= full_cpu * share or not thread.is_alive()

            wait_for(used_its_share, within=60, step=0.005, what="the restore to use CPU")
            spent = cpu_seconds(process.pid) - cpu_before
            os.killpg(process.pid, signal.SIGKILL)  # gunicorn's master and workers, as a service manager would
            process.wait(timeout=10)
            thread.join(timeout=30)
            assert "response" in outcome or "error" in outcome, "the restore request neither answered nor failed"
            if "error" in outcome:
                break
            note(f"attempt {attempt}: the restore finished before the kill; again, earlier")
            process = start_wallet(data_dir, port)
        else:
            pytest.fail("the restore always finished before the kill; the drill proved nothing")
        note(f"wallet SIGKILLed after {spent:.2f} s of CPU on the restore (a full one: {full_cpu:.2f} s); "
              f"the client saw {type(outcome['error']).__name__}")

        assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
        after_kill = count_credentials(db_path, victim_name)
        assert after_kill in (0, BACKUP_SIZE), f"expected none or all of the restore, found {after_kill}"
        assert db_rows(db_path, "SELECT account_id, raw_sha256 FROM credentials "
                                 "GROUP BY account_id, raw_sha256 HAVING COUNT(*) > 1") == []
        assert count_credentials(db_path, "source") == count_credentials(db_path, "reference") == BACKUP_SIZE
        note(f"after the kill the victim account holds {after_kill} credentials; integrity_check ok")

        # Restarted on the same data: the learner signs in and restores again, ending with exactly one copy each.
        process = start_wallet(data_dir, port)
        victim = FormSession(base)
        signin = victim.submit("/auth/signin", "/auth/signin", {"username": victim_name, "password": PASSWORD})
        assert signin.status_code == 302
        assert restore_backup(victim, backup).status_code == 302, victim.last_page[:500]
        assert count_credentials(db_path, victim_name) == BACKUP_SIZE
        listing = victim.get("/credentials")
        assert listing.status_code == 200
        assert "Backup drill module" in listing.text
        assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
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
    wait_for(lambda: verify_over_http(running.verifier_url, present(issued[4][1], issuing.holder_key))[1]
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
    note(f"50 concurrent verifications answered in {took:.2f} s (slowest {slowest:.2f} s), all 200 and right")


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


def test_status_list_server_down_or_slow_answers_from_the_list_carried_on_chain(running, flaky_issuer):
    """Down (not listening) or slow (past the fetch timeout): the list the anchor carried on chain decides."""
    issuing, server = flaky_issuer
    (valid_id, valid), (other_id, _), (third_id, _) = issuing.issue(3)
    anchored_and_seen(running, issuing.last_anchors)

    status, answer, revocation, _ = verdict(running, issuing, valid)
    assert status == 200, revocation
    assert answer["verified"] is True, revocation
    assert "carried" not in revocation["detail"], revocation
    assert "is valid" in revocation["detail"], revocation

    server.go_down()  # a new version is anchored meanwhile, so the verifier must fetch again
    anchored_and_seen(running, issuing.revoke([other_id]).anchors)
    status, answer, revocation, took = verdict(running, issuing, valid)
    assert status == 200, revocation
    assert answer["verified"] is True, revocation
    assert "carried on chain" in revocation["detail"], revocation
    note(f"status server down: verdict from the list carried on chain in {took:.2f} s — {revocation['detail']}")

    server.come_back()
    server.mode = "slow"
    anchored_and_seen(running, issuing.revoke([third_id]).anchors)
    status, answer, revocation, took = verdict(running, issuing, valid)
    assert status == 200, revocation
    assert answer["verified"] is True, revocation
    assert "carried on chain" in revocation["detail"], revocation
    assert ("slow", f"/status/{issuing.list_of(valid_id)}") in server.requests
    note(f"status server slow ({server.slow_seconds:.0f} s): verdict from the chain in {took:.2f} s")
    server.mode = "ok"


def test_revoked_credential_read_from_the_list_carried_on_chain_stays_revoked(running, flaky_issuer):
    """Server down, list read from the chain: a revoked credential stays revoked (it read as valid before dd9c58f)."""
    issuing, server = flaky_issuer
    (revoked_id, revoked), = issuing.issue(1)
    anchored_and_seen(running, issuing.last_anchors)
    server.go_down()
    try:
        anchored_and_seen(running, issuing.revoke([revoked_id]).anchors)
        status, answer, revocation, _ = verdict(running, issuing, revoked)
        note(f"revoked credential, status server down: verified={answer.get('verified')} — {revocation}")
        assert status == 200, revocation
        assert answer["verified"] is False, revocation
        assert revocation["status"] == "failed", revocation
        assert "revoked" in revocation["detail"], revocation
    finally:
        server.come_back()


def test_status_list_server_lying_fails_closed_and_says_so(running, flaky_issuer):
    """A server serving an authentic but stale list (hash not the anchored one): not verified, the detail says why."""
    issuing, server = flaky_issuer
    (valid_id, valid), (revoked_id, revoked) = issuing.issue(2)
    anchored_and_seen(running, issuing.last_anchors)
    stale = issuing.list_token(issuing.list_of(valid_id))  # before the revocation below: says "valid" for both

    server.mode, server.lie_token = "lie", stale
    anchored_and_seen(running, issuing.revoke([revoked_id]).anchors)
    for sd_jwt in (revoked, valid):
        status, answer, revocation, _ = verdict(running, issuing, sd_jwt)
        assert status == 200, revocation
        assert answer["verified"] is False, revocation
        assert revocation["status"] == "failed", revocation
        assert "SHA-256" in revocation["detail"], revocation
        assert "anchored" in revocation["detail"], revocation
    note(f"status server lying: not verified — {revocation['detail']}")
    server.mode = "ok"


def test_verifier_recovers_once_the_status_list_server_tells_the_truth(running, flaky_issuer):
    """After a lie, the same list version verifies again once the server serves the anchored token
    (fixed in dd9c58f)."""
    issuing, server = flaky_issuer
    (valid_id, valid), (other_id, _) = issuing.issue(2)
    anchored_and_seen(running, issuing.last_anchors)
    server.mode, server.lie_token = "lie", issuing.list_token(issuing.list_of(valid_id))
    anchored_and_seen(running, issuing.revoke([other_id]).anchors)
    assert verdict(running, issuing, valid)[1]["verified"] is False
    server.mode = "ok"
    answers = []

    def verified_again() -> bool:
        answers.append(verdict(running, issuing, valid))
        return answers[-1][1]["verified"] is True

    poll(verified_again, within=8, step=0.5)  # four times the verifier's retry interval for a failed fetch
    answer = answers[-1]
    note(f"after the server tells the truth again: verified={answer[1]['verified']} — {answer[2]['detail']}")
    assert answer[1]["verified"] is True, answer[2]


# --------------------------------------------------------------------------- Anvil stopped


def test_anvil_stopped_during_verification_fails_closed_and_everything_recovers(running):
    """Anvil stops mid-stream: 503 unavailable, never verified; wallet and issuer keep working; all recovers."""
    from ledger.config import DEVNET_FILE
    from ledger.devnet import Devnet, DevnetRecord, rpc_request

    data_dir = running.system.data_dir
    issuing = DemoIssuing(data_dir, "uni-esempio")
    (keep_id, keep), (doomed_id, doomed) = issuing.issue(2, title="Chain outage drill")
    anchored_and_seen(running, issuing.last_anchors)
    status, answer = verify_over_http(running.verifier_url, present(keep, issuing.holder_key))
    assert status == 200
    assert answer["verified"] is True
    record = DevnetRecord.load(data_dir / DEVNET_FILE)
    block_before = int(rpc_request(record.url, "eth_blockNumber"), 16)

    # A stream of verifications while Anvil is stopped (SIGTERM: Anvil writes its --state file on the way out).
    # Each worker's view of the chain trusts what it read for DEFAULT_MAX_LAG_S from when it last asked the node
    # for the head (ledger/view.py; tests/verifier/test_view_freshness.py), so a verification sent that long
    # after the node is gone cannot be answered from what was read before: the contract, whatever the load.
    from ledger.view import DEFAULT_MAX_LAG_S

    answers: list[tuple[float, float, int, dict]] = []  # (sent, answered, status, answer)
    stop = threading.Event()

    def keep_verifying():
        while not stop.is_set():
            sent = time.monotonic()
            status, answer = verify_over_http(running.verifier_url, present(keep, issuing.holder_key), timeout=30)
            answers.append((sent, time.monotonic(), status, answer))
            stop.wait(0.05)

    stream = threading.Thread(target=keep_verifying, name="verifications")
    stream.start()
    try:
        wait_for(lambda: answers, within=30, what="a first verification of the stream")
        stopped_at = time.monotonic()
        os.kill(record.pid, signal.SIGTERM)
        wait_gone(record.pid)
        undecidable_from = time.monotonic() + DEFAULT_MAX_LAG_S
        # Verifications run on while the node is down, until some were sent past the freshness window.
        wait_for(lambda: sum(sent > undecidable_from for sent, *_ in answers) >= 4, within=30,
                 what="four verifications sent a freshness window after the node stopped to be answered")
    finally:
        stop.set()
        stream.join(timeout=60)
    after = [(answered - stopped_at, status, answer) for _, answered, status, answer in answers
             if answered > stopped_at]
    assert {status for _, status, _ in after} <= {200, 503}, [status for _, status, _ in after]
    late = [(status, answer) for sent, _, status, answer in answers if sent > undecidable_from]
    assert len(late) >= 4
    for status, answer in late:  # none verified, each saying it cannot decide, and why
        assert status == 503, (status, checks_of(answer))
        assert answer["verified"] is False
        late_checks = checks_of(answer)
        assert late_checks["issuer_trust"]["status"] == "unavailable"
        assert late_checks["revocation"]["status"] == "unavailable"
    still_verified = [offset for offset, status, answer in after if answer.get("verified") is True]
    first_503 = min(offset for offset, status, _ in after if status == 503)
    note(f"Anvil stopped: {len(after)} verifications answered after the stop, 200 verified for up to "
          f"{max(still_verified, default=0):.2f} s (the view's freshness window), first 503 at {first_503:.2f} s; "
          f"revocation detail: {late_checks['revocation']['detail'][:120]}")

    # The wallet still lists and shares; the share is answered 503 by the verifier while the chain is down.
    learner = learner_session(running)
    listing = learner.get("/credentials")
    assert listing.status_code == 200
    assert "Applied Machine Learning for Public Health" in listing.text
    qr_text = share_first_credential(running, learner)
    status, answer = verify_over_http(running.verifier_url, qr_text)
    assert status == 503
    assert answer["verified"] is False

    # The registrar revokes through the issuer's pages: saved, served, and kept pending.
    registrar = FormSession(running.issuer_urls["uni-esempio"])
    started = time.monotonic()
    revoke_path = f"/registrar/credentials/{doomed_id}/revoke"
    revoked = registrar.submit(revoke_path, revoke_path, {"reason": "assessment found void"}, redirects=True)
    revoke_took = time.monotonic() - started
    assert revoked.status_code == 200
    assert "NOT anchored yet" in revoked.text
    doomed_list = issuing.list_of(doomed_id)
    assert doomed_list in issuing.pending_lists()
    note(f"revoke with the chain down answered in {revoke_took:.2f} s; list {doomed_list} pending")

    # Anvil restarts from its saved state, on the same port; no service is restarted.
    restarted_at = time.monotonic()
    Devnet(data_dir).start(port=record.port, persist_state=True)
    assert int(rpc_request(record.url, "eth_blockNumber"), 16) >= block_before  # the state came back

    def verified_again():
        status, answer = verify_over_http(running.verifier_url, present(keep, issuing.holder_key))
        return status == 200 and answer["verified"] is True

    wait_for(verified_again, within=20, step=0.1, what="the verifier to answer 'verified' again")
    recovered = time.monotonic() - restarted_at
    note(f"Anvil back (same state, port {record.port}): verifier verified again {recovered:.2f} s after the restart")

    # The issuer service anchors the pending list by itself once the chain answers (no restart, no command).
    wait_for(lambda: issuing.pending_lists() == [], within=30, step=0.2,
             what="the issuer service to anchor the pending revocation by itself")
    anchored_at = time.monotonic()
    note(f"the issuer service anchored the pending list {anchored_at - restarted_at:.2f} s after Anvil restarted")

    def revoked_seen():
        status, answer = verify_over_http(running.verifier_url, present(doomed, issuing.holder_key))
        revocation = checks_of(answer).get("revocation", {})
        return status == 200 and answer["verified"] is False and revocation.get("status") == "failed" \
            and "revoked" in revocation.get("detail", "")

    wait_for(revoked_seen, within=10, what="the verifier to honour the revocation anchored after the outage")
    note(f"the pending revocation anchored after the outage is honoured {time.monotonic() - anchored_at:.2f} s "
          "after it was anchored")

    # The wallet's share and the registrar's pages work as before.
    status, answer = verify_over_http(running.verifier_url, share_first_credential(running, learner))
    assert status == 200, {name: check for name, check in checks_of(answer).items() if check["status"] != "passed"}
    assert answer["verified"] is True
    page = registrar.get("/registrar/")
    assert page.status_code == 200
    assert "anchor pending" not in page.text
