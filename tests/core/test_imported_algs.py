"""RS256 / PS256 for imported formats only (issue 12, item 1, JOSE).

``vc+jwt`` and ``jwt_vc_json`` credentials may be signed with RSA keys of at
least 2048 bits (RFC 7518 §3.3, §3.5) resolved from ``did:jwk`` / ``did:key``;
SD-JWT VCs, KB-JWTs and status list tokens stay on ES256 / EdDSA; ``none``,
HMAC and keys from the token's own header stay refused everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from credentials.dids import did_jwk_from_public_key, did_key_from_public_key, resolve_public_key
from credentials.errors import ConfigurationError, InvalidDid, InvalidKey, SignatureError
from credentials.jose import (
    ALLOWED_ALGS,
    IMPORTED_FORMAT_ALGS,
    PrivateKey,
    PublicKey,
    UnverifiedJws,
    b64url_decode,
    b64url_encode,
    json_dumps,
)
from credentials.jwt_vc import JWT_VC_JSON_FORMAT, VC_JWT_FORMAT, verify_jwt_vc
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt_vc import issue_sd_jwt_vc, resolve_did_issuer_key, verify_sd_jwt_vc
from credentials.verification import FAILED, PASSED, Policy, TrustAnswer, TrustLink, verify_presentation
from tests.core.test_dids import rsa_private_key
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
RSA_VECTORS = json.loads((VECTORS / "did-key" / "rsa.json").read_text())
RSA_2048_DID, RSA_4096_DID = sorted(RSA_VECTORS, key=len)
RSA_2048 = rsa_private_key(RSA_VECTORS[RSA_2048_DID]["privateKeyJwk"])
RSA_4096 = rsa_private_key(RSA_VECTORS[RSA_4096_DID]["privateKeyJwk"])
NOW = 1_750_000_000
ROOT = "did:web:root.example"


def rsa_sign(payload: dict, private: rsa.RSAPrivateKey, alg: str, header: dict) -> str:
    """A compact JWS signed with RSA (microcred itself never signs with RSA)."""
    signing_input = (b64url_encode(json_dumps({"alg": alg, **header}).encode()) + "."
                     + b64url_encode(json_dumps(payload).encode()))
    chosen = (padding.PKCS1v15() if alg == "RS256"
              else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32))
    return signing_input + "." + b64url_encode(private.sign(signing_input.encode(), chosen, hashes.SHA256()))


def vcdm2(issuer: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0c4b1d2e-0000-4000-8000-00000000rsa1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "name": "Example University"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
    }


def vcdm11(issuer: str) -> dict:
    return {
        "iss": issuer, "nbf": 1_735_689_600, "iat": 1_735_689_600, "sub": "did:example:learner",
        "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
               "type": ["VerifiableCredential", "VerifiableAttestation"],
               "credentialSubject": {"id": "did:example:learner"}},
    }


# --- the allow-lists ------------------------------------------------------------


def test_the_allow_lists() -> None:
    assert ALLOWED_ALGS == {"ES256", "EdDSA"}
    assert IMPORTED_FORMAT_ALGS == {"ES256", "EdDSA", "RS256", "PS256"}


@pytest.mark.parametrize("widened", [{"none"}, {"HS256"}, {"RS384"}, IMPORTED_FORMAT_ALGS | {"HS512"}])
def test_no_caller_can_widen_the_allow_list_beyond_the_imported_formats(widened) -> None:
    token = rsa_sign(vcdm2(RSA_2048_DID), RSA_2048, "RS256", {"typ": "vc+jwt"})
    with pytest.raises(ConfigurationError, match="can never be allowed"):
        UnverifiedJws.parse(token, allowed_algs=widened)


def test_rfc7515_a2_rs256_verifies_only_under_the_imported_allow_list() -> None:
    vector = json.loads((VECTORS / "rfc7515" / "a2-rs256.json").read_text())
    key = PublicKey.from_jwk(vector["public_jwk"])
    jws = UnverifiedJws.parse(vector["token"], allowed_algs=IMPORTED_FORMAT_ALGS)
    jws.verify_with(key)
    assert jws.header == vector["header"]
    assert jws.payload["iss"] == "joe"
    with pytest.raises(SignatureError, match="only ES256, EdDSA are"):
        UnverifiedJws.parse(vector["token"])
    tampered = vector["token"][:-4] + ("AAAA" if not vector["token"].endswith("AAAA") else "BBBB")
    with pytest.raises(SignatureError, match="does not match"):
        UnverifiedJws.parse(tampered, allowed_algs=IMPORTED_FORMAT_ALGS).verify_with(key)


# --- RSA keys ---------------------------------------------------------------------


def _small_rsa_jwk(bits: int) -> dict:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_numbers()
    length = (numbers.n.bit_length() + 7) // 8
    return {"kty": "RSA", "n": b64url_encode(numbers.n.to_bytes(length, "big")), "e": "AQAB"}


def test_a_1024_bit_rsa_key_is_refused_everywhere() -> None:
    jwk = _small_rsa_jwk(1024)
    with pytest.raises(InvalidKey, match="1024 bits; expected 2048 to 8192"):
        PublicKey.from_jwk(jwk)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidKey, match="1024 bits; at least 2048"):
        PublicKey.from_cryptography(small.public_key())
    did = "did:jwk:" + b64url_encode(json_dumps(jwk).encode())
    with pytest.raises(InvalidDid, match="1024 bits"):
        resolve_public_key(did)
    token = rsa_sign(vcdm2(did), small, "RS256", {"typ": "vc+jwt", "kid": did + "#0"})
    with pytest.raises(SignatureError, match="1024 bits"):
        verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)


def test_rsa_jwk_members_must_be_minimal_and_canonical() -> None:
    jwk = PublicKey.from_cryptography(RSA_2048.public_key()).to_jwk()
    padded = {**jwk, "n": b64url_encode(b"\x00" + b64url_decode(jwk["n"]))}
    with pytest.raises(InvalidKey, match="leading zero"):
        PublicKey.from_jwk(padded)
    with pytest.raises(InvalidKey, match="declares alg 'ES256'"):
        PublicKey.from_jwk({**jwk, "alg": "ES256"})
    with pytest.raises(InvalidKey, match="'e' is missing"):
        PublicKey.from_jwk({"kty": "RSA", "n": jwk["n"]})


def test_microcred_never_signs_with_rsa() -> None:
    private_jwk = RSA_VECTORS[RSA_2048_DID]["privateKeyJwk"]
    with pytest.raises(InvalidKey, match="signs with P-256 or Ed25519 only"):
        PrivateKey.from_jwk(private_jwk)
    with pytest.raises(InvalidKey, match="P-256 or Ed25519"):
        PrivateKey.from_cryptography(RSA_2048)


@pytest.mark.parametrize("did", [RSA_2048_DID, RSA_4096_DID], ids=["2048", "4096"])
def test_rsa_did_key_and_did_jwk_resolve_to_the_same_key(did) -> None:
    key = resolve_public_key(did)
    assert key.is_rsa
    assert key.algs == {"RS256", "PS256"}
    assert key.to_jwk() == RSA_VECTORS[did]["publicKeyJwk"]
    assert resolve_public_key(did_jwk_from_public_key(key)).to_jwk() == key.to_jwk()
    assert did_key_from_public_key(key) == did


# --- vc+jwt and jwt_vc_json signed with RSA ------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
@pytest.mark.parametrize("method", ["did:key", "did:jwk"])
def test_vc_jwt_signed_with_rsa_verifies(alg, method) -> None:
    public = PublicKey.from_cryptography(RSA_2048.public_key())
    issuer = RSA_2048_DID if method == "did:key" else did_jwk_from_public_key(public)
    kid = f"{issuer}#{issuer.removeprefix('did:key:')}" if method == "did:key" else issuer + "#0"
    token = rsa_sign(vcdm2(issuer), RSA_2048, alg, {"typ": "vc+jwt", "kid": kid})
    verified = verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)
    assert (verified.format, verified.alg, verified.issuer_id) == (VC_JWT_FORMAT, alg, issuer)


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_jwt_vc_json_signed_with_a_4096_bit_key_verifies(alg) -> None:
    token = rsa_sign(vcdm11(RSA_4096_DID), RSA_4096, alg, {"typ": "JWT"})
    verified = verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)
    assert (verified.format, verified.alg, verified.subject_id) == (JWT_VC_JSON_FORMAT, alg, "did:example:learner")


def test_a_key_pinned_to_rs256_does_not_verify_ps256() -> None:
    jwk = {**PublicKey.from_cryptography(RSA_2048.public_key()).to_jwk(), "alg": "RS256"}
    issuer = "did:jwk:" + b64url_encode(json_dumps(jwk).encode())
    token = rsa_sign(vcdm2(issuer), RSA_2048, "PS256", {"typ": "vc+jwt", "kid": issuer + "#0"})
    with pytest.raises(SignatureError, match="signed with PS256 but the key is for RS256"):
        verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)


def test_rs256_signature_presented_as_ps256_fails() -> None:
    token = rsa_sign(vcdm2(RSA_2048_DID), RSA_2048, "RS256", {"typ": "vc+jwt"})
    header, payload, signature = token.split(".")
    relabelled = b64url_encode(json_dumps({"alg": "PS256", "typ": "vc+jwt"}).encode())
    with pytest.raises(SignatureError, match="does not match"):
        verify_jwt_vc(f"{relabelled}.{payload}.{signature}", resolve_issuer_key=resolve_did_issuer_key, now=NOW)


def test_an_ec_issuer_cannot_be_answered_with_an_rsa_signature() -> None:
    ec_key = PrivateKey.generate("ES256")
    issuer = did_key_from_public_key(ec_key.public_key())
    token = rsa_sign(vcdm2(issuer), RSA_2048, "RS256", {"typ": "vc+jwt"})
    with pytest.raises(SignatureError, match="signed with RS256 but the key is for ES256"):
        verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "PS384"])
def test_none_hmac_and_other_rsa_algorithms_stay_refused_for_jwt_vcs(alg) -> None:
    header = b64url_encode(json_dumps({"alg": alg, "typ": "vc+jwt"}).encode())
    token = f"{header}.{b64url_encode(json_dumps(vcdm2(RSA_2048_DID)).encode())}.{b64url_encode(b'x' * 256)}"
    with pytest.raises(SignatureError, match="only ES256, EdDSA, PS256, RS256"):
        verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)


# --- through the verifier core ---------------------------------------------------------


def _trust(did, vct, at_time):
    chain = (TrustLink(did, "Example University", "issuer"), TrustLink(ROOT, "Root", "root"))
    return TrustAnswer(True, "accredited", chain, "IT", ROOT, None, 8)


def _verify(presentation: str, accepted: frozenset[str]):
    policy = Policy(frozenset({ROOT}), accepted_vcts=accepted, status_required=False)
    return verify_presentation(presentation, policy=policy, trust=_trust, status=lambda *a: None,
                               replay=lambda *a: True, now=NOW)


def test_the_verifier_accepts_an_rs256_jwt_vc() -> None:
    # not typed OpenBadgeCredential: a badge must also have the OB 3.0 form (tests/verifier/test_imported_core.py)
    plain = {**vcdm2(RSA_2048_DID), "type": ["VerifiableCredential", "ExampleAchievement"]}
    token = rsa_sign(plain, RSA_2048, "RS256", {"typ": "vc+jwt"})
    result = _verify(token, frozenset({"ExampleAchievement"}))
    assert result.check("signature").status == PASSED, result.check("signature").detail
    assert result.check("signature").detail.startswith("RS256")
    assert result.verified, [(c.check, c.status, c.detail) for c in result.checks]


def test_the_verifier_still_refuses_a_key_in_the_jwt_vc_header() -> None:
    jwk = PublicKey.from_cryptography(RSA_2048.public_key()).to_jwk()
    token = rsa_sign(vcdm2(RSA_2048_DID), RSA_2048, "RS256", {"typ": "vc+jwt", "jwk": jwk})
    result = _verify(token, frozenset({"OpenBadgeCredential"}))
    assert result.check("signature").status == FAILED
    assert "own header" in result.check("signature").detail


def _rsa_signed_sd_jwt_vc() -> tuple[str, PublicKey]:
    """A well-formed SD-JWT VC whose issuer-signed JWT is re-signed RS256 by an RSA did:key issuer."""
    claims = MICRO_CREDENTIAL_CLAIMS
    issued = issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims=claims, frame=disclosure_frame(claims),
                             issuer_key=PrivateKey.generate("ES256"), issuer=RSA_2048_DID, kid=None, iat=NOW - 100)
    issuer_jwt, rest = issued.serialization.split("~", 1)
    header, payload, _ = issuer_jwt.split(".")
    resigned = rsa_sign(json.loads(b64url_decode(payload)), RSA_2048, "RS256",
                        {"typ": json.loads(b64url_decode(header))["typ"]})
    return resigned + "~" + rest, resolve_public_key(RSA_2048_DID)


def test_an_sd_jwt_vc_signed_rs256_is_refused() -> None:
    serialization, rsa_key = _rsa_signed_sd_jwt_vc()
    with pytest.raises(SignatureError, match="uses algorithm 'RS256'; only ES256, EdDSA are"):
        verify_sd_jwt_vc(serialization, resolve_issuer_key=lambda iss, kid: rsa_key, now=NOW, key_binding=None)
    result = _verify(serialization, frozenset({MICRO_CREDENTIAL_VCT}))
    assert result.verified is False
    assert result.check("signature").status == FAILED
    assert "RS256" in result.check("signature").detail


def test_an_oversized_rsa_modulus_is_refused_before_any_arithmetic() -> None:
    n = (1 << 8195) | 1  # not a real key: refused on its size alone
    jwk = {"kty": "RSA", "n": b64url_encode(n.to_bytes(1025, "big")), "e": "AQAB"}
    with pytest.raises(InvalidKey, match="8196 bits; expected 2048 to 8192"):
        PublicKey.from_jwk(jwk)
    with pytest.raises(InvalidKey, match="longer than any accepted key"):
        PublicKey.from_jwk({**jwk, "n": "A" * 5000})
