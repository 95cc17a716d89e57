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
  :meth:`IssuerService.publish` (and the service's background loop) anchor
  whatever the chain holds behind the archive (:mod:`issuer.anchoring`).
- Batches are one unit of work: :meth:`IssuerService.open_batch` archives the
  batch, its credentials and their status list slots (unsigned) in ONE
  transaction before anything is signed; :meth:`IssuerService.sign_batch`
  then signs chunk by chunk, hands each chunk to ``deliver`` (write the files)
  and records the SHA-256 of each; it signs only what is not yet delivered, so
  a re-run finishes an interrupted batch from the archive.

No clock and no chain of its own: ``now`` (epoch seconds) is a parameter and
the ledger comes in as a :class:`StatusAnchor`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from credentials.errors import InvalidInput, StatusChangeRefused, UnknownCredential
from credentials.jose import PrivateKey
from credentials.status_list import MIN_STATUS_LIST_ENTRIES, StatusList, sign_status_list_token
from issuer.anchoring import AnchorOutcome, StatusAnchor, converge
from issuer.archive import (
    BATCH_PENDING,
    DELIVERY_FILE,
    DELIVERY_OFFER,
    Archive,
    BatchRecord,
    CredentialRecord,
)
from issuer.batch import BatchEntry
from issuer.fault_hook import fault_point
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

    def _sign_list(self, list_id: str, *, now: int) -> int:
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
        return record.version + 1

    def _unsigned_records(
        self, entries: Sequence[BatchEntry], slots: Sequence[tuple[str, int]], *, batch_id: str, now: int,
        replaces: str | None = None,
    ) -> tuple[list[CredentialRecord], list[dict[str, Any]]]:
        """Records for ``entries`` in their slots, not yet signed, and the offers of rows without a key."""
        records, offers = [], []
        for entry, (list_id, index) in zip(entries, slots, strict=True):
            learner = entry.claims["learner"]
            offer_id = None if entry.holder_jwk else self.random_id()
            record = CredentialRecord(
                id=self.random_id(), batch_id=batch_id, student_id=learner["student_id"],
                given_name=learner["given_name"], family_name=learner["family_name"],
                title=entry.claims["title"], claims=entry.claims, holder_jwk=entry.holder_jwk,
                list_id=list_id, idx=index, status="valid",
                delivery=DELIVERY_FILE if entry.holder_jwk else DELIVERY_OFFER, issued_at=now,
                sd_jwt_sha256=None, replaces=replaces, replaced_by=None, offer_id=offer_id, batch_row=entry.row,
            )
            if offer_id is not None:
                offers.append({
                    "id": offer_id, "credential_id": record.id, "pre_authorized_code": secrets.token_urlsafe(32),
                    "created_at": now, "expires_at": now + OFFER_LIFETIME,
                })
            records.append(record)
        return records, offers

    # --- issuing -----------------------------------------------------------------------

    def open_batch(
        self, entries: Sequence[BatchEntry], *, now: int, batch_id: str | None = None, content_sha256: str = "",
        out_dir: str | None = None,
    ) -> BatchRecord:
        """Archive a batch before anything is signed: its credentials, slots, offers, new lists (signed).

        One transaction: after it, every credential of the batch has its id and
        its status list slot in the archive (``sd_jwt_sha256`` still empty), and
        the batch is ``pending`` until :meth:`finish_batch`.
        """
        if not entries:
            raise InvalidInput("the batch is empty")
        batch_id = batch_id or self.random_id()
        with self.archive.transaction():
            if self.archive.batch(batch_id) is not None:
                raise InvalidInput(f"expected a new batch id, found batch {batch_id} already in the archive")
            known_lists = {r.id for r in self.archive.status_lists()}
            slots = self._allocate(len(entries), now=now)
            records, offers = self._unsigned_records(entries, slots, batch_id=batch_id, now=now)
            self.archive.insert_credentials(records)
            self.archive.insert_offers(offers)
            for list_id in sorted({slot[0] for slot in slots} - known_lists):
                self._sign_list(list_id, now=now)
            batch = BatchRecord(batch_id, content_sha256, BATCH_PENDING, out_dir, now, len(entries), None)
            self.archive.insert_batch(batch)
        fault_point("batch-saved")
        return batch

    def sign_batch(
        self,
        batch_id: str,
        *,
        deliver: Callable[[Sequence[IssuedCredential]], None] | None = None,
        delivered: Callable[[CredentialRecord], bool] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[IssuedCredential]:
        """Sign the batch's key-bound credentials not yet ``delivered``, chunk by chunk, and record them.

        Per chunk of :data:`_CHUNK`: sign (in worker processes for a long batch
        when :attr:`workers` > 1), ``deliver`` the chunk (write its files), then
        record each SD-JWT's SHA-256. ``delivered`` (default: a SHA-256 is
        recorded) says which need no new signature. Credentials keep the batch's
        issuing time. Returns every credential of the batch in input order,
        ``sd_jwt`` set for those signed now. ``progress`` gets counts of
        credentials done (those needing nothing first).
        """
        batch = self.archive.batch(batch_id)
        if batch is None:
            raise InvalidInput(f"no batch {batch_id!r} in this issuer's archive")
        records = self.archive.batch_credentials(batch_id)
        is_done = delivered or (lambda record: record.sd_jwt_sha256 is not None)
        todo = [r for r in records if r.holder_jwk and not is_done(r)]
        if progress is not None and len(records) > len(todo):
            progress(len(records) - len(todo))
        signed: dict[str, str] = {}
        long = len(records) >= PARALLEL_FROM and bool(todo)
        pool = SigningPool(self._signer, self.workers) if self.workers > 1 and long else None
        with pool or nullcontext():
            steps = []
            for start in range(0, len(todo), _CHUNK):
                chunk = todo[start:start + _CHUNK]
                jobs = [self._job(r, r.holder_jwk) for r in chunk]
                steps.append((chunk, jobs, pool.submit(jobs, now=batch.created_at) if pool else None))
            for chunk, jobs, signing in steps:
                serializations = signing.result() if signing else self._signer.sign_all(jobs, now=batch.created_at)
                issued = [IssuedCredential(r.batch_row or 0, r.id, r.student_id, sd_jwt, None)
                          for r, sd_jwt in zip(chunk, serializations, strict=True)]
                if deliver is not None:
                    deliver(issued)
                fault_point("batch-chunk-written")
                with self.archive.transaction():
                    self.archive.record_signatures({i.credential_id: _sha256_hex(i.sd_jwt or "") for i in issued})
                signed.update((i.credential_id, i.sd_jwt or "") for i in issued)
                if progress is not None:
                    progress(len(chunk))
        return [IssuedCredential(r.batch_row or 0, r.id, r.student_id, signed.get(r.id), r.offer_id) for r in records]

    def finish_batch(self, batch_id: str, *, now: int, out_dir: str | None = None) -> None:
        """Mark a batch delivered (every file written, its folder in place)."""
        self.archive.mark_batch_delivered(batch_id, out_dir=out_dir, at=now)

    def issue_batch(
        self,
        entries: Sequence[BatchEntry],
        *,
        now: int,
        deliver: Callable[[Sequence[IssuedCredential]], None] | None = None,
        progress: Callable[[int], None] | None = None,
        batch_id: str | None = None,
    ) -> BatchResult:
        """Archive, sign, deliver and anchor a batch in one call (:meth:`open_batch`, :meth:`sign_batch`).

        ``deliver`` gets each signed chunk before its hashes are recorded; if it
        raises, the batch stays archived and pending (finish it with
        :meth:`sign_batch`). New lists are then anchored (a ledger failure
        leaves them pending).
        """
        batch = self.open_batch(entries, now=now, batch_id=batch_id)
        issued = self.sign_batch(batch.id, deliver=deliver, progress=progress)
        self.finish_batch(batch.id, now=now)
        return BatchResult(batch.id, tuple(issued), tuple(self.converge_anchors()))

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
            made = {list_id: self._sign_list(list_id, now=now) for list_id in sorted({r.list_id for r in records})}
        fault_point("status-saved")
        return StatusChangeResult(tuple(r.id for r in records), tuple(self.converge_anchors(report=made)))

    def reissue(self, credential_id: str, holder_jwk: dict[str, str] | None, *, now: int) -> StatusChangeResult:
        """Issue the same claims to a new holder key (or as a new offer) and revoke the old one."""
        with self.archive.transaction():
            old = self.archive.credential(credential_id)
            if old.replaced_by:
                raise StatusChangeRefused([f"credential {credential_id} was already re-issued as {old.replaced_by}"])
            self._check_transition([credential_id], "revoked")
            entry = BatchEntry(row=1, claims=old.claims, holder_jwk=holder_jwk)
            (new,), offers = self._unsigned_records([entry], self._allocate(1, now=now), batch_id=old.batch_id,
                                                    now=now, replaces=old.id)
            sd_jwt = self._signer.sign(self._job(new, holder_jwk), now=now) if holder_jwk else None
            if sd_jwt is not None:
                new = replace(new, sd_jwt_sha256=_sha256_hex(sd_jwt))
            self.archive.insert_credentials([new])
            self.archive.insert_offers(offers)
            self.archive.set_status([old.id], "revoked")
            self.archive.update_credential(old.id, replaced_by=new.id)
            made = {list_id: self._sign_list(list_id, now=now) for list_id in sorted({old.list_id, new.list_id})}
        issued = IssuedCredential(entry.row, new.id, new.student_id, sd_jwt, new.offer_id)
        return StatusChangeResult((old.id,), tuple(self.converge_anchors(report=made)), (issued,))

    # --- publishing and anchoring --------------------------------------------------

    def publish(self, *, now: int) -> list[AnchorOutcome]:
        """Sign lists never signed, then anchor every list whose chain state is behind the archive."""
        with self.archive.transaction():
            for record in self.archive.status_lists():
                if record.version == 0:
                    self._sign_list(record.id, now=now)
        return self.converge_anchors()

    def converge_anchors(self, *, report: Mapping[str, int | None] | None = None) -> list[AnchorOutcome]:
        """:func:`issuer.anchoring.converge` for this issuer; ``report``: lists to report on in any case."""
        return converge(self.archive, self.identity.did, self.anchor, report=report)

    def status_list_token(self, list_id: str) -> str | None:
        record = self.archive.status_list(list_id)
        return record.token if record else None
