"""The compiled contracts (``contracts/artifacts/*.json``) and their custom errors in words.

Artifacts are written by :mod:`ledger.compile` (solc standard JSON, ABI
specification of Solidity 0.8). This module loads them, mirrors the contracts'
enums (``ITrustRegistry.Role`` and ``ITrustRegistry.Standing``) and decodes
revert data: a custom error is the first four bytes of keccak256 of its
signature followed by its ABI-encoded arguments, and :func:`decode_revert`
turns that into a :class:`~ledger.errors.TransactionReverted` whose message is
a sentence.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from ledger.compile import artifacts_dir
from ledger.errors import InvalidDeployment, TransactionReverted

__all__ = [
    "TRUST_REGISTRY",
    "STATUS_REGISTRY",
    "NAIVE_REVOCATION_REGISTRY",
    "DID_REGISTRY",
    "ISSUANCE_REGISTRY",
    "Role",
    "Standing",
    "Artifact",
    "load_artifact",
    "abi_types",
    "decode_revert",
]

TRUST_REGISTRY = "TrustRegistry"
STATUS_REGISTRY = "StatusRegistry"
NAIVE_REVOCATION_REGISTRY = "NaiveRevocationRegistry"
DID_REGISTRY = "DidRegistry"
ISSUANCE_REGISTRY = "IssuanceRegistry"

_ERROR_STRING_SELECTOR = keccak(text="Error(string)")[:4]
_PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


class Role(enum.IntEnum):
    """``ITrustRegistry.Role``: the place of an entry in the chain of trust."""

    NONE = 0
    ROOT = 1
    TAO = 2
    ISSUER = 3

    @property
    def label(self) -> str:
        return {0: "none", 1: "root", 2: "tao", 3: "issuer"}[self.value]


class Standing(enum.IntEnum):
    """``ITrustRegistry.Standing``: why a DID is or is not accredited at a time."""

    ACCREDITED = 0
    UNKNOWN = 1
    NOT_YET_VALID = 2
    EXPIRED = 3
    SUSPENDED = 4
    REVOKED = 5
    ACCREDITOR_NOT_ACCREDITED = 6
    TYPE_NOT_ACCREDITED = 7

    @property
    def words(self) -> str:
        return _STANDING_WORDS[self]


_STANDING_WORDS = {
    Standing.ACCREDITED: "accredited",
    Standing.UNKNOWN: "not in the trust registry",
    Standing.NOT_YET_VALID: "not yet valid (its accreditation starts later)",
    Standing.EXPIRED: "expired (its accreditation had ended)",
    Standing.SUSPENDED: "suspended",
    Standing.REVOKED: "revoked",
    Standing.ACCREDITOR_NOT_ACCREDITED: "accredited by an organisation that was itself not accredited",
    Standing.TYPE_NOT_ACCREDITED: "not accredited for this credential type",
}


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: name, ABI, creation bytecode, and the ABI's SHA-256."""

    name: str
    abi: tuple[Mapping[str, Any], ...]
    bytecode: str
    abi_sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.name}.json"


@cache
def load_artifact(name: str) -> Artifact:
    """Load ``contracts/artifacts/<name>.json`` (compiled by ``make contracts``)."""
    path = artifacts_dir() / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        abi, bytecode = data["abi"], data["bytecode"]
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidDeployment(f"expected the compiled contract at {path}; run `make contracts`: {exc}") from exc
    abi_text = json.dumps(abi, sort_keys=True, separators=(",", ":"))
    return Artifact(name, tuple(abi), bytecode, hashlib.sha256(abi_text.encode()).hexdigest())


def abi_types(inputs: list[Mapping[str, Any]]) -> list[str]:
    """ABI JSON parameters to eth-abi / signature type strings (tuples spelled out)."""
    types = []
    for item in inputs:
        if item["type"].startswith("tuple"):
            types.append("(" + ",".join(abi_types(item["components"])) + ")" + item["type"][5:])
        else:
            types.append(item["type"])
    return types


