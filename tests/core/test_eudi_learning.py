"""The EUDI learning credential (urn:eu.europa.ec.eudi:learning:credential:1): schema, verifier, Annex I view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credentials.annex_view import stack_summary
from credentials.credential_types import KNOWN_VCTS, sd_jwt_vc_type
from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.errors import InvalidCredentialData, SchemaViolation
from credentials.eudi_learning import (
    EUDI_LEARNING_SELECTIVELY_DISCLOSABLE,
    EUDI_LEARNING_VCT,
    eudi_learning_frame,
    eudi_learning_problems,
    load_eudi_learning_schema,
    validate_eudi_learning_disclosed,
    validate_eudi_learning_for_issue,
)
from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import issue_sd_jwt_vc
from credentials.verification import FAILED, PASSED, SKIPPED, Policy, TrustAnswer, TrustLink, verify_presentation

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "eudi-learning"
TYPE_METADATA = json.loads((VECTORS / "learning_credential.vct.json").read_text())
PYTHON_ISSUER = json.loads((VECTORS / "learning_credential_jwt_vc.eudiw-py.json").read_text())
MOCK = json.loads((VECTORS / "mock-learning-credential.claims.json").read_text())
REGISTERED = ("iss", "iat", "exp", "vct", "jti")
CLAIMS = {k: v for k, v in MOCK.items() if k not in REGISTERED}
NOW = 1_780_000_000
ROOT = "did:web:root.example"
AUDIENCE = "https://employer.example"


# --- the schema against the published definitions -------------------------------------


def _own_claims(metadata: dict) -> dict[str, dict]:
    return {c["path"][0]: c for c in metadata["claims"] if len(c["path"]) == 1
            and c["path"][0] not in (*REGISTERED, "cnf")}


def test_the_schema_has_exactly_the_type_metadata_claims() -> None:
    schema = load_eudi_learning_schema()
    declared = _own_claims(TYPE_METADATA)
    assert TYPE_METADATA["vct"] == EUDI_LEARNING_VCT
    assert set(declared) <= set(schema["properties"])
    assert set(declared) == set(schema["properties"]) - {*REGISTERED, "cnf", "sub", "nbf", "vct#integrity", "status"}
    assert {n for n, c in declared.items() if c["mandatory"]} == set(schema["required"]) - {"iss", "iat", "vct"}
    assert {n for n, c in declared.items() if c["sd"] == "always"} == set(EUDI_LEARNING_SELECTIVELY_DISCLOSABLE)


def test_the_python_reference_issuer_advertises_the_same_claims() -> None:
    (configuration,) = PYTHON_ISSUER.values()
    assert configuration["vct"] == EUDI_LEARNING_VCT
    advertised = {c["path"][0] for c in configuration["credential_metadata"]["claims"]}
    assert advertised == set(_own_claims(TYPE_METADATA))


def test_the_mock_credential_passes_the_issuers_gate() -> None:
    validate_eudi_learning_for_issue(MOCK)
    validate_eudi_learning_disclosed(MOCK)


BAD = [
    ("country-alpha-3", {"issuing_country": "DEU"}, "issuing_country: 'DEU' is not an ISO 3166-1 alpha-2"),
    ("level-9", {"level_of_learning_experience": 9}, "level_of_learning_experience: expected a level from 1 to 8"),
    ("level-as-text", {"level_of_learning_experience": "6"}, "expected integer, found str"),
    ("date-time", {"date_of_issuance": "2026-01-01T00:00:00Z"}, "date_of_issuance: "),
    ("blank-title", {"achievement_title": "   "}, "achievement_title: expected text that is not blank"),
    ("no-language", {"language_of_classes": []}, "language_of_classes: "),
    ("stackability-as-text", {"integration_stackability_options": "Yes"}, "expected boolean"),
    ("other-vct", {"vct": MICRO_CREDENTIAL_VCT}, "vct: expected"),
]


@pytest.mark.parametrize(("change", "words"), [pytest.param(c, w, id=i) for i, c, w in BAD])
def test_bad_claims_are_named(change, words) -> None:
    with pytest.raises(SchemaViolation) as caught:
        validate_eudi_learning_disclosed({**MOCK, **change})
    assert words in caught.value.reason


def test_withheld_claims_are_fine_for_a_verifier_but_not_for_the_issuer() -> None:
    disclosed = {k: v for k, v in MOCK.items() if k not in EUDI_LEARNING_SELECTIVELY_DISCLOSABLE}
    validate_eudi_learning_disclosed(disclosed)
    with pytest.raises(InvalidCredentialData) as caught:
        validate_eudi_learning_for_issue(disclosed)
    assert "family_name: missing" in caught.value.errors
    never = {k: v for k, v in MOCK.items() if k != "issuing_authority"}
    assert eudi_learning_problems(never, disclosed=True) == ["issuing_authority: missing"]


def test_the_frame_makes_the_sd_always_claims_disclosable() -> None:
    assert eudi_learning_frame(CLAIMS) == {"_sd": list(EUDI_LEARNING_SELECTIVELY_DISCLOSABLE)}


# --- the verifier knows the vct ---------------------------------------------------------


class World:
    def __init__(self, max_eqf_level: int | None = None) -> None:
        self.issuer_key = PrivateKey.generate("ES256")
        self.issuer = did_key_from_public_key(self.issuer_key.public_key())
        self.holder_key = PrivateKey.generate("ES256")
        self.max_eqf_level = max_eqf_level

    def trust(self, did, vct, at_time):
        chain = (TrustLink(did, "TUM", "issuer"), TrustLink(ROOT, "Root", "root"))
        return TrustAnswer(True, "accredited", chain, "DE", ROOT, max_eqf_level=self.max_eqf_level)

    def present(self, claims=CLAIMS, disclose=("family_name", "level_of_learning_experience")) -> str:
        issued = issue_sd_jwt_vc(vct=EUDI_LEARNING_VCT, claims=claims, frame=eudi_learning_frame(claims),
                                 issuer_key=self.issuer_key, issuer=self.issuer,
                                 kid=verification_method_id(self.issuer), iat=NOW - 100,
                                 holder_jwk=self.holder_key.public_key().to_jwk())
        return HolderSdJwt.parse(issued.serialization).present_with_key_binding(
            [(name,) for name in disclose], self.holder_key, audience=AUDIENCE, nonce="n-1", iat=NOW - 5)

    def verify(self, presentation, accepted=frozenset({EUDI_LEARNING_VCT})):
        policy = Policy(frozenset({ROOT}), accepted_vcts=accepted, status_required=False)
        return verify_presentation(presentation, policy=policy, trust=self.trust, status=lambda *a: None,
                                   replay=lambda *a: True, now=NOW, nonce="n-1", audience=AUDIENCE)


def test_the_verifier_checks_the_schema_of_an_eudi_learning_credential() -> None:
    world = World()
    result = world.verify(world.present())
    assert result.check("schema").status == PASSED, result.check("schema").detail
    assert "EUDI learning credential" in result.check("schema").detail
    assert result.verified, [(c.check, c.status, c.detail) for c in result.checks]
    assert result.claims["level_of_learning_experience"] == 6


def test_a_disclosed_claim_outside_the_schema_fails_the_schema_check() -> None:
    world = World()
    result = world.verify(world.present({**CLAIMS, "level_of_learning_experience": 12}))
    assert result.check("schema").status == FAILED
    assert "level_of_learning_experience: expected a level from 1 to 8" in result.check("schema").detail
    assert result.verified is False


def test_the_accreditations_eqf_ceiling_applies_to_the_eudi_level_claim() -> None:
    world = World(max_eqf_level=5)
    result = world.verify(world.present())
    assert result.check("issuer_trust").status == FAILED
    assert "accredited up to EQF level 5, not 6" in result.check("issuer_trust").detail


def test_an_unknown_vct_is_still_verified_without_a_schema() -> None:
    world = World()
    claims = {**CLAIMS}
    issued = issue_sd_jwt_vc(vct="urn:example:other:1", claims=claims, frame={"_sd": []},
                             issuer_key=world.issuer_key, issuer=world.issuer, kid=None, iat=NOW - 100,
                             holder_jwk=world.holder_key.public_key().to_jwk())
    presentation = HolderSdJwt.parse(issued.serialization).present_with_key_binding(
        [], world.holder_key, audience=AUDIENCE, nonce="n-1", iat=NOW - 5)
    result = world.verify(presentation, frozenset({"urn:example:other:1"}))
    assert result.check("schema").status == SKIPPED
    assert "no schema is known for urn:example:other:1" in result.check("schema").detail


def test_the_registry() -> None:
    assert KNOWN_VCTS == {MICRO_CREDENTIAL_VCT, EUDI_LEARNING_VCT}
    known = sd_jwt_vc_type(EUDI_LEARNING_VCT)
    assert known is not None
    assert known.eqf_level(CLAIMS) == 6
    assert known.eqf_level({"level_of_learning_experience": True}) is None
    assert sd_jwt_vc_type("urn:example:other:1") is None


# --- the Annex I view --------------------------------------------------------------------


def test_the_annex_view_of_the_mock_credential() -> None:
    known = sd_jwt_vc_type(EUDI_LEARNING_VCT)
    assert known is not None
    view = known.annex_view({**MOCK, "cnf": {"jwk": {}}, "status": {}, "micro_credential_id": "x-17"})
    assert view.kind == "eudi-learning"
    assert [(s.label, s.value, s.path) for s in view.learner] == [
        ("Given name(s)", "Erika", "/given_name"), ("Family name(s)", "Mustermann", "/family_name"),
        ("Learner identification", "0123456", "/learner_identification")]
    assert (view.title.value, view.title.path) == (MOCK["achievement_title"], "/achievement_title")
    (body,) = view.awarding_bodies
    assert (body.name.path, body.country.value) == ("/issuing_authority", "DE")
    assert [(c.value, c.path) for c in view.countries] == [("DE", "/issuing_country")]
    assert (view.issued_on.value, view.issued_on.path) == ("2026-01-01", "/date_of_issuance")
    assert [s.path for s in view.learning_outcomes] == ["/learning_outcomes/0", "/learning_outcomes/1"]
    assert (view.eqf_level.path, view.eqf_level_value) == ("/level_of_learning_experience", 6)
    assert view.ects is None
    assert view.ects_value is None
    assert (view.workload.value, view.workload.path) == ("12 months", "/expected_study_time")
    assert [s.value for s in view.quality_assurance] == ["Institutional Evaluation"]
    assert [s.path for s in view.prerequisites] == ["/prerequisites_to_enroll/0"]
    assert (view.grade.value, view.stackability.value) == ("Excellent", True)
    assert [s.path for s in view.further_information] == ["/achievement_description", "/language_of_classes/0",
                                                          "/date_of_expiry"]
    assert view.assessment is None
    assert view.participation is None
    assert view.identity_verification is None
    more = {s.path: s.value for s in view.more_details}
    assert more == {"/iss": MOCK["iss"], "/iat": MOCK["iat"], "/exp": MOCK["exp"], "/vct": EUDI_LEARNING_VCT,
                    "/jti": MOCK["jti"], "/micro_credential_id": "x-17"}


def test_every_claim_of_the_mock_appears_in_the_view() -> None:
    known = sd_jwt_vc_type(EUDI_LEARNING_VCT)
    assert known is not None
    view = known.annex_view(MOCK)
    shown = {path.split("/")[1] for path in view.paths()}
    assert shown == set(MOCK)
    assert stack_summary([(view, True)]).eqf_max == 6
