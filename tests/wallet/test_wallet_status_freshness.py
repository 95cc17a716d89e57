"""The live badge's bounds and rules without a chain (issue 13 §7; the chain itself: test_wallet_live_badge.py).

A page with many stale cards does not check them one by one on the request: a small pool checks them, the page
waits a moment and shows the rest as "Checking…" (never their older badge), uncounted, and reloads; an anchoring
event that arrives while a check runs leaves the credential stale; a fresh card is not checked; a stored badge reads
as valid / revoked / suspended / expired / unknown for the consent page.
"""

from __future__ import annotations

import threading

import pytest
from wallet_helpers import CLAIMS, NOW, db_rows

PASSED = [{"check": "issuer_trust", "status": "passed", "detail": "accredited"},
          {"check": "revocation", "status": "passed", "detail": "index 5 of list 1 is valid"}]


class Gate:
    """A trust check that waits until opened, counting how many run at once."""

    def __init__(self, answer=PASSED):
        self.answer = answer
        self.open = threading.Event()
        self.entered = threading.Event()
        self.calls = 0
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def __call__(self, raw, fmt, now):
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        self.entered.set()
        try:
            self.open.wait(30)
            return self.answer
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def closing(app):
    from wallet.freshness import close_app

    yield app
    close_app(app)


def _add(client, app, issuer, count: int) -> None:
    jwk = client.holder_jwk(app)
    for n in range(count):
        assert client.add(issuer.issue(jwk, {**CLAIMS, "title": f"Course {n}"})).status_code == 302


def test_many_stale_cards_are_checked_by_a_bounded_pool_while_the_page_says_checking(closing, signed_in, issuer,
                                                                                   clock, monkeypatch):
    from tests.waiting import wait_for
    from wallet import freshness

    app = closing
    monkeypatch.setattr(freshness, "REQUEST_WAIT_S", 0.05)
    _add(signed_in, app, issuer, 6)  # no trust check yet: "not checked", counted
    signed_in.get("/credentials")
    assert "24 ECTS</strong> from 6 valid credentials" in signed_in.last_page
    assert "6 counted without a status check" in signed_in.last_page
    gate = Gate()
    app.config["TRUST_CHECK"] = gate
    clock.now += 61

    assert signed_in.get("/credentials").status_code == 200  # answered while every check is still held
    page = signed_in.last_page
    assert page.count("Checking…") == 6
    assert "badge-unchecked" not in page  # the older badge is not shown as if current
    assert "0 ECTS</strong> from 0 valid credentials; 6 being checked, not counted yet" in page
    assert 'data-reload-after="3"' in page  # reloads by a script the learner can stop (test_wallet_checking_reload)
    gate.entered.wait(30)
    assert gate.most <= freshness.WORKERS

    signed_in.get("/credentials")  # asked again while they run: none is queued twice
    gate.open.set()
    wait_for(lambda: {row[0] for row in db_rows(app, "SELECT badge FROM credentials")} == {"verified"},
             within=30, what="every stale card checked by the pool")
    assert gate.calls == 6
    assert gate.most <= freshness.WORKERS
    signed_in.get("/credentials")
    assert "Checking…" not in signed_in.last_page
    assert "http-equiv" not in signed_in.last_page
    assert "24 ECTS</strong> from 6 valid credentials" in signed_in.last_page


def test_a_fresh_card_is_not_checked_again(closing, held, clock):
    client, credential_id = held
    gate = Gate()
    gate.open.set()
    closing.config["TRUST_CHECK"] = gate
    client.get("/credentials")
    client.get(f"/credentials/{credential_id}")
    assert gate.calls == 0  # imported a moment ago: within the max age
    clock.now += 61
    client.get(f"/credentials/{credential_id}")
    assert gate.calls == 1
    assert "Verified: trusted issuer, not revoked" in client.last_page


def test_an_event_during_a_check_leaves_the_credential_stale(closing, held, clock, issuer, monkeypatch):
    from pathlib import Path

    from tests.waiting import wait_for
    from wallet import freshness
    from wallet.db import DB_FILE

    client, credential_id = held
    monkeypatch.setattr(freshness, "REQUEST_WAIT_S", 0.05)
    gate = Gate()
    closing.config["TRUST_CHECK"] = gate
    clock.now += 61
    client.get(f"/credentials/{credential_id}")
    assert "being checked again" in client.last_page
    gate.entered.wait(30)
    assert freshness.mark_stale(Path(closing.config["DATA_DIR"]) / DB_FILE, [issuer.did]) == 1  # read the old list
    gate.open.set()
    wait_for(lambda: db_rows(closing, "SELECT badge FROM credentials")[0][0] == "verified",
             within=30, what="the check to finish")
    assert db_rows(closing, "SELECT status_events, status_events_seen FROM credentials") == [(1, 0)]
    client.get(f"/credentials/{credential_id}")  # still stale: checked again although the age has not passed
    wait_for(lambda: gate.calls == 2, within=30, what="a second check")