@cache
def _error_catalogue() -> dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """selector -> (error name, argument names, argument ABI types), for all our contracts."""
    catalogue = {}
    for name in (TRUST_REGISTRY, STATUS_REGISTRY, NAIVE_REVOCATION_REGISTRY, ISSUANCE_REGISTRY,
                 DID_REGISTRY):
        for item in load_artifact(name).abi:
            if item.get("type") != "error":
                continue
            types = abi_types(item["inputs"])
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            catalogue[selector] = (item["name"], tuple(i["name"] for i in item["inputs"]), tuple(types))
    return catalogue


def _fmt_time(value: int) -> str:
    return "never" if value >= 2**64 - 1 else str(value)


_SENTENCES = {
    "EmptyDid": lambda a: "the DID is empty; expected did:<method>:<id>",
    "InvalidRole": lambda a: f"only a TAO or an issuer can be accredited, not role {Role(a['role']).label}",
    "InvalidValidity": lambda a: (
        f"valid-from ({a['validFrom']}) must be before valid-until ({_fmt_time(a['validUntil'])})"
    ),
    "InvalidEqfLevel": lambda a: f"EQF levels run from 1 to 8 (0 for no limit), found {a['level']}",
    "NoTypes": lambda a: "an accreditation must name at least one credential type (vct)",
    "ZeroController": lambda a: "the controller address must not be the zero address",
    "UnknownDid": lambda a: f"{a['did']} is not in the trust registry",
    "AlreadyRegistered": lambda a: f"{a['did']} already has an accreditation (entries are never overwritten)",
    "NotController": lambda a: f"the sending account {a['caller']} is not the controller {a['controller']}",
    "NotAnAccreditor": lambda a: f"{a['did']} is an {Role(a['role']).label} and cannot accredit others",
    "AccreditorNotActive": lambda a: f"the accreditor {a['did']} is {Standing(a['standing']).words} now",
    "TypeOutOfScope": lambda a: f"the accreditor is not accredited for credential type {a['vct']!r} itself",
    "EqfLevelOutOfScope": lambda a: (
        f"the accreditor may grant EQF levels up to {a['allowed']}, "
        f"asked for {a['requested'] if a['requested'] else 'no limit'}"
    ),
    "ValidityOutOfScope": lambda a: (
        f"the validity {a['validFrom']}..{_fmt_time(a['validUntil'])} reaches beyond the accreditor's own "
        f"{a['allowedFrom']}..{_fmt_time(a['allowedUntil'])}"
    ),
    "ChainTooDeep": lambda a: f"the chain of trust would be {a['depth']} levels deep, more than allowed",
    "NotGrantor": lambda a: (
        f"the sending account {a['caller']} neither granted the accreditation of {a['did']} nor is the root"
    ),
    "CannotChangeRoot": lambda a: "the root of trust cannot be suspended, revoked or renewed",
    "AlreadyRevoked": lambda a: f"{a['did']} was revoked at {a['revokedAt']}; nothing can change it any more",
    "AlreadySuspended": lambda a: f"{a['did']} is already suspended (since {a['suspendedAt']})",
    "NotSuspended": lambda a: f"{a['did']} is not suspended, so it cannot be reinstated",
    "NotPendingController": lambda a: (
        f"the sending account {a['caller']} was not proposed as the next controller"
        + (" (no transfer is pending)" if int(a['pending'], 16) == 0 else f" (the proposed address is {a['pending']})")
    ),
    "NoPendingTransfer": lambda a: f"no controller transfer of {a['did']} is pending, so there is nothing to cancel",
    "EmptyListId": lambda a: "the status list id is empty",
    "NoListsGiven": lambda a: "no status list was given to anchor",
    "ZeroDigest": lambda a: "the status list digest is all zeros; expected a SHA-256",
    "IssuerNotAccredited": lambda a: f"the issuer {a['issuerDid']} is {Standing(a['standing']).words} at this moment",
    "NotAnIssuer": lambda a: f"{a['issuerDid']} is a {Role(a['role']).label}, and only issuers anchor status lists",
    "VersionNotIncreasing": lambda a: (
        f"status list {a['listId']!r} is at version {a['current']}; a new anchor needs a greater version, "
        f"found {a['given']}"
    ),
    "ZeroRoot": lambda a: "the batch root is all zeros; expected the root of a Merkle tree",
    "EmptyBatch": lambda a: "a batch root must cover at least one credential, found size 0",
    "BatchTooLarge": lambda a: f"a batch holds at most {a['maxSize']} credentials, found {a['size']}",
    "AlreadyAnchored": lambda a: (
        f"the batch root {a['root']} was already anchored by {a['issuer']} in block {a['blockNumber']}"
    ),
    # DidRegistry (did:mcr)
    "UnknownIdentifier": lambda a: f"no did:mcr is registered with the identifier {a['id'][2:]}",
    "IdentifierTaken": lambda a: f"a did:mcr with the identifier {a['id'][2:]} exists already; use another salt",
    "ZeroKeyId": lambda a: "the key id is zero; expected the key's SHA-256 JWK thumbprint",
    "InvalidPublicKey": lambda a: (
        f"the key bytes do not fit key type {a['keyType']} ({a['length']} bytes; expected a 33- or 65-byte "
        "P-256 point or a 32-byte Ed25519 key)"
    ),
    "DuplicateKeyId": lambda a: f"the DID already lists the key {a['keyId']} (a key is never registered twice)",
    "UnknownKeyId": lambda a: f"the DID lists no key {a['keyId']}",
    "MethodAlreadyEnded": lambda a: f"the key {a['keyId']} already ended at block {a['validUntilBlock']}",
    "MethodAlreadyRevoked": lambda a: f"the key {a['keyId']} was already revoked at block {a['revokedAtBlock']}",
    "TooManyMethods": lambda a: f"a DID holds at most {a['max']} keys over its life, and this one is full",
    "NoPendingControllerTransfer": lambda a: "no controller transfer of this DID is pending; nothing to cancel",
    "NotIssuer": lambda a: f"the sending account {a['caller']} is not the registry's issuer {a['issuer']}",
}


