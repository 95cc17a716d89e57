"""A live badge (issue 13 §7) on the real Anvil chain: the wallet re-checks a credential's status when its card
or page is shown and the last check is older than ``WALLET_STATUS_MAX_AGE``, and at once when its ledger view
sees a StatusRegistry anchoring event of the credential's issuer; the ECTS total counts only valid credentials and
says what it left out; with the chain down the badge says it could not check, never "verified".

Before: the badge said "Verified: trusted issuer, not revoked" until the learner pressed "Check again".
The clock is the wallet's injected ``CLOCK``: no test sleeps.
"""

from __future__ import annotations

import shutil
import time

import pytest
from wallet_helpers import Clock, WalletClient, db_rows

from tests.verifier.conftest import AnchoringIssuer, accredit_did_key_issuer, make_issuer, status_server  # noqa: F401
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

MAX_AGE = 30  # under the core's 60 s freshness bound for status evidence read at the real time
VERIFIED = 'class="badge badge-verified"'


def wallet_on(data_dir, deployment_dir, rpc_url: str, clock: Clock, **config):
    """A wallet on the deployment of ``deployment_dir`` (its record copied into the wallet's data dir)."""
    from ledger.config import DEPLOYMENT_FILE
    from wallet import create_app

    data_dir.mkdir(exist_ok=True)
    shutil.copy(deployment_dir / DEPLOYMENT_FILE, data_dir / DEPLOYMENT_FILE)
    return create_app({
        "TESTING": True, "DATA_DIR": str(data_dir), "CLOCK": clock, "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://127.0.0.1:5001", "RPC_URL": rpc_url, "CONFIRMATIONS": 0, "DEV_LOOPBACK": True,
        "WALLET_STATUS_MAX_AGE": MAX_AGE, **config,
    })


@pytest.fixture
def clock() -> Clock:
    return Clock(int(time.time()))


@pytest.fixture
def chain_app(tmp_path, clock, ledger_data_dir, anvil):
    from wallet.freshness import close_app

    app = wallet_on(tmp_path / "var", ledger_data_dir, anvil.url, clock)
    yield app
    close_app(app)


def learner_of(app) -> WalletClient:
    client = WalletClient(app.test_client())
    client.signup()
    return client


def account_of(app) -> int:
    return db_rows(app, "SELECT id FROM accounts WHERE username = 'ana'")[0][0]


