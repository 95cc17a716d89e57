"""Verifying SD-JWTs and SD-JWT+KB presentations (IETF RFC 9901 §7).

Order of work, as §7.1 prescribes: split the serialization, verify the
issuer-signed JWT with a key the caller supplies (never one from the token),
then process the disclosures, rejecting

- an ``_sd_alg`` that is unsupported or not a string;
- a disclosure that is malformed, uses the name ``_sd``, ``...`` or
  ``_sd_alg``, or is given more than once;
- an ``_sd_alg`` anywhere but the top level of the payload (§4.1.1), in the
  clear or inside a disclosed value, and a ``...`` member outside an array
  placeholder (§4.1 rule 7);
- a digest that appears more than once in the payload and disclosures;
- an object-property disclosure referenced from an array, or an
  array-element disclosure referenced from ``_sd``;
- a claim name that already exists at that level;
- a claim the caller names as never disclosable (SD-JWT VC's registered
  claims) that is disclosed at the top level, or that holds ``_sd`` digests
  or ``...`` placeholders anywhere inside its value in the clear (RFC 9901 §9.7);
- a disclosure whose digest appears nowhere;
- an ``_sd`` that is not an array of strings, an array placeholder
  ``{"...": d}`` with other members;

then checks ``exp``/``nbf``/``iat`` against the ``now`` it is given, and
finally the Key Binding JWT if the policy asks for one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from credentials.errors import (
    DisclosureError,
    InvalidDid,
    InvalidKey,
    SignatureError,
    ValidityPeriodError,
)
from credentials.jose import PublicKey, UnverifiedJws, b64url_encode
from credentials.numeric_date import numeric_date
from credentials.sd_jwt.common import (
    ARRAY_DIGEST_KEY,
    DEFAULT_SD_ALG,
    HASH_ALGORITHMS,
    SD_ALG_KEY,
    SD_DIGESTS_KEY,
    Disclosure,
    UnverifiedSdJwt,
    decoded_disclosures,
)
from credentials.sd_jwt.key_binding import (
    DEFAULT_LEEWAY,
    KeyBindingPolicy,
    VerifiedKeyBinding,
    verify_kb_jwt,
)

__all__ = [
    "IssuerKeySource",
    "VerifiedSdJwt",
    "unpack_disclosures",
    "verify_issuer_jwt",
    "check_time_claims",
    "verify_sd_jwt",
]

#: Nesting deeper than this in a payload or disclosure is refused.
MAX_DEPTH = 32

#: The issuer's key, or a function of the (unverified) header and payload that
#: finds it, e.g. by resolving ``iss`` / ``kid`` as a DID.
IssuerKeySource = PublicKey | Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]


@dataclass(frozen=True)
class VerifiedSdJwt:
    """What a verified SD-JWT says.

    ``claims``: the processed payload (disclosed claims in place, no ``_sd``,
    no ``_sd_alg``); ``issuer_payload``: the payload as signed; ``disclosures``:
    the disclosures presented; ``key_binding``: the checked KB-JWT or None.
    """

    header: dict[str, Any]
    issuer_payload: dict[str, Any]
    claims: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    key_binding: VerifiedKeyBinding | None
    sd_alg: str


#: What the unpacking walks into; any other value is a leaf, taken as it is.
_CONTAINERS = (dict, list)
#: Marks a member that is absent (``None`` is a value: ``"_sd": null`` is refused, not ignored).
_ABSENT: Any = object()
#: No claim names (below the top level, none is a registered one).
_NONE: frozenset[str] = frozenset()


class _Unpacker:
    def __init__(self, disclosures: Collection[str], sd_alg: str, never_disclosable: Collection[str] = (),
                 known: Mapping[str, tuple[Disclosure, str]] | None = None):
        self.sd_alg = sd_alg
        self.never_disclosable = (never_disclosable if isinstance(never_disclosable, frozenset)
                                  else frozenset(never_disclosable))
        hash_function = HASH_ALGORITHMS.get(sd_alg)
        plain = decoded_disclosures(disclosures, hash_function) if not known and hash_function is not None else None
        self.by_digest: dict[str, Disclosure] = dict(plain) if plain is not None else {}
        #: Whether any disclosure was decoded here rather than found in ``known``.
        self.decoded = plain is not None
        seen_encoded: set[str] = set()
        for encoded in disclosures if plain is None else ():  # one by one: says which is wrong, and why
            if encoded in seen_encoded:
                raise DisclosureError("the same disclosure is included more than once")
            seen_encoded.add(encoded)
            found = known.get(encoded) if known is not None else None
            if found is None:
                self.decoded = True
                disclosure = Disclosure.parse(encoded)  # so `encoded` is base64url: ASCII
                self.by_digest[b64url_encode(hash_function(encoded.encode("ascii")).digest())
                               if hash_function is not None else disclosure.digest(sd_alg)] = disclosure
            else:
                self.by_digest[found[1]] = found[0]
        self.seen_digests: set[str] = set()
        self.used: list[Disclosure] = []
        #: ``_sd`` members and ``...`` placeholders met so far (see :meth:`_unpack_top_level`).
        self.sd_parts = 0

    def _claim_digest(self, digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise DisclosureError("a digest in the SD-JWT is not a string")
        if digest in self.seen_digests:
            raise DisclosureError("a digest appears more than once in the SD-JWT")
        self.seen_digests.add(digest)
        disclosure = self.by_digest.get(digest)
        if disclosure is not None:
            self.used.append(disclosure)
        return disclosure

    def unpack(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise DisclosureError(f"the SD-JWT nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            return self._unpack_object(node, depth)
        if isinstance(node, list):
            return self._unpack_array(node, depth)
        return node

    # Below, a leaf is taken as it is without calling unpack() for it, except past MAX_DEPTH, where unpack()
    # refuses it as before (``deep``): the same answers and refusals, a call fewer per claim.

    def _unpack_object(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > 0 and SD_ALG_KEY in node:
            raise DisclosureError("'_sd_alg' appears in a nested object; it is allowed only at the top level "
                                  "of the issuer-signed payload (RFC 9901 §4.1.1)")
        if ARRAY_DIGEST_KEY in node:
            raise DisclosureError("an object has a '...' member outside an array placeholder {'...': digest}")
        digests = node.get(SD_DIGESTS_KEY, _ABSENT)
        if digests is not _ABSENT:
            if not isinstance(digests, list):
                raise DisclosureError("an '_sd' member is not an array of digests")
            self.sd_parts += 1
        child = depth + 1
        deep = child > MAX_DEPTH
        unpack = self.unpack
        if depth == 0 and self.never_disclosable:
            result = self._unpack_top_level(node)
        else:
            result = {name: unpack(value, child) if deep or isinstance(value, _CONTAINERS) else value
                      for name, value in node.items() if name != SD_DIGESTS_KEY}
        if digests is _ABSENT:
            return result
        seen, by_digest, use = self.seen_digests, self.by_digest, self.used.append
        registered = self.never_disclosable if depth == 0 else _NONE
        for digest in digests:  # _claim_digest(digest), inline: it runs for every digest, decoys included
            if not isinstance(digest, str):
                raise DisclosureError("a digest in the SD-JWT is not a string")
            if digest in seen:
                raise DisclosureError("a digest appears more than once in the SD-JWT")
            seen.add(digest)
            disclosure = by_digest.get(digest)
            if disclosure is None:
                continue  # a decoy, or a claim the holder did not disclose
            use(disclosure)
            name = disclosure.name
            if name is None:  # an array element
                raise DisclosureError("an array-element disclosure is referenced from an object's '_sd'")
            if name in registered:
                raise DisclosureError(f"the registered claim {name!r} is selectively disclosed; "
                                      "it must be in the clear in the issuer-signed payload")
            if name in result:
                raise DisclosureError(f"the disclosed claim {name!r} already exists at its level")
            value = disclosure.value
            result[name] = unpack(value, child) if deep or isinstance(value, _CONTAINERS) else value
        return result

    def _unpack_top_level(self, node: dict[str, Any]) -> dict[str, Any]:
        """The top-level members unpacked (as the comprehension of :meth:`_unpack_object` does), then refusing
        a claim named never disclosable whose value has selectively disclosable parts (``_sd`` or ``...``) at
        any depth: the first of them by name. Counted while unpacking it (:attr:`sd_parts`) rather than
        walked again: unpacking meets every ``_sd`` and ``...`` of a value, or refuses it first."""
        registered, unpack = self.never_disclosable, self.unpack
        result: dict[str, Any] = {}
        holding: str | None = None
        for name, value in node.items():
            if name == SD_DIGESTS_KEY:
                continue
            if isinstance(value, _CONTAINERS):
                before = self.sd_parts
                result[name] = unpack(value, 1)
                if self.sd_parts != before and name in registered and (holding is None or name < holding):
                    holding = name
            else:
                result[name] = value
        if holding is not None:
            raise DisclosureError(f"the registered claim {holding!r} has selectively disclosable parts; "
                                  "it must be wholly in the clear in the issuer-signed payload")
        return result

    def _unpack_array(self, node: list[Any], depth: int) -> list[Any]:
        result = []
        child = depth + 1
        deep = child > MAX_DEPTH
        unpack = self.unpack
        for element in node:
            if isinstance(element, dict) and ARRAY_DIGEST_KEY in element:
                if len(element) != 1:
                    raise DisclosureError("an array placeholder {'...': digest} has other members")
                self.sd_parts += 1
                disclosure = self._claim_digest(element[ARRAY_DIGEST_KEY])
                if disclosure is None:
                    continue
                if not disclosure.is_array_element:
                    raise DisclosureError(
                        f"the object-property disclosure {disclosure.name!r} is referenced from an array"
                    )
                value = disclosure.value
                result.append(unpack(value, child) if deep or isinstance(value, _CONTAINERS) else value)
            else:
                result.append(unpack(element, child) if deep or isinstance(element, _CONTAINERS) else element)
        return result


def sd_alg_of(payload: Mapping[str, Any]) -> str:
    """The payload's ``_sd_alg`` (default sha-256), or DisclosureError if unsupported."""
    sd_alg = payload.get(SD_ALG_KEY, DEFAULT_SD_ALG)
    if not isinstance(sd_alg, str) or sd_alg not in HASH_ALGORITHMS:
        raise DisclosureError(f"unsupported _sd_alg {sd_alg!r}; expected one of {', '.join(HASH_ALGORITHMS)}")
    return sd_alg


