"""W3C Data Integrity proofs: verify and sign ``eddsa-rdfc-2022``, ``eddsa-jcs-2022``, ``ecdsa-rdfc-2019``,
``ecdsa-jcs-2019``.

Implements, for documents secured with one embedded ``DataIntegrityProof`` (or
a proof set, every proof of which must verify):

- *Verifiable Credential Data Integrity 1.0* (W3C Recommendation, 15 May
  2025) §4 "Algorithms": the proof's ``type``, ``cryptosuite``,
  ``proofPurpose``, ``verificationMethod``, ``created`` / ``expires``
  (XML Schema dateTimeStamp), ``proofValue``; proof chains
  (``previousProof``) are refused.
- *Data Integrity EdDSA Cryptosuites v1.0* (W3C Recommendation, 15 May 2025)
  §3.3 ``eddsa-rdfc-2022`` and §3.4 ``eddsa-jcs-2022``; *Data Integrity ECDSA
  Cryptosuites v1.0* §3.3 ``ecdsa-rdfc-2019`` and §3.4 ``ecdsa-jcs-2019``
  (P-256 with SHA-256, P-384 with SHA-384). For each: the proof options
  minus ``proofValue``, given the document's ``@context`` (which must start
  with the proof's own ``@context`` when it has one), are canonicalized —
  RDFC-1.0 (:mod:`credentials.jsonld`) or JCS (RFC 8785, :mod:`credentials.jcs`
  over the ``rfc8785`` package) —, so is the document without its proof, and the signature
  covers ``hash(proof configuration) || hash(document)``. ``proofValue`` is
  multibase base58btc (``z``): 64 bytes Ed25519, ``r || s`` for ECDSA.

The verification method comes from ``resolve_verification_method`` (default:
did:key / did:jwk offline, :mod:`credentials.multikey`), never from the
document; it must be listed under the proof's ``proofPurpose``. Structural
faults fail ``format``; an unsupported suite, an unresolvable key, a wrong
purpose or a bad signature fail ``signature``; an expired proof fails
``validity_period``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from credentials.errors import FormatError, InvalidInput, SignatureError, ValidityPeriodError
from credentials.jcs import jcs_dumps
from credentials.jose import PrivateKey
from credentials.jsonld import DEFAULT_CONTEXT_LOADER, ContextLoader, canonical_nquads
from credentials.multikey import (
    ASSERTION_METHOD,
    VerificationMethod,
    VerificationMethodResolver,
    resolve_did_verification_method,
)

__all__ = [
    "DATA_INTEGRITY_PROOF",
    "EDDSA_RDFC_2022",
    "EDDSA_JCS_2022",
    "ECDSA_RDFC_2019",
    "ECDSA_JCS_2019",
    "CRYPTOSUITES",
    "MAX_PROOFS",
    "SigningKey",
    "VerifiedProof",
    "date_time_seconds",
    "verify_data_integrity",
    "sign_data_integrity",
]

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
EDDSA_RDFC_2022, EDDSA_JCS_2022 = "eddsa-rdfc-2022", "eddsa-jcs-2022"
ECDSA_RDFC_2019, ECDSA_JCS_2019 = "ecdsa-rdfc-2019", "ecdsa-jcs-2019"
#: cryptosuite → (key family, canonicalization).
CRYPTOSUITES: Mapping[str, tuple[str, str]] = {
    EDDSA_RDFC_2022: ("EdDSA", "RDFC-1.0"),
    EDDSA_JCS_2022: ("EdDSA", "JCS"),
    ECDSA_RDFC_2019: ("ECDSA", "RDFC-1.0"),
    ECDSA_JCS_2019: ("ECDSA", "JCS"),
}
#: A proof set larger than this is refused.
MAX_PROOFS = 4
PROOF, PROOF_VALUE, CONTEXT = "proof", "proofValue", "@context"

SigningKey = PrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

_DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_SIGNATURE_LENGTHS = {"Ed25519": 64, "P-256": 64, "P-384": 96}
_ECDSA_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"P-256": hashes.SHA256, "P-384": hashes.SHA384}


@dataclass(frozen=True)
class VerifiedProof:
    """One proof that verified: which suite, by which key (and its controller), for what, when."""

    cryptosuite: str
    verification_method: str
    controller: str
    proof_purpose: str
    created: int | None
    expires: int | None


def date_time_seconds(value: Any, what: str, error: Callable[[str], Exception] = FormatError) -> int:
    """An XML Schema dateTimeStamp (``2026-03-01T09:00:00Z``, an offset required) as epoch seconds, else ``error``."""
    if not isinstance(value, str) or not _DATE_TIME_STAMP.match(value):
        raise error(f"{what} must be a date and time with a time zone (XML Schema dateTimeStamp), "
                    f"found {str(value)[:40]!r}")
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except (ValueError, OverflowError):
        raise error(f"{what} is not a real date and time: {value[:40]!r}") from None


def _digest(curve: str, data: bytes) -> bytes:
    return hashlib.sha384(data).digest() if curve == "P-384" else hashlib.sha256(data).digest()


def _jcs(value: Any, what: str) -> bytes:
    try:
        return jcs_dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        raise FormatError(
            f"{what} cannot be put in RFC 8785 canonical form (numbers must be finite and exact)") from None


def _hash_data(
    unsecured: Mapping[str, Any], proof_config: Mapping[str, Any], cryptosuite: str, curve: str, loader: ContextLoader
) -> bytes:
    """hash(canonical proof configuration) || hash(canonical document), DI EdDSA/ECDSA §3.x.3 "Hashing"."""
    if CRYPTOSUITES[cryptosuite][1] == "JCS":
        canonical_config, canonical_document = _jcs(proof_config, "the proof"), _jcs(unsecured, "the document")
    else:
        canonical_config = canonical_nquads(proof_config, loader=loader).encode("utf-8")
        canonical_document = canonical_nquads(unsecured, loader=loader).encode("utf-8")
    return _digest(curve, canonical_config) + _digest(curve, canonical_document)


def _proofs(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    proof = document.get(PROOF)
    if proof is None:
        raise SignatureError("the document carries no Data Integrity proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs or len(proofs) > MAX_PROOFS:
        raise FormatError(f"expected 1 to {MAX_PROOFS} proofs, found {len(proofs)}")
    for item in proofs:
        if not isinstance(item, Mapping):
            raise FormatError("each proof must be a JSON object")
    return proofs


def _decode_proof_value(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 300:
        raise FormatError("the proof's 'proofValue' must be multibase base58btc text (prefix 'z')")
    try:
        return bytes(base58.b58decode(value[1:]))
    except ValueError:
        raise FormatError("the proof's 'proofValue' is not valid base58btc") from None


def _check_proof_options(proof: Mapping[str, Any], expected_purpose: str) -> str:
    if proof.get("type") != DATA_INTEGRITY_PROOF:
        raise SignatureError(
            f"expected a proof of type {DATA_INTEGRITY_PROOF}, found {str(proof.get('type'))[:60]!r}"
        )
    cryptosuite = proof.get("cryptosuite")
    if cryptosuite not in CRYPTOSUITES:
        raise SignatureError(
            f"expected cryptosuite {', '.join(sorted(CRYPTOSUITES))}, found {str(cryptosuite)[:60]!r}"
        )
    if "previousProof" in proof:
        raise SignatureError("proof chains (previousProof) are not supported")
    if proof.get("proofPurpose") != expected_purpose:
        raise SignatureError(
            f"expected proofPurpose {expected_purpose!r}, found {str(proof.get('proofPurpose'))[:60]!r}"
        )
    if not isinstance(proof.get("verificationMethod"), str):
        raise FormatError("the proof's 'verificationMethod' must be a URL as text")
    return str(cryptosuite)


def _unsecured_for(document: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its proof; its @context checked against, then set to, the proof's (DI §3.x.2 step 4)."""
    unsecured = {key: value for key, value in document.items() if key != PROOF}
    if CONTEXT in options:
        proof_context, document_context = options[CONTEXT], document.get(CONTEXT)
        wanted = proof_context if isinstance(proof_context, list) else [proof_context]
        have = document_context if isinstance(document_context, list) else [document_context]
        if have[: len(wanted)] != wanted:
            raise SignatureError("the document's @context does not start with the proof's @context")
        unsecured[CONTEXT] = proof_context
    return unsecured