def add(app, learner: WalletClient, issuer: AnchoringIssuer, *, idx: int, **claims) -> int:
    from tests.verifier.conftest import CLAIMS

    credential = issuer.credential(idx=idx, claims={**CLAIMS, **claims}, holder_jwk=learner.holder_jwk(app))
    response = learner.add(credential)
    assert response.status_code == 302, learner.last_page[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def revoke(issuer: AnchoringIssuer, idx: int) -> None:
    issuer.status_list.set(idx, 1)
    issuer.publish()  # the new list served, and its hash anchored on the StatusRegistry


def badge_of(app, credential_id: int) -> str:
    return db_rows(app, "SELECT badge FROM credentials WHERE id = ?", [credential_id])[0][0]


def card(page: str, title: str) -> str:
    """The list item of the card titled ``title``."""
    start = page.index(f'<span class="title">{title}</span>')
    return page[page.rindex("<li", 0, start):page.index("</li>", start)]


def test_a_card_older_than_the_max_age_is_checked_again_when_shown(tmp_path, clock, ledger_data_dir, anvil,
                                                                  make_issuer):  # noqa: F811
    """The age alone: this wallet's check is a plain function, so no ledger event marks anything stale."""
    from ledger.config import LedgerSettings
    from wallet.checking import ledger_trust_check
    from wallet.freshness import close_app
    from wallet.transport import client_from_config

    app = wallet_on(tmp_path / "var", ledger_data_dir, anvil.url, clock, CHAIN_CHECKS=False)
    fetcher = client_from_config(app.config).fetcher
    check = ledger_trust_check(LedgerSettings(ledger_data_dir, anvil.url, 0),
                               lambda uri: fetcher.get_text(uri, accept="application/statuslist+jwt",
                                                            what="status list"))
    app.config["TRUST_CHECK"] = lambda raw, fmt, now: check(raw, fmt, now)
    try:
        issuer = make_issuer()
        learner = learner_of(app)
        credential_id = add(app, learner, issuer, idx=4100)
        learner.get("/credentials")
        assert VERIFIED in card(learner.last_page, "Introduction to Smart Contracts")

        revoke(issuer, 4100)
        clock.now += MAX_AGE - 1  # checked 29 s ago: not stale yet, the stored badge is shown
        learner.get("/credentials")
        assert VERIFIED in card(learner.last_page, "Introduction to Smart Contracts")

        clock.now += 2  # now older than the max age: shown means checked again, no "Check again" pressed
        learner.get("/credentials")
        shown = card(learner.last_page, "Introduction to Smart Contracts")
        assert VERIFIED not in shown
        assert ">Revoked<" in shown
        assert badge_of(app, credential_id) == "failed"
        assert "0 ECTS</strong> from 0 valid credentials; 1 revoked not counted" in learner.last_page
    finally:
        close_app(app)
        check.close()


def test_an_anchoring_event_marks_the_credential_stale_before_the_age_passes(chain_app, clock,
                                                                             make_issuer):  # noqa: F811
    from wallet.freshness import current_badge

    issuer = make_issuer()
    learner = learner_of(chain_app)
    credential_id = add(chain_app, learner, issuer, idx=4200)
    learner.get(f"/credentials/{credential_id}")
    assert "Verified: trusted issuer, not revoked" in learner.last_page
    with chain_app.test_request_context():
        assert current_badge(account_of(chain_app), credential_id).status == "valid"

    revoke(issuer, 4200)
    wait_for(lambda: db_rows(chain_app, "SELECT status_events > status_events_seen FROM credentials WHERE id = ?",
                             [credential_id])[0][0],
             within=15, what="the wallet's ledger view to mark the credential stale on the anchoring event")
    # The clock has not moved: only the event makes the page check again.
    learner.get(f"/credentials/{credential_id}")
    assert "Verified: trusted issuer, not revoked" not in learner.last_page
    assert "is revoked" in learner.last_page
    assert badge_of(chain_app, credential_id) == "failed"
    with chain_app.test_request_context():
        now = current_badge(account_of(chain_app), credential_id)
    assert now.status == "revoked"
    assert "revoked" in now.label


def test_the_ects_total_leaves_out_revoked_credentials_and_says_so(chain_app, clock, make_issuer):  # noqa: F811
    from wallet.freshness import current_badge

    issuer = make_issuer()
    learner = learner_of(chain_app)
    add(chain_app, learner, issuer, idx=4300, title="Kept", ects=4)
    second = add(chain_app, learner, issuer, idx=4301, title="Revoked one", ects=6)
    learner.get("/credentials")
    assert "10 ECTS</strong> from 2 valid credentials" in learner.last_page

    revoke(issuer, 4301)
    clock.now += MAX_AGE + 1
    learner.get("/credentials")
    page = learner.last_page
    assert "4 ECTS</strong> from 1 valid credential; 1 revoked not counted" in page
    assert ">Revoked<" in card(page, "Revoked one")
    assert VERIFIED in card(page, "Kept")
    with chain_app.test_request_context():
        assert current_badge(account_of(chain_app), second).status == "revoked"


def test_with_the_chain_down_the_badge_says_it_could_not_check(tmp_path, clock, status_server):  # noqa: F811
    from credentials.dids import did_key_from_public_key
    from credentials.jose import PrivateKey
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from tests.own_anvil import accredit_tao_and_issuer, dedicated_ledger
    from wallet.freshness import close_app, current_badge, ledger_checks_of

    with dedicated_ledger(tmp_path / "chain", persist_state=True) as (devnet, record, ledger):
        key = PrivateKey.generate("ES256")
        did = did_key_from_public_key(key.public_key())
        _, account = accredit_tao_and_issuer(ledger, "did:web:tao.badge.example", did,
                                             vcts=[MICRO_CREDENTIAL_VCT], legal_name="Outage University")
        issuer = AnchoringIssuer(key, did, account, ledger, status_server, "badge-outage-list")
        issuer.publish()
        age = 10  # twice past it stays within the core's 60 s bound on the age of status evidence
        app = wallet_on(tmp_path / "var", tmp_path / "chain", record.url, clock, WALLET_STATUS_MAX_AGE=age)
        try:
            learner = learner_of(app)
            credential_id = add(app, learner, issuer, idx=77)
            assert badge_of(app, credential_id) == "verified"
            view = ledger_checks_of(app).view
            assert view is not None

            devnet.stop()
            wait_for(lambda: view.last_error is not None and time.monotonic() - view.confirmed_at > view.max_lag,
                     within=15, what="the wallet's ledger view to notice the node is gone")
            clock.now += age + 1
            learner.get("/credentials")
            page = learner.last_page
            assert VERIFIED not in page
            assert ">Could not check<" in card(page, "Introduction to Smart Contracts")
            assert "0 ECTS</strong> from 0 valid credentials; 1 could not be checked, not counted" in page
            learner.get(f"/credentials/{credential_id}")
            assert "Verified: trusted issuer" not in learner.last_page
            assert "could not check" in learner.last_page
            with app.test_request_context():
                assert current_badge(account_of(app), credential_id).status == "unknown"

            devnet.start(port=record.port, persist_state=True)  # the watcher survives and picks up again
            wait_for(lambda: view.last_error is None, within=30, what="the wallet's ledger view to recover")
            clock.now += age + 1
            learner.get("/credentials")
            assert VERIFIED in card(learner.last_page, "Introduction to Smart Contracts")
        finally:
            close_app(app)
        assert not view.watching  # stopped cleanly, not left polling


def test_watch_opens_the_view_before_any_check_and_close_stops_it(ledger_data_dir, anvil):
    """A serving wallet opens its ledger view at start (anchoring events are heard before the first check)."""
    from ledger.config import LedgerSettings
    from wallet.checking import ledger_trust_check

    check = ledger_trust_check(LedgerSettings(ledger_data_dir, anvil.url, 0), lambda uri: "")
    check.watch()
    view = wait_for(lambda: check.view, within=30, what="the view to open without a check")
    wait_for(lambda: view.watching, within=30, what="the view's watcher to run")
    check.close()
    assert not view.watching


def test_watch_keeps_trying_while_the_chain_is_down_and_close_stops_trying(tmp_path, ledger_data_dir, caplog):
    from ledger.config import DEPLOYMENT_FILE, LedgerSettings
    from wallet.checking import ledger_trust_check

    shutil.copy(ledger_data_dir / DEPLOYMENT_FILE, tmp_path / DEPLOYMENT_FILE)
    check = ledger_trust_check(LedgerSettings(tmp_path, "http://127.0.0.1:9", 0), lambda uri: "")
    with caplog.at_level("WARNING", logger="wallet.checking"):
        check.watch(retry_s=0.05)
        wait_for(lambda: "cannot be opened yet" in caplog.text, within=30, what="the failed opening to be logged")
        assert check.opening  # still trying
        check.close()
    assert not check.opening
    assert check.view is None


def test_stale_credentials_on_one_list_share_its_fetch(tmp_path, clock, ledger_data_dir, anvil,
                                                       make_issuer):  # noqa: F811
    """Five stale credentials on one list: the list is fetched once per anchor (per worker at most), not five times."""
    from ledger.config import LedgerSettings
    from wallet import freshness
    from wallet.checking import ledger_trust_check
    from wallet.freshness import close_app
    from wallet.transport import client_from_config

    app = wallet_on(tmp_path / "var", ledger_data_dir, anvil.url, clock, CHAIN_CHECKS=False)
    fetcher = client_from_config(app.config).fetcher
    fetched: list[str] = []

    def fetch(uri: str) -> str:
        fetched.append(uri)
        return fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list")

    check = ledger_trust_check(LedgerSettings(ledger_data_dir, anvil.url, 0), fetch)
    app.config["TRUST_CHECK"] = lambda raw, fmt, now: check(raw, fmt, now)
    try:
        issuer = make_issuer()
        learner = learner_of(app)
        for n in range(5):
            add(app, learner, issuer, idx=4400 + n, title=f"Course {n}")
        revoke(issuer, 4402)
        before = len(fetched)
        clock.now += MAX_AGE + 1

        def settled() -> str | None:
            learner.get("/credentials")
            return None if "Checking…" in learner.last_page else learner.last_page

        page = wait_for(settled, within=60, what="every card checked again")
        assert "20 ECTS</strong> from 4 valid credentials; 1 revoked not counted" in page
        assert 1 <= len(fetched) - before <= freshness.WORKERS  # not one fetch per credential
    finally:
        close_app(app)
        check.close()
