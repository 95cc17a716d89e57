"""Bulk revocation from a CSV file (issue 14, §4): checked whole, previewed, applied as one change.

The file (RFC 4180 CSV, UTF-8, a header row) has the columns

==================  ============================================================
``credential_id``   a credential of this issuer's archive, or
``batch_id``        an issuing batch: every credential of it (one of the two per row)
``reason``          ``revoked`` or ``suspended`` (the Token Status List value,
                    draft-ietf-oauth-status-list: INVALID 0x01, SUSPENDED 0x02)
``note``            optional: why, for the archive (never on chain), ≤ 500 characters
==================  ============================================================

:func:`plan_revocation` checks every row and reports every problem with its
line number (unknown id, a credential that cannot take that status, one asked
to become two things, a malformed row); nothing changes unless all rows are
good. A good plan says what it does ("312 credentials in 2 lists") and
:func:`apply_plan` makes it: statuses, each touched list signed once and the
reasons logged in ONE archive transaction, then all changed lists anchored
together in one ``anchorMany`` transaction
(:meth:`issuer.status_changes.StatusChanges.set_statuses`). Killed after the
archive's transaction, the lists are anchored by the next ``publish`` or the
service's background retry (:func:`issuer.anchoring.converge`), as for any
revocation — or by applying the same file again: :func:`asked` reads what it
asks for, and when every credential already has it the caller anchors what the
chain lacks instead of refusing the file; killed before it, nothing changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from credentials.errors import StatusChangeRefused, UnknownCredential
from issuer.archive import KIND_OB3, Archive, CredentialRecord, StatusChangeRecord

__all__ = ["COLUMNS", "REASONS", "MAX_CSV_BYTES", "MAX_ROWS", "RevocationPlan", "plan_revocation", "apply_plan",
           "asked"]

COLUMNS = ("credential_id", "batch_id", "reason", "note")
REASONS = ("revoked", "suspended")
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_ROWS = 50_000
MAX_NOTE = 500
_MAX_ID = 128
_MAX_REPORTED = 50
_ALLOWED_FROM = {"revoked": {"valid", "suspended"}, "suspended": {"valid"}}


@dataclass(frozen=True)
class _Row:
    line: int
    credential_id: str | None
    batch_id: str | None
    reason: str
    note: str | None


@dataclass
class RevocationPlan:
    """What a checked file will change: credential ids per status, the lists touched, the log to keep."""

    changes: dict[str, list[str]]
    lists: tuple[str, ...]
    log: list[StatusChangeRecord] = field(default_factory=list)
    #: SHA-256 of the file: the preview and the confirmation must be about the same file.
    digest: str = ""

    @property
    def credential_count(self) -> int:
        return sum(len(ids) for ids in self.changes.values())

    def summary(self) -> str:
        """``"312 credentials in 2 lists (300 revoked, 12 suspended)"``."""
        count, lists = self.credential_count, len(self.lists)
        parts = ", ".join(f"{len(ids)} {status}" for status, ids in self.changes.items() if ids)
        return (f"{count} credential{'s' if count != 1 else ''} in {lists} list{'s' if lists != 1 else ''} "
                f"({parts})")


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    if len(content) > MAX_CSV_BYTES:
        raise StatusChangeRefused([f"the file is {len(content)} bytes; at most {MAX_CSV_BYTES} are read"])
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatusChangeRefused([f"the file is not UTF-8 (an invalid byte at offset {exc.start})"]) from None


def _rows(text: str, errors: list[tuple[int, str]]) -> list[_Row]:
    """The file's well-formed rows; every problem of form goes to ``errors`` with its line number."""
    if "\x00" in text:
        raise StatusChangeRefused(["the file holds a NUL character: not a CSV text file"])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise StatusChangeRefused(["the file is empty; expected a header row: credential_id,batch_id,reason"])
        names = [name.strip().lower() for name in header]
        unknown = [n for n in names if n not in COLUMNS]
        missing = [] if "reason" in names else ["reason"]
        if not {"credential_id", "batch_id"} & set(names):
            missing.append("credential_id or batch_id")
        if unknown or missing or len(set(names)) != len(names):
            raise StatusChangeRefused([f"line 1: expected a header of {', '.join(COLUMNS)} (reason and one of "
                                       f"credential_id / batch_id required), found {', '.join(header)[:200]!r}"])
        rows: list[_Row] = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # a blank line
            if len(rows) >= MAX_ROWS:
                raise StatusChangeRefused([f"line {line}: more than {MAX_ROWS} rows; split the file"])
            if len(values) != len(names):
                errors.append((line, f"expected {len(names)} fields, found {len(values)}"))
                continue
            cells = {name: value.strip() for name, value in zip(names, values, strict=True)}
            row = _row(line, cells, errors)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append((reader.line_num, f"not valid CSV ({exc})"))
        raise StatusChangeRefused(_lines(errors)) from None
    if not rows and not errors:
        raise StatusChangeRefused(["the file has a header but no rows"])
    return rows


