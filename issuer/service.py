"""The issuing pipeline: sign batches, change statuses, publish and anchor status lists.

- Credentials are SD-JWT VCs (draft-ietf-oauth-sd-jwt-vc-12, ``typ: dc+sd-jwt``)
  of type ``urn:microcred:vct:micro-credential:1``, each claim selectively
  disclosable (``credentials.microcredential.disclosure_frame``), bound to
  the learner's key through ``cnf.jwk`` when one is known.
- Status: IETF Token Status List (draft-ietf-oauth-status-list, §4–§6). Each
  credential gets a random free index (``secrets``) in a list of
  :data:`LIST_SIZE` entries; a list is closed at :data:`MAX_FILL` so that a
  random index stays cheap to find and every holder hides in a large herd.
  :data:`STATUS_BITS` is 2 so that SUSPENDED (0x02) is expressible beside
  INVALID (0x01).
- Revocation: statuses change and each touched list is re-signed with a
  version one higher in ONE archive transaction; then the SHA-256 of each new
  Status List Token is anchored on the StatusRegistry, one transaction per
  list whatever the number of changes. If the ledger is down or refuses, the
  local state stays as committed and the list stays *pending*;
  :meth:`IssuerService.publish` anchors whatever is pending.

No clock and no chain of its own: ``now`` (epoch seconds) is a parameter and
the ledger comes in as a :class:`StatusAnchor`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from credentials.errors import InvalidInput, MicrocredError
from credentials.jose import PrivateKey
from credentials.status_list import MIN_STATUS_LIST_ENTRIES, StatusList, sign_status_list_token
from issuer.archive import (
    DELIVERY_FILE,
    DELIVERY_OFFER,
    Archive,
    CredentialRecord,
    UnknownCredential,
)
from issuer.batch import BatchEntry
from issuer.identity import IssuerIdentity
from issuer.signing_pool import Signer, SigningJob, SigningPool

__all__ = [
    "LIST_SIZE",
    "STATUS_BITS",
    "MAX_FILL",
    "STATUS_TTL",
    "OFFER_LIFETIME",
    "StatusAnchor",
    "StatusChangeRefused",
    "AnchorOutcome",
    "IssuedCredential",
    "BatchResult",
    "StatusChangeResult",
    "IssuerService",
    "PARALLEL_FROM",
]

LIST_SIZE = MIN_STATUS_LIST_ENTRIES
STATUS_BITS = 2
#: A list takes new credentials until this share of its entries is used.
MAX_FILL = 0.5
#: Seconds a verifier may cache a Status List Token (``ttl``, §5.1).
STATUS_TTL = 300
#: How long an OpenID4VCI credential offer may be redeemed (seconds).
OFFER_LIFETIME = 30 * 24 * 3600
#: Credentials signed and archived per step of a batch (progress granularity, one worker job).
_CHUNK = 250
#: A batch this long or longer is signed by worker processes when the service has several.
PARALLEL_FROM = 4 * _CHUNK

_TRANSITIONS = {
    "revoked": {"valid", "suspended"},
    "suspended": {"valid"},
    "valid": {"suspended"},
}


class StatusAnchor(Protocol):
    """What the service needs from the StatusRegistry (``ledger.StatusRegistryClient``)."""

    def anchor(self, issuer_did: str, list_id: str, sha256: bytes, version: int,
               compressed_list: bytes | None = None) -> Any: ...


class StatusChangeRefused(InvalidInput):
    """A revoke / suspend / reinstate that does not apply; ``errors`` lists why, nothing changed."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class AnchorOutcome:
    """What happened when anchoring one list version."""

    list_id: str
    version: int
    anchored: bool
    tx: str | None = None
    block: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class IssuedCredential:
    """One issued credential: a signed SD-JWT VC, or an OpenID4VCI offer to redeem."""

    row: int
    credential_id: str
    student_id: str
    sd_jwt: str | None
    offer_id: str | None


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    issued: tuple[IssuedCredential, ...]
    anchors: tuple[AnchorOutcome, ...]


@dataclass(frozen=True)
class StatusChangeResult:
    changed: tuple[str, ...]
    anchors: tuple[AnchorOutcome, ...]
    issued: tuple[IssuedCredential, ...] = field(default=())