def _resolve(method_id: str, resolve: VerificationMethodResolver, purpose: str) -> VerificationMethod:
    if not _ABSOLUTE_URL.match(method_id):
        raise FormatError(f"the proof's verificationMethod must be an absolute URL, found {method_id[:80]!r}")
    try:
        method = resolve(method_id)
    except InvalidInput as exc:
        raise SignatureError(f"the verification method {method_id[:80]!r} cannot be used: {exc}") from None
    except ValueError:
        raise SignatureError(f"the verification method {method_id[:80]!r} cannot be resolved") from None
    if purpose not in method.relationships:
        raise SignatureError(f"the key {method.id[:80]!r} is not authorized for {purpose} by its controller")
    return method


def _verify_signature(method: VerificationMethod, hash_data: bytes, signature: bytes, cryptosuite: str) -> bool:
    family = CRYPTOSUITES[cryptosuite][0]
    curve = method.curve
    if (family == "EdDSA") != (curve == "Ed25519") or len(signature) != _SIGNATURE_LENGTHS[curve]:
        return False
    try:
        if isinstance(method.public_key, ed25519.Ed25519PublicKey):
            method.public_key.verify(signature, hash_data)
        else:
            half = len(signature) // 2
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
            method.public_key.verify(der, hash_data, ec.ECDSA(_ECDSA_HASHES[curve]()))
    except InvalidSignature:
        return False
    return True


