"""An issuer's status lists: random slots in them, and each new version signed from the archive.

Two kinds, both with at least 131,072 entries and indices drawn at random
(``secrets``) so that a list hides who is who; a list is closed at
:data:`MAX_FILL` so that a random free index stays cheap to find:

- ``ietf``: IETF Token Status List (draft-ietf-oauth-status-list §4–§6) for
  the SD-JWT VCs (microcred's and the EUDI learning credential),
  :data:`STATUS_BITS` = 2 so SUSPENDED (0x02) is expressible beside INVALID
  (0x01); served as ``statuslist+jwt`` at ``/status/<id>``;
- ``bitstring``: W3C Bitstring Status List v1.0 for the Open Badge twins,
  ``statusPurpose`` ``revocation`` (1 bit: set once the credential is
  revoked; a suspension is not carried, revocation being final in that
  spec), a ``BitstringStatusListCredential`` secured as ``vc+jwt``
  (VC-JOSE-COSE §3.1.1) and served at ``/status/bitstring/<id>``.

Either way the list id on chain is the last path segment of the URI, and the
SHA-256 of the served token is what the StatusRegistry anchors.

What is served (:func:`served_token`): a verifier holds the token's SHA-256
against the chain's anchor, so while a list's newest version waits for its
anchor (a transaction not mined yet, a ledger down or refusing) the version
the chain holds is served, and a change such as a revocation takes effect for
verifiers when its anchor is confirmed. The newest is served with no ledger
configured, when nothing was anchored yet, and when the anchored token's end
of validity (``exp``, draft-ietf-oauth-status-list §5.1; a Bitstring list
credential's ``validUntil``) has passed: a verifier refuses an expired token
anyway, so serving it would be no better. This issuer signs neither, so its
anchored tokens do not expire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from credentials.bitstring_status_list import MIN_BITSTRING_LENGTH, Bitstring, build_status_list_credential
from credentials.errors import InvalidInput, MicrocredError
from credentials.jose import PrivateKey, UnverifiedJws
from credentials.jwt_vc import sign_vc_jwt
from credentials.status_list import MIN_STATUS_LIST_ENTRIES, StatusList, sign_status_list_token
from issuer.archive import LIST_KIND_BITSTRING, LIST_KIND_IETF, STATUS_NAMES, Archive, StatusListRecord
from issuer.identity import IssuerIdentity

__all__ = ["LIST_SIZE", "BITSTRING_LIST_SIZE", "STATUS_BITS", "MAX_FILL", "STATUS_TTL", "ListKeeper",
           "sha256_hex", "served_token", "expired"]

LIST_SIZE = MIN_STATUS_LIST_ENTRIES
BITSTRING_LIST_SIZE = MIN_BITSTRING_LENGTH
STATUS_BITS = 2
#: A list takes new credentials until this share of its entries is used.
MAX_FILL = 0.5
#: Seconds a verifier may cache a Status List Token (``ttl``, §5.1).
STATUS_TTL = 300
_REVOKED = STATUS_NAMES["revoked"]


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def expired(token: str, now: int) -> bool:
    """Whether ``token``'s end of validity (JWT ``exp``; a Bitstring list credential's ``validUntil``) is at or
    before ``now``; an end that cannot be read counts as passed."""
    try:
        payload = UnverifiedJws.parse(token, what="status list token").payload
    except MicrocredError:
        return True
    exp = payload.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, int) or now >= exp):
        return True
    until = payload.get("validUntil")
    if until is None:
        return False
    try:
        end = datetime.fromisoformat(until) if isinstance(until, str) else None
    except ValueError:
        return True
    if end is None:
        return True
    return now >= (end if end.tzinfo else end.replace(tzinfo=UTC)).timestamp()


def served_token(record: StatusListRecord, *, ledger: bool, now: int | None = None) -> str | None:
    """The token verifiers are to read for ``record``: while its newest version waits for its anchor, the anchored
    one (unless it has expired at ``now``, when given); the newest with no ledger (``ledger`` False) or nothing
    anchored yet. None for a list never signed."""
    if not ledger or not record.anchor_pending or record.anchored_token is None:
        return record.token
    if now is not None and expired(record.anchored_token, now):
        return record.token
    return record.anchored_token


class ListKeeper:
    """Allocates slots and signs list versions for one issuer (call inside an archive transaction)."""

    def __init__(self, identity: IssuerIdentity, archive: Archive, signing_key: PrivateKey, *,
                 random_below: Callable[[int], int], random_id: Callable[[], str]):
        self.identity, self.archive, self.signing_key = identity, archive, signing_key
        self.random_below, self.random_id = random_below, random_id

    def uri(self, list_id: str, kind: str) -> str:
        """Where the list of ``kind`` is served."""
        if kind == LIST_KIND_BITSTRING:
            return self.identity.bitstring_status_list_uri(list_id)
        return self.identity.status_list_uri(list_id)

    def allocate(self, count: int, *, now: int, kind: str = LIST_KIND_IETF) -> list[tuple[str, int]]:
        """``count`` random free ``(list, index)`` slots in lists of ``kind``."""
        slots: list[tuple[str, int]] = []
        open_lists = [r for r in self.archive.status_lists_of(kind) if r.used < r.size * MAX_FILL]
        current = open_lists[-1] if open_lists else None
        default_size, bits = (BITSTRING_LIST_SIZE, 1) if kind == LIST_KIND_BITSTRING else (LIST_SIZE, STATUS_BITS)
        list_id = current.id if current else None
        size = current.size if current else default_size
        used = self.archive.used_indices(list_id) if list_id else set()
        while len(slots) < count:
            if list_id is None or len(used) >= size * MAX_FILL:
                if list_id is not None:
                    self.archive.update_status_list(list_id, used=len(used))
                list_id, size, used = self.random_id(), default_size, set()
                self.archive.insert_status_list(list_id, size=size, bits=bits, created_at=now, kind=kind)
            index = self.random_below(size)
            if index not in used:
                used.add(index)
                slots.append((list_id, index))
        if list_id is not None:
            self.archive.update_status_list(list_id, used=len(used))
        return slots

    def _ietf_token(self, record: StatusListRecord, *, now: int) -> str:
        status_list = StatusList.new(record.size, record.bits)
        for index, value in self.archive.status_entries(record.id):
            status_list.set(index, value)
        return sign_status_list_token(status_list, self.signing_key, uri=self.uri(record.id, record.kind), iat=now,
                                      kid=self.identity.kid, ttl=STATUS_TTL)

    def _bitstring_token(self, record: StatusListRecord, *, now: int) -> str:
        bitstring = Bitstring.new(record.size)
        for index, value in self.archive.status_entries(record.id):
            if value == _REVOKED:
                bitstring.set(index, True)
        credential = build_status_list_credential(bitstring, id=self.uri(record.id, record.kind),
                                                  issuer=self.identity.did, valid_from=now)
        return sign_vc_jwt(credential, self.signing_key, kid=self.identity.kid)

    def sign(self, list_id: str, *, now: int) -> int:
        """Re-sign a list from the archive's statuses as version + 1; returns that version."""
        record = self.archive.status_list(list_id)
        if record is None:
            raise InvalidInput(f"no status list {list_id!r}")
        if record.kind == LIST_KIND_BITSTRING:
            token = self._bitstring_token(record, now=now)
        else:
            token = self._ietf_token(record, now=now)
        self.archive.update_status_list(
            list_id, version=record.version + 1, token=token, token_sha256=sha256_hex(token), signed_at=now
        )
        return record.version + 1