def _lines(errors: list[tuple[int, str]]) -> list[str]:
    """``"line N: …"`` in line order, at most :data:`_MAX_REPORTED` of them."""
    ordered = [f"line {line}: {message}" for line, message in sorted(errors, key=lambda e: e[0])]
    if len(ordered) > _MAX_REPORTED:
        ordered = [*ordered[:_MAX_REPORTED], f"… and {len(ordered) - _MAX_REPORTED} more problems"]
    return ordered


def _row(line: int, cells: dict[str, str], errors: list[tuple[int, str]]) -> _Row | None:
    credential_id, batch_id = cells.get("credential_id") or None, cells.get("batch_id") or None
    reason, note = cells.get("reason", ""), cells.get("note") or None
    problems = []
    if (credential_id is None) == (batch_id is None):
        problems.append("expected a credential_id or a batch_id (one of them), found "
                        + ("both" if credential_id else "neither"))
    for name, value in (("credential_id", credential_id), ("batch_id", batch_id)):
        if value is not None and (len(value) > _MAX_ID or not value.isprintable()):
            problems.append(f"{name} is not an id (at most {_MAX_ID} printable characters)")
    if reason.lower() not in REASONS:
        problems.append(f"reason: expected revoked or suspended, found {reason[:40]!r}")
    if note is not None and len(note) > MAX_NOTE:
        problems.append(f"note: at most {MAX_NOTE} characters, found {len(note)}")
    if problems:
        errors.append((line, "; ".join(problems)))
        return None
    return _Row(line, credential_id, batch_id, reason.lower(), note)


def _targets(archive: Archive, row: _Row) -> list[CredentialRecord]:
    """The credentials (twins stand for their credential) a row names; UnknownCredential if none."""
    if row.batch_id is not None:
        if archive.batch(row.batch_id) is None:
            raise UnknownCredential(f"no batch with id {row.batch_id!r} in this issuer's archive")
        found = []
        for record in archive.batch_credentials(row.batch_id):
            while record.replaced_by:  # a re-issued credential stands for the batch's row now
                record = archive.credential(record.replaced_by)
            if record.twin_of is None:
                found.append(record)
        return found
    record = archive.credential(row.credential_id or "")
    return [archive.credential(record.twin_of) if record.twin_of is not None else record]


def plan_revocation(archive: Archive, content: bytes | str, *, now: int, source: str | None = None) -> RevocationPlan:
    """Check the whole file against the archive; StatusChangeRefused listing every problem by line."""
    text = _decode(content)
    errors: list[tuple[int, str]] = []
    rows = _rows(text, errors)
    wanted: dict[str, tuple[str, _Row]] = {}
    for row in rows:
        try:
            targets = _targets(archive, row)
        except UnknownCredential as exc:
            errors.append((row.line, str(exc)))
            continue
        for record in targets:
            earlier = wanted.get(record.id)
            if earlier is not None and earlier[0] != row.reason:
                errors.append((row.line, f"credential {record.id} is {earlier[0]} by line {earlier[1].line}; "
                                         "a credential takes one status"))
            elif record.status not in _ALLOWED_FROM[row.reason]:
                if row.batch_id is None or record.status != row.reason:  # a batch may hold some already done
                    errors.append((row.line, f"credential {record.id} is {record.status}; "
                                             f"cannot make it {row.reason}"))
            elif earlier is None:
                wanted[record.id] = (row.reason, row)
    if errors:
        raise StatusChangeRefused(_lines(errors))
    if not wanted:
        raise StatusChangeRefused(["nothing to change: every credential named already has that status"])
    changes: dict[str, list[str]] = {reason: [] for reason in REASONS}
    lists: set[str] = set()
    log = []
    for credential_id, (reason, row) in wanted.items():
        changes[reason].append(credential_id)
        for member in (archive.credential(credential_id), *archive.twins(credential_id)):
            if member.kind != KIND_OB3 or reason == "revoked":
                lists.add(member.list_id)
        log.append(StatusChangeRecord(credential_id, reason, row.note, source, row.line, now))
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return RevocationPlan(changes, tuple(sorted(lists)), log, digest)


def apply_plan(service: Any, plan: RevocationPlan, *, now: int, on_saved: Any = None) -> Any:
    """Make the change: one archive transaction, then one anchoring transaction (StatusChangeResult);
    ``on_saved`` as for :meth:`issuer.status_changes.StatusChanges.set_statuses`."""
    return service.set_statuses(plan.changes, now=now, log=plan.log, on_saved=on_saved)


def asked(archive: Archive, content: bytes | str) -> dict[str, list[str]] | None:
    """What the file asks for (status → credential ids, twins standing for their credential), whatever the
    credentials' statuses now; None when a row is malformed or names nothing this archive knows."""
    errors: list[tuple[int, str]] = []
    try:
        rows = _rows(_decode(content), errors)
        wanted: dict[str, list[str]] = {}
        for row in rows:
            wanted.setdefault(row.reason, []).extend(r.id for r in _targets(archive, row))
    except (StatusChangeRefused, UnknownCredential):
        return None
    return None if errors else wanted
