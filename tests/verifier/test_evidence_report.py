"""What ``microcred verify --evidence`` prints about the file itself: when it was made, as a date a person reads
(UTC), not a count of seconds."""

from __future__ import annotations

from credentials.evidence import Recheck
from tests.core.test_evidence_rules import _evidence
from verifier.evidence_check import report_lines


def test_the_report_says_when_the_evidence_was_made_as_a_date():
    first = report_lines(_evidence(), Recheck(()))[0]
    assert first.startswith("evidence: made on 2023-11-14 at 22:13:20 UTC by https://verifier.example, key ")
    assert "1700000000" not in first


def test_a_time_that_is_not_one_is_shown_as_found():
    first = report_lines(_evidence(made_at="soon"), Recheck(()))[0]
    assert first.startswith("evidence: made at 'soon' (not a time) by https://verifier.example")
