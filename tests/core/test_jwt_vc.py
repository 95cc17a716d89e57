"""W3C VCs secured as JWT (credentials.jwt_vc): vectors, rules, tampering."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import errors
from credentials.errors import FormatError, InvalidDid, SignatureError, ValidityPeriodError, VerificationError
from credentials.jose import (
    IMPORTED_FORMAT_ALGS,
    PrivateKey,
    PublicKey,
    UnverifiedJws,
    b64url_decode,
    b64url_encode,
    json_dumps,
    sign_jws,
)
from credentials.jwt_vc import (
    JWT_VC_JSON_FORMAT,
    VC_JWT_FORMAT,
    sign_jwt_vc_json,
    sign_vc_jwt,
    verify_jwt_vc,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
VECTOR_DIRS = ("vc-jose-cose", "vcdm11-jwt")
W3C_KEY = PublicKey.from_jwk(json.loads((VECTORS / "vc-jose-cose" / "issuer-key.public.jwk.json").read_text()))

ISSUER_KEY = PrivateKey.generate("ES256")
OTHER_KEY = PrivateKey.generate("ES256")
ISSUER = "did:jwk:issuer-under-test"
KID = ISSUER + "#0"
HOLDER = "did:key:z6MkHolder"
NOW = 1_750_000_000


def _cases() -> list:
    cases = []
    for folder in VECTOR_DIRS:
        expected = json.loads((VECTORS / folder / "expected.json").read_text())
        for name, spec in sorted(expected.items()):
            cases.append(pytest.param(folder, name, spec, id=f"{folder}/{name}"))
    return cases


@pytest.mark.parametrize(("folder", "name", "spec"), _cases())
def test_published_vectors(folder: str, name: str, spec: dict) -> None:
    token = (VECTORS / folder / name).read_text().strip()
    resolve = lambda issuer, kid: W3C_KEY  # noqa: E731 - the published key, whoever asks
    if spec["outcome"] == "verified":
        result = verify_jwt_vc(token, resolve_issuer_key=resolve, now=spec["now"])
        assert (result.format, result.issuer_id, result.subject_id) == (
            spec["format"], spec["issuer"], spec["subject"]
        )
    else:
        with pytest.raises(getattr(errors, spec["outcome"])) as caught:
            verify_jwt_vc(token, resolve_issuer_key=resolve, now=spec["now"])
        assert spec["reason_contains"] in caught.value.reason


def test_the_vcdm11_vector_has_a_valid_signature_and_fails_only_on_consistency() -> None:
    token = (VECTORS / "vc-jose-cose" / "vc-1.1-verifiable-credential.jwt").read_text().strip()
    jws = UnverifiedJws.parse(token)
    jws.verify_with(W3C_KEY)
    with pytest.raises(FormatError, match="issuanceDate"):
        verify_jwt_vc(token, resolve_issuer_key=lambda i, k: W3C_KEY, now=1674773411)


def test_the_vcdm11_spec_payload_decodes_per_section_6_3_1() -> None:
    token = (VECTORS / "vcdm11-jwt" / "rs256-degree.jwt").read_text().strip()
    _, payload_b64, _ = token.split(".")
    payload = json.loads(b64url_decode(payload_b64))
    resigned = sign_jws(payload, ISSUER_KEY, header={"typ": "JWT", "kid": "https://example.com/keys/foo.jwk#1"})
    result = verify_jwt_vc(resigned, resolve_issuer_key=_resolver(), now=payload["iat"])
    assert result.format == JWT_VC_JSON_FORMAT
    assert result.issuer_id == "https://example.com/keys/foo.jwk"
    assert result.subject_id == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert result.credential["id"] == "http://example.edu/credentials/3732"
    assert result.credential["issuer"] == result.issuer_id
    assert result.credential["credentialSubject"]["id"] == result.subject_id
    assert (result.valid_from, result.valid_until) == (1541493724, 1573029723)
    with pytest.raises(ValidityPeriodError, match="expired"):
        verify_jwt_vc(resigned, resolve_issuer_key=_resolver(), now=1573029723 + 61)


def _resolver(key: PrivateKey = ISSUER_KEY):
    public = key.public_key()

    def resolve(issuer: str, kid: str | None) -> PublicKey:
        return public

    return resolve


def _strict_resolver(issuer: str, kid: str | None) -> PublicKey:
    if issuer != ISSUER:
        raise InvalidDid(f"unknown issuer {issuer!r}")
    return ISSUER_KEY.public_key()


def vcdm2(**changes) -> dict:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:5b1f2c3d-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "MicroCredential"],
        "issuer": {"id": ISSUER, "name": "Università di Esempio"},
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER, "title": "Data literacy"},
        "credentialStatus": {
            "id": "https://issuer.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://issuer.example/status/1",
        },
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not None}


def vcdm11(**changes) -> dict:
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:5b1f2c3d-0000-4000-8000-000000000002",
        "type": ["VerifiableCredential", "VerifiableAttestation"],
        "issuer": ISSUER,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "validFrom": "2025-01-01T00:00:00Z",
        "expirationDate": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER},
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not None}


def test_vc_jwt_round_trip() -> None:
    token = sign_vc_jwt(vcdm2(), ISSUER_KEY, kid=KID)
    result = verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW)
    assert result.format == VC_JWT_FORMAT
    assert (result.issuer_id, result.subject_id, result.kid, result.alg) == (ISSUER, HOLDER, KID, "ES256")
    assert (result.valid_from, result.valid_until) == (1735689600, 1893456000)
    assert result.status[0]["statusListIndex"] == "94567"
    assert result.credential == vcdm2()
    header = UnverifiedJws.parse(token).header
    assert (header["typ"], header["cty"]) == ("vc+jwt", "vc")


def test_jwt_vc_json_round_trip_with_eddsa() -> None:
    key = PrivateKey.generate("EdDSA")
    token = sign_jwt_vc_json(vcdm11(), key, kid=KID, iat=1735689600, exp=1893456000, jti=vcdm11()["id"])
    result = verify_jwt_vc(token, resolve_issuer_key=_resolver(key), now=NOW)
    assert result.format == JWT_VC_JSON_FORMAT
    assert (result.issuer_id, result.subject_id, result.alg) == (ISSUER, HOLDER, "EdDSA")
    assert (result.valid_from, result.valid_until, result.status) == (1735689600, 1893456000, ())
    payload = UnverifiedJws.parse(token).payload
    assert (payload["iss"], payload["sub"], payload["nbf"]) == (ISSUER, HOLDER, 1735689600)


def test_jwt_vc_json_without_dates_takes_nbf_from_iat() -> None:
    credential = vcdm11(issuanceDate=None, validFrom=None, expirationDate=None, credentialSubject={"name": "x"})
    token = sign_jwt_vc_json(credential, ISSUER_KEY, kid=KID, iat=NOW - 10, exp=None, jti=None)
    result = verify_jwt_vc(token, resolve_issuer_key=_resolver(), now=NOW)
    assert (result.valid_from, result.valid_until, result.subject_id) == (NOW - 10, None, None)


def _raw(header: dict, payload: dict, key: PrivateKey = ISSUER_KEY) -> str:
    return sign_jws(payload, key, header=header)


def _vc11_payload(**changes) -> dict:
    payload = {"iss": ISSUER, "sub": HOLDER, "iat": 1735689600, "nbf": 1735689600, "exp": 1893456000,
               "jti": vcdm11()["id"], "vc": vcdm11()}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


REJECTED = [
    # (id, header, payload, error class, words in the reason)
    ("vc2-wrong-context", {"typ": "vc+jwt"}, vcdm2(**{"@context": ["https://www.w3.org/2018/credentials/v1"]}),
     FormatError, "@context"),
    ("vc2-no-vc-type", {"typ": "vc+jwt"}, vcdm2(type=["MicroCredential"]), FormatError, "VerifiableCredential"),
    ("vc2-type-not-strings", {"typ": "vc+jwt"}, vcdm2(type=[1]), FormatError, "'type'"),
    ("vc2-no-issuer", {"typ": "vc+jwt"}, vcdm2(issuer=None), FormatError, "issuer"),
    ("vc2-issuer-object-without-id", {"typ": "vc+jwt"}, vcdm2(issuer={"name": "x"}), FormatError, "issuer"),
    ("vc2-no-subject", {"typ": "vc+jwt"}, vcdm2(credentialSubject=None), FormatError, "credentialSubject"),
    ("vc2-subject-id-not-string", {"typ": "vc+jwt"}, vcdm2(credentialSubject={"id": 5}), FormatError, "id"),
    ("vc2-vc-claim-inside", {"typ": "vc+jwt"}, vcdm2(vc={}), FormatError, "'vc' claim"),
    ("vc2-bad-cty", {"typ": "vc+jwt", "cty": "json"}, vcdm2(), FormatError, "cty"),
    ("vc2-typ-jwt", {"typ": "JWT"}, vcdm2(), FormatError, "typ"),
    ("vc2-iss-conflict", {"typ": "vc+jwt"}, vcdm2(iss="did:key:zOther"), FormatError, "'iss'"),
    ("vc2-sub-conflict", {"typ": "vc+jwt"}, vcdm2(sub="did:key:zOther"), FormatError, "'sub'"),
    ("vc2-exp-conflict", {"typ": "vc+jwt"}, vcdm2(exp=1893456001), FormatError, "'exp'"),
    ("vc2-date-no-zone", {"typ": "vc+jwt"}, vcdm2(validFrom="2025-01-01T00:00:00"), FormatError, "time zone"),
    ("vc2-date-only", {"typ": "vc+jwt"}, vcdm2(validFrom="2025-01-01"), FormatError, "time zone"),
    ("vc2-date-garbage", {"typ": "vc+jwt"}, vcdm2(validFrom="yesterday"), FormatError, "date-time"),
    ("vc2-date-number", {"typ": "vc+jwt"}, vcdm2(validUntil=1893456000), FormatError, "date-time"),
    ("vc2-status-without-type", {"typ": "vc+jwt"}, vcdm2(credentialStatus=[{"id": "x"}]), FormatError,
     "credentialStatus"),
    ("vc2-not-yet-valid", {"typ": "vc+jwt"}, vcdm2(validFrom="2026-01-01T00:00:00Z"), ValidityPeriodError,
     "valid from"),
    ("vc2-expired", {"typ": "vc+jwt"}, vcdm2(validUntil="2025-06-01T00:00:00Z"), ValidityPeriodError, "expired"),
    ("vc2-issued-in-future", {"typ": "vc+jwt"}, vcdm2(iat=NOW + 3600), ValidityPeriodError, "future"),
    ("vc2-kid-other-did", {"typ": "vc+jwt", "kid": "did:key:zMallory#0"}, vcdm2(), SignatureError, "does not belong"),
    ("vc2-kid-url-for-did-issuer", {"typ": "vc+jwt", "kid": "https://evil.example/k"}, vcdm2(), SignatureError,
     "does not belong"),
    ("vc2-kid-not-string", {"typ": "vc+jwt", "kid": 7}, vcdm2(), FormatError, "kid"),
    ("vc11-typ-wrong", {"typ": "vc+sd-jwt"}, _vc11_payload(), FormatError, "typ"),
    ("vc11-vc-not-object", {"typ": "JWT"}, _vc11_payload(vc="x"), FormatError, "'vc' claim"),
    ("vc11-wrong-context", {"typ": "JWT"},
     _vc11_payload(vc=vcdm11(**{"@context": ["https://www.w3.org/ns/credentials/v2"]})), FormatError, "@context"),
    ("vc11-no-iss", {"typ": "JWT"}, _vc11_payload(iss=None), FormatError, "'iss'"),
    ("vc11-sub-not-string", {"typ": "JWT"}, _vc11_payload(sub=5), FormatError, "'sub'"),
    ("vc11-iss-conflict", {"typ": "JWT"}, _vc11_payload(vc=vcdm11(issuer={"id": "did:key:zOther"})), FormatError,
     "'iss'"),
    ("vc11-sub-conflict", {"typ": "JWT"}, _vc11_payload(sub="did:key:zOther"), FormatError, "'sub'"),
    ("vc11-jti-conflict", {"typ": "JWT"}, _vc11_payload(jti="urn:uuid:other"), FormatError, "'jti'"),
    ("vc11-nbf-conflict", {"typ": "JWT"}, _vc11_payload(nbf=1735689601), FormatError, "validFrom"),
    ("vc11-exp-conflict", {"typ": "JWT"}, _vc11_payload(exp=1893456001), FormatError, "expirationDate"),
    ("vc11-nbf-not-number", {"typ": "JWT"}, _vc11_payload(nbf="1735689600"), ValidityPeriodError,
     "NumericDate"),
    ("vc11-nbf-bool", {"typ": "JWT"}, _vc11_payload(nbf=True), ValidityPeriodError, "NumericDate"),
    ("vc11-no-start", {}, _vc11_payload(nbf=None, vc=vcdm11(issuanceDate=None, validFrom=None)), FormatError, "nbf"),
    ("vc11-expired", {"typ": "JWT"}, _vc11_payload(exp=NOW - 61, vc=vcdm11(expirationDate=None)),
     ValidityPeriodError, "expired"),
]


@pytest.mark.parametrize(("header", "payload", "error", "words"), [c[1:] for c in REJECTED],
                         ids=[c[0] for c in REJECTED])
def test_rejected(header: dict, payload: dict, error: type, words: str) -> None:
    token = _raw({"kid": KID, **header}, payload)
    with pytest.raises(error) as caught:
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW)
    assert words in caught.value.reason


def test_leeway_is_applied_both_ways() -> None:
    token = sign_vc_jwt(vcdm2(validFrom="2025-06-15T15:06:40Z", validUntil="2025-06-15T15:07:40Z"), ISSUER_KEY,
                        kid=KID)
    # validFrom is 1750000000 = NOW; validUntil NOW + 60
    verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW - 60)
    verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW + 119)
    with pytest.raises(ValidityPeriodError):
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW - 61)
    with pytest.raises(ValidityPeriodError):
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW + 120)
    with pytest.raises(ValidityPeriodError):
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW + 61, leeway=0)


def test_wrong_key_fails_the_signature_check() -> None:
    token = sign_vc_jwt(vcdm2(), OTHER_KEY, kid=KID)
    with pytest.raises(SignatureError, match="does not match"):
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW)


def test_key_of_the_other_algorithm_fails_the_signature_check() -> None:
    token = sign_vc_jwt(vcdm2(), ISSUER_KEY, kid=KID)
    with pytest.raises(SignatureError, match="EdDSA"):
        verify_jwt_vc(token, resolve_issuer_key=_resolver(PrivateKey.generate("EdDSA")), now=NOW)


def test_unresolvable_issuer_fails_the_signature_check() -> None:
    token = sign_vc_jwt(vcdm2(issuer="did:jwk:unknown"), ISSUER_KEY, kid="did:jwk:unknown#0")
    with pytest.raises(SignatureError, match="cannot resolve"):
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW)


def test_resolver_returning_no_key_fails_closed() -> None:
    token = sign_vc_jwt(vcdm2(), ISSUER_KEY, kid=KID)
    with pytest.raises(SignatureError, match="no usable key"):
        verify_jwt_vc(token, resolve_issuer_key=lambda issuer, kid: None, now=NOW)


def test_resolver_gets_issuer_and_kid() -> None:
    seen = []

    def resolve(issuer: str, kid: str | None) -> PublicKey:
        seen.append((issuer, kid))
        return ISSUER_KEY.public_key()

    verify_jwt_vc(sign_vc_jwt(vcdm2(), ISSUER_KEY, kid="#0"), resolve_issuer_key=resolve, now=NOW)
    verify_jwt_vc(_raw({"typ": "vc+jwt"}, vcdm2()), resolve_issuer_key=resolve, now=NOW)
    assert seen == [(ISSUER, "#0"), (ISSUER, None)]


def test_https_issuer_may_use_any_kid() -> None:
    credential = vcdm2(issuer="https://uni.example/issuer")
    token = sign_vc_jwt(credential, ISSUER_KEY, kid="https://uni.example/keys#1")
    assert verify_jwt_vc(token, resolve_issuer_key=_resolver(), now=NOW).issuer_id == "https://uni.example/issuer"


def _forged(alg: str, signature: bytes = b"sig") -> str:
    header = b64url_encode(json_dumps({"alg": alg, "typ": "vc+jwt", "kid": KID}).encode())
    payload = b64url_encode(json_dumps(vcdm2()).encode())
    return f"{header}.{payload}.{b64url_encode(signature)}"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS384", "PS512", "ES384", "ES256K", None])
def test_algorithms_outside_the_allow_list_fail_the_signature_check(alg) -> None:
    with pytest.raises(SignatureError, match="only ES256, EdDSA, PS256, RS256"):
        verify_jwt_vc(_forged(alg), resolve_issuer_key=_strict_resolver, now=NOW)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!!.e30.AA", 42, "x" * 300_000])
def test_malformed_tokens_fail_the_format_check(token) -> None:
    with pytest.raises(FormatError):
        verify_jwt_vc(token, resolve_issuer_key=_strict_resolver, now=NOW)


def test_signing_needs_an_issuer() -> None:
    with pytest.raises(FormatError, match="issuer"):
        sign_jwt_vc_json(vcdm11(issuer=None), ISSUER_KEY, kid=KID, iat=NOW)


SIGNED = {
    VC_JWT_FORMAT: sign_vc_jwt(vcdm2(), ISSUER_KEY, kid=KID),
    JWT_VC_JSON_FORMAT: sign_jwt_vc_json(vcdm11(), ISSUER_KEY, kid=KID, iat=1735689600, exp=1893456000, jti="urn:x"),
}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(form=st.sampled_from(sorted(SIGNED)), data=st.data())
def test_any_changed_byte_is_rejected_with_a_verification_error(form: str, data) -> None:
    token = SIGNED[form]
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[position]))
    tampered = token[:position] + replacement + token[position + 1:]
    with pytest.raises(VerificationError):
        verify_jwt_vc(tampered, resolve_issuer_key=_strict_resolver, now=NOW)


@settings(max_examples=50, deadline=None)
@given(
    name=st.text(max_size=40),
    valid_from=st.integers(min_value=0, max_value=NOW),
    lifetime=st.integers(min_value=61, max_value=10**9),
    alg=st.sampled_from(["ES256", "EdDSA"]),
)
def test_round_trip_property(name: str, valid_from: int, lifetime: int, alg: str) -> None:
    from datetime import datetime

    def stamp(epoch: int) -> str:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    key = PrivateKey.generate(alg)
    credential = vcdm2(validFrom=stamp(valid_from), validUntil=stamp(NOW + lifetime),
                       credentialSubject={"id": HOLDER, "name": name})
    result = verify_jwt_vc(sign_vc_jwt(credential, key, kid=KID), resolve_issuer_key=_resolver(key), now=NOW)
    assert result.credential == credential
    assert (result.valid_from, result.valid_until) == (valid_from, NOW + lifetime)


def test_a_token_already_parsed_by_the_caller_verifies_the_same() -> None:
    token = sign_vc_jwt(vcdm2(), ISSUER_KEY, kid=KID)
    parsed = UnverifiedJws.parse(token, what="JWT", allowed_algs=IMPORTED_FORMAT_ALGS)
    assert verify_jwt_vc(parsed, resolve_issuer_key=_strict_resolver, now=NOW) == verify_jwt_vc(
        token, resolve_issuer_key=_strict_resolver, now=NOW)
    forged = sign_vc_jwt(vcdm2(), OTHER_KEY, kid=KID)
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_jwt_vc(UnverifiedJws.parse(forged, allowed_algs=IMPORTED_FORMAT_ALGS),
                      resolve_issuer_key=_strict_resolver, now=NOW)


@pytest.mark.parametrize("alg", ["none", "HS256", "ES384", None])
def test_a_parsed_token_built_around_the_allow_list_is_refused(alg: str | None) -> None:
    genuine = UnverifiedJws.parse(sign_vc_jwt(vcdm2(), ISSUER_KEY, kid=KID))
    crafted = UnverifiedJws({**genuine.header, "alg": alg}, genuine.payload, genuine.signing_input, genuine.signature)
    with pytest.raises(SignatureError, match="only .*are accepted"):
        verify_jwt_vc(crafted, resolve_issuer_key=_strict_resolver, now=NOW)
