"""Other people's SD-JWT vectors (STYLE.md 11), one parametrised test per kind.

- ``tests/vectors/rfc9901/``: the examples of RFC 9901, signed by the RFC's
  example issuer key: they must verify here, give the claims the RFC shows,
  and fail the right check once tampered with.
- ``tests/vectors/sd-jwt-vc/``: the examples of draft-ietf-oauth-sd-jwt-vc.
- ``tests/vectors/sd-jwt-python/``: the test cases of the sd-jwt-python
  implementation: issue their claims with their selective-disclosure markers,
  disclose what their holder discloses, and get the claims they expect.

Each folder's SOURCE.md says where the files come from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credentials.errors import DisclosureError, HolderBindingError, SignatureError
from credentials.jose import PrivateKey, PublicKey
from credentials.sd_jwt import (
    Disclosure,
    HolderSdJwt,
    KeyBindingPolicy,
    UnverifiedSdJwt,
    digest_of,
    issue_sd_jwt,
    verify_sd_jwt,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SIGNED_SETS = ("rfc9901", "sd-jwt-vc")


def _files(folder: str, *, exclude: tuple[str, ...] = ()) -> list[Path]:
    return sorted(p for p in (VECTORS / folder).glob("*.json") if p.name not in exclude)


SIGNED_VECTORS = [p for folder in SIGNED_SETS for p in _files(folder, exclude=("disclosure_digests.json",))]
DIGEST_VECTORS = [p for folder in SIGNED_SETS for p in (VECTORS / folder).glob("disclosure_digests.json")]
IMPLEMENTATION_CASES = _files("sd-jwt-python")


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_vector_sets_are_present():
    assert SIGNED_VECTORS, "no RFC 9901 / SD-JWT VC vectors found"
    assert IMPLEMENTATION_CASES, "no sd-jwt-python cases found"


def _now_for(vector: dict, serialization: str) -> int:
    kb = vector.get("kb") or {}
    if "iat" in kb:
        return int(kb["iat"])
    payload = HolderSdJwt.parse(UnverifiedSdJwt.parse(serialization).without_kb).unverified_payload
    return int(payload.get("iat", 1_700_000_000))


@pytest.mark.parametrize("path", SIGNED_VECTORS, ids=_ids(SIGNED_VECTORS))
def test_issued_sd_jwt_verifies_with_the_published_key(path):
    vector = _load(path)
    issuer_key = PublicKey.from_jwk(vector["issuer_jwk"])
    verified = verify_sd_jwt(
        vector["sd_jwt"], issuer_key, now=_now_for(vector, vector["sd_jwt"]), expected_typ=None
    )
    assert len(verified.disclosures) == len(UnverifiedSdJwt.parse(vector["sd_jwt"]).disclosures)
    if "expected_payload_full" in vector:
        assert verified.claims == vector["expected_payload_full"]
    for item in vector.get("disclosures", []):
        parsed = Disclosure.parse(item["encoded"])
        assert (parsed.salt, parsed.name, parsed.value) == (item["salt"], item["name"], item["value"])
        assert digest_of(item["encoded"]) == item["digest"]


PRESENTATION_VECTORS = [p for p in SIGNED_VECTORS if "presentation" in _load(p)]


@pytest.mark.parametrize("path", PRESENTATION_VECTORS, ids=_ids(PRESENTATION_VECTORS))
def test_published_presentation_verifies(path):
    vector = _load(path)
    issuer_key = PublicKey.from_jwk(vector["issuer_jwk"])
    kb = vector.get("kb")
    policy = KeyBindingPolicy(audience=kb["aud"], nonce=kb["nonce"]) if kb else None
    verified = verify_sd_jwt(
        vector["presentation"],
        issuer_key,
        now=_now_for(vector, vector["presentation"]),
        expected_typ=None,
        key_binding=policy,
    )
    if kb:
        assert verified.key_binding is not None
        assert verified.key_binding.nonce == kb["nonce"]
    if "expected_payload_presented" in vector:
        assert verified.claims == vector["expected_payload_presented"]


@pytest.mark.parametrize("path", SIGNED_VECTORS, ids=_ids(SIGNED_VECTORS))
def test_tampered_vectors_fail_the_right_check(path):
    vector = _load(path)
    sd_jwt = vector["sd_jwt"]
    issuer_key = PublicKey.from_jwk(vector["issuer_jwk"])
    now = _now_for(vector, sd_jwt)
    parts = UnverifiedSdJwt.parse(sd_jwt)
    # A key that is not the issuer's: signature.
    with pytest.raises(SignatureError):
        verify_sd_jwt(sd_jwt, PrivateKey.generate().public_key(), now=now, expected_typ=None)
    if parts.disclosures:
        # The same disclosure twice: disclosures.
        doubled = parts.without_kb + parts.disclosures[0] + "~"
        with pytest.raises(DisclosureError):
            verify_sd_jwt(doubled, issuer_key, now=now, expected_typ=None)
        # A disclosure that is not the issuer's: disclosures.
        foreign = parts.without_kb + Disclosure.parse(parts.disclosures[0]).encoded[:-2] + "AA~"
        with pytest.raises(DisclosureError):
            verify_sd_jwt(foreign, issuer_key, now=now, expected_typ=None)
    presentation = vector.get("presentation")
    if presentation and vector.get("kb"):
        presented = UnverifiedSdJwt.parse(presentation)
        if presented.disclosures:
            # Drop a disclosure after the holder signed the KB-JWT: holder_binding (sd_hash).
            dropped = UnverifiedSdJwt(presented.issuer_jwt, presented.disclosures[1:], presented.kb_jwt)
            with pytest.raises(HolderBindingError, match="sd_hash"):
                verify_sd_jwt(dropped.serialize(), issuer_key, now=now, expected_typ=None,
                              key_binding=KeyBindingPolicy(audience=vector["kb"]["aud"], nonce=vector["kb"]["nonce"]))
        with pytest.raises(HolderBindingError, match="nonce"):
            verify_sd_jwt(presentation, issuer_key, now=now, expected_typ=None,
                          key_binding=KeyBindingPolicy(nonce="not-the-nonce"))


@pytest.mark.parametrize("path", DIGEST_VECTORS, ids=_ids(DIGEST_VECTORS))
def test_published_disclosure_digests(path):
    items = _load(path)
    assert any("digest" in item for item in items)
    for item in items:
        if "digest" in item:
            assert digest_of(item["encoded"]) == item["digest"], item["encoded"]
        parsed = Disclosure.parse(item["encoded"])
        assert (parsed.salt, parsed.name, parsed.value) == (item["salt"], item["name"], item["value"])
    # RFC 9901 §4.2.1: other JSON encodings of the same disclosure are other
    # disclosures, with other digests; the verifier hashes the string as sent.
    assert len({digest_of(item["encoded"]) for item in items}) == len(items)


HOLDER = PrivateKey.generate("ES256")
ISSUER = PrivateKey.generate("ES256")


@pytest.mark.parametrize("path", IMPLEMENTATION_CASES, ids=_ids(IMPLEMENTATION_CASES))
def test_sd_jwt_python_case(path):
    case = _load(path)
    holder_jwk = HOLDER.public_key().to_jwk() if case.get("key_binding") else None
    frame = dict(case["frame"])
    if case.get("decoys"):
        frame["_sd_decoy"] = 3
    issued = issue_sd_jwt(case["claims"], frame, ISSUER, header={"typ": "example+sd-jwt"}, holder_jwk=holder_jwk)
    holder = HolderSdJwt.parse(issued.serialization)
    disclose = [tuple(p) for p in case["disclose"]]
    if case.get("key_binding"):
        presentation = holder.present_with_key_binding(disclose, HOLDER, audience="https://verifier.example", nonce="n",
                                                       iat=1_700_000_000)
        policy = KeyBindingPolicy(audience="https://verifier.example", nonce="n")
    else:
        presentation, policy = holder.present(disclose), None
    verified = verify_sd_jwt(presentation, ISSUER.public_key(), now=1_700_000_000, expected_typ=["example+sd-jwt"],
                             key_binding=policy)
    claims = dict(verified.claims)
    claims.pop("cnf", None)
    expected = dict(case["expect_verified_claims"])
    expected.pop("cnf", None)
    assert claims == expected
