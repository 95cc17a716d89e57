"""The issuing pipeline: sign batches, change statuses, publish and anchor status lists.

- Credentials are SD-JWT VCs (draft-ietf-oauth-sd-jwt-vc-12, ``typ: dc+sd-jwt``)
  of type ``urn:microcred:vct:micro-credential:1``, each claim selectively
  disclosable (``credentials.microcredential.disclosure_frame``), bound to
  the learner's key through ``cnf.jwk`` when one is known.
- Twins (:mod:`issuer.twins`): a batch may also issue each row as an Open
  Badges 3.0 ``vc+jwt`` and / or the EUDI learning credential, or the EUDI
  learning credential *instead* of microcred's (``kinds``). A twin is an
  archived credential of its own (``kind``, ``twin_of``) made in the same
  transaction as its row's credential, signed and delivered with the batch,
  offered in the same OpenID4VCI offer, and revoked, suspended or reinstated
  with it.
- Status (:mod:`issuer.list_keeper`): each credential gets a random free
  index (:mod:`issuer.randomness`, the OS CSPRNG) in a list of at least 131,072 entries: IETF Token
  Status List (draft-ietf-oauth-status-list, :data:`STATUS_BITS` 2 so that
  SUSPENDED is expressible) for the SD-JWT VCs, W3C Bitstring Status List
  (``revocation``) for the Open Badges.
- Revocation: statuses change and each touched list is re-signed with a
  version one higher in ONE archive transaction; then the SHA-256 of each new
  Status List Token is anchored on the StatusRegistry: one transaction
  whatever the number of changes, the lists a change touched (a credential's
  and its twin's) anchored together (``anchorMany``). If the ledger is down or refuses, the
  local state stays as committed and the list stays *pending*;
  :meth:`IssuerService.publish` (and the service's background loop) anchor
  whatever the chain holds behind the archive (:mod:`issuer.anchoring`).
- Issuance anchors (:mod:`issuer.issuance`): each signed credential's leaf
  (SHA-256 of its issuer-signed JWT) is recorded with its signature's hash; a
  batch, once signed, is sealed into one RFC 9162 Merkle tree whose root is
  anchored on the IssuanceRegistry in ONE transaction
  (:meth:`IssuerService.converge_issuance`; ``issuer publish`` and the
  service's background loop run it too, so a root left pending converges);
  :meth:`IssuerService.issuance_proofs` rebuilds each credential's proof.
- Batches are one unit of work: :meth:`IssuerService.open_batch` archives the
  batch, its credentials and their status list slots (unsigned) in ONE
  transaction before anything is signed; :meth:`IssuerService.sign_batch`
  then signs chunk by chunk, hands each chunk to ``deliver`` (write the files)
  and records the SHA-256 of each; it signs only what is not yet delivered, so
  a re-run finishes an interrupted batch from the archive.

Status changes live in :mod:`issuer.status_changes` (a part of :class:`IssuerService`).
No clock and no chain of its own: ``now`` (epoch seconds) is a parameter and
the ledger comes in as a :class:`StatusAnchor`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from credentials.dids import did_jwk_from_public_key
from credentials.errors import InvalidInput, StatusChangeRefused
from credentials.jose import PrivateKey, PublicKey
from issuer.anchoring import AnchorOutcome, StatusAnchor, converge
from issuer.archive import (
    BATCH_PENDING,
    DELIVERY_FILE,
    DELIVERY_OFFER,
    KIND_EUDI_LEARNING,
    KIND_MICROCRED,
    KIND_OB3,
    LIST_KIND_BITSTRING,
    LIST_KIND_IETF,
    Archive,
    BatchRecord,
    CredentialRecord,
)
from issuer.batch import BatchEntry
from issuer.fault_hook import fault_point
from issuer.gc_scope import in_batch_collection
from issuer.identity import IssuerIdentity
from issuer.issuance import IssuanceOutcome, converge_issuance, proofs_for, seal
from issuer.list_keeper import LIST_SIZE, MAX_FILL, STATUS_BITS, STATUS_TTL, ListKeeper, served_token
from issuer.randomness import randbelow
from issuer.results import BatchResult, IssuedCredential, StatusChangeResult
from issuer.signing_pool import Signer, SigningJob, SigningPool
from issuer.status_changes import StatusChanges
from issuer.twins import PRIMARY_KINDS, TWIN_KINDS, eudi_learning_claims, ob3_credential

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
    "check_kinds",
]

#: How long an OpenID4VCI credential offer may be redeemed (seconds).
OFFER_LIFETIME = 30 * 24 * 3600
#: Credentials signed per worker job.
_CHUNK = 250
#: Credentials delivered and recorded per step of a batch (one archive transaction, progress granularity): each
#: transaction waits for the disk (fsync), 10-17 ms on this kind of machine, so a step of 250 cost a batch about
#: 50 us a credential of wall time (issue 16). A multiple of :data:`_CHUNK`.
_STEP = 4 * _CHUNK
#: A batch this long or longer is signed by worker processes when the service has several.
PARALLEL_FROM = 1000


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 §6, lower case
#: Every 10-bit value as its two base32 characters; an id's 120 bits are 12 of them, most significant first.
_BASE32_PAIRS = tuple(a + b for a in _BASE32 for b in _BASE32)
_PAIR_SHIFTS = tuple(range(110, -1, -10))


def _random_id() -> str:
    """An opaque credential id: 24 lowercase base32 characters (120 bits).

    Only letters and digits, so it never starts with '-' (a command line would
    read that as an option) and survives copying from a terminal or a URL.
    The text is ``base64.b32encode(bytes).lower()`` of 15 random bytes (no
    padding: 120 bits are 24 whole characters), looked up two characters at a
    time: ``b32encode`` is pure Python and took about twice as long (issue 16).
    """
    number = int.from_bytes(secrets.token_bytes(15), "big")
    return "".join([_BASE32_PAIRS[(number >> shift) & 0x3FF] for shift in _PAIR_SHIFTS])


def check_kinds(kinds: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """``(main kind, twin kinds)`` of a batch: the first of ``kinds`` is each row's credential, the rest its twins."""
    if not kinds or kinds[0] not in PRIMARY_KINDS:
        raise InvalidInput(f"expected the row's credential to be one of {', '.join(PRIMARY_KINDS)}, "
                           f"found {kinds[0] if kinds else 'none'!r}")
    twins = tuple(kinds[1:])
    if len(set(kinds)) != len(kinds) or not set(twins) <= set(TWIN_KINDS):
        raise InvalidInput(f"expected twins among {', '.join(TWIN_KINDS)}, each once and not the row's own "
                           f"{kinds[0]}, found {', '.join(twins)}")
    return kinds[0], twins


