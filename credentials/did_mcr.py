"""``did:mcr``, the microcred registry DID method: records in, a DID document and the key valid at a block out.

Method specification (this project's; modelled on EBSI's DID Registry and
``did:ebsi`` for legal entities, whose verification methods carry a validity
period and are rotated by their controller):

- **Syntax**: ``did:mcr:<chain id>:<id>``: the EIP-155 chain id in decimal
  and the 16-byte identifier ``DidRegistry.register`` derives from the
  registrant and a salt, in 32 lowercase hex digits (``contracts/IDidRegistry.sol``).
- **Create / update / deactivate**: transactions to the DidRegistry of that
  chain by the DID's controller account: ``register``, ``addMethod``,
  ``rotate`` (add the new key and end the old one in one transaction),
  ``revokeMethod``; control moves in two steps.
- **Read**: ``recordOf(id)`` at a block. Each verification method is a P-256
  or Ed25519 public key named by its RFC 7638 JWK thumbprint; its DID URL is
  ``<did>#<base64url thumbprint>`` and it is valid in
  ``[validFromBlock, validUntilBlock)``. The document (W3C DID Core 1.0 §5,
  ``JsonWebKey2020``) lists every method ever registered, with
  ``validFromBlock`` / ``validUntilBlock`` / ``revokedAtBlock``, and lists
  under ``assertionMethod`` and ``authentication`` only those valid at the
  block read.

**Which key verifies a credential** (:func:`key_at`): with an issuance anchor
(the credential provably existed at block N), the key must have been valid at
N, so a key rotated out or revoked later keeps the credentials anchored
before; without one, the key must be valid at the block read (now). A stored
thumbprint that does not match its key makes the method unusable (fail
closed). Pure: the records come from :mod:`ledger.did_registry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credentials.dids import DID_CORE_CONTEXT, JWS_2020_CONTEXT, VERIFICATION_METHOD_TYPE, Did
from credentials.errors import InvalidDid, InvalidKey
from credentials.jose import PublicKey, b64url_decode, b64url_encode
from credentials.multikey import VerificationMethod

__all__ = [
    "DID_MCR_METHOD",
    "KEY_TYPE_P256",
    "KEY_TYPE_ED25519",
    "McrDid",
    "MethodRecord",
    "DidRecord",
    "key_id_of",
    "key_type_of",
    "method_public_key",
    "did_document",
    "did_document_metadata",
    "key_at",
    "verification_method_at",
]

DID_MCR_METHOD = "mcr"
#: ``IDidRegistry.KeyType``.
KEY_TYPE_P256 = 1
KEY_TYPE_ED25519 = 2
_KEY_TYPE_NAMES = {KEY_TYPE_P256: "P-256", KEY_TYPE_ED25519: "Ed25519"}
_ID_HEX = 32
_MSID = re.compile(r"(?P<chain>[1-9][0-9]{0,19}):(?P<id>[0-9a-f]{32})")
#: Relationships the document lists the methods valid now under (microcred's keys only sign).
_RELATIONSHIPS = ("assertionMethod", "authentication")


@dataclass(frozen=True)
class McrDid:
    """A ``did:mcr`` DID, parsed on construction (a fragment, if any, is dropped: see :attr:`Did.fragment`)."""

    text: str

    def __post_init__(self) -> None:
        parsed = Did(self.text)
        if parsed.method != DID_MCR_METHOD:
            raise InvalidDid(f"expected a did:mcr, found did:{parsed.method}")
        match = _MSID.fullmatch(parsed.method_specific_id)
        if match is None:
            raise InvalidDid(f"expected did:mcr:<chain id>:<32 lowercase hex digits>, found {parsed.did[:80]!r}")
        if int(match["chain"]) >= 2**64:
            raise InvalidDid(f"the chain id of {parsed.did[:80]!r} does not fit in 64 bits")
        object.__setattr__(self, "text", parsed.did)

    @classmethod
    def of(cls, chain_id: int, identifier: bytes) -> McrDid:
        if len(identifier) != _ID_HEX // 2:
            raise InvalidDid(f"expected a 16-byte did:mcr identifier, found {len(identifier)} bytes")
        return cls(f"did:{DID_MCR_METHOD}:{int(chain_id)}:{identifier.hex()}")

    @property
    def chain_id(self) -> int:
        return int(self.text.split(":")[2])

    @property
    def identifier(self) -> bytes:
        return bytes.fromhex(self.text.split(":")[3])

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class MethodRecord:
    """One stored verification method (``IDidRegistry.Method``); ``None`` for an end or revocation not set."""

    key_id: bytes
    key_type: int
    public_key: bytes
    valid_from_block: int
    valid_until_block: int | None
    revoked_at_block: int | None
    added_by: str

    @property
    def fragment(self) -> str:
        """The DID URL fragment: the base64url JWK thumbprint."""
        return b64url_encode(self.key_id)

    def valid_at(self, block: int) -> bool:
        return self.valid_from_block <= block and (self.valid_until_block is None or block < self.valid_until_block)


@dataclass(frozen=True)
class DidRecord:
    """A DID's record as read at ``read_at_block`` (``IDidRegistry.Record``)."""

    did: str
    controller: str
    registered_at_block: int
    methods: tuple[MethodRecord, ...]
    read_at_block: int


