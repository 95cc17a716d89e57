"""Merkle trees over issued credentials: RFC 9162 §2.1 (Certificate Transparency 2.0; RFC 6962 §2.1 hashing).

Each issuing batch is one tree. Its leaves are the credentials' digests, in
the batch's order::

    leaf input   = SHA-256(credential bytes)          (the issuer-signed JWT, ASCII, no disclosures / KB-JWT;
                                                      or a signed document's canonical bytes)
    leaf hash    = SHA-256(0x00 || leaf input)        RFC 9162 §2.1.1, MTH({d0})
    node hash    = SHA-256(0x01 || left || right)     RFC 9162 §2.1.1, MTH(D[n]) with k the largest power
                                                      of two smaller than n, left = MTH(D[0:k])

The tree is built bottom-up, a lone last node of a level going up as it is;
that is the same tree as the RFC's recursive definition (a test proves it
against the definition for every size up to 70). :meth:`MerkleTree.path` is
the §2.1.3.1 inclusion proof (audit path), :func:`verify_inclusion` the
§2.1.3.2 verification algorithm, for any tree size.

:class:`IssuanceProof` is what the issuer delivers with each credential and
the wallet presents (claim ``issuance_proof`` of the KB-JWT, VP member
``issuanceProof``)::

    {"alg": "rfc9162-sha256", "root": "<hex 64>", "index": i, "size": n,
     "path": ["<hex 64>", …], "chain_id": 31337, "registry": "0x…"}

Pure: no I/O. Errors are :class:`~credentials.errors.InvalidInput`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credentials.errors import InvalidInput

__all__ = [
    "PROOF_ALG",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "leaf_hash",
    "node_hash",
    "credential_digest",
    "credential_leaf",
    "MerkleTree",
    "root_from_path",
    "verify_inclusion",
    "IssuanceProof",
]

#: The ``alg`` of an :class:`IssuanceProof`.
PROOF_ALG = "rfc9162-sha256"
HASH_SIZE = 32
#: The registry's ``size`` is a uint64; a batch is far smaller (issuer.batch.MAX_ROWS times the kinds).
MAX_TREE_SIZE = 2**64 - 1
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: A proof path never needs more than 64 hashes (the size is a uint64).
_MAX_PATH = 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_PROOF_MEMBERS = frozenset({"alg", "root", "index", "size", "path", "chain_id", "registry"})


def leaf_hash(leaf_input: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || leaf input)."""
    return hashlib.sha256(LEAF_PREFIX + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def credential_digest(serialization: str) -> bytes:
    """SHA-256 of the issuer-signed part of a credential: an SD-JWT's issuer JWT (before the first ``~``)
    or a whole compact JWS (``vc+jwt``); ASCII, surrounding whitespace ignored."""
    text = serialization.strip()
    issuer_signed = text.split("~", 1)[0]
    try:
        data = issuer_signed.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidInput("expected an ASCII compact serialization, found other characters") from None
    if issuer_signed.count(".") != 2:
        raise InvalidInput(f"expected an issuer-signed JWT (three dot-separated parts), found "
                           f"{issuer_signed.count('.') + 1} part(s)")
    return hashlib.sha256(data).digest()


def credential_leaf(serialization: str) -> bytes:
    """The leaf hash of one credential: SHA-256(0x00 || SHA-256(issuer-signed JWT))."""
    return leaf_hash(credential_digest(serialization))


def _check_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise InvalidInput(f"expected {what} to be {HASH_SIZE} bytes, found "
                           f"{len(value) if isinstance(value, bytes | bytearray) else type(value).__name__}")
    return bytes(value)


class MerkleTree:
    """The RFC 9162 tree over ``leaf_hashes`` (already leaf-hashed, in order); at least one leaf."""

    def __init__(self, leaf_hashes: Sequence[bytes]):
        if not leaf_hashes:
            raise InvalidInput("expected at least one credential in the tree, found none")
        level = [_check_hash(h, "a leaf hash") for h in leaf_hashes]
        self._levels: list[list[bytes]] = [level]
        while len(level) > 1:
            above = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                above.append(level[-1])  # the lone last node goes up unchanged
            self._levels.append(above)
            level = above

    @property
    def size(self) -> int:
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        return self._levels[-1][0]

    def path(self, index: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1: the audit path of leaf ``index`` (0-based), bottom-up."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise InvalidInput(f"expected a leaf index from 0 to {self.size - 1}, found {index!r}")
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # else: this node is the lone last one and goes up unchanged
                path.append(level[sibling])
            index //= 2
        return path


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 steps 1-4: the root that ``path`` leads to from ``leaf`` at ``index`` of a tree
    of ``size``; None when the path cannot belong to such a tree (wrong length, index out of range)."""
    if not 0 <= index < size or len(path) > _MAX_PATH:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: True when ``path`` proves ``leaf`` (a leaf hash) at ``index`` in the tree of
    ``size`` whose root is ``root``."""
    computed = root_from_path(leaf, index, size, path)
    return computed is not None and computed == root


@dataclass(frozen=True)
class IssuanceProof:
    """One credential's place in its batch's anchored tree (see the module docstring for the JSON)."""

    root: bytes
    index: int
    size: int
    path: tuple[bytes, ...]
    chain_id: int
    registry: str

    @classmethod
    def of(cls, tree: MerkleTree, index: int, *, chain_id: int, registry: str) -> IssuanceProof:
        return cls(tree.root, index, tree.size, tuple(tree.path(index)), chain_id, registry)

    def to_json(self) -> dict[str, Any]:
        return {"alg": PROOF_ALG, "root": self.root.hex(), "index": self.index, "size": self.size,
                "path": [p.hex() for p in self.path], "chain_id": self.chain_id, "registry": self.registry}

    @classmethod
    def from_json(cls, unverified: Any) -> IssuanceProof:
        """Parse a proof object; :class:`InvalidInput` saying what was expected and what was found."""
        if not isinstance(unverified, Mapping):
            raise InvalidInput(f"expected the issuance proof to be a JSON object, found {type(unverified).__name__}")
        missing = sorted(_PROOF_MEMBERS - set(unverified))
        extra = sorted(str(k) for k in set(unverified) - _PROOF_MEMBERS)
        if missing or extra:
            raise InvalidInput("expected the issuance proof members " + ", ".join(sorted(_PROOF_MEMBERS))
                               + (f"; missing {', '.join(missing)}" if missing else "")
                               + (f"; unknown {', '.join(extra)[:200]}" if extra else ""))
        if unverified["alg"] != PROOF_ALG:
            raise InvalidInput(f"expected issuance proof alg {PROOF_ALG!r}, found {str(unverified['alg'])[:40]!r}")
        size, index, chain_id = unverified["size"], unverified["index"], unverified["chain_id"]
        for name, value, low in (("size", size, 1), ("index", index, 0), ("chain_id", chain_id, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_TREE_SIZE:
                raise InvalidInput(f"expected the issuance proof's {name} to be a whole number from {low} "
                                   f"to 2^64-1, found {str(value)[:40]!r}")
        if index >= size:
            raise InvalidInput(f"expected the issuance proof's index below its size {size}, found {index}")
        path = unverified["path"]
        if not isinstance(path, list) or len(path) > _MAX_PATH:
            raise InvalidInput(f"expected the issuance proof's path to be a list of at most {_MAX_PATH} hashes")
        registry = unverified["registry"]
        if not isinstance(registry, str) or not _ADDRESS.fullmatch(registry):
            raise InvalidInput(
                f"expected the issuance proof's registry to be a 0x address, found {str(registry)[:50]!r}")
        return cls(_hex_hash(unverified["root"], "root"), index, size,
                   tuple(_hex_hash(p, "path entry") for p in path), chain_id, registry)

    def proves(self, leaf: bytes) -> bool:
        """True when this proof's path leads from ``leaf`` to its root."""
        return verify_inclusion(leaf, self.index, self.size, self.path, self.root)


def _hex_hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidInput(f"expected the issuance proof's {what} to be 64 lowercase hex digits, "
                           f"found {str(value)[:70]!r}")
    return bytes.fromhex(value)
