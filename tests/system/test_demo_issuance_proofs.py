"""The demo learner's credentials carry their issuance proofs (issue 14), as a learner's wallet gets them from an
issuer (the ``<id>.with-proof.json`` file, or the OpenID4VCI answer): so the walk's verdict shows the
``issuance_anchor`` check passed ("issued no later than block N"), not "Not checked: no issuance proof was
presented" on the demo's own credentials."""

from __future__ import annotations

import json
import sqlite3

import pytest

from credentials.merkle import IssuanceProof, credential_leaf

pytestmark = pytest.mark.integration


def test_the_demo_learners_credentials_hold_proofs_of_anchored_batches(running_system):
    from ledger.config import LedgerSettings
    from ledger.deployment import open_ledger
    from wallet.db import DB_FILE

    data_dir = running_system.system.data_dir
    with sqlite3.connect(data_dir / DB_FILE) as db:
        rows = db.execute("SELECT raw, issuance_proof FROM credentials WHERE format = 'dc+sd-jwt'").fetchall()
    assert len(rows) == 4
    assert all(proof is not None for _, proof in rows), "a demo credential was stored without its issuance proof"
    ledger = open_ledger(LedgerSettings.from_env())
    for raw, proof in rows:
        parsed = IssuanceProof.from_json(json.loads(proof))
        assert parsed.proves(credential_leaf(raw))
        assert ledger.issuance.anchor_of(parsed.root) is not None
