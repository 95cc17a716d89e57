"""The ledger view's watcher thread, on the real Anvil: started by the first answer, started again when gone,
and not asked about on every answer while it confirms the head (issue 16: every trust and status answer
passes there)."""

from __future__ import annotations

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def _no_tokens(uri: str) -> str:
    raise ConnectionError(f"no status list fetched in this test ({uri})")


def test_a_gone_watcher_is_started_again_by_the_next_answers(ledger):
    from ledger.view import LedgerView

    view = LedgerView(ledger, _no_tokens, poll_interval=0.05)
    try:
        view.trust("did:example:nobody", "urn:type", 1_700_000_000)
        assert view.watching
        view.stop()
        assert not view.watching
        wait_for(lambda: (view.trust("did:example:nobody", "urn:type", 1_700_000_000), view.watching)[1],
                 within=30, what="an answer to start the watcher again")
    finally:
        view.stop()


def test_a_watcher_that_confirmed_the_head_within_its_interval_is_not_asked_about(ledger, monkeypatch):
    from ledger.view import LedgerView

    view = LedgerView(ledger, _no_tokens, poll_interval=3600, max_lag=3600)
    try:
        view.trust("did:example:nobody", "urn:type", 1_700_000_000)  # refreshes, starts the watcher
        asked = []
        monkeypatch.setattr(view._thread, "is_alive", lambda: asked.append(1) or True)
        for _ in range(20):
            view.trust("did:example:nobody", "urn:type", 1_700_000_000)
        assert asked == []
    finally:
        view.stop()
