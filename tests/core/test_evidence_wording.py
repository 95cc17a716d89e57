"""The re-check's findings say times as dates a person reads (UTC), as the validity finding already did, not as
seconds since 1970 (``microcred verify --evidence`` prints them)."""

from __future__ import annotations

from credentials.evidence import recheck
from tests.core.test_evidence_rules import _evidence, _finding, _now, _payload


def test_the_trust_finding_gives_the_issuance_time_as_a_date():
    payload = _payload()
    payload["checks"][2]["inputs"]["at"] = 1_795_897_655
    detail = _finding(recheck(_evidence(checks=payload["checks"]), _now()), "issuer_trust").detail
    assert detail == "the issuer is still accredited for urn:x at 2026-11-28 20:27 UTC (block 90)"
