"""The holder's side of SD-JWT (IETF RFC 9901 §6): see what can be disclosed,
choose, and present.

Claims are named by *paths*: tuples of member names and array indices, e.g.
``("learner", "given_name")`` or ``("learning_outcomes", 2)``. An array index
counts the elements of the fully disclosed array (decoys are not elements).
Disclosing a claim discloses every disclosure on the way to it, since a
child's digest lives inside its parent's disclosure (§6.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from credentials.errors import DisclosureError, FormatError, InvalidInput
from credentials.jose import PrivateKey, UnverifiedJws
from credentials.sd_jwt.common import (
    ARRAY_DIGEST_KEY,
    SD_DIGESTS_KEY,
    SEPARATOR,
    Disclosure,
    UnverifiedSdJwt,
)
from credentials.sd_jwt.key_binding import add_key_binding
from credentials.sd_jwt.verifier import sd_alg_of, unpack_disclosures

__all__ = ["ClaimPath", "DisclosableClaim", "HolderSdJwt"]

ClaimPath = tuple[str | int, ...]


@dataclass(frozen=True)
class DisclosableClaim:
    """A claim the holder may disclose: where it sits and which disclosure reveals it."""

    path: ClaimPath
    disclosure: Disclosure
    parent: ClaimPath | None  # the nearest enclosing disclosable claim, if any

    @property
    def value(self) -> Any:
        return self.disclosure.value


@dataclass(frozen=True)
class HolderSdJwt:
    """An SD-JWT as its holder keeps it, with the map of what it can disclose.

    The holder does not verify the issuer's signature here: the wallet does
    that on import with the verifier's code. It does check the structure, so
    that every disclosure sits at exactly one path.
    """

    parts: UnverifiedSdJwt
    unverified_payload: dict[str, Any]
    claims: tuple[DisclosableClaim, ...]
    all_claims: dict[str, Any]  # the payload with every disclosure in place
    #: The issuer's inclusion proof of this credential (credentials.merkle.IssuanceProof JSON), sent in each KB-JWT.
    issuance_proof: dict[str, Any] | None = None

    @classmethod
    def parse(cls, serialization: str) -> HolderSdJwt:
        parts = UnverifiedSdJwt.parse(serialization)
        if parts.kb_jwt is not None:
            raise FormatError("a stored SD-JWT must not carry a Key Binding JWT; keep the issued form")
        payload = UnverifiedJws.parse(parts.issuer_jwt, what="issuer-signed JWT").payload
        sd_alg = sd_alg_of(payload)
        by_digest: dict[str, Disclosure] = {}
        for encoded in parts.disclosures:
            disclosure = Disclosure.parse(encoded)
            digest = disclosure.digest(sd_alg)
            if digest in by_digest:
                raise DisclosureError("the same disclosure is included more than once")
            by_digest[digest] = disclosure
        found: list[DisclosableClaim] = []
        _walk(payload, (), None, by_digest, found, 0)
        if len(found) != len(by_digest):
            raise DisclosureError("a disclosure is not referenced by any digest in the SD-JWT")
        all_claims, _ = unpack_disclosures(payload, parts.disclosures)
        return cls(parts=parts, unverified_payload=payload, claims=tuple(found), all_claims=all_claims)

    @property
    def paths(self) -> tuple[ClaimPath, ...]:
        return tuple(claim.path for claim in self.claims)

    def select(self, paths: Iterable[ClaimPath]) -> tuple[Disclosure, ...]:
        """The disclosures needed to reveal ``paths``, in issuance order.

        Each requested path must be disclosable or lie inside a disclosable
        claim; every disclosable claim on the way to it is included.
        """
        by_path = {claim.path: claim for claim in self.claims}
        chosen: set[ClaimPath] = set()
        for path in paths:
            path = tuple(path)
            if not _exists(self.all_claims, path):
                raise InvalidInput(f"{_show(path)} is not a claim of this credential")
            prefixes = [path[:n] for n in range(1, len(path) + 1) if path[:n] in by_path]
            if not prefixes:
                raise InvalidInput(f"{_show(path)} is not a selectively disclosable claim of this credential")
            chosen.update(prefixes)
        issued_order = {encoded: i for i, encoded in enumerate(self.parts.disclosures)}
        return tuple(sorted((by_path[p].disclosure for p in chosen), key=lambda d: issued_order[d.encoded]))

    def present(self, paths: Iterable[ClaimPath]) -> str:
        """``<JWT>~<chosen disclosures>~`` without a KB-JWT."""
        chosen = self.select(paths)
        return SEPARATOR.join((self.parts.issuer_jwt, *(d.encoded for d in chosen))) + SEPARATOR

    def present_with_key_binding(
        self,
        paths: Iterable[ClaimPath],
        holder_key: PrivateKey,
        *,
        audience: str,
        nonce: str,
        iat: int,
    ) -> str:
        """An SD-JWT+KB disclosing ``paths``, bound to ``audience`` and ``nonce``; the KB-JWT carries
        :attr:`issuance_proof` as its ``issuance_proof`` claim when there is one."""
        return add_key_binding(
            self.present(paths),
            holder_key,
            audience=audience,
            nonce=nonce,
            iat=iat,
            sd_alg=sd_alg_of(self.unverified_payload),
            extra_claims={"issuance_proof": self.issuance_proof} if self.issuance_proof is not None else None,
        )


def _exists(node: Any, path: ClaimPath) -> bool:
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(node):
            node = node[step]
        else:
            return False
    return bool(path)


def _show(path: ClaimPath) -> str:
    return "/".join(str(p) for p in path) or "/"


def _walk(
    node: Any,
    path: ClaimPath,
    parent: ClaimPath | None,
    by_digest: dict[str, Disclosure],
    found: list[DisclosableClaim],
    depth: int,
) -> None:
    if depth > 32:
        raise DisclosureError("the SD-JWT nests deeper than 32 levels")
    if isinstance(node, dict):
        digests = node.get(SD_DIGESTS_KEY, [])
        if not isinstance(digests, list):
            raise DisclosureError("an '_sd' member is not an array of digests")
        for name, value in node.items():
            if name != SD_DIGESTS_KEY:
                _walk(value, path + (name,), parent, by_digest, found, depth + 1)
        for digest in digests:
            disclosure = by_digest.get(digest) if isinstance(digest, str) else None
            if disclosure is None:
                continue
            if disclosure.name is None:  # an array element
                raise DisclosureError("an array-element disclosure is referenced from an object's '_sd'")
            claim_path = path + (disclosure.name,)
            found.append(DisclosableClaim(claim_path, disclosure, parent))
            _walk(disclosure.value, claim_path, claim_path, by_digest, found, depth + 1)
    elif isinstance(node, list):
        index = 0
        for element in node:
            if isinstance(element, dict) and set(element) == {ARRAY_DIGEST_KEY}:
                digest = element[ARRAY_DIGEST_KEY]
                disclosure = by_digest.get(digest) if isinstance(digest, str) else None
                if disclosure is None:
                    continue  # a decoy: not an element
                if not disclosure.is_array_element:
                    raise DisclosureError("an object-property disclosure is referenced from an array")
                claim_path = path + (index,)
                found.append(DisclosableClaim(claim_path, disclosure, parent))
                _walk(disclosure.value, claim_path, claim_path, by_digest, found, depth + 1)
            else:
                _walk(element, path + (index,), parent, by_digest, found, depth + 1)
            index += 1