def key_id_of(key: PublicKey) -> bytes:
    """The 32 bytes the registry names ``key`` by: its RFC 7638 SHA-256 JWK thumbprint."""
    return b64url_decode(key.thumbprint())


def key_type_of(key: PublicKey) -> int:
    """``IDidRegistry.KeyType`` of a P-256 or Ed25519 key; InvalidKey for anything else."""
    if key.alg == "ES256":
        return KEY_TYPE_P256
    if key.alg == "EdDSA":
        return KEY_TYPE_ED25519
    raise InvalidKey(f"a did:mcr key must be P-256 or Ed25519, found {key.alg}")


def _crypto_key(method: MethodRecord) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
    """The method's key as a ``cryptography`` key, after checking its bytes and its thumbprint; InvalidKey if not."""
    try:
        crypto: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
        if method.key_type == KEY_TYPE_P256:
            crypto = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), method.public_key)
        elif method.key_type == KEY_TYPE_ED25519 and len(method.public_key) == 32:
            crypto = ed25519.Ed25519PublicKey.from_public_bytes(method.public_key)
        else:
            raise InvalidKey(f"expected a P-256 or 32-byte Ed25519 key, found key type {method.key_type} "
                             f"with {len(method.public_key)} bytes")
    except InvalidKey:
        raise
    except ValueError:
        raise InvalidKey(f"the key #{method.fragment} is not a point on its curve") from None
    if key_id_of(PublicKey.from_cryptography(crypto)) != method.key_id:
        raise InvalidKey(f"the key #{method.fragment} is registered under a thumbprint that is not its own")
    return crypto


def method_public_key(method: MethodRecord) -> PublicKey:
    """The method's key as a JOSE key, after checking that its bytes fit its type and its thumbprint."""
    return PublicKey.from_cryptography(_crypto_key(method))


def _method_json(record: DidRecord, method: MethodRecord) -> dict[str, Any] | None:
    try:
        key = method_public_key(method)
    except InvalidKey:
        return None  # a record that does not hold together is not offered
    entry: dict[str, Any] = {
        "id": f"{record.did}#{method.fragment}",
        "type": VERIFICATION_METHOD_TYPE,
        "controller": record.did,
        "publicKeyJwk": key.to_jwk(),
        "validFromBlock": method.valid_from_block,
    }
    if method.valid_until_block is not None:
        entry["validUntilBlock"] = method.valid_until_block
    if method.revoked_at_block is not None:
        entry["revoked"] = True
        entry["revokedAtBlock"] = method.revoked_at_block
    return entry


def did_document(record: DidRecord) -> dict[str, Any]:
    """The DID document (DID Core 1.0 §5) at ``record.read_at_block``: every method, the valid ones listed."""
    methods, valid = [], []
    for method in record.methods:
        entry = _method_json(record, method)
        if entry is None:
            continue
        methods.append(entry)
        if method.valid_at(record.read_at_block):
            valid.append(entry["id"])
    document: dict[str, Any] = {"@context": [DID_CORE_CONTEXT, JWS_2020_CONTEXT], "id": record.did,
                                "verificationMethod": methods}
    for relationship in _RELATIONSHIPS:
        document[relationship] = list(valid)
    return document


