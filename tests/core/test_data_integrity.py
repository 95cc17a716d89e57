"""credentials.data_integrity: the W3C EdDSA / ECDSA cryptosuite vectors, tampering, keys, signing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.data_integrity import (
    CRYPTOSUITES,
    ECDSA_JCS_2019,
    ECDSA_RDFC_2019,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    sign_data_integrity,
    verify_data_integrity,
)
from credentials.errors import FormatError, SignatureError, ValidityPeriodError, VerificationError
from credentials.jose import PrivateKey
from credentials.jsonld import ContextLoader
from credentials.multikey import (
    VerificationMethod,
    multibase_from_public_key,
    public_key_from_multibase,
    resolve_did_verification_method,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES = ContextLoader(
    {EXAMPLES_CONTEXT: json.loads((VECTORS / "vc-di-eddsa" / "credentials-examples-v2.jsonld").read_text())})
#: suite folder → (vector source, key pair file, file suffix)
SUITES = {
    "eddsa-rdfc-2022": ("vc-di-eddsa", "keyPair.json", "DataInt"),
    "eddsa-jcs-2022": ("vc-di-eddsa", "keyPair.json", "JCS"),
    "ecdsa-rdfc-2019-p256": ("vc-di-ecdsa", "p256KeyPair.json", "ECDSAP256"),
    "ecdsa-rdfc-2019-p384": ("vc-di-ecdsa", "p384KeyPair.json", "ECDSAP384"),
    "ecdsa-jcs-2019-p256": ("vc-di-ecdsa", "p256KeyPair.json", "JCSECDSAP256"),
    "ecdsa-jcs-2019-p384": ("vc-di-ecdsa", "p384KeyPair.json", "JCSECDSAP384"),
}
_SECRET_CODECS = {b"\x80\x26": "Ed25519", b"\x86\x26": "P-256", b"\x87\x26": "P-384"}


def secret_from_multikey(text: str) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
    """A test key from a Multikey ``secretKeyMultibase`` (ed25519-priv 0x1300, p256-priv 0x1306, p384-priv 0x1307)."""
    data = base58.b58decode(text[1:])
    curve = _SECRET_CODECS[data[:2]]
    if curve == "Ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(data[2:])
    return ec.derive_private_key(int.from_bytes(data[2:], "big"),
                                 ec.SECP256R1() if curve == "P-256" else ec.SECP384R1())


def _read(folder: str, name: str) -> Any:
    path = VECTORS / SUITES[folder][0] / folder / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_text()


def _signed(folder: str) -> dict[str, Any]:
    return _read(folder, f"signed{SUITES[folder][2]}.json")  # type: ignore[no-any-return]


@pytest.mark.parametrize("folder", sorted(SUITES))
def test_published_vector_verifies(folder: str) -> None:
    signed = _signed(folder)
    (proof,) = verify_data_integrity(signed, loader=EXAMPLES)
    assert proof.cryptosuite == signed["proof"]["cryptosuite"]
    assert proof.verification_method == signed["proof"]["verificationMethod"]
    assert proof.controller == signed["proof"]["verificationMethod"].split("#")[0]
    assert proof.created == 1677281798  # 2023-02-24T23:36:38Z


@pytest.mark.parametrize("folder", sorted(SUITES))
def test_intermediate_values_match_the_vector(folder: str) -> None:
    """Our canonical document, proof configuration and combined hash equal the spec's, byte for byte."""
    from credentials import data_integrity

    signed, suffix = _signed(folder), SUITES[folder][2]
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    config = _read(folder, f"proofConfig{suffix}.json")
    suite = signed["proof"]["cryptosuite"]
    curve = "P-384" if folder.endswith("p384") else ("Ed25519" if suite.startswith("eddsa") else "P-256")
    combined = data_integrity._hash_data(unsecured, config, suite, curve, EXAMPLES)
    assert combined.hex() == _read(folder, f"combinedHash{suffix}.txt").strip()
    if CRYPTOSUITES[suite][1] == "RDFC-1.0":
        from credentials.jsonld import canonical_nquads

        assert canonical_nquads(unsecured, loader=EXAMPLES) == _read(folder, f"canonDoc{suffix}.txt")
        assert canonical_nquads(config, loader=EXAMPLES) == _read(folder, f"proofCanon{suffix}.txt")


