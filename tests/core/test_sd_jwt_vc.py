"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): typ, vct, iss, registered claims,
issuer keys from did:key / did:jwk, and the micro-credential end to end."""

from __future__ import annotations

import pytest

from credentials.dids import did_jwk_from_public_key, did_key_from_public_key, verification_method_id
from credentials.errors import (
    DisclosureError,
    FormatError,
    HolderBindingError,
    InvalidInput,
    SchemaViolation,
    SignatureError,
    ValidityPeriodError,
)
from credentials.jose import PrivateKey, sign_jws
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame, validate_disclosed
from credentials.sd_jwt import HolderSdJwt, KeyBindingPolicy, build_sd_payload
from credentials.sd_jwt_vc import (
    issue_sd_jwt_vc,
    resolve_did_issuer_key,
    unverified_issuer_and_type,
    verify_sd_jwt_vc,
)
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS

NOW = 1_780_000_000
CLAIMS = MICRO_CREDENTIAL_CLAIMS
STATUS = {"status_list": {"idx": 4211, "uri": "https://uni.example/status/1"}}


@pytest.fixture(scope="module", params=["did:key ES256", "did:jwk EdDSA"])
def issuer(request):
    alg = "ES256" if "ES256" in request.param else "EdDSA"
    key = PrivateKey.generate(alg)
    make_did = did_key_from_public_key if request.param.startswith("did:key") else did_jwk_from_public_key
    did = make_did(key.public_key())
    return key, did


@pytest.fixture(scope="module")
def holder():
    return PrivateKey.generate("ES256")


def issue(issuer, holder, **overrides):
    key, did = issuer
    arguments = {
        "vct": MICRO_CREDENTIAL_VCT,
        "claims": CLAIMS,
        "frame": disclosure_frame(CLAIMS),
        "issuer_key": key,
        "issuer": did,
        "kid": verification_method_id(did) if "kid" not in overrides else None,
        "iat": NOW,
        "holder_jwk": holder.public_key().to_jwk(),
        "status": STATUS,
    }
    arguments.update(overrides)
    return issue_sd_jwt_vc(**arguments).serialization


def present(serialization, holder, paths, **kb):
    kb = {"audience": "https://employer.example", "nonce": "nonce-1", "iat": NOW, **kb}
    return HolderSdJwt.parse(serialization).present_with_key_binding(paths, holder, **kb)


def test_micro_credential_end_to_end(issuer, holder):
    serialization = issue(issuer, holder)
    presentation = present(serialization, holder, [("title",), ("ects",), ("learning_outcomes", 1)])
    verified = verify_sd_jwt_vc(
        presentation,
        now=NOW,
        key_binding=KeyBindingPolicy(audience="https://employer.example", nonce="nonce-1"),
        accepted_vcts=[MICRO_CREDENTIAL_VCT],
    )
    assert verified.issuer == issuer[1]
    assert verified.vct == MICRO_CREDENTIAL_VCT
    assert verified.disclosed == {
        "title": CLAIMS["title"],
        "ects": 4,
        "learning_outcomes": ["Draft a data protection impact assessment"],
    }
    assert verified.status == STATUS
    assert verified.holder_jwk == holder.public_key().to_jwk()
    assert verified.issued_at == NOW
    validate_disclosed(verified.claims)


def test_registered_claims_stay_visible(issuer, holder):
    payload = HolderSdJwt.parse(issue(issuer, holder, exp=NOW + 3600)).unverified_payload
    for name in ("iss", "iat", "vct", "cnf", "status", "exp"):
        assert name in payload
    assert "title" not in payload
    assert "learner" not in payload


def test_legacy_typ_is_accepted_on_input(issuer, holder):
    key, did = issuer
    payload, disclosures = build_sd_payload({"iss": did, "iat": NOW, "vct": MICRO_CREDENTIAL_VCT, "title": "T"},
                                            {"_sd": ["title"]})
    token = sign_jws(payload, key, header={"typ": "vc+sd-jwt", "kid": verification_method_id(did)})
    serialization = token + "~" + "".join(d.encoded + "~" for d in disclosures)
    assert verify_sd_jwt_vc(serialization, now=NOW, key_binding=None).disclosed == {"title": "T"}


def _hand_made(issuer, payload, header=None, disclosures=()):
    key, did = issuer
    token = sign_jws(payload, key, header=header or {"typ": "dc+sd-jwt", "kid": verification_method_id(did)})
    return token + "~" + "".join(d + "~" for d in disclosures)


@pytest.mark.parametrize(
    "payload, header, message",
    [
        ({"vct": "x", "iat": NOW}, None, "no 'iss'"),
        ({"iss": "ISSUER", "iat": NOW}, None, "no 'vct'"),
        ({"iss": "ISSUER", "vct": "x"}, {"typ": "JWT"}, "typ"),
        ({"iss": "ISSUER", "vct": "x", "status": "revoked"}, None, "'status' claim must be an object"),
    ],
    ids=["no-iss", "no-vct", "wrong-typ", "status-not-object"],
)
def test_format_failures(issuer, payload, header, message):
    payload = {k: (issuer[1] if v == "ISSUER" else v) for k, v in payload.items()}
    with pytest.raises(FormatError, match=message):
        verify_sd_jwt_vc(_hand_made(issuer, payload, header), now=NOW, key_binding=None)


def test_unaccepted_vct_is_refused(issuer, holder):
    with pytest.raises(FormatError, match="not one this verifier accepts"):
        verify_sd_jwt_vc(issue(issuer, holder), now=NOW, key_binding=None, accepted_vcts=["urn:other"])


def test_selectively_disclosed_registered_claim_is_refused(issuer):
    key, did = issuer
    payload, disclosures = build_sd_payload({"iss": did, "vct": "x", "exp": NOW + 10}, {"_sd": ["exp"]})
    with pytest.raises(DisclosureError, match="exp"):
        verify_sd_jwt_vc(_hand_made(issuer, payload, disclosures=[d.encoded for d in disclosures]), now=NOW,
                         key_binding=None)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"claims": {**CLAIMS, "iss": "did:example:x"}}, "as arguments"),
        ({"frame": {**disclosure_frame(CLAIMS), "_sd": ["status"]}}, "must not be selectively disclosable"),
    ],
    ids=["iss-in-claims", "status-in-frame"],
)
def test_issue_refuses_registered_claims_in_claims_or_frame(issuer, holder, overrides, message):
    with pytest.raises(InvalidInput, match=message):
        issue(issuer, holder, **overrides)


def test_signature_by_a_key_not_of_the_issuer_did(issuer, holder):
    other = PrivateKey.generate(issuer[0].alg)
    serialization = issue((other, issuer[1]), holder)
    with pytest.raises(SignatureError, match="does not match"):
        verify_sd_jwt_vc(serialization, now=NOW, key_binding=None)


def test_kid_of_another_did_is_refused(issuer, holder):
    other_did = did_key_from_public_key(PrivateKey.generate().public_key())
    serialization = issue(issuer, holder, kid=verification_method_id(other_did))
    with pytest.raises(SignatureError, match="does not belong to the issuer"):
        verify_sd_jwt_vc(serialization, now=NOW, key_binding=None)


def test_unresolvable_issuer_is_a_signature_failure(holder):
    key = PrivateKey.generate()
    serialization = issue((key, "did:web:uni.example"), holder, kid=None)
    with pytest.raises(SignatureError, match="cannot be resolved"):
        verify_sd_jwt_vc(serialization, now=NOW, key_binding=None)


def test_relative_and_absent_kid_resolve(issuer):
    key, did = issuer
    fragment = verification_method_id(did).split("#", 1)[1]
    assert resolve_did_issuer_key(did, None).jwk == key.public_key().jwk
    assert resolve_did_issuer_key(did, "#" + fragment).jwk == key.public_key().jwk
    with pytest.raises(ValueError, match="fragment"):
        resolve_did_issuer_key(verification_method_id(did), None)


def test_expired_credential(issuer, holder):
    serialization = issue(issuer, holder, exp=NOW - 3600)
    with pytest.raises(ValidityPeriodError, match="expired"):
        verify_sd_jwt_vc(serialization, now=NOW, key_binding=None)


def test_holder_binding_is_required_when_asked(issuer, holder):
    with pytest.raises(HolderBindingError):
        verify_sd_jwt_vc(issue(issuer, holder), now=NOW, key_binding=KeyBindingPolicy())


def test_presentation_by_someone_else_fails_holder_binding(issuer, holder):
    thief = PrivateKey.generate()
    presentation = present(issue(issuer, holder), thief, [("title",)])
    with pytest.raises(HolderBindingError, match="signature"):
        verify_sd_jwt_vc(presentation, now=NOW, key_binding=KeyBindingPolicy())


def test_disclosed_claims_are_checked_against_the_schema(issuer, holder):
    bad = {**CLAIMS, "ects": 75}
    presentation = present(issue(issuer, holder, claims=bad, frame=disclosure_frame(bad)), holder, [("ects",)])
    verified = verify_sd_jwt_vc(presentation, now=NOW, key_binding=KeyBindingPolicy())
    with pytest.raises(SchemaViolation, match="ects"):
        validate_disclosed(verified.claims)


def test_unverified_issuer_and_type(issuer, holder):
    assert unverified_issuer_and_type(issue(issuer, holder)) == (issuer[1], MICRO_CREDENTIAL_VCT)