def unpack_disclosures(
    payload: Mapping[str, Any], disclosures: Collection[str], *, never_disclosable: Collection[str] = (),
    known: dict[str, tuple[Disclosure, str]] | None = None,
) -> tuple[dict[str, Any], tuple[Disclosure, ...]]:
    """Process ``disclosures`` into ``payload`` (RFC 9901 §7.1 step 3).

    Returns the processed claims and the disclosures in the order they were
    found. Raises :class:`DisclosureError` for anything the RFC rejects, and
    when a top-level claim named in ``never_disclosable`` is disclosed or has
    selectively disclosable parts (a profile's rule, e.g. SD-JWT VC §3.2.2.2).

    ``known``: disclosures of THIS payload decoded before, by their encoded text, with their digest under its
    ``_sd_alg`` (a credential shown again, :mod:`credentials.verification_memo`): they are not decoded again,
    every rule above still applies to them, and those of a successful run are added to it.
    """
    sd_alg = sd_alg_of(payload)
    unpacker = _Unpacker(disclosures, sd_alg, never_disclosable, known)
    claims = unpacker.unpack(payload if isinstance(payload, dict) else dict(payload))
    if len(unpacker.used) != len(unpacker.by_digest):
        raise DisclosureError("a disclosure is not referenced by any digest in the SD-JWT")
    claims.pop(SD_ALG_KEY, None)
    if known is not None and unpacker.decoded:  # else each is in it already, as the same (disclosure, digest)
        known.update((disclosure.encoded, (disclosure, digest)) for digest, disclosure in unpacker.by_digest.items())
    return claims, tuple(unpacker.used)


