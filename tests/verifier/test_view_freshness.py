"""The ledger view's freshness, on the real Anvil: what "confirmed at" means, and a list anchored a block later.

- The freshness window (``max_lag``) is counted from when the head was *asked for*, not from when its
  answer came: a block mined before a refresh started is in what that refresh confirmed, and a node
  that stops answering while a refresh is in flight cannot make the view look fresher than it is
  (tests/system/test_faults.py relies on it: a verification started a window after the node is gone is
  ``unavailable``).
- A status list server serving a version anchored after the block the view has processed is not a
  "hash differs" failure: the view confirms the head afresh and reads the anchor again first (a list
  anchored a moment ago is the usual reason, as for a list "never anchored"); a server that still
  differs from the chain is handed to the core, which fails it (``test_api.py``).
"""

from __future__ import annotations

import hashlib
import time
import urllib.request

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def _fetch(uri: str) -> str:
    with urllib.request.urlopen(uri, timeout=5) as response:  # noqa: S310 (the loopback status server)
        return response.read().decode("ascii")


@pytest.fixture
def lagging_view(ledger):
    """A view whose watcher has made its first refresh and then sleeps: it stays at the block it processed."""
    from ledger.view import LedgerView

    view = LedgerView(ledger, _fetch, poll_interval=3600, max_lag=3600)
    view.refresh()
    confirmed = view.confirmed_at
    view.start()
    wait_for(lambda: view.confirmed_at > confirmed, within=10, what="the watcher's first refresh")
    try:
        yield view
    finally:
        view.stop()


def test_the_freshness_window_counts_from_when_the_head_was_asked_for(ledger, monkeypatch):
    from ledger.view import LedgerView

    asked: list[float] = []
    read_header = ledger.chain.block_header

    def spied(*args, **kwargs):  # the real read, its start noted
        asked.append(time.monotonic())
        return read_header(*args, **kwargs)

    monkeypatch.setattr(ledger.chain, "block_header", spied)
    view = LedgerView(ledger, _fetch)
    view.refresh()
    assert asked, "the refresh did not read the head"
    assert view.confirmed_at <= asked[0], "the view counts itself fresh from after the node answered"


def test_a_list_anchored_after_the_processed_block_is_read_again_not_called_a_mismatch(ledger, make_issuer,
                                                                                         lagging_view):
    issuer = make_issuer()  # version 1 served and anchored; the view has processed its block
    lagging_view.refresh()
    processed = lagging_view.head
    issuer.status_list.set(7, 1)
    token = issuer.publish()  # version 2 served and anchored in a block the view has not processed
    assert lagging_view.head == processed

    evidence = lagging_view.status(issuer.did, issuer.uri)

    assert evidence.token == token
    assert evidence.anchored_sha256 == hashlib.sha256(token.encode()).digest(), "the served list called a mismatch"
    assert evidence.anchored_version == issuer.version
    assert lagging_view.head > processed


def test_a_server_still_differing_after_the_head_is_confirmed_is_handed_over_as_it_is(make_issuer, lagging_view):
    issuer = make_issuer()
    anchored = hashlib.sha256(issuer.publish(serve=False).encode()).digest()  # version 2, anchored, not served
    lagging_view.refresh()
    issuer.status_list.set(9, 1)
    served = issuer.publish(anchor=False)  # the server shows a list the chain never anchored

    evidence = lagging_view.status(issuer.did, issuer.uri)

    assert evidence.anchored_sha256 == anchored
    assert evidence.anchored_version == issuer.version
    assert evidence.token == served


def test_a_lists_evidence_is_built_once_per_processed_block_and_again_after_an_anchor(make_issuer, lagging_view,
                                                                                      monkeypatch):
    """Every verification of a credential on one list asks for the same evidence: the view builds it once for the
    block it has processed (issue 16), and builds it afresh once it has processed the block of a new anchor."""
    issuer = make_issuer()
    lagging_view.refresh()
    built = []
    anchored_token = lagging_view._anchored_token

    def counted(*args, **kwargs):
        built.append(args)
        return anchored_token(*args, **kwargs)

    monkeypatch.setattr(lagging_view, "_anchored_token", counted)
    first = lagging_view.status(issuer.did, issuer.uri)
    again = lagging_view.status(issuer.did, issuer.uri)
    assert len(built) == 1
    assert (again.token, again.anchored_sha256, again.anchored_version) == (first.token, first.anchored_sha256,
                                                                            issuer.version)
    assert again.checked_at >= first.checked_at

    issuer.status_list.set(7, 1)
    token = issuer.publish()  # version 2, anchored in a new block
    lagging_view.refresh()  # the view processes that block: the anchor event drops what it kept
    after = lagging_view.status(issuer.did, issuer.uri)
    assert len(built) == 2
    assert after.token == token
    assert after.anchored_sha256 == hashlib.sha256(token.encode()).digest()
    assert after.anchored_version == issuer.version


def test_a_served_list_differing_from_its_anchor_is_fetched_again_on_every_ask(make_issuer, lagging_view):
    """A list the server serves wrong is not kept: each verification fetches again and recovers as soon as the
    server tells the truth (the kept evidence is only that of a token matching its anchor)."""
    issuer = make_issuer()
    anchored_token = issuer.publish(serve=False)  # version 2, anchored, not served
    lagging_view.refresh()
    issuer.status_list.set(9, 1)
    served = issuer.publish(anchor=False)  # the server shows a list the chain never anchored
    assert lagging_view.status(issuer.did, issuer.uri).token == served
    assert lagging_view.status(issuer.did, issuer.uri).token == served
    issuer.server.serve(f"/status/{issuer.list_id}", anchored_token)  # the server tells the truth again
    assert lagging_view.status(issuer.did, issuer.uri).token == anchored_token
