"""A credential shown again: its issuer-signed JWT parsed once and its issuer signature checked once per key.

Issue 16 (verifier core speed): a holder shows the same SD-JWT VC to the
same verifier many times, each time with a new Key Binding JWT (RFC 9901
§4.3: a fresh ``nonce``, ``aud``, ``iat`` and ``sd_hash``). The issuer-signed
JWT (RFC 9901 §4.1; RFC 7515 compact JWS) is then the same string every time,
and so are its decoded header and payload and the outcome of checking its
signature with a given key: both are functions of the bytes alone. So are its
disclosures (RFC 9901 §4.2), decoded, and their digests.

:class:`IssuerJwtMemo` keeps, by the whole issuer-signed JWT's text
(header, payload and signature), the parsed JWS and the keys its signature
was verified with, and its disclosures decoded in a verification whose
disclosures check passed (by their encoded text). What it never does:

- keep a verdict: every check (format, disclosures, holder binding, replay,
  validity, issuer trust, revocation, schema, issuance anchor) runs on every
  presentation; the memo only spares re-decoding the same bytes and
  re-checking the same signature with the same key;
- spare the Key Binding JWT: it differs in every presentation and is parsed
  and its signature checked every time, never looked up here;
- trust a key it was not given: the issuer's key is resolved afresh on every
  presentation (a did:mcr key may have been revoked or rotated since, an
  issuance anchor may name another block); a signature verified with one key
  counts for that key only;
- remember anything that failed: an entry is made only after the signature
  verified;
- keep a JWT longer than :data:`MAX_KEPT_LENGTH` (16 KiB), or more than :data:`DEFAULT_CHARS` characters of
  JWTs together (oldest first out).

An entry is made the second time a JWT's signature verifies (the first time
only the hash of its text is noted, in a bounded list of such hashes): most
credentials are shown to a verifier once, and an entry for each (its parsed
JWS and disclosures: some 40 objects) would cost memory and, while the memo
fills, the garbage collector's time (~50 us per verification in the fresh
benchmark of bench/bench_verify.py). A shared hash only lets a JWT in at its
first second-time, which the rules above make harmless.

Bounded (least recently used first out). The parsed payload is shared
between verifications and must be treated as read-only (the core builds the
disclosed claims into new containers, :func:`credentials.sd_jwt.verifier.unpack_disclosures`).
Safe for the verifier's threads without a lock (the pure core has none): each step is one operation on
a dict or a set, and two threads racing on one JWT at worst both check its signature. No I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from credentials.jose import PublicKey, UnverifiedJws
from credentials.sd_jwt.common import Disclosure

__all__ = ["IssuerJwtMemo", "SeenJwt"]

#: Entries kept by default: a few thousand distinct credentials (each entry: the JWT's text and its parsed JWS,
#: ~4-6 KB).
DEFAULT_SIZE = 4096
#: A longer issuer-signed JWT is never kept (it is parsed and its signature checked every time): anybody can sign
#: JWTs of up to MAX_SD_JWT_LENGTH (256 K) with a key of their own, and 4,096 of them would take gigabytes.
#: An SD-JWT VC of some hundred claims stays well under it.
MAX_KEPT_LENGTH = 16 * 1024
#: The kept JWTs' texts together (their parsed forms take some four to six times as much): 4,096 JWTs of 16 KiB
#: signed by anybody's own key would otherwise hold hundreds of MB; 8 M characters still hold 4,096 credentials
#: of 2 KB, as the bench's twelve-claim micro-credential is.
DEFAULT_CHARS = 8 * 1024 * 1024


@dataclass
class SeenJwt:
    """One issuer-signed JWT: its text, its parsed JWS, and the keys that verified its signature (a key counts
    as one of them when it is the same object or has the same ``alg`` and JWK members: :meth:`verified_by`)."""

    text: str
    jws: UnverifiedJws
    verified_with: list[PublicKey] = field(default_factory=list)
    #: Its disclosures decoded before, by encoded text, with their digest (``unpack_disclosures(known=...)``);
    #: None until the JWT is kept (most are shown once: their decoded disclosures would only be dropped).
    disclosures: dict[str, tuple[Disclosure, str]] | None = None

    def verified_by(self, key: PublicKey) -> bool:
        """Whether the signature verified with ``key`` before: the same key object (resolvers hand out one per
        JWK), or one of the same ``alg`` and JWK members (dict equality: the same members, in any order).
        A list: a JWT has one signature, which verifies under one key (tuples of sorted members, hashed into a
        set, cost about a microsecond a presentation)."""
        for known in self.verified_with:  # noqa: SIM110 (no generator per call: issue 16)
            if known is key or (known.alg == key.alg and known.jwk == key.jwk):
                return True
        return False


class IssuerJwtMemo:
    """Issuer-signed JWTs whose signature verified, by their text; see the module docstring."""

    def __init__(self, size: int = DEFAULT_SIZE, chars: int = DEFAULT_CHARS):
        self._size, self._chars_budget = size, chars
        #: The characters of the kept JWTs' texts together.
        self.chars = 0
        self._items: OrderedDict[str, SeenJwt] = OrderedDict()
        #: hash() of the texts of JWTs verified once and not kept (ints: nothing for the garbage collector).
        self._once: OrderedDict[int, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def parse(self, issuer_jwt: str, *, what: str = "issuer-signed JWT") -> SeenJwt:
        """The JWT parsed (from the memo when its signature verified before; else afresh, not yet kept).

        Parsing errors propagate as :meth:`UnverifiedJws.parse` raises them."""
        # By the text itself: equal strings are the same JWT (a SHA-256 of it cost three times the string's hash,
        # and the parsed JWS keeps the text anyway: UnverifiedJws.token).
        found = self._items.get(issuer_jwt)
        if found is not None:
            with suppress(KeyError):  # evicted meanwhile by another thread: still the same bytes, parsed
                self._items.move_to_end(issuer_jwt)
            return found
        jws = UnverifiedJws.parse(issuer_jwt, what=what)
        return SeenJwt(jws.token, jws)

    def verify(self, seen: SeenJwt, key: PublicKey, *, what: str = "issuer-signed JWT") -> None:
        """Check the signature of ``seen`` with ``key`` unless it verified with this same key before;
        raise :class:`~credentials.errors.SignatureError` if wrong. A success is kept (for a JWT not kept
        yet: from its second success on, see the module docstring)."""
        if seen.verified_by(key):
            return
        seen.jws.verify_with(key, what=what)
        if not seen.verified_by(key):  # another thread may have added it meanwhile
            seen.verified_with.append(key)
        if len(seen.text) > MAX_KEPT_LENGTH:
            return
        if seen.text in self._items or not self._seen_before(hash(seen.text)):
            return
        if seen.disclosures is None:
            seen.disclosures = {}
        self._items[seen.text] = seen
        self.chars += len(seen.text)
        while len(self._items) > self._size or self.chars > self._chars_budget:
            try:
                _, dropped = self._items.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread
                break
            self.chars -= len(dropped.text)
        if not self._items:  # two threads racing on the count can skew it; an empty memo sets it right
            self.chars = 0

    def _seen_before(self, text_hash: int) -> bool:
        """Whether a JWT of this text hash verified before (and is then let in); else notes it."""
        if text_hash in self._once:
            with suppress(KeyError):  # taken meanwhile by another thread
                del self._once[text_hash]
            return True
        self._once[text_hash] = None
        _bound(self._once, self._size)
        return False


def _bound(items: OrderedDict[Any, Any], size: int) -> None:
    """Drop the oldest of ``items`` beyond ``size``."""
    while len(items) > size:
        try:
            items.popitem(last=False)
        except KeyError:  # emptied meanwhile by another thread
            break
