"""Status changes: revoke, suspend, reinstate and re-issue, a credential's twins moving with it.

Statuses are the IETF Token Status List values (draft-ietf-oauth-status-list:
VALID, INVALID, SUSPENDED); the twins' W3C Bitstring lists (purpose
``revocation``) change only when credentials are revoked. All or nothing:
statuses change and every list they touch is re-signed in ONE archive
transaction; the new versions are then anchored, together
(:func:`issuer.anchoring.converge`). :class:`StatusChanges` is a part of
:class:`issuer.service.IssuerService`.

A change killed after its transaction is finished by asking for it again:
:meth:`StatusChanges.settled` tells that every credential named already has
the status asked (nothing left to change), and the caller then anchors what
the chain lacks instead of refusing. ``on_saved`` runs right after the
transaction committed, before anything is sent to the chain, so that what
must follow a change (the audit log) is not lost with a run killed while
anchoring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from credentials.errors import InvalidInput, StatusChangeRefused, UnknownCredential
from credentials.merkle import credential_digest
from issuer.anchoring import AnchorOutcome
from issuer.archive import DELIVERY_FILE, DELIVERY_OFFER, KIND_OB3, Archive, CredentialRecord, StatusChangeRecord
from issuer.fault_hook import fault_point
from issuer.list_keeper import sha256_hex
from issuer.results import IssuedCredential, StatusChangeResult
from issuer.signing_pool import Signer, SigningJob

__all__ = ["StatusChanges"]

_TRANSITIONS = {
    "revoked": {"valid", "suspended"},
    "suspended": {"valid"},
    "valid": {"suspended"},
}


class StatusChanges:
    """The status-change half of :class:`issuer.service.IssuerService` (it provides the attributes used here)."""

    archive: Archive
    random_id: Callable[[], str]
    _signer: Signer
    _allocate: Callable[..., list[tuple[str, int]]]
    _sign_list: Callable[..., int]
    _job: Callable[..., SigningJob]
    _offer: Callable[..., dict[str, Any]]
    converge_anchors: Callable[..., list[AnchorOutcome]]

    def _check_transition(self, ids: Sequence[str], status: str) -> list[CredentialRecord]:
        """The credentials ``ids`` name (a twin's id names the credential it is a twin of), each able to
        become ``status``; refused whole otherwise."""
        if status not in _TRANSITIONS:
            raise InvalidInput(f"expected a status of {', '.join(_TRANSITIONS)}, found {status!r}")
        if not ids:
            raise InvalidInput("no credential id given")
        records: dict[str, CredentialRecord] = {}
        errors = []
        for credential_id in dict.fromkeys(ids):
            try:
                record = self.archive.credential(credential_id)
                if record.twin_of is not None:
                    record = self.archive.credential(record.twin_of)
            except UnknownCredential as exc:
                errors.append(str(exc))
                continue
            if record.status not in _TRANSITIONS[status] and record.id not in records:
                errors.append(f"credential {credential_id} is {record.status}; cannot make it {status}")
            records[record.id] = record
        if errors:
            raise StatusChangeRefused(errors)
        return list(records.values())

    def _with_twins(self, records: Sequence[CredentialRecord]) -> list[CredentialRecord]:
        return [member for record in records for member in (record, *self.archive.twins(record.id))]

    def _change(self, group: Sequence[CredentialRecord], status: str, *, now: int,
                also: Sequence[str] = ()) -> dict[str, int | None]:
        """Set ``status`` on ``group`` and sign each list it changes (with ``also``); list id → new version.

        A Bitstring list (purpose revocation) changes only when credentials are revoked."""
        self.archive.set_status([r.id for r in group], status)
        lists = {r.list_id for r in group if r.kind != KIND_OB3 or status == "revoked"} | set(also)
        return {list_id: self._sign_list(list_id, now=now) for list_id in sorted(lists)}

    def settled(self, wanted: Mapping[str, Sequence[str]]) -> dict[str, int | None] | None:
        """When every credential ``wanted`` names (status → ids; a twin's id stands for its group) already has
        that status: the lists they are on (list id → None, a ``report`` for :meth:`converge_anchors`); else
        None (an unknown id, or something left to change)."""
        lists: dict[str, int | None] = {}
        for status, ids in wanted.items():
            for credential_id in ids:
                try:
                    record = self.archive.credential(credential_id)
                    if record.twin_of is not None:
                        record = self.archive.credential(record.twin_of)
                except UnknownCredential:
                    return None
                if record.status != status:
                    return None
                lists.update(dict.fromkeys(r.list_id for r in self._with_twins([record])))
        return lists or None

    def set_status(self, credential_ids: Sequence[str], status: str, *, now: int,
                   on_saved: Callable[[Sequence[str]], None] | None = None) -> StatusChangeResult:
        """Revoke (``revoked``), suspend (``suspended``) or reinstate (``valid``) credentials.

        All or nothing: any unknown id or impossible change refuses the whole call.
        A credential's twins change with it (a twin's id stands for its whole
        group), and every list the change touched is anchored in one transaction.
        ``on_saved(changed ids)`` runs once the change is committed, before anchoring.
        """
        with self.archive.transaction():
            group = self._with_twins(self._check_transition(credential_ids, status))
            made = self._change(group, status, now=now)
            fault_point("status-saving")
        if on_saved is not None:
            on_saved(tuple(r.id for r in group))
        fault_point("status-saved")
        return StatusChangeResult(tuple(r.id for r in group), tuple(self.converge_anchors(report=made)))

    def set_statuses(self, changes: Mapping[str, Sequence[str]], *, now: int,
                     log: Sequence[StatusChangeRecord] = (),
                     on_saved: Callable[[Sequence[str]], None] | None = None) -> StatusChangeResult:
        """Several changes at once (status → credential ids), e.g. a bulk revocation file's rows.

        All or nothing, in ONE archive transaction with ``log`` (the reasons, kept
        in the archive only): every list touched is signed once, whatever
        statuses its credentials take, and the lists are then anchored together
        (one ``anchorMany`` transaction for several). ``on_saved`` as for :meth:`set_status`.
        """
        if not any(changes.values()):
            raise InvalidInput("no credential id given")
        with self.archive.transaction():
            groups = {status: self._with_twins(self._check_transition(ids, status))
                      for status, ids in changes.items() if ids}
            owner: dict[str, str] = {}
            clashes = [f"credential {r.id} is asked to become both {owner[r.id]} and {status}"
                       for status, group in groups.items() for r in group
                       if owner.setdefault(r.id, status) != status]
            if clashes:
                raise StatusChangeRefused(clashes)
            lists: set[str] = set()
            for status, group in groups.items():
                self.archive.set_status([r.id for r in group], status)
                lists |= {r.list_id for r in group if r.kind != KIND_OB3 or status == "revoked"}
            made = {list_id: self._sign_list(list_id, now=now) for list_id in sorted(lists)}
            self.archive.record_status_changes(log)
            fault_point("status-saving")
        changed = tuple(r.id for group in groups.values() for r in group)
        if on_saved is not None:
            on_saved(changed)
        fault_point("status-saved")
        return StatusChangeResult(changed, tuple(self.converge_anchors(report=made)))

    def reissue(self, credential_id: str, holder_jwk: dict[str, str] | None, *, now: int) -> StatusChangeResult:
        """Issue the same claims to a new holder key (or as a new offer) and revoke the old one (its twins too;
        the new credential is of the old one's kind, without twins)."""
        with self.archive.transaction():
            old = self.archive.credential(credential_id)
            if old.twin_of is not None:
                raise StatusChangeRefused([f"credential {credential_id} is a twin ({old.kind}) of {old.twin_of}; "
                                           f"re-issue {old.twin_of}"])
            if old.replaced_by:
                raise StatusChangeRefused([f"credential {credential_id} was already re-issued as {old.replaced_by}"])
            self._check_transition([credential_id], "revoked")
            ((list_id, index),) = self._allocate(1, now=now)
            offer_id = None if holder_jwk else self.random_id()
            new = replace(old, id=self.random_id(), holder_jwk=holder_jwk, list_id=list_id, idx=index, status="valid",
                          delivery=DELIVERY_FILE if holder_jwk else DELIVERY_OFFER, issued_at=now,
                          sd_jwt_sha256=None, replaces=old.id, replaced_by=None, offer_id=offer_id)
            sd_jwt = self._signer.sign(self._job(new, holder_jwk), now=now) if holder_jwk else None
            if sd_jwt is not None:
                new = replace(new, sd_jwt_sha256=sha256_hex(sd_jwt))
            self.archive.insert_credentials([new])
            if sd_jwt is not None:  # sealed into a tree of its own by the caller (issuer.issuance)
                self.archive.record_leaves(new.batch_id, {new.id: credential_digest(sd_jwt).hex()})
            self.archive.insert_offers([self._offer(offer_id, new.id, now=now)] if offer_id else [])
            self.archive.update_credential(old.id, replaced_by=new.id)
            made = self._change(self._with_twins([old]), "revoked", now=now, also=[new.list_id])
        issued = IssuedCredential(1, new.id, new.student_id, sd_jwt, new.offer_id, new.kind)
        return StatusChangeResult((old.id,), tuple(self.converge_anchors(report=made)), (issued,))
