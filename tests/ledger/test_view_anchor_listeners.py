"""LedgerView's anchor listeners on a real Anvil (what the wallet's live badge watches): each advance tells the
anchoring events of its new blocks; a gap wider than MAX_EVENT_RANGE is never read in one request, the caches are
dropped and the listeners told that any list may have changed (None)."""

from __future__ import annotations

import hashlib

import pytest

from tests.evm_nodes import mine

pytestmark = pytest.mark.integration


def _view(ledger):
    from ledger.view import LedgerView

    view = LedgerView(ledger, lambda uri: "")
    view.refresh()
    told: list = []
    view.on_anchor_events(told.append)
    return view, told


def test_an_advance_tells_the_anchoring_events_of_its_blocks(ledger, accredit_issuer):
    issuer = accredit_issuer()
    view, told = _view(ledger)
    assert view.refresh() is not None
    assert told == []  # nothing anchored since
    ledger.status.anchor(issuer.did, "listened-list", hashlib.sha256(b"v1").digest(), 1, account=issuer.account)
    view.refresh()
    assert len(told) == 1
    assert [(e.issuer_did, e.list_id, e.version) for e in told[0]] == [(issuer.did, "listened-list", 1)]


def test_a_gap_wider_than_the_bound_is_told_as_anything_may_have_changed(ledger, chain, monkeypatch):
    from ledger import view as view_module

    monkeypatch.setattr(view_module, "MAX_EVENT_RANGE", 3)
    view, told = _view(ledger)
    asked: list = []
    original = ledger.status.anchor_events

    def counting(*args, **kwargs):
        asked.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(ledger.status, "anchor_events", counting)
    start = view.head
    mine(chain, 5)
    assert view.refresh() >= start + 5
    assert told == [None]
    assert asked == []  # no log request over the wide gap


def test_a_failing_listener_does_not_stop_the_view(ledger, accredit_issuer):
    issuer = accredit_issuer()
    view, told = _view(ledger)

    def broken(events):
        raise RuntimeError("listener bug")

    view.on_anchor_events(broken)
    view.on_anchor_events(told.append)  # registered after the broken one: still told
    ledger.status.anchor(issuer.did, "listened-list-2", hashlib.sha256(b"v1").digest(), 1, account=issuer.account)
    view.refresh()
    assert len(told) == 2  # told before and after the broken listener
    assert [e.list_id for e in told[1]] == ["listened-list-2"]