@pytest.mark.parametrize("folder", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_signing_the_unsigned_vector_gives_the_published_proof_exactly(folder: str) -> None:
    signed = _signed(folder)
    keys = json.loads((VECTORS / "vc-di-eddsa" / "keyPair.json").read_text())
    unsigned = json.loads((VECTORS / "vc-di-eddsa" / "unsigned.json").read_text())
    proof = signed["proof"]
    ours = sign_data_integrity(unsigned, secret_from_multikey(keys["privateKeyMultibase"]), proof["verificationMethod"],
                               proof["created"], cryptosuite=proof["cryptosuite"], loader=EXAMPLES)
    assert ours == signed


@pytest.mark.parametrize(
    "folder", ["ecdsa-rdfc-2019-p256", "ecdsa-rdfc-2019-p384", "ecdsa-jcs-2019-p256", "ecdsa-jcs-2019-p384"])
def test_our_ecdsa_signature_of_the_unsigned_vector_verifies(folder: str) -> None:
    keys = json.loads((VECTORS / "vc-di-ecdsa" / SUITES[folder][1]).read_text())
    unsigned = json.loads((VECTORS / "vc-di-ecdsa" / "unsigned.json").read_text())
    proof = _signed(folder)["proof"]
    ours = sign_data_integrity(unsigned, secret_from_multikey(keys["secretKeyMultibase"]), proof["verificationMethod"],
                               proof["created"], cryptosuite=proof["cryptosuite"], loader=EXAMPLES)
    assert ({k: v for k, v in ours["proof"].items() if k != "proofValue"}
            == {k: v for k, v in proof.items() if k != "proofValue"})
    assert verify_data_integrity(ours, loader=EXAMPLES)[0].cryptosuite == proof["cryptosuite"]


def _set(path: tuple[str, ...], value: Any) -> Any:
    def change(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()
TAMPERINGS = {
    "subject-value": (_set(("credentialSubject", "alumniOf"), "Another School"), SignatureError),
    "added-member": (_set(("description",), "A changed description."), SignatureError),
    "removed-member": (_set(("validFrom",), _DELETE), SignatureError),
    "undefined-term-added": (_set(("credentialSubject", "https://ex.example/added"), "x"), SignatureError),
    "issuer": (_set(("issuer",), "https://vc.example/issuers/9999"), SignatureError),
    "proof-created": (_set(("proof", "created"), "2024-02-24T23:36:38Z"), SignatureError),
    "proof-purpose": (_set(("proof", "proofPurpose"), "authentication"), SignatureError),
    "proof-cryptosuite": (_set(("proof", "cryptosuite"), "eddsa-2022"), SignatureError),
    "proof-type": (_set(("proof", "type"), "Ed25519Signature2020"), SignatureError),
    "proof-value-garbage": (_set(("proof", "proofValue"), "z0OIl"), FormatError),
    "proof-value-not-multibase": (_set(("proof", "proofValue"), "u" + "A" * 86), FormatError),
    "proof-missing": (_set(("proof",), _DELETE), SignatureError),
    "proof-chain": (_set(("proof", "previousProof"), "urn:uuid:1"), SignatureError),
    "created-not-a-date": (_set(("proof", "created"), "yesterday"), FormatError),
    "verification-method-not-a-url": (_set(("proof", "verificationMethod"), "z6MkrJVnaZke"), FormatError),
    "verification-method-other-did": (_set(("proof", "verificationMethod"), "did:web:vc.example#key-1"),
                                      SignatureError),
}


@pytest.mark.parametrize("folder", sorted(SUITES))
@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_vectors_are_refused(folder: str, name: str) -> None:
    document = copy.deepcopy(_signed(folder))
    change, error = TAMPERINGS[name]
    change(document)
    with pytest.raises(error):
        verify_data_integrity(document, loader=EXAMPLES)


@pytest.mark.parametrize("folder", sorted(SUITES))
def test_a_flipped_signature_bit_is_refused(folder: str) -> None:
    document = copy.deepcopy(_signed(folder))
    raw = bytearray(base58.b58decode(document["proof"]["proofValue"][1:]))
    raw[len(raw) // 3] ^= 0x01
    document["proof"]["proofValue"] = "z" + base58.b58encode(bytes(raw)).decode()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_data_integrity(document, loader=EXAMPLES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=40).filter(lambda s: s != "The School of Examples"))
def test_any_changed_subject_value_is_refused(value: str) -> None:
    document = copy.deepcopy(_signed("eddsa-rdfc-2022"))
    document["credentialSubject"]["alumniOf"] = value
    with pytest.raises(VerificationError) as caught:
        verify_data_integrity(document, loader=EXAMPLES)
    assert caught.value.check == "signature"


# --- keys and resolvers -------------------------------------------------------------

ISSUER = "https://issuer.example"
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": ISSUER,
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:learner"},
}
CREATED = "2026-03-01T09:00:00Z"


@pytest.mark.parametrize(
    ("curve", "suite"),
    [("Ed25519", EDDSA_RDFC_2022), ("Ed25519", EDDSA_JCS_2022), ("P-256", ECDSA_RDFC_2019), ("P-256", ECDSA_JCS_2019),
     ("P-384", ECDSA_RDFC_2019), ("P-384", ECDSA_JCS_2019)],
)
def test_sign_and_verify_with_a_did_key_for_every_suite(curve: str, suite: str) -> None:
    private: Any = (ed25519.Ed25519PrivateKey.generate() if curve == "Ed25519"
                    else ec.generate_private_key(ec.SECP256R1() if curve == "P-256" else ec.SECP384R1()))
    msid = multibase_from_public_key(private.public_key())
    method = f"did:key:{msid}#{msid}"
    signed = sign_data_integrity(CREDENTIAL, private, method, CREATED, cryptosuite=suite)
    (proof,) = verify_data_integrity(signed)
    assert (proof.cryptosuite, proof.controller, proof.verification_method) == (suite, f"did:key:{msid}", method)
    assert resolve_did_verification_method(method).curve == curve


def test_did_jwk_and_microcred_keys_sign_data_integrity() -> None:
    from credentials.dids import did_jwk_from_public_key

    key = PrivateKey.generate("ES256")
    did = did_jwk_from_public_key(key.public_key())
    signed = sign_data_integrity(CREDENTIAL, key, did + "#0", CREATED)
    assert verify_data_integrity(signed)[0].cryptosuite == ECDSA_RDFC_2019


def test_a_key_of_the_wrong_kind_for_the_suite_is_refused() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    msid = multibase_from_public_key(private.public_key())
    signed = sign_data_integrity(CREDENTIAL, private, f"did:key:{msid}#{msid}", CREATED)
    signed["proof"]["cryptosuite"] = ECDSA_RDFC_2019
    with pytest.raises(SignatureError, match="does not verify"):
        verify_data_integrity(signed)


def _injected(private: Any, relationships: frozenset[str] = frozenset({"assertionMethod"})) -> Any:
    def resolve(method_id: str) -> VerificationMethod:
        if method_id != ISSUER + "#key-1":
            raise LookupError("unexpected")
        return VerificationMethod(method_id, ISSUER, private.public_key(), relationships)
    return resolve


def test_an_injected_resolver_names_the_key_and_its_relationships() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    signed = sign_data_integrity(CREDENTIAL, private, ISSUER + "#key-1", CREATED)
    assert verify_data_integrity(signed, resolve_verification_method=_injected(private))[0].controller == ISSUER
    with pytest.raises(SignatureError, match="not authorized for assertionMethod"):
        verify_data_integrity(signed, resolve_verification_method=_injected(private, frozenset({"authentication"})))


def test_a_resolver_that_cannot_answer_propagates_so_the_caller_reports_unavailable() -> None:
    signed = sign_data_integrity(CREDENTIAL, ed25519.Ed25519PrivateKey.generate(), ISSUER + "#key-1", CREATED)

    def down(method_id: str) -> VerificationMethod:
        raise ConnectionError("resolver down")

    with pytest.raises(ConnectionError):
        verify_data_integrity(signed, resolve_verification_method=down)


def test_an_expired_proof_fails_validity_period() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    msid = multibase_from_public_key(private.public_key())
    signed = sign_data_integrity(CREDENTIAL, private, f"did:key:{msid}#{msid}", CREATED, expires="2026-04-01T00:00:00Z")
    assert verify_data_integrity(signed, now=1_775_000_000)  # 2026-03-31
    with pytest.raises(ValidityPeriodError, match="the proof expired at 2026-04-01T00:00:00Z"):
        verify_data_integrity(signed, now=1_775_001_600)  # 2026-04-01 00:00 UTC
    document = copy.deepcopy(signed)
    document["proof"]["expires"] = "2027-04-01T00:00:00Z"  # extending it breaks the signature
    with pytest.raises(SignatureError):
        verify_data_integrity(document, now=1_775_001_600)


def test_proof_sets_need_every_proof_and_are_bounded() -> None:
    first, second = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    ids = [f"did:key:{multibase_from_public_key(k.public_key())}" for k in (first, second)]
    one = sign_data_integrity(CREDENTIAL, first, f"{ids[0]}#{ids[0][8:]}", CREATED)
    two = sign_data_integrity(CREDENTIAL, second, f"{ids[1]}#{ids[1][8:]}", CREATED)
    both = {**CREDENTIAL, "proof": [one["proof"], two["proof"]]}
    assert [p.controller for p in verify_data_integrity(both)] == ids
    bad = copy.deepcopy(both)
    bad["proof"][1]["proofValue"] = one["proof"]["proofValue"]
    with pytest.raises(SignatureError):
        verify_data_integrity(bad)
    with pytest.raises(FormatError, match="expected 1 to 4 proofs"):
        verify_data_integrity({**CREDENTIAL, "proof": [one["proof"]] * 5})


def test_multikey_round_trip_and_refusals() -> None:
    for private in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1()),
                    ec.generate_private_key(ec.SECP384R1())):
        text = multibase_from_public_key(private.public_key())
        assert multibase_from_public_key(public_key_from_multibase(text)) == text
    from credentials.errors import InvalidDid, InvalidKey

    with pytest.raises(InvalidKey, match="another multicodec"):
        public_key_from_multibase("z" + base58.b58encode(b"\xe7\x01" + b"\x02" * 33).decode())  # secp256k1
    with pytest.raises(InvalidDid, match="one verification method"):
        resolve_did_verification_method("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#other")
    with pytest.raises(InvalidDid, match="did:key or did:jwk"):
        resolve_did_verification_method("did:web:issuer.example#key-1")


def test_a_did_key_method_is_decoded_once_and_a_bad_one_fails_every_time() -> None:
    from credentials.errors import InvalidDid

    msid = multibase_from_public_key(ed25519.Ed25519PrivateKey.generate().public_key())
    first = resolve_did_verification_method(f"did:key:{msid}#{msid}")
    assert resolve_did_verification_method(f"did:key:{msid}") is first
    assert (first.id, first.controller) == (f"did:key:{msid}#{msid}", f"did:key:{msid}")
    with pytest.raises(InvalidDid, match="one verification method"):
        resolve_did_verification_method(f"did:key:{msid}#other")  # the fragment is checked before the memo
    not_canonical = "z" + base58.b58encode(b"\x00" + base58.b58decode(msid[1:])).decode()  # a leading zero byte
    for _ in range(2):
        with pytest.raises(InvalidDid):
            resolve_did_verification_method(f"did:key:{not_canonical}")
