"""Issue 10 B9 at the verifier: a status list shorter than MICROCRED_VERIFIER_MIN_STATUS_LIST_ENTRIES
fails ``revocation``."""

from __future__ import annotations

import pytest

from credentials.errors import ConfigurationError
from credentials.status_list import StatusList

pytestmark = pytest.mark.integration


def _revocation(answer):
    return next(c for c in answer["checks"] if c["check"] == "revocation")


def test_a_16_entry_list_anchored_on_chain_fails_revocation(client, make_issuer):
    issuer = make_issuer(publish=False)
    issuer.status_list = StatusList(bytes(2), 1)
    issuer.publish()
    answer = client.post("/api/v1/verify", json={"presentation": issuer.present(issuer.credential(idx=3))}).get_json()
    assert answer["verified"] is False
    assert _revocation(answer)["status"] == "failed"
    assert "16 entries" in _revocation(answer)["detail"]
    assert "herd privacy" in _revocation(answer)["detail"]


def test_the_minimum_is_a_setting(tmp_path):
    from infra.settings import parse_settings, spec_defaults
    from verifier.service import VerifierService
    from verifier.settings import SETTINGS

    assert spec_defaults(SETTINGS)["VERIFIER_MIN_STATUS_LIST_ENTRIES"] == 131_072
    service = VerifierService({"DATA_DIR": str(tmp_path), "VERIFIER_TRUSTED_ROOTS": "did:web:root.example",
                               "VERIFIER_MIN_STATUS_LIST_ENTRIES": "16"})
    try:
        assert service.policy().min_status_list_entries == 16
    finally:
        service.close()
    with pytest.raises(ConfigurationError, match="MIN_STATUS_LIST_ENTRIES"):
        parse_settings(SETTINGS, {"VERIFIER_MIN_STATUS_LIST_ENTRIES": "many"})
