"""``ledger.view.open_view``: the one "open the ledger, bring the view to the head" sequence the verifier
and the wallet share (issue 11, item 1), against the real Anvil of the session."""

from __future__ import annotations

import pytest

from ledger.config import LedgerSettings
from ledger.errors import DeploymentNotFound
from ledger.view import open_view

pytestmark = pytest.mark.integration


def _no_tokens(uri: str) -> str:
    raise ConnectionError(f"no status list fetched in this test ({uri})")


def test_open_view_reads_the_deployment_of_the_settings_at_the_head(ledger_data_dir, anvil, chain):
    view = open_view(LedgerSettings(ledger_data_dir, anvil.url, 0), _no_tokens)
    try:
        assert view.head == chain.block_number()
        assert view.ledger.deployment.root_did
        assert view._thread is None  # not watching unless asked
    finally:
        view.stop()


def test_open_view_starts_the_watcher_when_asked(ledger_data_dir, anvil):
    view = open_view(LedgerSettings(ledger_data_dir, anvil.url, 0), _no_tokens, poll_interval=3600, watch=True)
    try:
        assert view._thread is not None
        assert view._thread.is_alive()
    finally:
        view.stop()


def test_open_view_without_a_deployment_says_so(tmp_path, anvil):
    with pytest.raises(DeploymentNotFound):
        open_view(LedgerSettings(tmp_path, anvil.url, 0), _no_tokens)