class IssuerService(StatusChanges):
    """One issuer's pipeline over its archive, signing key and (optional) anchor."""

    def __init__(
        self,
        identity: IssuerIdentity,
        archive: Archive,
        signing_key: PrivateKey,
        *,
        anchor: StatusAnchor | None = None,
        random_below: Callable[[int], int] = randbelow,
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
        self.lists = ListKeeper(identity, archive, signing_key, random_below=lambda n: self.random_below(n),
                                random_id=lambda: self.random_id())

    # --- signing ---------------------------------------------------------------------

    def _status_uri(self, record: CredentialRecord, known: dict[tuple[str, str], str] | None = None) -> str:
        """Where the record's status list is served (looked up once per list in ``known``: a batch's credentials
        share a few lists)."""
        list_kind = LIST_KIND_BITSTRING if record.kind == KIND_OB3 else LIST_KIND_IETF
        if known is None:
            return self.lists.uri(record.list_id, list_kind)
        uri = known.get((record.list_id, list_kind))
        if uri is None:
            uri = known[record.list_id, list_kind] = self.lists.uri(record.list_id, list_kind)
        return uri

    def _job(self, record: CredentialRecord, holder_jwk: dict[str, str] | None,
             known: dict[tuple[str, str], str] | None = None) -> SigningJob:
        return SigningJob(record.claims, holder_jwk, self._status_uri(record, known), record.idx, record.kind)

    def sign_credential(self, record: CredentialRecord, holder_jwk: dict[str, str] | None, *, now: int) -> str:
        """The SD-JWT VC (or an Open Badge's ``vc+jwt``) for an archived record (also used to redeem an offer)."""
        return self._signer.sign(self._job(record, holder_jwk), now=now)

    def _allocate(self, count: int, *, now: int) -> list[tuple[str, int]]:
        """``count`` random free slots in IETF lists (inside a transaction)."""
        return self.lists.allocate(count, now=now)

    def _sign_list(self, list_id: str, *, now: int) -> int:
        """Re-sign a list from the archive's statuses, version + 1 (inside a transaction)."""
        return self.lists.sign(list_id, now=now)

    def _unsigned_records(
        self, entries: Sequence[BatchEntry], slots: Sequence[tuple[str, int]], *, batch_id: str, now: int,
        replaces: str | None = None, kind: str = KIND_MICROCRED,
    ) -> tuple[list[CredentialRecord], list[dict[str, Any]]]:
        """Records of ``kind`` for ``entries`` in their slots, not yet signed, and the offers of rows without a key."""
        records, offers = [], []
        for entry, (list_id, index) in zip(entries, slots, strict=True):
            learner = entry.claims["learner"]
            offer_id = None if entry.holder_jwk else self.random_id()
            # Every field set at once (the frozen dataclass's __init__ sets each of its 20 through
            # object.__setattr__; a batch makes one record per credential in the one process that archives).
            record = object.__new__(CredentialRecord)
            record.__dict__.update(
                id=self.random_id(), batch_id=batch_id, student_id=learner["student_id"],
                given_name=learner["given_name"], family_name=learner["family_name"],
                title=entry.claims["title"], claims=eudi_learning_claims(entry.claims, entry.extras)
                if kind == KIND_EUDI_LEARNING else entry.claims, holder_jwk=entry.holder_jwk,
                list_id=list_id, idx=index, status="valid",
                delivery=DELIVERY_FILE if entry.holder_jwk else DELIVERY_OFFER, issued_at=now,
                sd_jwt_sha256=None, replaces=replaces, replaced_by=None, offer_id=offer_id, batch_row=entry.row,
                kind=kind, twin_of=None,
            )
            if offer_id is not None:
                offers.append(self._offer(offer_id, record.id, now=now))
            records.append(record)
        return records, offers

    @staticmethod
    def _offer(offer_id: str, credential_id: str, *, now: int) -> dict[str, Any]:
        return {"id": offer_id, "credential_id": credential_id, "pre_authorized_code": secrets.token_urlsafe(32),
                "created_at": now, "expires_at": now + OFFER_LIFETIME}

    def _twins(self, kind: str, entries: Sequence[BatchEntry], primaries: Sequence[CredentialRecord], *,
               now: int) -> list[CredentialRecord]:
        """The ``kind`` twin of each row's credential, in slots of its own (inside a transaction)."""
        list_kind = LIST_KIND_BITSTRING if kind == KIND_OB3 else LIST_KIND_IETF
        slots = self.lists.allocate(len(entries), now=now, kind=list_kind)
        twins = []
        for entry, primary, (list_id, index) in zip(entries, primaries, slots, strict=True):
            if kind == KIND_OB3:
                holder = entry.holder_jwk
                subject = entry.holder_did or (did_jwk_from_public_key(PublicKey.from_jwk(holder)) if holder else None)
                claims = ob3_credential(
                    entry.claims, credential_id=f"urn:uuid:{uuid.uuid4()}", issuer_did=self.identity.did,
                    issuer_name=self.identity.legal_name, subject_id=subject, valid_from=now,
                    status_list_credential=self.lists.uri(list_id, list_kind), status_index=index)
            else:
                claims = eudi_learning_claims(entry.claims, entry.extras)
            twins.append(replace(primary, id=self.random_id(), claims=claims, list_id=list_id, idx=index, kind=kind,
                                 twin_of=primary.id))
        return twins

    # --- issuing -----------------------------------------------------------------------

    def open_batch(
        self, entries: Sequence[BatchEntry], *, now: int, batch_id: str | None = None, content_sha256: str = "",
        out_dir: str | None = None, kinds: Sequence[str] = (KIND_MICROCRED,),
    ) -> BatchRecord:
        """Archive a batch before anything is signed: its credentials and their twins, slots, offers,
        new lists (signed).

        One transaction: after it, every credential of the batch (``kinds[0]``
        per row, then a twin per further kind) has its id and its status list
        slot in the archive (``sd_jwt_sha256`` still empty), and the batch is
        ``pending`` until :meth:`finish_batch`.
        """
        return self._open_batch(entries, now=now, batch_id=batch_id, content_sha256=content_sha256,
                                out_dir=out_dir, kinds=kinds)[0]

    @in_batch_collection
    def _open_batch(
        self, entries: Sequence[BatchEntry], *, now: int, batch_id: str | None, content_sha256: str = "",
        out_dir: str | None = None, kinds: Sequence[str] = (KIND_MICROCRED,),
    ) -> tuple[BatchRecord, list[CredentialRecord], dict[str, str]]:
        """:meth:`open_batch`, the records it archived in :meth:`Archive.batch_credentials` order
        (by row, each row's twins after it in the order they were inserted), and each one's claims as archived
        (JSON text) by id."""
        if not entries:
            raise InvalidInput("the batch is empty")
        primary_kind, twin_kinds = check_kinds(kinds)
        batch_id = batch_id or self.random_id()
        with self.archive.transaction():
            if self.archive.batch(batch_id) is not None:
                raise InvalidInput(f"expected a new batch id, found batch {batch_id} already in the archive")
            known_lists = {r.id for r in self.archive.status_lists()}
            slots = self._allocate(len(entries), now=now)
            records, offers = self._unsigned_records(entries, slots, batch_id=batch_id, now=now, kind=primary_kind)
            twins = [twin for kind in twin_kinds for twin in self._twins(kind, entries, records, now=now)]
            inserted = [*records, *twins]
            claims_json = dict(zip([r.id for r in inserted], self.archive.insert_credentials(inserted), strict=True))
            self.archive.insert_offers(offers)
            for list_id in sorted({r.list_id for r in [*records, *twins]} - known_lists):
                self._sign_list(list_id, now=now)
            batch = BatchRecord(batch_id, content_sha256, BATCH_PENDING, out_dir, now, len(entries), None)
            self.archive.insert_batch(batch)
        fault_point("batch-saved")
        archived = sorted(inserted, key=lambda r: (r.batch_row or 0, r.twin_of is not None))  # stable
        return batch, archived, claims_json

    def sign_batch(
        self,
        batch_id: str,
        *,
        deliver: Callable[[Sequence[IssuedCredential]], None] | None = None,
        delivered: Callable[[CredentialRecord], bool] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[IssuedCredential]:
        """Sign the batch's key-bound credentials not yet ``delivered``, chunk by chunk, and record them.

        Per step of :data:`_STEP`: sign (in worker processes, a job each
        :data:`_CHUNK`, for a long batch when :attr:`workers` > 1), ``deliver``
        the step's credentials (write their files), then record each SD-JWT's
        SHA-256 (one transaction). ``delivered`` (default: a SHA-256 is
        recorded) says which need no new signature. Credentials keep the batch's
        issuing time. Returns every credential of the batch in input order,
        ``sd_jwt`` set for those signed now. ``progress`` gets counts of
        credentials done (those needing nothing first).
        """
        batch = self.archive.batch(batch_id)
        if batch is None:
            raise InvalidInput(f"no batch {batch_id!r} in this issuer's archive")
        return self._sign_records(batch, self.archive.batch_credentials(batch_id), deliver=deliver,
                                  delivered=delivered, progress=progress)

    @in_batch_collection
    def _sign_records(
        self,
        batch: BatchRecord,
        records: Sequence[CredentialRecord],
        *,
        deliver: Callable[[Sequence[IssuedCredential]], None] | None = None,
        delivered: Callable[[CredentialRecord], bool] | None = None,
        progress: Callable[[int], None] | None = None,
        claims_json: Mapping[str, str] | None = None,
    ) -> list[IssuedCredential]:
        """:meth:`sign_batch` over ``records``: the batch's archived credentials in archive order. With
        ``claims_json`` (each record's claims as archived, by id), worker processes get that text
        (:data:`issuer.signing_pool.EncodedJob`) instead of the pickled claims."""
        batch_id = batch.id
        is_done = delivered or (lambda record: record.sd_jwt_sha256 is not None)
        todo = [r for r in records if r.holder_jwk and not is_done(r)]
        if progress is not None and len(records) > len(todo):
            progress(len(records) - len(todo))
        signed: dict[str, IssuedCredential] = {}
        long = len(records) >= PARALLEL_FROM and bool(todo)
        pool = SigningPool(self._signer, self.workers) if self.workers > 1 and long else None
        with pool or nullcontext():
            steps: list[tuple[list[CredentialRecord], list[SigningJob], Future[list[tuple[str, str, str]]] | None]] = []
            uris: dict[tuple[str, str], str] = {}
            for start in range(0, len(todo), _CHUNK):
                chunk = todo[start:start + _CHUNK]
                if pool is not None and claims_json is not None:
                    encoded = [(claims_json[r.id], r.holder_jwk, self._status_uri(r, uris), r.idx, r.kind)
                               for r in chunk]
                    steps.append((chunk, [], pool.submit_encoded(encoded, now=batch.created_at)))
                    continue
                jobs = [self._job(r, r.holder_jwk, uris) for r in chunk]
                steps.append((chunk, jobs, pool.submit_hashed(jobs, now=batch.created_at) if pool else None))
            for first in range(0, len(steps), _STEP // _CHUNK):
                group = steps[first:first + _STEP // _CHUNK]
                chunk = [r for part, _, _ in group for r in part]
                # Each serialization comes with its SHA-256 and its issuance leaf input, hashed by the signer.
                hashed = [signed_one for _, jobs, signing in group for signed_one in (
                    signing.result() if signing else self._signer.sign_hashed(jobs, now=batch.created_at))]
                issued = [IssuedCredential(r.batch_row or 0, r.id, r.student_id, sd_jwt, None, r.kind)
                          for r, (sd_jwt, _, _) in zip(chunk, hashed, strict=True)]
                if deliver is not None:
                    deliver(issued)
                fault_point("batch-chunk-written")
                with self.archive.transaction():
                    self.archive.record_signatures({r.id: h[1] for r, h in zip(chunk, hashed, strict=True)})
                    self.archive.record_leaves(batch_id, {r.id: h[2] for r, h in zip(chunk, hashed, strict=True)})
                signed.update(zip((r.id for r in chunk), issued, strict=True))
                if progress is not None:
                    progress(len(chunk))
        # Those signed now as delivered (one object each) unless the record also has an offer, the others anew.
        result = []
        for r in records:
            now_signed = signed.get(r.id)
            result.append(now_signed if now_signed is not None and r.offer_id is None else IssuedCredential(
                r.batch_row or 0, r.id, r.student_id, now_signed.sd_jwt if now_signed else None, r.offer_id, r.kind))
        return result

    def finish_batch(self, batch_id: str, *, now: int, out_dir: str | None = None) -> None:
        """Mark a batch delivered (every file written, its folder in place)."""
        self.archive.mark_batch_delivered(batch_id, out_dir=out_dir, at=now)

    @in_batch_collection
    def issue_batch(
        self,
        entries: Sequence[BatchEntry],
        *,
        now: int,
        deliver: Callable[[Sequence[IssuedCredential]], None] | None = None,
        progress: Callable[[int], None] | None = None,
        batch_id: str | None = None,
        kinds: Sequence[str] = (KIND_MICROCRED,),
    ) -> BatchResult:
        """Archive, sign, deliver and anchor a batch in one call (:meth:`open_batch`, :meth:`sign_batch`).

        ``deliver`` gets each signed chunk before its hashes are recorded; if it
        raises, the batch stays archived and pending (finish it with
        :meth:`sign_batch`). New lists are then anchored (a ledger failure
        leaves them pending).
        """
        # The records just archived are signed as they are, not read back (issue 16: reading back and
        # decoding every credential's claims cost ~1/10 of issuing); sign_batch reads them for a re-run.
        batch, records, claims_json = self._open_batch(entries, now=now, batch_id=batch_id, kinds=kinds)
        issued = self._sign_records(batch, records, deliver=deliver, progress=progress, claims_json=claims_json)
        self.seal_issuance(batch.id, now=now)
        self.finish_batch(batch.id, now=now)
        return BatchResult(batch.id, tuple(issued), tuple(self.converge_anchors()), tuple(self.converge_issuance()))

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

    # --- issuance anchors ------------------------------------------------------------------

    def seal_issuance(self, batch_id: str | None = None, *, credential_ids: Sequence[str] | None = None,
                      now: int) -> str | None:
        """Seal the batch's (or these credentials') signed, unsealed credentials into one tree; its root."""
        return seal(self.archive, batch_id=batch_id, credential_ids=credential_ids, now=now)

    def _issuance_link(self) -> Any:
        return self.anchor if callable(getattr(self.anchor, "anchor_issuance", None)) else None

    def converge_issuance(self, *, roots: Sequence[str] | None = None) -> list[IssuanceOutcome]:
        """Anchor every issuance tree the archive does not hold as anchored (:mod:`issuer.issuance`)."""
        return converge_issuance(self.archive, self._issuance_link(), roots=roots)

    def issuance_registry(self) -> tuple[int, str] | None:
        """``(chain id, IssuanceRegistry address)`` the proofs name; None when no ledger deployment is known."""
        link = self._issuance_link()
        return None if link is None else link.issuance_registry()

    def issuance_proofs(self, credential_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The issuance proof JSON of each sealed credential (those without one are left out)."""
        return proofs_for(self.archive, credential_ids, self.issuance_registry())

    def status_list_token(self, list_id: str, kind: str = LIST_KIND_IETF, *, now: int | None = None) -> str | None:
        """The token verifiers are served for the list of ``kind`` (None if there is none: each kind has its own
        URL): the anchored version while a newer one waits for its anchor (:func:`issuer.list_keeper.served_token`;
        ``now``: an expired anchored token is not served)."""
        record = self.archive.status_list(list_id)
        if record is None or record.kind != kind:
            return None
        return served_token(record, ledger=self.anchor is not None, now=now)
