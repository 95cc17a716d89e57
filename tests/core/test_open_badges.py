"""credentials.open_badges: 1EdTech's vectors and validator credentials, our own badges, the JSON Schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from credentials.data_integrity import sign_data_integrity
from credentials.errors import FormatError, SchemaViolation, SignatureError, ValidityPeriodError, VerificationError
from credentials.jsonld import MAX_DOCUMENT_BYTES, canonical_nquads
from credentials.multikey import (
    VerificationMethod,
    multibase_from_public_key,
    public_key_from_multibase,
    resolve_did_verification_method,
)
from credentials.open_badges import (
    CLR_CREDENTIAL,
    LDP_VC_FORMAT,
    OPEN_BADGE_CREDENTIAL,
    check_open_badge_credential,
    open_badge_schema_problems,
    verify_open_badge,
)

OB = Path(__file__).resolve().parents[1] / "vectors" / "openbadges"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


def example_resolver(method_id: str) -> VerificationMethod:
    """did:key / did:jwk offline; the 1EdTech examples' ``https://issuer#z6Mk…`` keys by their fragment."""
    if method_id.startswith("did:"):
        return resolve_did_verification_method(method_id)
    base, _, fragment = method_id.partition("#")
    if base.startswith("https://") and fragment.startswith("z"):
        return VerificationMethod(method_id, base, public_key_from_multibase(fragment), frozenset({"assertionMethod"}))
    raise ValueError("no such example key")


@pytest.mark.parametrize("kind", ["ob", "clr"])
def test_specification_vectors(kind: str) -> None:
    signed = json.loads((OB / "1edtech-spec" / f"{kind}-signed.json").read_text())
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    proof = signed["proof"][0] if isinstance(signed["proof"], list) else signed["proof"]
    config = {**{k: v for k, v in proof.items() if k != "proofValue"}, "@context": signed["@context"]}
    assert canonical_nquads(unsecured) == (OB / "1edtech-spec" / f"{kind}-document-canon.txt").read_text()
    assert canonical_nquads(config) == (OB / "1edtech-spec" / f"{kind}-proof-canon.txt").read_text()
    badge = verify_open_badge(json.dumps(signed), resolve_verification_method=example_resolver, now=NOW)
    assert badge.format == LDP_VC_FORMAT
    assert badge.info.kind == (CLR_CREDENTIAL if kind == "clr" else OPEN_BADGE_CREDENTIAL)
    assert badge.issuer_id == "https://example.edu/issuers/565049"
    tampered = copy.deepcopy(signed)
    tampered["name"] = tampered["name"] + " (edited)"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_open_badge(tampered, resolve_verification_method=example_resolver, now=NOW)


def _validator_cases() -> list[Any]:
    expected = json.loads((OB / "1edtech-validator" / "expected.json").read_text())
    return [pytest.param(name, spec, expected["now"], id=name) for name, spec in sorted(expected["files"].items())]


@pytest.mark.parametrize(("name", "spec", "now"), _validator_cases())
def test_validator_credentials(name: str, spec: dict[str, str], now: int) -> None:
    data = (OB / "1edtech-validator" / name).read_bytes()
    if spec["outcome"] == "verified":
        badge = verify_open_badge(data, resolve_verification_method=example_resolver, now=now)
        assert (badge.info.kind, badge.issuer_id) == (spec["kind"], spec["issuer"])
        return
    with pytest.raises(VerificationError) as caught:
        verify_open_badge(data, resolve_verification_method=example_resolver, now=now)
    assert caught.value.check == spec["check"]
    assert spec["reason_contains"] in caught.value.reason


def test_every_validator_json_file_has_an_expectation() -> None:
    expected = json.loads((OB / "1edtech-validator" / "expected.json").read_text())["files"]
    assert {p.name for p in (OB / "1edtech-validator").glob("*.json")} - {"expected.json"} == set(expected)


# --- our own badges -------------------------------------------------------------------

KEY = ed25519.Ed25519PrivateKey.generate()
MSID = multibase_from_public_key(KEY.public_key())
ISSUER = f"did:key:{MSID}"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def badge(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", OB3],
        "id": "urn:uuid:0c8b4f2e-6b1f-4a55-9f43-3d3c1f1c9a01",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Smart Contracts",
        "issuer": {"id": ISSUER, "type": ["Profile"], "name": "Università di Prova"},
        "validFrom": "2025-09-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://uni.example/achievements/smart-contracts",
                "type": ["Achievement"],
                "name": "Introduction to Smart Contracts",
                "description": "Write and test a Solidity contract.",
                "criteria": {"narrative": "Pass the project assessment."},
                "creditsAvailable": 5,
            },
        },
        "credentialStatus": {
            "id": "https://uni.example/status/1#88123",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "88123",
            "statusListCredential": "https://uni.example/status/1",
        },
    }
    document.update(changes)
    return document


