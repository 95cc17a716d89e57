"""Batch issuing's serialization-only path (RFC 9901 §4.2.1 salts, §4.2.3 digests) against the full one.

``sign_sd_jwt`` / ``sign_sd_jwt_vc`` give what ``issue_sd_jwt(...).serialization``
gives without building a ``Disclosure`` object per disclosure; salts are
drawn 32 at a time and base64url-encoded in one call. These tests pin that
the shortcut changes nothing a verifier or the holder can see.
"""

from __future__ import annotations

import base64
import copy
import os

import pytest

from credentials.errors import HolderBindingError, InvalidInput
from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt import KeyBindingPolicy, issue_sd_jwt
from credentials.sd_jwt.common import Disclosure, digest_of
from credentials.sd_jwt.issuer import build_sd_payload, sign_sd_jwt
from credentials.sd_jwt_vc import issue_sd_jwt_vc, sign_sd_jwt_vc, verify_sd_jwt_vc
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS

NOW = 1_790_000_000


def _counting_random() -> tuple[list[int], object]:
    calls: list[int] = []

    def random_bytes(n: int) -> bytes:
        calls.append(n)
        return os.urandom(n)

    return calls, random_bytes


def test_each_salt_is_the_unpadded_base64url_of_16_bytes_the_random_source_gave():
    source = bytes(range(256)) * 3
    payload, disclosures = build_sd_payload({"a": 1, "b": 2, "c": 3}, {"_sd": ["a", "b", "c"]},
                                            random_bytes=lambda n: source[:n])
    salts = [d.salt for d in disclosures]
    # 18 bytes per salt are drawn; the first 16 of each are the salt, the two after it are not used.
    expected = [base64.urlsafe_b64encode(source[18 * i:18 * i + 16]).decode().rstrip("=") for i in range(3)]
    assert salts == expected


def test_salts_are_distinct_128_bit_and_canonical_across_a_refill():
    claims = {f"c{i}": i for i in range(70)}
    calls, random_bytes = _counting_random()
    _, disclosures = build_sd_payload(claims, {"_sd": list(claims)}, random_bytes=random_bytes)
    salts = [d.salt for d in disclosures]
    assert len(set(salts)) == 70
    for salt in salts:
        raw = base64.urlsafe_b64decode(salt + "==")
        assert len(raw) == 16
        assert base64.urlsafe_b64encode(raw).decode().rstrip("=") == salt
    assert len(calls) == 3  # 32 salts per call


def test_a_random_source_giving_too_few_bytes_is_refused():
    with pytest.raises(InvalidInput, match="random bytes"):
        build_sd_payload({"a": 1}, {"_sd": ["a"]}, random_bytes=lambda n: b"\x00" * (n - 1))


def test_sign_sd_jwt_is_issue_sd_jwt_serialization_for_the_same_salts():
    key = PrivateKey.generate()
    claims = {"given": "Ada", "n": 3, "ok": True, "nested": {"x": "y"}, "list": ["p", 1.5, None]}
    frame = {"_sd": ["given", "n", "ok", "nested", "list"], "nested": {"_sd": ["x"]}, "list": {"_sd": [0, 1, 2]}}
    pool = os.urandom(18 * 32)
    full = issue_sd_jwt(claims, frame, key, random_bytes=lambda n: pool[:n])
    short = sign_sd_jwt(claims, frame, key, random_bytes=lambda n: pool[:n])
    # ES256 signatures are randomised: compare everything but the issuer JWT's signature.
    assert short.split("~")[1:] == full.serialization.split("~")[1:]
    assert short.split("~")[0].rsplit(".", 1)[0] == full.serialization.split("~")[0].rsplit(".", 1)[0]
    digests = {digest_of(encoded) for encoded in short.split("~")[1:-1]}
    assert digests == {digest_of(d.encoded) for d in full.disclosures}
    assert [Disclosure.parse(encoded).value for encoded in short.split("~")[1:-1]] == [
        d.value for d in full.disclosures]


def test_sign_sd_jwt_vc_of_a_micro_credential_verifies_with_every_claim():
    issuer_key, holder_key = PrivateKey.generate(), PrivateKey.generate()
    claims = copy.deepcopy(MICRO_CREDENTIAL_CLAIMS)
    arguments = {"vct": MICRO_CREDENTIAL_VCT, "claims": claims, "frame": disclosure_frame(claims),
                 "issuer_key": issuer_key, "issuer": "did:example:uni", "kid": None, "iat": NOW,
                 "holder_jwk": holder_key.public_key().to_jwk()}
    serialization = sign_sd_jwt_vc(**arguments)
    reference = issue_sd_jwt_vc(**arguments).serialization
    assert serialization.count("~") == reference.count("~")
    verified = verify_sd_jwt_vc(serialization, resolve_issuer_key=lambda iss, kid: issuer_key.public_key(), now=NOW,
                                key_binding=None)
    assert verified.disclosed == claims
    assert verified.holder_jwk == holder_key.public_key().to_jwk()


