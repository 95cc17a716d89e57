"""Archived credentials: what was signed, for whom, and where its status lives.

European Maturity Model for Micro-credentials, Table 1 step 3: the issuer
"archives it for verification, revocation and re-issue". Per credential: the
claims that were signed (enough to sign them again for a new holder key), the
holder key, the status list and index, the status, and the SHA-256 of the
issued SD-JWT — not the SD-JWT itself, which holds the learner's data a
second time and is the learner's to keep. Statuses are the Token Status List
values of draft-ietf-oauth-status-list (VALID 0x00, INVALID 0x01, SUSPENDED 0x02).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from credentials.errors import InvalidInput, UnknownCredential
from issuer.archive.store import ArchiveStore

__all__ = ["STATUS_NAMES", "DELIVERY_FILE", "DELIVERY_OFFER", "DELIVERY_REDEEMED", "KIND_MICROCRED",
           "KIND_EUDI_LEARNING", "KIND_OB3", "KINDS", "CredentialRecord", "CredentialTable"]

#: Archive status names and the Token Status List values they stand for.
STATUS_NAMES = {"valid": 0x00, "revoked": 0x01, "suspended": 0x02}
DELIVERY_FILE = "file"
DELIVERY_OFFER = "offer"
DELIVERY_REDEEMED = "redeemed"
#: What a credential is: microcred's SD-JWT VC, the EUDI learning SD-JWT VC, an Open Badges 3.0 vc+jwt.
KIND_MICROCRED, KIND_EUDI_LEARNING, KIND_OB3 = "microcred", "eudi-learning", "ob3"
KINDS = (KIND_MICROCRED, KIND_EUDI_LEARNING, KIND_OB3)
#: Built once (``json.dumps`` with options builds an encoder per call); same text as before.
_CLAIMS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_JWK_JSON = json.JSONEncoder()
_MAKE_ENCODER: Callable[..., Callable[[Any, int], Any]] | None = getattr(json.encoder, "c_make_encoder", None)


def _c_text(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` for the dicts archived here, through one C encoder made once (``encode`` makes one
    per call; a batch archives every credential: issue 16). The same text: same separators, escaping and
    float rules; no circular-reference bookkeeping (what is archived was parsed from JSON or CSV)."""
    if _MAKE_ENCODER is None:
        return encoder.encode
    c_encode = _MAKE_ENCODER(None, encoder.default, json.encoder.encode_basestring_ascii if encoder.ensure_ascii
                             else json.encoder.encode_basestring, None, encoder.key_separator,
                             encoder.item_separator, False, False, encoder.allow_nan)

    def encode(value: Any) -> str:
        return "".join(c_encode(value, 0)) if type(value) is dict else encoder.encode(value)

    return encode


_claims_text, _jwk_text = _c_text(_CLAIMS_JSON), _c_text(_JWK_JSON)


@dataclass(frozen=True)
class CredentialRecord:
    """One archived credential."""

    id: str
    batch_id: str
    student_id: str
    given_name: str
    family_name: str
    title: str
    claims: dict[str, Any]
    holder_jwk: dict[str, str] | None
    list_id: str
    idx: int
    status: str
    delivery: str
    issued_at: int
    sd_jwt_sha256: str | None
    replaces: str | None
    replaced_by: str | None
    offer_id: str | None
    #: The row (or entry) number of the credential in its batch's input.
    batch_row: int | None = None
    #: One of :data:`KINDS`.
    kind: str = KIND_MICROCRED
    #: The credential this one is a twin of (same row, same learner, another format), or None.
    twin_of: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CredentialRecord:
        values = dict(row)
        values["claims"] = _JSON.decode(values["claims"])
        values["holder_jwk"] = _JSON.decode(values["holder_jwk"]) if values["holder_jwk"] else None
        if values.keys() != _COLUMN_SET:  # what the dataclass's __init__ would refuse, refused alike
            return cls(**values)
        # Every field set at once: the frozen dataclass's __init__ sets each through object.__setattr__, and
        # a batch reads back every credential it archived (issue 16: ~1/8 of issuing before).
        record = object.__new__(cls)
        record.__dict__.update(values)
        return record

    def to_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in CREDENTIAL_COLUMNS}
        row["claims"] = _CLAIMS_JSON.encode(self.claims)
        row["holder_jwk"] = _JWK_JSON.encode(self.holder_jwk) if self.holder_jwk else None
        return row