def did_document_metadata(record: DidRecord, chain_id: int) -> dict[str, Any]:
    """Resolution metadata: the controlling account (CAIP-10), the registration and read blocks."""
    return {"controller": f"eip155:{chain_id}:{record.controller}", "registeredAtBlock": record.registered_at_block,
            "readAtBlock": record.read_at_block}


def _find(record: DidRecord, kid: str | None, valid_at: int) -> MethodRecord:
    if kid is None:
        usable = [m for m in record.methods if m.valid_at(valid_at)]
        if len(usable) != 1:
            raise InvalidDid(f"the JWT names no key ('kid') and {record.did} has {len(usable)} keys valid at "
                             f"block {valid_at}; expected exactly one")
        return usable[0]
    if not isinstance(kid, str):
        raise InvalidDid("the key id ('kid') is not a string")
    did_part, _, fragment = kid.partition("#")
    if did_part not in ("", record.did) or not fragment:
        raise InvalidDid(f"the key {kid[:100]!r} is not a key of {record.did}; expected {record.did}#<thumbprint>")
    for method in record.methods:
        if method.fragment == fragment:
            return method
    raise InvalidDid(f"{record.did} has no key #{fragment[:60]}")


def _valid_method(record: DidRecord, kid: str | None, at_block: int | None) -> MethodRecord:
    """The method ``kid`` names, if it was valid at the anchor's block ``at_block`` (None: valid at the block read).

    InvalidDid says in plain words why not: revoked, replaced by a rotation,
    not yet valid, or anchored at a block this record was not read at.
    """
    now = record.read_at_block
    if at_block is not None and (isinstance(at_block, bool) or not isinstance(at_block, int) or at_block < 0):
        raise InvalidDid(f"expected the issuance anchor's block number, found {at_block!r}")
    if at_block is not None and at_block > now:
        raise InvalidDid(f"the credential was anchored at block {at_block}, which this verifier has not confirmed "
                         f"yet (it reads block {now}); try again shortly")
    block = now if at_block is None else at_block
    method = _find(record, kid, block)
    name = f"the key #{method.fragment[:12]}… of {record.did}"
    when = (f"this credential was anchored at block {at_block}" if at_block is not None
            else f"a credential without an issuance anchor needs a key valid now (block {now})")
    if method.revoked_at_block is not None and block >= method.revoked_at_block:
        raise InvalidDid(f"{name} was revoked at block {method.revoked_at_block}; {when}, not before the revocation")
    if method.valid_until_block is not None and block >= method.valid_until_block:
        raise InvalidDid(f"{name} was replaced at block {method.valid_until_block} (key rotation); {when}, "
                         "not before the rotation")
    if block < method.valid_from_block:
        raise InvalidDid(f"{name} is valid only from block {method.valid_from_block}; {when}, before the key existed")
    return method


def key_at(record: DidRecord, kid: str | None, at_block: int | None = None) -> PublicKey:
    """The JOSE key ``kid`` names, if it was valid at ``at_block`` (the issuance anchor's; None: at the block read).

    InvalidDid says in plain words why not (see :func:`_valid_method`).
    """
    method = _valid_method(record, kid, at_block)
    try:
        return method_public_key(method)
    except InvalidKey as exc:
        raise InvalidDid(f"the key #{method.fragment[:12]}… of {record.did} cannot be used: {exc}") from None


def verification_method_at(record: DidRecord, method_id: str, at_block: int | None = None) -> VerificationMethod:
    """The Data Integrity verification method ``method_id`` (``<did>#<thumbprint>``), valid at ``at_block``."""
    method = _valid_method(record, method_id, at_block)
    try:
        crypto = _crypto_key(method)
    except InvalidKey as exc:
        raise InvalidDid(f"the key #{method.fragment[:12]}… of {record.did} cannot be used: {exc}") from None
    return VerificationMethod(f"{record.did}#{method.fragment}", record.did, crypto, frozenset(_RELATIONSHIPS))

