"""The 1EdTech Revocation List Status Method (VCRL 1.0) in the pure core: :mod:`credentials.status_check_1edtech`.

The list comes from a plain resolver function here (the verifier's is the chain-backed, strictly fetching
``LedgerView.list_status``); the HTTP path is tested in ``tests/verifier/test_imported_revocation_list.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from credentials.status_check_1edtech import (
    check_1edtech_revocation,
    parse_revocation_list,
    read_revocation_list_urls,
    uses_revocation_list,
)
from credentials.verification_model import CheckRun, Policy, StatusEvidence, Unavailable

URL = "https://uni.example/api/revocations/list-7"
ISSUER = "did:key:zDnaeExampleIssuer"
CREDENTIAL_ID = "urn:uuid:0c8b4f2e-6b1f-4a55-9f43-3d3c1f1c9a01"
NOW = 1_800_000_000
VALIDATOR = Path(__file__).parent.parent / "vectors" / "openbadges" / "1edtech-validator"


def credential(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"id": CREDENTIAL_ID, "issuer": {"id": ISSUER},
                                "credentialStatus": {"id": URL, "type": "1EdTechRevocationList"}}
    document.update(changes)
    return document


def listing(*revoked: Any, **changes: Any) -> str:
    document: dict[str, Any] = {"id": URL, "issuer": ISSUER, "revokedCredentials": list(revoked)}
    document.update(changes)
    return json.dumps(document)


def served(text: str | None, *, anchored: bytes | None = None, error: str | None = None):
    def resolve(issuer: str, url: str) -> StatusEvidence:
        assert (issuer, url) == (ISSUER, URL)
        return StatusEvidence(anchored, 12 if anchored else None, 1 if anchored else None, text, error,
                              checked_at=NOW - 5)
    return resolve


def run_check(resolver: Any, document: dict[str, Any] | None = None, **policy: Any) -> tuple[str, str, Any]:
    run = CheckRun()
    shown = check_1edtech_revocation(run, Policy(frozenset(), **policy), resolver, document or credential(), ISSUER,
                                     NOW)
    result = run.results["revocation"]
    return result.status, result.detail, shown


def test_a_credential_not_on_the_list_passes_saying_the_list_is_not_anchored() -> None:
    status, detail, shown = run_check(served(listing({"id": "urn:uuid:other", "revocationReason": "Cheating"})))
    assert status == "passed"
    assert "not anchored on chain" in detail
    assert shown == {"uri": URL, "index": None, "anchored_block": None}


def test_a_listed_credential_is_revoked_with_the_issuers_reason() -> None:
    status, detail, _ = run_check(served(listing({"id": CREDENTIAL_ID, "revocationReason": "Issued in error."})))
    assert (status, detail.split(" (")[0]) == ("failed", "revoked by the issuer: Issued in error.")


def test_a_listed_credential_without_a_reason_or_as_a_bare_id_is_revoked() -> None:
    assert run_check(served(listing({"id": CREDENTIAL_ID})))[1].startswith("revoked by the issuer: no reason given")
    assert run_check(served(listing(CREDENTIAL_ID)))[0] == "failed"


def test_an_entry_with_revoked_false_does_not_revoke() -> None:
    assert run_check(served(listing({"id": CREDENTIAL_ID, "revoked": False})))[0] == "passed"


def test_the_validators_spelling_revokedCredential_cannot_hide_a_revocation() -> None:  # noqa: N802 - a JSON name
    text = json.dumps({"id": URL, "revokedCredential": [{"id": CREDENTIAL_ID, "revocationReason": "Withdrawn"}]})
    assert run_check(served(text))[1].startswith("revoked by the issuer: Withdrawn")


def test_a_reason_is_shown_without_control_characters_and_cut() -> None:
    reason = "a\nb\x1b[31m" + "x" * 500
    status, detail, _ = run_check(served(listing({"id": CREDENTIAL_ID, "revocationReason": reason})))
    assert status == "failed"
    assert "\n" not in detail
    assert "\x1b" not in detail
    assert len(detail) < 400


def test_unanchored_lists_refused_by_policy_fail_saying_why() -> None:
    status, detail, _ = run_check(served(listing()), unanchored_status_lists=False)
    assert status == "failed"
    assert "unsigned JSON not anchored on the StatusRegistry" in detail


def test_an_anchored_list_must_match_its_anchor() -> None:
    text = listing()
    status, detail, shown = run_check(served(text, anchored=hashlib.sha256(text.encode()).digest()),
                                      unanchored_status_lists=False)
    assert (status, shown["anchored_block"]) == ("passed", 12)
    assert "anchored at block 12" in detail
    status, detail, _ = run_check(served(listing(), anchored=hashlib.sha256(b"another list").digest()))
    assert status == "failed"
    assert "hash anchored in block 12" in detail


@pytest.mark.parametrize(("text", "reason"), [
    ("<html>Server error</html>", "cannot be read"),
    ("[]", "cannot be read"),
    (json.dumps({"id": URL}), "has no revokedCredentials array"),
    (listing(revokedCredentials={"id": CREDENTIAL_ID}), "is a dict, expected an array"),
    (listing(42), "revoked credential entry 0 is a int"),
    (listing({"revocationReason": "no id"}), "revoked credential entry 0 has id 'None'"),
    (listing({"id": CREDENTIAL_ID, "revoked": "yes"}), "has revoked 'yes'; expected true or false"),
    (listing({"id": CREDENTIAL_ID, "revocationReason": 7}), "revocationReason of type int"),
    (listing(id="https://elsewhere.example/list"), "but the credential points at"),
    (listing(issuer={"id": "did:key:zSomebodyElse"}), "not by the credential's issuer"),
    ("[" * 100 + "]" * 100, "cannot be read"),
], ids=["html", "array", "no-member", "member-not-array", "entry-not-object", "entry-no-id", "revoked-not-bool",
        "reason-not-string", "other-url", "other-issuer", "too-deep"])
def test_a_malformed_list_fails_saying_why(text: str, reason: str) -> None:
    status, detail, _ = run_check(served(text))
    assert status == "failed"
    assert detail.startswith("the revocation list list-7 is not usable: ")
    assert reason in detail


def test_an_oversized_list_fails_before_it_is_parsed() -> None:
    text = listing(*({"id": f"urn:uuid:{n:040d}"} for n in range(60_000)))
    assert len(text) > 2 * 1024 * 1024
    status, detail, _ = run_check(served(text))
    assert status == "failed"
    assert "over the limit" in detail


@pytest.mark.parametrize("resolver", [
    served(None, error="connection refused"),
    lambda issuer, url: Unavailable("the chain is not answering"),
    lambda issuer, url: (_ for _ in ()).throw(ConnectionError("no route to host")),
], ids=["fetch-error", "unavailable", "connection-error"])
def test_an_unreachable_list_leaves_revocation_unavailable(resolver: Any) -> None:
    assert run_check(resolver)[0] == "unavailable"


def test_no_resolver_and_stale_status_are_unavailable() -> None:
    assert run_check(None)[0] == "unavailable"

    def stale(issuer: str, url: str) -> StatusEvidence:
        return StatusEvidence(None, token=listing(), checked_at=NOW - 3600)
    status, detail, _ = run_check(stale)
    assert (status, detail.split(" s old")[0]) == ("unavailable", "the status information is 3600")


@pytest.mark.parametrize(("document", "reason"), [
    (credential(id=None), "the credential has no id"),
    (credential(credentialStatus=[{"id": URL, "type": "1EdTechRevocationList"},
                                  {"type": "BitstringStatusListEntry"}]), "one status method per credential"),
    (credential(credentialStatus={"id": "ftp://uni.example/list", "type": "1EdTechRevocationList"}),
     "expected the https URL"),
    (credential(credentialStatus={"id": "https://uni.example/", "type": "1EdTechRevocationList"}),
     "expected the https URL"),
], ids=["no-id", "mixed-methods", "not-http", "no-path"])
def test_an_unusable_credential_status_fails(document: dict[str, Any], reason: str) -> None:
    status, detail, _ = run_check(served(listing()), document)
    assert status == "failed"
    assert reason in detail


def test_the_validators_complete_badge_names_its_revocation_list() -> None:
    badge = json.loads((VALIDATOR / "ob30-complete.json").read_text())
    assert uses_revocation_list(badge)
    assert read_revocation_list_urls(badge) == ("https://1edtech.edu/credentials/3732/revocations",)
    assert not uses_revocation_list({"credentialStatus": {"type": "BitstringStatusListEntry"}})


def test_parse_revocation_list_keeps_the_first_reason_of_a_repeated_id() -> None:
    parsed = parse_revocation_list(listing({"id": "a", "revocationReason": "first"}, {"id": "a"}, {"id": "b"}),
                                   URL, ISSUER)
    assert (parsed.reason("a"), parsed.reason("b"), parsed.reason("c")) == ("first", "", None)