def verify_issuer_jwt(
    issuer_jwt: str, issuer_key: IssuerKeySource, *, expected_typ: Collection[str] | None
) -> UnverifiedJws:
    """Verify the issuer-signed JWT of an SD-JWT; the result is verified despite its type's name."""
    jws = UnverifiedJws.parse(issuer_jwt, what="issuer-signed JWT")
    if expected_typ is not None:
        jws.check_typ(expected_typ, what="issuer-signed JWT")
    if isinstance(issuer_key, PublicKey):
        key = issuer_key
    else:
        try:
            key = issuer_key(jws.header, jws.payload)
        except (InvalidDid, InvalidKey) as exc:
            raise SignatureError(f"the issuer's key cannot be resolved: {exc}") from exc
    jws.verify_with(key, what="issuer-signed JWT")
    return jws


def _numeric_date(payload: Mapping[str, Any], name: str) -> int | None:
    if name not in payload:
        return None
    return numeric_date(payload[name], f"the {name!r} claim", ValidityPeriodError)


def check_time_claims(payload: Mapping[str, Any], *, now: int, leeway: int = DEFAULT_LEEWAY) -> None:
    """``exp`` not passed, ``nbf`` reached, ``iat`` not in the future (with ``leeway`` seconds).

    Each present must be whole seconds from 1970 to 9999 (:func:`~credentials.numeric_date.numeric_date`).
    """
    exp = _numeric_date(payload, "exp")
    nbf = _numeric_date(payload, "nbf")
    iat = _numeric_date(payload, "iat")
    if exp is not None and now - leeway >= exp:
        raise ValidityPeriodError(f"the credential expired at {exp} (now {now})")
    if nbf is not None and now + leeway < nbf:
        raise ValidityPeriodError(f"the credential is not valid before {nbf} (now {now})")
    if iat is not None and now + leeway < iat:
        raise ValidityPeriodError(f"the credential claims to be issued in the future, at {iat} (now {now})")