def signed(document: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return sign_data_integrity(document, KEY, f"{ISSUER}#{MSID}", "2025-09-01T10:00:00Z", **kwargs)


def test_our_open_badge_verifies_with_its_status_entries_raw() -> None:
    result = verify_open_badge(signed(badge()), resolve_verification_method=resolve_did_verification_method, now=NOW)
    assert result.issuer_id == ISSUER
    assert result.types == ("VerifiableCredential", "OpenBadgeCredential")
    assert result.info.data_model == "2.0"
    assert result.info.valid_from == 1_756_684_800
    assert result.info.achievements[0]["creditsAvailable"] == 5
    assert result.credential_status[0]["statusListIndex"] == "88123"
    assert result.proofs[0].controller == ISSUER


def test_eddsa_jcs_badges_verify_too() -> None:
    result = verify_open_badge(signed(badge(), cryptosuite="eddsa-jcs-2022"),
                               resolve_verification_method=resolve_did_verification_method, now=NOW)
    assert result.proofs[0].cryptosuite == "eddsa-jcs-2022"


def test_a_vcdm_11_badge_is_recognised() -> None:
    document = badge(issuanceDate="2025-09-01T00:00:00Z")
    del document["validFrom"], document["credentialStatus"]
    document["@context"] = ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
                            "https://w3id.org/security/data-integrity/v2"]
    result = verify_open_badge(signed(document), resolve_verification_method=resolve_did_verification_method, now=NOW)
    assert (result.info.data_model, result.info.valid_from) == ("1.1", 1_756_684_800)
    assert open_badge_schema_problems(result.info) is None  # 1EdTech's schema is for VCDM 2.0


def test_a_badge_signed_by_someone_else_than_its_issuer_is_refused() -> None:
    other = ed25519.Ed25519PrivateKey.generate()
    msid = multibase_from_public_key(other.public_key())
    document = sign_data_integrity(badge(), other, f"did:key:{msid}#{msid}", "2025-09-01T10:00:00Z")
    with pytest.raises(SignatureError, match="not by the issuer"):
        verify_open_badge(document, resolve_verification_method=resolve_did_verification_method, now=NOW)


@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [
        ({"validUntil": "2025-12-31T00:00:00Z"}, ValidityPeriodError, "expired at 2025-12-31T00:00:00Z"),
        ({"validFrom": "2026-06-01T00:00:00Z"}, ValidityPeriodError, "not valid before 2026-06-01T00:00:00Z"),
        ({"validFrom": "2026-06-01"}, ValidityPeriodError, "'validFrom' must be a date and time with a time zone"),
    ],
    ids=["expired", "not-yet-valid", "date-without-time"],
)
def test_validity_period_is_checked_after_the_signature(changes: dict[str, Any], error: type[VerificationError],
                                                         reason: str) -> None:
    with pytest.raises(error, match=reason):
        verify_open_badge(signed(badge(**changes)), resolve_verification_method=resolve_did_verification_method,
                          now=NOW)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": ["VerifiableCredential"]}, "expected type VerifiableCredential with OpenBadgeCredential"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"]}, "lists no Open Badges 3.0 context"),
        ({"issuer": {"id": ISSUER, "type": ["Achievement"]}}, "must include Profile"),
        ({"issuer": {"type": ["Profile"]}}, "a Profile object with an 'id' URI"),
        ({"credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]}}, "'achievement' object"),
        ({"credentialStatus": ["not an object"]}, "credentialStatus must be an object"),
    ],
    ids=["not-a-badge", "no-ob-context", "issuer-not-profile", "issuer-without-id", "no-achievement",
         "status-not-object"],
)
def test_form_is_checked_before_the_signature(changes: dict[str, Any], reason: str) -> None:
    document = signed(badge())
    document.update(changes)
    with pytest.raises(FormatError, match=reason):
        verify_open_badge(document, resolve_verification_method=resolve_did_verification_method, now=NOW)


def test_the_1edtech_schema_is_enforced_after_the_signature() -> None:
    document = badge()
    del document["credentialSubject"]["achievement"]["criteria"]
    with pytest.raises(SchemaViolation, match="criteria"):
        verify_open_badge(signed(document), resolve_verification_method=resolve_did_verification_method, now=NOW)


def test_the_jose_path_checks_the_payload_without_a_proof() -> None:
    info = check_open_badge_credential(badge(), now=NOW)
    assert (info.kind, info.issuer_id, open_badge_schema_problems(info)) == (OPEN_BADGE_CREDENTIAL, ISSUER, ())


def test_an_oversized_badge_is_refused_before_parsing() -> None:
    data = json.dumps(badge(description="x" * MAX_DOCUMENT_BYTES)).encode()
    with pytest.raises(FormatError, match="over the limit"):
        verify_open_badge(data, resolve_verification_method=resolve_did_verification_method, now=NOW)


def test_a_remote_context_in_a_badge_fails_format() -> None:
    document = signed(badge())
    document["@context"] = [*document["@context"], "https://attacker.example/context.json"]
    with pytest.raises(FormatError, match="contexts are never fetched"):
        verify_open_badge(document, resolve_verification_method=resolve_did_verification_method, now=NOW)


def test_an_unknown_context_fails_format_even_for_jcs_and_jwt_payloads() -> None:
    document = signed(badge(), cryptosuite="eddsa-jcs-2022")
    document["@context"] = [*document["@context"], "https://attacker.example/context.json"]
    with pytest.raises(FormatError, match="'https://attacker.example/context.json' is not one microcred knows"):
        verify_open_badge(document, resolve_verification_method=resolve_did_verification_method, now=NOW)
    payload = badge()
    payload["credentialSubject"]["achievement"]["@context"] = "https://attacker.example/nested.json"
    with pytest.raises(FormatError, match="nested.json"):
        check_open_badge_credential(payload, now=NOW)


def test_a_data_integrity_badges_form_is_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from credentials import open_badges

    walks: list[int] = []
    original = open_badges.check_contexts_known
    monkeypatch.setattr(open_badges, "check_contexts_known", lambda credential, loader: walks.append(1) or
                        original(credential, loader=loader))
    document = signed(badge(), cryptosuite="eddsa-jcs-2022")
    result = verify_open_badge(document, resolve_verification_method=resolve_did_verification_method, now=NOW)
    assert (len(walks), result.info.issuer_id, result.info.credential) == (1, ISSUER, document)