def verify_data_integrity(
    document: Mapping[str, Any],
    *,
    resolve_verification_method: VerificationMethodResolver = resolve_did_verification_method,
    now: int | None = None,
    expected_proof_purpose: str = ASSERTION_METHOD,
    loader: ContextLoader = DEFAULT_CONTEXT_LOADER,
) -> tuple[VerifiedProof, ...]:
    """Verify every Data Integrity proof of ``document``; return what each proved.

    ``now`` (epoch seconds), when given, is checked against a proof's
    ``expires``. ``resolve_verification_method`` may raise ``ConnectionError``
    / ``TimeoutError`` (it could not answer); those propagate unchanged.
    """
    if not isinstance(document, Mapping):
        raise FormatError("a Data Integrity document must be a JSON object")
    verified = []
    for proof in _proofs(document):
        cryptosuite = _check_proof_options(proof, expected_proof_purpose)
        created = date_time_seconds(proof["created"], "the proof's 'created'") if "created" in proof else None
        expires = date_time_seconds(proof["expires"], "the proof's 'expires'") if "expires" in proof else None
        signature = _decode_proof_value(proof.get(PROOF_VALUE))
        options = {key: value for key, value in proof.items() if key != PROOF_VALUE}
        unsecured = _unsecured_for(document, options)
        method = _resolve(str(proof["verificationMethod"]), resolve_verification_method, expected_proof_purpose)
        config = dict(options)
        if CONTEXT in unsecured:
            config[CONTEXT] = unsecured[CONTEXT]
        hash_data = _hash_data(unsecured, config, cryptosuite, method.curve, loader)
        if not _verify_signature(method, hash_data, signature, cryptosuite):
            raise SignatureError(
                f"the {cryptosuite} proof by {method.id[:80]!r} does not verify: "
                "the document or the proof was changed, or it was signed by another key"
            )
        if expires is not None and now is not None and now >= expires:
            raise ValidityPeriodError(f"the proof expired at {proof['expires']}")
        verified.append(VerifiedProof(cryptosuite, method.id, method.controller, str(proof["proofPurpose"]),
                                      created, expires))
    return tuple(verified)


def _private_parts(key: SigningKey) -> tuple[ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey, str]:
    raw: Any = key._key if isinstance(key, PrivateKey) else key
    if isinstance(raw, ed25519.Ed25519PrivateKey):
        return raw, "Ed25519"
    if isinstance(raw, ec.EllipticCurvePrivateKey) and isinstance(raw.curve, (ec.SECP256R1, ec.SECP384R1)):
        return raw, "P-256" if isinstance(raw.curve, ec.SECP256R1) else "P-384"
    raise InvalidInput(f"cannot sign Data Integrity proofs with {type(raw).__name__}; expected Ed25519, P-256 or P-384")


def sign_data_integrity(
    document: Mapping[str, Any],
    key: SigningKey,
    verification_method: str,
    created: str,
    *,
    cryptosuite: str | None = None,
    proof_purpose: str = ASSERTION_METHOD,
    expires: str | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    loader: ContextLoader = DEFAULT_CONTEXT_LOADER,
) -> dict[str, Any]:
    """Add a ``DataIntegrityProof`` to ``document`` (a copy) and return it.

    ``challenge`` and ``domain`` (VC Data Integrity 1.0 §2.1, for a
    presentation's ``authentication`` proof: the verifier's nonce and
    audience) become proof options, covered by the signature.

    ``created`` (and ``expires``, optional) is an XML Schema dateTimeStamp
    (the caller's clock, e.g. ``"2026-03-01T09:00:00Z"``). The default cryptosuite is
    ``eddsa-rdfc-2022`` for an Ed25519 key and ``ecdsa-rdfc-2019`` otherwise.
    """
    private, curve = _private_parts(key)
    suite = cryptosuite or (EDDSA_RDFC_2022 if curve == "Ed25519" else ECDSA_RDFC_2019)
    if suite not in CRYPTOSUITES or (CRYPTOSUITES[suite][0] == "EdDSA") != (curve == "Ed25519"):
        raise InvalidInput(f"cryptosuite {suite!r} does not fit a {curve} key")
    date_time_seconds(created, "created", InvalidInput)
    if PROOF in document:
        raise InvalidInput("the document already carries a proof; microcred signs unsecured documents only")
    proof: dict[str, Any] = {
        "type": DATA_INTEGRITY_PROOF,
        "cryptosuite": suite,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if expires is not None:
        date_time_seconds(expires, "expires", InvalidInput)
        proof["expires"] = expires
    for name, value in (("challenge", challenge), ("domain", domain)):
        if value is not None:
            if not isinstance(value, str) or not value:
                raise InvalidInput(f"the proof's {name!r} must be non-empty text")
            proof[name] = value
    if CONTEXT in document and CRYPTOSUITES[suite][1] == "JCS":
        proof[CONTEXT] = document[CONTEXT]  # DI EdDSA/ECDSA §3.x.1 "Create Proof" for the JCS suites
    config = dict(proof)
    if CONTEXT in document:
        config[CONTEXT] = document[CONTEXT]
    hash_data = _hash_data(document, config, suite, curve, loader)
    if isinstance(private, ed25519.Ed25519PrivateKey):
        signature = private.sign(hash_data)
    else:
        r, s = decode_dss_signature(private.sign(hash_data, ec.ECDSA(_ECDSA_HASHES[curve]())))
        size = _SIGNATURE_LENGTHS[curve] // 2
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    proof[PROOF_VALUE] = "z" + base58.b58encode(signature).decode("ascii")
    return {**document, PROOF: proof}