def test_current_badge_for_the_consent_page(closing, held, clock, signed_in):
    from wallet.freshness import current_badge

    client, credential_id = held
    account = db_rows(closing, "SELECT id FROM accounts WHERE username = 'ana'")[0][0]
    with closing.test_request_context():
        unchecked = current_badge(account, credential_id)
        assert current_badge(account + 1, credential_id) is None  # another account's: not there
        assert current_badge(account, credential_id + 1) is None
    assert (unchecked.status, unchecked.state) == ("unknown", "unchecked")  # no trust registry: not "valid"

    closing.config["TRUST_CHECK"] = lambda raw, fmt, now: [
        {"check": "revocation", "status": "failed", "detail": "index 5 of list 1 (list) is suspended"}]
    clock.now += 61
    with closing.test_request_context():
        suspended = current_badge(account, credential_id)
    assert suspended.status == "suspended"
    assert suspended.checked_at == clock.now
    assert "suspended" in suspended.label


def test_an_expired_credential_is_expired_and_not_counted(closing, signed_in, issuer, clock):
    from credentials.verification import Policy, StatusEvidence, TrustAnswer, TrustLink
    from wallet.checking import core_trust_check

    def trust(did, vct, at):
        return TrustAnswer(True, "accredited", chain=(TrustLink(did, "Universidade Exemplo", "issuer"),
                                                      TrustLink("did:example:root", "Ministry", "root")))

    policy = Policy(trusted_roots=frozenset({"did:example:root"}), status_required=False)
    closing.config["TRUST_CHECK"] = core_trust_check(policy, trust, lambda did, uri: StatusEvidence(None))
    jwk = signed_in.holder_jwk(closing)
    assert signed_in.add(issuer.issue(jwk, exp=NOW + 600)).status_code == 302
    assert signed_in.add(issuer.issue(jwk, {**CLAIMS, "title": "Lasting", "ects": 3})).status_code == 302
    signed_in.get("/credentials")
    assert "7 ECTS</strong> from 2 valid credentials" in signed_in.last_page
    clock.now = NOW + 700  # past exp and the 60 s clock skew the core allows
    signed_in.get("/credentials")
    assert "3 ECTS</strong> from 1 valid credential; 1 expired not counted" in signed_in.last_page
    assert ">Expired<" in signed_in.last_page


@pytest.mark.parametrize("state,checks,expected", [
    ("verified", PASSED, "valid"),
    ("failed", [{"check": "revocation", "status": "failed", "detail": "index 5 of list 1 is revoked"}], "revoked"),
    ("failed", [{"check": "revocation", "status": "failed",
                 "detail": "index 9 of list l (not anchored on chain) is suspended"}], "suspended"),
    ("failed", [{"check": "revocation", "status": "failed",
                 "detail": "revoked by the issuer: cheating (1EdTech revocation list …)"}], "revoked"),
    ("failed", [{"check": "validity_period", "status": "failed", "detail": "the credential expired at 5 (now 9)"}],
     "expired"),
    ("failed", [{"check": "validity_period", "status": "failed", "detail": "not valid before 9 (now 5)"}], "unknown"),
    ("failed", [{"check": "issuer_trust", "status": "failed", "detail": "not accredited"}], "unknown"),
    ("failed", [{"check": "revocation", "status": "failed", "detail": "the status list token expired at 5"}],
     "unknown"),
    ("unavailable", [], "unknown"),
    ("unchecked", [], "unknown"),
    ("unverified", [], "unknown"),
])
def test_a_stored_badge_in_one_word(state, checks, expected):
    from wallet.checking import status_of

    assert status_of(state, checks) == expected


def test_the_factory_starts_the_pool_in_each_serving_process_and_closing_the_app_stops_it(tmp_path, issuer):
    """The re-check pool is the app factory's, not a side effect of registering the credentials blueprint:
    ``create_app`` sets it up and has it started in each serving process (after any fork, with the app's
    other worker tasks, before any page asks); :func:`wallet.freshness.close_app` stops its threads for good."""
    from flask import Flask

    from infra.serving import start_worker_tasks
    from wallet import create_app
    from wallet.freshness import close_app, freshness_of
    from wallet.views import credentials

    bare = Flask(__name__)
    bare.register_blueprint(credentials.bp)
    assert "microcred_wallet_freshness" not in bare.extensions, "registering a blueprint set up a pool"

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var"), "SESSION_COOKIE_SECURE": False})
    pool = freshness_of(app)
    assert not pool.running  # nothing runs in the process that only built the app (a server's master)
    start_worker_tasks(app)  # what the serving process does before its first request
    try:
        assert pool.running
    finally:
        close_app(app)
    assert not pool.running
    assert pool.submit([1], lambda raw, fmt, now: PASSED, lambda: NOW) == {}  # closed: nothing is queued
    pool.start()
    assert not pool.running