#: The columns of ``credentials``, in the table's order (the record's fields).
CREDENTIAL_COLUMNS = tuple(field.name for field in fields(CredentialRecord))
_COLUMN_SET = frozenset(CREDENTIAL_COLUMNS)
_JSON = json.JSONDecoder()
_INSERT = (f"INSERT INTO credentials ({', '.join(CREDENTIAL_COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in CREDENTIAL_COLUMNS)})")
_FIELDS = attrgetter(*CREDENTIAL_COLUMNS)
_CLAIMS_AT, _HOLDER_AT = CREDENTIAL_COLUMNS.index("claims"), CREDENTIAL_COLUMNS.index("holder_jwk")


def _insert_values(record: CredentialRecord) -> list[Any]:
    """:meth:`CredentialRecord.to_row`'s values in column order, the fields read in one C call (a batch inserts
    every credential it archives: issue 16)."""
    values = list(_FIELDS(record))
    values[_CLAIMS_AT] = _claims_text(record.claims)
    values[_HOLDER_AT] = _jwk_text(record.holder_jwk) if record.holder_jwk else None
    return values


class CredentialTable(ArchiveStore):
    """The archive's ``credentials`` table."""

    def insert_credentials(self, records: Iterable[CredentialRecord]) -> list[str]:
        """Insert records (call inside :meth:`transaction`); each one's claims as archived (JSON text), in order:
        a batch hands that text to its signing workers instead of pickling the claims again (issue 16)."""
        values = list(map(_insert_values, records))
        self.conn.executemany(_INSERT, values)
        return [row[_CLAIMS_AT] for row in values]

    def credential(self, credential_id: str) -> CredentialRecord:
        rows = list(self.db.query("SELECT * FROM credentials WHERE id = ?", [credential_id]))
        if not rows:
            raise UnknownCredential(f"no credential with id {credential_id!r} in this issuer's archive")
        return CredentialRecord.from_row(rows[0])

    def credentials(self, *, search: str | None = None, limit: int = 200, offset: int = 0,
                    twins: bool = False) -> list[CredentialRecord]:
        """Newest first; ``search`` matches id, student id, names or title; twins only if asked."""
        where, params = ("" if twins else "WHERE twin_of IS NULL"), []
        if search:
            where += (" AND " if where else "WHERE ") + (
                "(id = ? OR student_id LIKE ? OR given_name LIKE ? OR family_name LIKE ? OR title LIKE ?)")
            pattern = f"%{search}%"
            params = [search, pattern, pattern, pattern, pattern]
        sql = f"SELECT * FROM credentials {where} ORDER BY issued_at DESC, rowid DESC LIMIT ? OFFSET ?"
        return [CredentialRecord.from_row(row) for row in self.db.query(sql, [*params, limit, offset])]

    def count_credentials(self) -> dict[str, int]:
        """How many credentials (twins not counted) are in each status."""
        counts = dict.fromkeys(STATUS_NAMES, 0)
        sql = "SELECT status, COUNT(*) AS n FROM credentials WHERE twin_of IS NULL GROUP BY status"
        for row in self.db.query(sql):
            counts[row["status"]] = row["n"]
        return counts

    def twins(self, credential_id: str) -> list[CredentialRecord]:
        """The twins of a credential, in the order they were made."""
        sql = "SELECT * FROM credentials WHERE twin_of = ? ORDER BY rowid"
        return [CredentialRecord.from_row(row) for row in self.db.query(sql, [credential_id])]

    def set_status(self, credential_ids: Iterable[str], status: str) -> None:
        """Set statuses (call inside :meth:`transaction`)."""
        if status not in STATUS_NAMES:
            raise InvalidInput(f"status must be one of {', '.join(STATUS_NAMES)}, found {status!r}")
        self.conn.executemany("UPDATE credentials SET status = ? WHERE id = ?", ((status, i) for i in credential_ids))

    def update_credential(self, credential_id: str, **values: Any) -> None:
        unknown = sorted(set(values) - set(CREDENTIAL_COLUMNS))
        if unknown:
            raise InvalidInput(f"unknown credential column(s) {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE credentials SET {assignments} WHERE id = ?", [*values.values(), credential_id])

    def record_signatures(self, hashes: dict[str, str]) -> None:
        """Record the SHA-256 of each signed SD-JWT by credential id (call inside :meth:`transaction`)."""
        self.conn.executemany("UPDATE credentials SET sd_jwt_sha256 = ? WHERE id = ?",
                              ((digest, i) for i, digest in hashes.items()))

    def used_indices(self, list_id: str) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT idx FROM credentials WHERE list_id = ?", [list_id])}

    def status_entries(self, list_id: str) -> list[tuple[int, int]]:
        """``(index, status value)`` of every entry that is not VALID."""
        rows = self.conn.execute(
            "SELECT idx, status FROM credentials WHERE list_id = ? AND status != 'valid'", [list_id]
        )
        return [(idx, STATUS_NAMES[status]) for idx, status in rows]