def _plain(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def decode_revert(data: bytes | str | Mapping[str, Any] | None, *,
                  action: str = "the transaction") -> TransactionReverted:
    """Turn revert data into a :class:`TransactionReverted` that says what went wrong.

    ``data`` is the revert data as bytes or hex, or the error object some nodes give
    instead (Hardhat Network: ``{"message": …, "data": "0x…"}``).
    """
    if isinstance(data, Mapping):
        data = data.get("data") if isinstance(data.get("data"), str | bytes) else None
    if isinstance(data, str):
        shown, text = data, data[2:] if data.startswith("0x") else data
        try:
            data = bytes.fromhex(text)
        except ValueError:
            return TransactionReverted(f"{action} reverted: {shown}")
    if not data:
        return TransactionReverted(f"{action} reverted without a reason")
    selector, payload = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING_SELECTOR:
            (message,) = abi_decode(["string"], payload)
            return TransactionReverted(f"{action} reverted: {message}", error_name="Error",
                                       error_args={"message": message})
        if selector == _PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], payload)
            return TransactionReverted(f"{action} failed with panic code {code:#x}", error_name="Panic",
                                       error_args={"code": code})
        known = _error_catalogue().get(selector)
        if known is None:
            return TransactionReverted(f"{action} reverted with an unknown error 0x{data.hex()[:72]}")
        name, arg_names, types = known
        values = abi_decode(list(types), payload)
    except DecodingError:
        return TransactionReverted(f"{action} reverted with undecodable data 0x{data.hex()[:72]}")
    args = {arg: _plain(value, abi_type) for arg, value, abi_type in zip(arg_names, values, types, strict=True)}
    describe = _SENTENCES.get(name)
    sentence = describe(args) if describe else f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
    return TransactionReverted(f"{action} reverted ({name}): {sentence}", error_name=name, error_args=args)