@pytest.mark.parametrize("bad", [{"_sd": ["given", 3]}, {"_sd": "given"}, {"_sd": ["missing"]}, {"missing": {}}])
def test_bad_object_frames_are_refused_on_both_paths(bad):
    key = PrivateKey.generate()
    with pytest.raises(InvalidInput):
        issue_sd_jwt({"given": "Ada"}, bad, key)
    with pytest.raises(InvalidInput):
        sign_sd_jwt({"given": "Ada"}, bad, key)


@pytest.mark.parametrize("bad", [{"_sd": [True]}, {"_sd": [2]}, {"_sd": [-1]}, {"_sd": ["0"]}, {"5": {}}])
def test_bad_array_frames_are_refused(bad):
    with pytest.raises(InvalidInput):
        build_sd_payload({"list": ["a", "b"]}, {"list": bad})


def test_a_reserved_claim_name_is_refused_first_in_claim_order():
    with pytest.raises(InvalidInput, match="'_sd'"):
        build_sd_payload({"a": 1, "_sd": [], "...": 2}, {"_sd": ["a"]})
    with pytest.raises(InvalidInput, match="reserved"):
        sign_sd_jwt({"a": 1, "_sd_alg": "x"}, {}, PrivateKey.generate(), holder_jwk=None)


def test_a_batch_signed_credential_without_its_kb_jwt_fails_a_policy_that_requires_one():
    issuer_key, holder_key = PrivateKey.generate(), PrivateKey.generate()
    serialization = sign_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims={"title": "T"}, frame={"_sd": ["title"]},
                                   issuer_key=issuer_key, issuer="did:example:uni", kid=None, iat=NOW,
                                   holder_jwk=holder_key.public_key().to_jwk())
    with pytest.raises(HolderBindingError):
        verify_sd_jwt_vc(serialization, resolve_issuer_key=lambda iss, kid: issuer_key.public_key(), now=NOW,
                         key_binding=KeyBindingPolicy(audience="https://v.example", nonce="n1"))


@pytest.mark.parametrize(("frame", "hidden"), [
    ({"_sd": ["title", "iat"]}, "iat"),
    ({"_sd": ["title"], "cnf": {"_sd": ["jwk"]}}, "cnf"),
    ({"_sd": [["not", "a", "name"], "exp"]}, "exp"),
    ({"_sd": ["status", "vct", "title"]}, "status, vct"),
])
def test_a_registered_claim_in_the_frame_is_refused_however_it_is_listed(frame, hidden):
    with pytest.raises(InvalidInput, match=f"registered claim\\(s\\) {hidden} must not"):
        sign_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims={"title": "T"}, frame=frame, issuer_key=PrivateKey.generate(),
                       issuer="did:example:uni", kid=None, iat=NOW)


def test_claims_the_issuer_sets_are_refused_inside_the_claims_sorted():
    with pytest.raises(InvalidInput, match="give status, vct as arguments"):
        sign_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims={"vct": "x", "status": {}, "title": "T"}, frame={},
                       issuer_key=PrivateKey.generate(), issuer="did:example:uni", kid=None, iat=NOW)


def test_the_remembered_signing_header_is_the_header_asked_for_each_time():
    from credentials.errors import InvalidKey
    from credentials.jose import UnverifiedJws, sign_jws

    key = PrivateKey.generate()
    for header in ({"typ": "dc+sd-jwt", "kid": "did:example:a#1"}, {"typ": "t", "n": 1}, {"typ": "t", "n": True},
                   {"typ": "t", "n": 1}, {"typ": "t", "list": ["a"]}, None, {"alg": "ES256", "typ": "t"}):
        for _ in range(2):
            parsed = UnverifiedJws.parse(sign_jws({"a": 1}, key, header=header), what="JWT")
            assert parsed.header == {"alg": "ES256", **(header or {})}
            assert type(parsed.header.get("n", 0)) is type((header or {}).get("n", 0))
    for _ in range(2):
        with pytest.raises(InvalidKey, match="does not match"):
            sign_jws({"a": 1}, key, header={"alg": "EdDSA", "typ": "t"})
