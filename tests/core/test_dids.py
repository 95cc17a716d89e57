"""did:key (CCG v0.7) and did:jwk: the specs' own vectors, round trips, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.dids import (
    Did,
    did_jwk_from_public_key,
    did_key_from_public_key,
    resolve_did_document,
    resolve_public_key,
    verification_method_id,
)
from credentials.errors import InvalidDid, InvalidInput
from credentials.jose import PrivateKey, PublicKey, b64url_decode, b64url_encode, json_dumps

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
DID_KEY_FILES = sorted((VECTORS / "did-key").glob("*.json"))
DID_JWK_FILES = sorted((VECTORS / "did-jwk").glob("*.json"))


def _did_key_vectors():
    for path in DID_KEY_FILES:
        for did, entry in json.loads(path.read_text(encoding="utf-8")).items():
            yield pytest.param(did, entry, id=f"{path.stem}:{did[8:20]}")


def _x25519_vector_dids():
    for path in DID_KEY_FILES:
        for entry in json.loads(path.read_text(encoding="utf-8")).values():
            if "keyAgreementKeyPair" in entry:
                did = "did:key:" + entry["keyAgreementKeyPair"]["id"].lstrip("#")
                yield pytest.param(did, id=f"{path.stem}:{did[8:20]}")


def _expected_public_jwk(entry) -> dict:
    if "publicKeyJwk" in entry:  # rsa: JsonWebKey2020, the JWK at the top
        return entry["publicKeyJwk"]
    if "verificationMethod" in entry:  # nist-curves: JsonWebKey2020
        jwk = entry["verificationMethod"]["publicKeyJwk"]
        return {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    raw = base58.b58decode(entry["verificationKeyPair"]["publicKeyBase58"])
    return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}


def rsa_private_key(jwk: dict) -> rsa.RSAPrivateKey:
    """An RSA private key from a published private JWK (microcred itself never signs with RSA)."""
    # The 4096-bit vector pads its private members with "="; JWKs must not, so strip it here.
    number = {name: int.from_bytes(b64url_decode(jwk[name].rstrip("=")), "big")
              for name in ("n", "e", "d", "p", "q", "dp", "dq", "qi")}
    public = rsa.RSAPublicNumbers(number["e"], number["n"])
    return rsa.RSAPrivateNumbers(number["p"], number["q"], number["d"], number["dp"], number["dq"], number["qi"],
                                 public).private_key()


def _public_of_private(entry) -> PublicKey:
    if "privateKeyJwk" in entry:
        return PublicKey.from_cryptography(rsa_private_key(entry["privateKeyJwk"]).public_key())
    return _private_key(entry).public_key()


def _private_key(entry) -> PrivateKey:
    if "verificationMethod" in entry:
        return PrivateKey.from_jwk(entry["verificationMethod"]["privateKeyJwk"])
    seed = bytes.fromhex(entry["seed"])
    return PrivateKey.from_cryptography(ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def _absolute(did: str, reference: str) -> str:
    return did + reference if reference.startswith("#") else reference


# --- the CCG did:key vectors ----------------------------------------------------


@pytest.mark.parametrize(("did", "entry"), list(_did_key_vectors()))
def test_did_key_vector(did, entry):
    key = resolve_public_key(did)
    assert key.to_jwk() == _expected_public_jwk(entry)
    assert did_key_from_public_key(key) == did
    assert did_key_from_public_key(_public_of_private(entry)) == did

    vm_id = verification_method_id(did)
    assert vm_id == f"{did}#{did[len('did:key:'):]}"
    assert resolve_public_key(vm_id) == key

    theirs = entry["didDocument"]
    ours = resolve_did_document(did)
    assert ours["id"] == theirs["id"] == did
    (method,) = ours["verificationMethod"]
    assert method["id"] == _absolute(did, theirs["verificationMethod"][0]["id"])
    assert method["controller"] == did
    assert method["publicKeyJwk"] == _expected_public_jwk(entry)
    for relationship in ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"):
        assert ours[relationship] == [_absolute(did, ref) for ref in theirs[relationship]]


@pytest.mark.parametrize("did", list(_x25519_vector_dids()))
def test_did_key_vector_x25519_key_agreement_is_refused(did):
    with pytest.raises(InvalidDid, match=r"x25519-pub"):
        resolve_public_key(did)


# --- the did:jwk spec examples ---------------------------------------------------


@pytest.mark.parametrize("path", DID_JWK_FILES, ids=lambda p: p.stem)
def test_did_jwk_spec_example(path):
    example = json.loads(path.read_text(encoding="utf-8"))
    (their_method,) = example["did_document"]["verificationMethod"]
    if their_method["publicKeyJwk"].get("use") == "enc":
        # The X25519 example is a key-agreement key: never a signing key.
        for text in (example["did"], example["did_url"]):
            with pytest.raises(InvalidDid, match=r"signing key"):
                resolve_public_key(text)
        return
    key = resolve_public_key(example["did"])
    assert key.to_jwk() == their_method["publicKeyJwk"]
    assert resolve_public_key(example["did_url"]) == key
    assert did_jwk_from_public_key(key) == example["did"]
    assert verification_method_id(example["did"]) == example["did_url"] == their_method["id"]
    ours = resolve_did_document(example["did"])
    assert ours["id"] == example["did_document"]["id"]
    assert ours["verificationMethod"] == [their_method]
    assert ours["assertionMethod"] == example["did_document"]["assertionMethod"]


# --- round trips ---------------------------------------------------------------

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@settings(max_examples=40, deadline=None)
@given(scalar=st.integers(min_value=1, max_value=P256_ORDER - 1))
def test_p256_did_key_and_did_jwk_round_trip(scalar):
    key = PublicKey.from_cryptography(ec.derive_private_key(scalar, ec.SECP256R1()).public_key())
    for did in (did_key_from_public_key(key), did_jwk_from_public_key(key)):
        assert resolve_public_key(did) == key
        assert resolve_public_key(verification_method_id(did)) == key


@settings(max_examples=40, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_ed25519_did_key_and_did_jwk_round_trip(seed):
    key = PublicKey.from_cryptography(ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key())
    did = did_key_from_public_key(key)
    assert did.startswith("did:key:z6Mk")
    assert resolve_public_key(did) == key
    assert resolve_public_key(did_jwk_from_public_key(key)) == key


# --- the Did value type ----------------------------------------------------------


def test_did_parses_into_parts():
    did = Did("did:example:123:abc%20x#key-1")
    assert (did.method, did.method_specific_id, did.fragment) == ("example", "123:abc%20x", "key-1")
    assert did.did == "did:example:123:abc%20x"
    assert str(did) == "did:example:123:abc%20x#key-1"
    assert Did.parse("did:web:example.com") == Did("did:web:example.com")
    assert Did("did:web:example.com").fragment is None


@pytest.mark.parametrize(
    "text",
    [
        "", "did:", "did:key", "did:key:", "DID:key:z6Mk", "did:KEY:z6Mk", "did:key:z6Mk#",
        "did:key:z6Mk/path", "did:key:z6Mk?query=1", "did:key:z 6Mk", "did:key:z6Mk:",
        "did:key:%zz", "urn:uuid:1234", "did:key:z6Mk#a#b", "did:key:z" + "1" * 5000,
    ],
)
def test_did_syntax_errors(text):
    with pytest.raises(InvalidDid):
        Did(text)


def test_did_must_be_text():
    with pytest.raises(InvalidDid, match="must be text"):
        Did(b"did:key:z6Mk")  # type: ignore[arg-type]


def test_invalid_did_is_a_value_error():
    assert issubclass(InvalidDid, InvalidInput)
    assert issubclass(InvalidDid, ValueError)


# --- refusals: did:key ----------------------------------------------------------

P256_CRYPTOGRAPHY_KEY = ec.generate_private_key(ec.SECP256R1()).public_key()
P256_KEY = PublicKey.from_cryptography(P256_CRYPTOGRAPHY_KEY)
ED_KEY = PrivateKey.generate("EdDSA").public_key()


def _did_key(prefix: bytes, body: bytes) -> str:
    return "did:key:z" + base58.b58encode(prefix + body).decode()


def _p256_x_not_on_curve() -> bytes:
    for x in range(1, 1000):
        candidate = b"\x02" + x.to_bytes(32, "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), candidate)
        except ValueError:
            return candidate
    raise AssertionError("no invalid x found")  # pragma: no cover


def _uncompressed(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


MALFORMED_DID_KEYS = [
    ("base58-wrong-multibase", "did:key:f" + "00" * 34, r"prefix 'z'\), found prefix 'f'"),
    ("bad-base58-alphabet", "did:key:z6Mk0OIl", r"not valid base58btc"),
    ("empty-after-multibase", "did:key:z", r"holds no key"),
    ("truncated-varint", _did_key(b"\x80", b""), r"not a valid varint"),
    ("secp256k1", _did_key(b"\xe7\x01", b"\x02" + b"\x11" * 32), r"0xe7 \(secp256k1-pub\)"),
    ("rsa-not-der", _did_key(b"\x85\x24", b"\x30" * 40), r"rsa-pub key in the did:key is not a DER RSAPublicKey"),
    ("p521", _did_key(b"\x82\x24", b"\x02" * 67), r"p521-pub"),
    ("unknown-codec", _did_key(b"\x7f", b"\x00" * 32), r"0x7f \(unknown\)"),
    ("p256-too-short", _did_key(b"\x80\x24", P256_KEY.raw_bytes()[:-1]), r"expected 33 key bytes .* found 32"),
    ("p256-uncompressed", _did_key(b"\x80\x24", _uncompressed(P256_CRYPTOGRAPHY_KEY)),
     r"expected 33 key bytes .* found 65"),
    ("p256-bad-prefix", _did_key(b"\x80\x24", b"\x04" + P256_KEY.raw_bytes()[1:]), r"prefix 0x04"),
    ("p256-not-on-curve", _did_key(b"\x80\x24", _p256_x_not_on_curve()), r"not a point on its curve"),
    ("ed25519-too-long", _did_key(b"\xed\x01", ED_KEY.raw_bytes() + b"\x00"), r"expected 32 key bytes .* found 33"),
    ("ed25519-too-short", _did_key(b"\xed\x01", ED_KEY.raw_bytes()[:31]), r"found 31"),
    ("non-canonical-varint", _did_key(b"\xed\x81\x00", ED_KEY.raw_bytes()), r"canonical"),
    ("did-web", "did:web:example.com", r"did:key or did:jwk, found method did:web"),
    ("did-example", "did:example:123456789abcdefghi", r"found method did:example"),
]


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in MALFORMED_DID_KEYS])
def test_malformed_did_key_is_refused(text, message):
    with pytest.raises(InvalidDid, match=message):
        resolve_public_key(text)


def test_did_key_fragment_must_name_its_own_key():
    did = did_key_from_public_key(ED_KEY)
    other = did_key_from_public_key(PrivateKey.generate("EdDSA").public_key())
    with pytest.raises(InvalidDid, match="only method"):
        resolve_public_key(f"{did}#{other[8:]}")
    with pytest.raises(InvalidDid, match="only method"):
        resolve_public_key(f"{did}#0")
    with pytest.raises(InvalidDid, match="only method"):
        verification_method_id(f"{did}#keys-1")


def test_did_document_needs_a_plain_did():
    did = did_key_from_public_key(P256_KEY)
    with pytest.raises(InvalidDid, match="without a fragment"):
        resolve_did_document(verification_method_id(did))
    with pytest.raises(InvalidDid, match="did:web"):
        resolve_did_document("did:web:example.com")


def test_did_key_document_shape():
    did = did_key_from_public_key(ED_KEY)
    document = resolve_did_document(did)
    vm_id = verification_method_id(did)
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["verificationMethod"][0]["type"] == "JsonWebKey2020"
    assert document["assertionMethod"] == document["authentication"] == [vm_id]
    assert "keyAgreement" not in document


# --- refusals: did:jwk ------------------------------------------------------------


def _did_jwk(value) -> str:
    payload = value if isinstance(value, bytes) else json_dumps(value).encode()
    return "did:jwk:" + b64url_encode(payload)


P256_JWK = P256_KEY.to_jwk()
MALFORMED_DID_JWKS = [
    ("private-d", _did_jwk({**P256_JWK, "d": "AAAA"}), r"private key material \(d\)"),
    ("private-k", _did_jwk({"kty": "oct", "k": "c2VjcmV0"}), r"private key material \(k\)"),
    ("use-enc", _did_jwk({**P256_JWK, "use": "enc"}), r"use 'enc'"),
    ("rsa-17-bits", _did_jwk({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), r"RSA key has 17 bits"),
    ("secp256k1", _did_jwk({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}), r"secp256k1"),
    ("x25519", _did_jwk({"kty": "OKP", "crv": "X25519", "x": ED_KEY.jwk["x"]}), r"X25519"),
    ("missing-y", _did_jwk({k: v for k, v in P256_JWK.items() if k != "y"}), r"'y' is missing"),
    ("not-on-curve", _did_jwk({**P256_JWK, "y": b64url_encode(b"\x01" * 32)}), r"not on the P-256 curve"),
    ("alg-mismatch", _did_jwk({**P256_JWK, "alg": "EdDSA"}), r"declares alg"),
    ("not-json", _did_jwk(b"not json"), r"base64url-encoded JSON"),
    ("json-array", _did_jwk(b"[1,2]"), r"must be a JSON object"),
    ("duplicate-member", _did_jwk(b'{"kty":"EC","kty":"OKP"}'), r"duplicate"),
    ("padded-base64", _did_jwk(P256_JWK) + "%3D", r"base64url"),
    ("base64-alphabet", "did:jwk:eyJ+", r"did:<method>"),
]


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in MALFORMED_DID_JWKS])
def test_malformed_did_jwk_is_refused(text, message):
    with pytest.raises(InvalidDid, match=message):
        resolve_public_key(text)


def test_did_jwk_with_use_sig_and_kid_resolves_and_keeps_members_in_document():
    did = _did_jwk({**ED_KEY.jwk, "use": "sig", "kid": "k1"})
    assert resolve_public_key(did) == ED_KEY
    (method,) = resolve_did_document(did)["verificationMethod"]
    assert method["id"] == did + "#0"
    assert method["publicKeyJwk"]["kid"] == "k1"


def test_did_jwk_fragment_must_be_zero():
    did = did_jwk_from_public_key(P256_KEY)
    with pytest.raises(InvalidDid, match="only method is #0"):
        resolve_public_key(did + "#1")