def _random_id() -> str:
    """An opaque credential id: 24 lowercase base32 characters (120 bits).

    Only letters and digits, so it never starts with '-' (a command line would
    read that as an option) and survives copying from a terminal or a URL.
    """
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _carried_list(token: str) -> bytes:
    """What the anchoring event carries: the Status List Token itself.

    A verifier that cannot reach the status list server checks it exactly as
    a fetched one (its SHA-256 equals the anchor, the issuer signed it), so the
    chain alone answers, and nothing about it (like ``bits``) is assumed.
    """
    return token.encode("ascii")


class IssuerService:
    """One issuer's pipeline over its archive, signing key and (optional) anchor."""

    def __init__(
        self,
        identity: IssuerIdentity,
        archive: Archive,
        signing_key: PrivateKey,
        *,
        anchor: StatusAnchor | None = None,
        random_below: Callable[[int], int] = secrets.randbelow,
        random_id: Callable[[], str] = _random_id,
        workers: int = 1,
    ):
        """``workers`` > 1 signs batches of :data:`PARALLEL_FROM` or more credentials in that
        many worker processes (:mod:`issuer.signing_pool`); 1 signs everything here."""
        if workers < 1:
            raise InvalidInput(f"expected at least 1 signing worker, found {workers}")
        self.identity = identity
        self.archive = archive
        self.signing_key = signing_key
        self.anchor = anchor
        self.random_below = random_below
        self.random_id = random_id
        self.workers = workers
        self._signer = Signer(signing_key, identity.did, identity.kid)

    # --- signing ---------------------------------------------------------------------

    def _job(self, record: CredentialRecord, holder_jwk: dict[str, str] | None) -> SigningJob:
        return SigningJob(record.claims, holder_jwk, self.identity.status_list_uri(record.list_id), record.idx)

    def sign_credential(self, record: CredentialRecord, holder_jwk: dict[str, str] | None, *, now: int) -> str:
        """The SD-JWT VC for an archived record (also used to redeem an offer)."""
        return self._signer.sign(self._job(record, holder_jwk), now=now)

    def _allocate(self, count: int, *, now: int) -> list[tuple[str, int]]:
        """``count`` random free ``(list, index)`` slots (inside a transaction)."""
        slots: list[tuple[str, int]] = []
        open_lists = [r for r in self.archive.status_lists() if r.used < r.size * MAX_FILL]
        current = open_lists[-1] if open_lists else None
        list_id = current.id if current else None
        size = current.size if current else LIST_SIZE
        used = self.archive.used_indices(list_id) if list_id else set()
        while len(slots) < count:
            if list_id is None or len(used) >= size * MAX_FILL:
                if list_id is not None:
                    self.archive.update_status_list(list_id, used=len(used))
                list_id, size, used = self.random_id(), LIST_SIZE, set()
                self.archive.insert_status_list(list_id, size=size, bits=STATUS_BITS, created_at=now)
            index = self.random_below(size)
            if index not in used:
                used.add(index)
                slots.append((list_id, index))
        if list_id is not None:
            self.archive.update_status_list(list_id, used=len(used))
        return slots

    def _sign_list(self, list_id: str, *, now: int) -> None:
        """Re-sign a list from the archive's statuses, version + 1 (inside a transaction)."""
        record = self.archive.status_list(list_id)
        if record is None:
            raise InvalidInput(f"no status list {list_id!r}")
        status_list = StatusList.new(record.size, record.bits)
        for index, value in self.archive.status_entries(list_id):
            status_list.set(index, value)
        token = sign_status_list_token(
            status_list, self.signing_key, uri=self.identity.status_list_uri(list_id),
            iat=now, kid=self.identity.kid, ttl=STATUS_TTL,
        )
        self.archive.update_status_list(
            list_id, version=record.version + 1, token=token, token_sha256=_sha256_hex(token), signed_at=now
        )

    def _unsigned_records(
        self, entries: Sequence[BatchEntry], slots: Sequence[tuple[str, int]], *, batch_id: str, now: int,
        replaces: str | None = None,
    ) -> tuple[list[CredentialRecord], list[dict[str, Any]]]:
        """Records for ``entries`` in their slots, not yet signed, and the offers of rows without a key."""
        records, offers = [], []
        for entry, (list_id, index) in zip(entries, slots):
            learner = entry.claims["learner"]
            offer_id = None if entry.holder_jwk else self.random_id()
            record = CredentialRecord(
                id=self.random_id(), batch_id=batch_id, student_id=learner["student_id"],
                given_name=learner["given_name"], family_name=learner["family_name"],
                title=entry.claims["title"], claims=entry.claims, holder_jwk=entry.holder_jwk,
                list_id=list_id, idx=index, status="valid",
                delivery=DELIVERY_FILE if entry.holder_jwk else DELIVERY_OFFER, issued_at=now,
                sd_jwt_sha256=None, replaces=replaces, replaced_by=None, offer_id=offer_id,
            )
            if offer_id is not None:
                offers.append({
                    "id": offer_id, "credential_id": record.id, "pre_authorized_code": secrets.token_urlsafe(32),
                    "created_at": now, "expires_at": now + OFFER_LIFETIME,
                })
            records.append(record)
        return records, offers

    @staticmethod
    def _signed(
        entries: Sequence[BatchEntry], records: Sequence[CredentialRecord], serializations: Sequence[str],
    ) -> tuple[list[CredentialRecord], list[IssuedCredential]]:
        """Records with the SHA-256 of their SD-JWT, and what was issued (in the order of ``entries``)."""
        signed = iter(serializations)
        final, issued = [], []
        for entry, record in zip(entries, records):
            sd_jwt = next(signed) if record.holder_jwk else None
            if sd_jwt is not None:
                record = CredentialRecord(**{**record.__dict__, "sd_jwt_sha256": _sha256_hex(sd_jwt)})
            final.append(record)
            issued.append(IssuedCredential(entry.row, record.id, record.student_id, sd_jwt, record.offer_id))
        return final, issued

    def _new_records(
        self, entries: Sequence[BatchEntry], *, batch_id: str, now: int, replaces: str | None = None,
    ) -> tuple[list[CredentialRecord], list[IssuedCredential], list[dict[str, Any]]]:
        slots = self._allocate(len(entries), now=now)
        records, offers = self._unsigned_records(entries, slots, batch_id=batch_id, now=now, replaces=replaces)
        jobs = [self._job(r, r.holder_jwk) for r in records if r.holder_jwk]
        final, issued = self._signed(entries, records, self._signer.sign_all(jobs, now=now))
        return final, issued, offers

    # --- issuing -----------------------------------------------------------------------

    def issue_batch(
        self,
        entries: Sequence[BatchEntry],
        *,
        now: int,
        deliver: Callable[[Sequence[IssuedCredential]], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> BatchResult:
        """Sign every entry and archive them in one transaction.

        Status list slots for the whole batch are drawn first; chunks of
        :data:`_CHUNK` credentials are then signed (by worker processes for a
        long batch when :attr:`workers` > 1) and archived in order, here.
        ``deliver`` runs inside the transaction with everything signed (write
        the files there): if it raises, nothing is archived. ``progress`` is
        called with the number of credentials just signed and archived. New
        lists are then signed and anchored (a ledger failure leaves them pending).
        """
        if not entries:
            raise InvalidInput("the batch is empty")
        batch_id = self.random_id()
        pool = SigningPool(self._signer, self.workers) if self.workers > 1 and len(entries) >= PARALLEL_FROM else None
        with self.archive.transaction(), pool or nullcontext():
            known_lists = {r.id for r in self.archive.status_lists()}
            slots = self._allocate(len(entries), now=now)
            steps = []
            for start in range(0, len(entries), _CHUNK):
                chunk = entries[start:start + _CHUNK]
                records, offers = self._unsigned_records(chunk, slots[start:start + _CHUNK], batch_id=batch_id, now=now)
                jobs = [self._job(r, r.holder_jwk) for r in records if r.holder_jwk]
                signing = pool.submit(jobs, now=now) if pool else None
                steps.append((chunk, records, offers, jobs, signing))
            issued: list[IssuedCredential] = []
            for chunk, records, offers, jobs, signing in steps:
                serializations = signing.result() if signing else self._signer.sign_all(jobs, now=now)
                final, chunk_issued = self._signed(chunk, records, serializations)
                self.archive.insert_credentials(final)
                self.archive.insert_offers(offers)
                issued += chunk_issued
                if progress is not None:
                    progress(len(chunk))
            for list_id in sorted({slot[0] for slot in slots} - known_lists):
                self._sign_list(list_id, now=now)
            if deliver is not None:
                deliver(issued)
        return BatchResult(batch_id, tuple(issued), tuple(self._anchor_pending()))

    # --- status changes ------------------------------------------------------------

    def _check_transition(self, ids: Sequence[str], status: str) -> list[CredentialRecord]:
        if status not in _TRANSITIONS:
            raise InvalidInput(f"expected a status of {', '.join(_TRANSITIONS)}, found {status!r}")
        if not ids:
            raise InvalidInput("no credential id given")
        records, errors = [], []
        for credential_id in dict.fromkeys(ids):
            try:
                record = self.archive.credential(credential_id)
            except UnknownCredential as exc:
                errors.append(str(exc))
                continue
            if record.status not in _TRANSITIONS[status]:
                errors.append(f"credential {credential_id} is {record.status}; cannot make it {status}")
            records.append(record)
        if errors:
            raise StatusChangeRefused(errors)
        return records

    def set_status(self, credential_ids: Sequence[str], status: str, *, now: int) -> StatusChangeResult:
        """Revoke (``revoked``), suspend (``suspended``) or reinstate (``valid``) credentials.

        All or nothing: any unknown id or impossible change refuses the whole call.
        """
        with self.archive.transaction():
            records = self._check_transition(credential_ids, status)
            self.archive.set_status([r.id for r in records], status)
            for list_id in sorted({r.list_id for r in records}):
                self._sign_list(list_id, now=now)
        return StatusChangeResult(tuple(r.id for r in records), tuple(self._anchor_pending()))

    def reissue(self, credential_id: str, holder_jwk: dict[str, str] | None, *, now: int) -> StatusChangeResult:
        """Issue the same claims to a new holder key (or as a new offer) and revoke the old one."""
        with self.archive.transaction():
            old = self.archive.credential(credential_id)
            if old.replaced_by:
                raise StatusChangeRefused([f"credential {credential_id} was already re-issued as {old.replaced_by}"])
            self._check_transition([credential_id], "revoked")
            entry = BatchEntry(row=1, claims=old.claims, holder_jwk=holder_jwk)
            records, issued, offers = self._new_records([entry], batch_id=old.batch_id, now=now, replaces=old.id)
            self.archive.insert_credentials(records)
            self.archive.insert_offers(offers)
            self.archive.set_status([old.id], "revoked")
            self.archive.update_credential(old.id, replaced_by=records[0].id)
            for list_id in sorted({old.list_id, records[0].list_id}):
                self._sign_list(list_id, now=now)
        return StatusChangeResult((old.id,), tuple(self._anchor_pending()), tuple(issued))

    # --- publishing and anchoring --------------------------------------------------

    def publish(self, *, now: int) -> list[AnchorOutcome]:
        """Sign lists never signed, then anchor every list whose latest version is not on chain."""
        with self.archive.transaction():
            for record in self.archive.status_lists():
                if record.version == 0:
                    self._sign_list(record.id, now=now)
        return self._anchor_pending()

    def _anchor_pending(self) -> list[AnchorOutcome]:
        outcomes = []
        for record in self.archive.status_lists():
            if not record.anchor_pending:
                continue
            if self.anchor is None:
                outcomes.append(AnchorOutcome(record.id, record.version, False, error="no ledger configured"))
                continue
            try:
                receipt = self.anchor.anchor(
                    self.identity.did, record.id, bytes.fromhex(record.token_sha256 or ""), record.version,
                    _carried_list(record.token or ""),
                )
            except MicrocredError as exc:
                message = str(exc)
                with self.archive.transaction():
                    self.archive.update_status_list(record.id, anchor_error=message)
                outcomes.append(AnchorOutcome(record.id, record.version, False, error=message))
                continue
            tx = getattr(receipt, "transaction_hash", None)
            block = getattr(receipt, "block_number", None)
            with self.archive.transaction():
                self.archive.update_status_list(
                    record.id, anchored_version=record.version, anchored_tx=str(tx) if tx is not None else None,
                    anchored_block=block, anchor_error=None,
                )
            outcomes.append(AnchorOutcome(record.id, record.version, True, tx=str(tx) if tx else None, block=block))
        return outcomes

    def status_list_token(self, list_id: str) -> str | None:
        record = self.archive.status_list(list_id)
        return record.token if record else None

    def statuses(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self.archive.credential(i).status for i in ids}