def verify_sd_jwt(
    serialization: str,
    issuer_key: IssuerKeySource,
    *,
    now: int,
    expected_typ: Collection[str] | None,
    key_binding: KeyBindingPolicy | None = None,
    leeway: int = DEFAULT_LEEWAY,
    never_disclosable: Collection[str] = (),
) -> VerifiedSdJwt:
    """Verify an SD-JWT or SD-JWT+KB end to end (RFC 9901 §7.1–7.3).

    ``key_binding`` None means a KB-JWT is neither required nor checked if
    absent; a KB-JWT that is present is always checked (with a default policy
    if none is given), so a broken one never passes unnoticed.
    """
    parts = UnverifiedSdJwt.parse(serialization)
    jws = verify_issuer_jwt(parts.issuer_jwt, issuer_key, expected_typ=expected_typ)
    claims, disclosures = unpack_disclosures(jws.payload, parts.disclosures, never_disclosable=never_disclosable)
    check_time_claims(jws.payload, now=now, leeway=leeway)
    sd_alg = sd_alg_of(jws.payload)
    verified_kb = None
    if parts.kb_jwt is not None or (key_binding is not None and key_binding.required):
        policy = key_binding or KeyBindingPolicy(required=False, leeway=leeway)
        verified_kb = verify_kb_jwt(parts, jws.payload, policy, now=now, sd_alg=sd_alg)
    return VerifiedSdJwt(
        header=jws.header,
        issuer_payload=jws.payload,
        claims=claims,
        disclosures=disclosures,
        key_binding=verified_kb,
        sd_alg=sd_alg,
    )
