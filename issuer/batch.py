"""Batch input: a student-information-system export (CSV or JSON) → validated rows.

Every row is checked against the micro-credential schema
(``credentials.microcredential``, Annex I of Council Recommendation
2022/C 243/02) and every problem of every row is reported at once, each
prefixed with its row number, before anything is signed.

CSV: one credential per line, UTF-8 (a byte-order mark is fine), comma,
semicolon or tab separated (guessed from the header line). The columns
(:data:`CSV_COLUMNS`) map flatly onto the claims; an empty cell is an
absent value:

=============================  ==============================================
column                         claim
=============================  ==============================================
``learner.given_name`` …       ``learner.given_name`` (also ``family_name``,
                               ``birth_date`` YYYY-MM-DD, ``student_id``)
``title``                      ``title``
``issuer_country``             ``issuer_country``, codes separated by ``|``;
                               default: the issuer's own country
``awarding_body.name``/        ``awarding_body``: one body per ``|``-separated
``.id``/``.country``           position; default: the issuer itself
``issued_on``                  ``issued_on``; default: the day of issuing
``learning_outcomes``          ``learning_outcomes``, separated by ``|``
``ects``, ``eqf_level``        numbers
``qf_ehea_cycle``,             text claims of the same names
``assessment_type``,
``participation``,
``quality_assurance``,
``identity_verification``,
``grade``,
``further_information``
``stackability.option``/       ``stackability``
``.target``
``holder_jwk``                 the learner's public JWK (JSON) → ``cnf.jwk``
``holder_did``                 or the learner's did:key / did:jwk
``language_of_classes``        EUDI learning credential only (``--vct`` /
                               ``--also eudi-learning``): language tags
                               separated by ``|`` (``en|it``); required there
``expected_study_time``        EUDI only: free text; default: the ECTS
                               workload in words
``prerequisites_to_enroll``    EUDI only: separated by ``|``
=============================  ==============================================

``--also ob3`` needs no more columns: the Open Badge twin is made from the
same claims (see ``issuer.twins``).

A row with neither ``holder_jwk`` nor ``holder_did`` gets an OpenID4VCI
credential offer instead of a signed file. Use JSON input when a learning
outcome itself contains ``|``.

JSON: an array of objects (or ``{"credentials": [...]}``), each holding the
claims in their nested form plus optional ``holder_jwk`` / ``holder_did``;
the same defaults apply.

A batch's content id (:func:`batch_digest`) is the SHA-256 of its canonical
rows — claims as given (defaults left out, so the day of issuing does not
change it) and holder keys, key-sorted JSON, in a sorted order — so that
running the same export twice is recognised as the same batch.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from credentials.dids import resolve_public_key
from credentials.errors import InvalidCredentialData, InvalidInput
from credentials.jose import PublicKey, json_loads
from issuer.archive import KIND_EUDI_LEARNING, KIND_MICROCRED
from issuer.gc_scope import in_batch_collection
from issuer.row_check import RowChecker
from issuer.signing_pool import die_with_parent, pool_context
from issuer.twins import EUDI_COLUMNS, EUDI_LIST_COLUMNS, eudi_learning_row_problems

__all__ = [
    "CSV_COLUMNS",
    "LIST_SEPARATOR",
    "HOLDER_JWK",
    "HOLDER_DID",
    "MAX_ROWS",
    "PARALLEL_FROM",
    "BatchDefaults",
    "BatchEntry",
    "parse_csv",
    "parse_json",
    "parse_batch",
    "batch_digest",
]

LIST_SEPARATOR = "|"
HOLDER_JWK = "holder_jwk"
HOLDER_DID = "holder_did"
#: A batch longer than this is refused (split it).
MAX_ROWS = 100_000
#: A batch this long or longer is checked by worker processes when the caller allows several.
PARALLEL_FROM = 1000
_CHECK_CHUNK = 500

_TEXT_COLUMNS = (
    "learner.given_name", "learner.family_name", "learner.birth_date", "learner.student_id",
    "title", "issued_on", "qf_ehea_cycle", "assessment_type", "participation",
    "quality_assurance", "identity_verification", "grade", "further_information",
    "stackability.option", "stackability.target",
)
_LIST_COLUMNS = ("issuer_country", "learning_outcomes")
_BODY_COLUMNS = ("awarding_body.name", "awarding_body.id", "awarding_body.country")
_NUMBER_COLUMNS = ("ects", "eqf_level")
CSV_COLUMNS = (*_TEXT_COLUMNS, *_LIST_COLUMNS, *_BODY_COLUMNS, *_NUMBER_COLUMNS, HOLDER_JWK, HOLDER_DID, *EUDI_COLUMNS)
#: Stand-ins for ``iss`` / ``iat`` while rows are checked; the signed values are checked again when archived.
_CHECK_ISSUER, _CHECK_IAT = "did:key:z-row-check", 0
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class BatchDefaults:
    """What a row may leave out: the issuer's country, itself as awarding body, today."""

    issuer_country: str
    awarding_body: Mapping[str, str]
    issued_on: str


@dataclass(frozen=True)
class BatchEntry:
    """One validated row: its number in the input, its claims, the holder key if any."""

    row: int
    claims: dict[str, Any]
    holder_jwk: dict[str, str] | None
    #: Claims the row left out and the batch defaults filled in.
    defaulted: frozenset[str] = frozenset()
    #: The EUDI learning credential's own columns (:data:`issuer.twins.EUDI_COLUMNS`) the row filled.
    extras: dict[str, Any] = field(default_factory=dict)
    #: The holder's DID when the row gave one (``holder_did``); the Open Badge twin's subject.
    holder_did: str | None = None

    @property
    def student_id(self) -> str:
        return self.claims["learner"]["student_id"]


def _number(text: str, column: str, problems: list[str]) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{column}: expected a number, found {text!r}")
        return None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


@dataclass(frozen=True)
class _Columns:
    """The columns a CSV header has, in the order rows are read (the claims come out in the same order as when
    every known column was tried): each row looks only at these (issue 16: a header has about half of them)."""

    #: ``(column, parent claim or None, member)`` of the text columns present.
    texts: tuple[tuple[str, str | None, str], ...]
    lists: tuple[str, ...]
    numbers: tuple[str, ...]
    bodies: bool
    extras: tuple[str, ...]


def _columns(header: Sequence[str]) -> _Columns:
    present = set(header)
    texts: list[tuple[str, str | None, str]] = []
    for column in _TEXT_COLUMNS:
        if column in present:
            parent, _, member = column.rpartition(".")
            texts.append((column, parent or None, member))
    return _Columns(tuple(texts), tuple(c for c in _LIST_COLUMNS if c in present),
                    tuple(c for c in _NUMBER_COLUMNS if c in present), not present.isdisjoint(_BODY_COLUMNS),
                    tuple(c for c in EUDI_COLUMNS if c in present))


_EVERY_COLUMN = _columns(CSV_COLUMNS)


def _csv_extras(cells: Mapping[str, str], columns: _Columns = _EVERY_COLUMN) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for column in columns.extras:
        text = cells.get(column, "").strip()
        if text:
            extras[column] = [t.strip() for t in text.split(LIST_SEPARATOR)] if column in EUDI_LIST_COLUMNS else text
    return extras


def _csv_row_claims(cells: Mapping[str, str], problems: list[str],
                    columns: _Columns = _EVERY_COLUMN) -> tuple[dict[str, Any], dict[str, Any]]:
    """(claims, holder fields) from one CSV row (``columns``: those its header has); conversion problems appended."""
    claims: dict[str, Any] = {}
    for column, parent, member in columns.texts:
        text = cells.get(column, "").strip()
        if text:
            if parent is None:
                claims[member] = text
            else:
                claims.setdefault(parent, {})[member] = text
    for column in columns.lists:
        text = cells.get(column, "").strip()
        if text:
            claims[column] = [item.strip() for item in text.split(LIST_SEPARATOR)]
    for column in columns.numbers:
        text = cells.get(column, "").strip()
        if text:
            number = _number(text, column, problems)
            if number is not None:
                claims[column] = number
    bodies = {column: cells.get(column, "").strip() for column in _BODY_COLUMNS} if columns.bodies else {}
    if any(bodies.values()):
        split = {column: [p.strip() for p in text.split(LIST_SEPARATOR)] for column, text in bodies.items()}
        counts = {len(parts) for parts in split.values()}
        if len(counts) != 1:
            problems.append(
                "awarding_body: expected as many '|'-separated names, ids and countries, found "
                + ", ".join(f"{len(parts)} {column.split('.')[1]}(s)" for column, parts in split.items())
            )
        else:
            names, ids, countries = (split[c] for c in _BODY_COLUMNS)
            claims["awarding_body"] = [
                {"name": n, "id": i, "country": c} for n, i, c in zip(names, ids, countries, strict=True)
            ]
    holder: dict[str, Any] = {}
    jwk_text = cells.get(HOLDER_JWK, "").strip()
    if jwk_text:
        try:
            holder[HOLDER_JWK] = json_loads(jwk_text, what=HOLDER_JWK)
        except InvalidInput as exc:
            problems.append(str(exc))
    did_text = cells.get(HOLDER_DID, "").strip()
    if did_text:
        holder[HOLDER_DID] = did_text
    return claims, holder


def _holder_key(holder: Mapping[str, Any], problems: list[str]) -> dict[str, str] | None:
    jwk, did = holder.get(HOLDER_JWK), holder.get(HOLDER_DID)
    if jwk is not None and did is not None:
        problems.append(f"give {HOLDER_JWK} or {HOLDER_DID}, not both")
        return None
    try:
        if jwk is not None:
            if not isinstance(jwk, Mapping):
                problems.append(f"{HOLDER_JWK}: expected a JWK object, found {type(jwk).__name__}")
                return None
            if "d" in jwk:
                problems.append(f"{HOLDER_JWK}: expected the learner's public key, found a private key ('d')")
                return None
            return PublicKey.from_jwk(jwk).to_jwk()
        if did is not None:
            if not isinstance(did, str):
                problems.append(f"{HOLDER_DID}: expected a DID string, found {type(did).__name__}")
                return None
            return resolve_public_key(did).to_jwk()
    except InvalidInput as exc:
        problems.append(f"{HOLDER_JWK if jwk is not None else HOLDER_DID}: {exc}")
    return None


_DEFAULTED = ("issuer_country", "awarding_body", "issued_on")


def _apply_defaults(claims: dict[str, Any], defaults: BatchDefaults) -> dict[str, Any]:
    claims.setdefault("issuer_country", [defaults.issuer_country])
    claims.setdefault("awarding_body", [dict(defaults.awarding_body)])
    claims.setdefault("issued_on", defaults.issued_on)
    return claims


#: Each process's checker (its per-course cache lives as long as the process).
_process_checker: RowChecker | None = None


def _check_rows(rows: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> list[tuple[list[str], dict[str, str] | None]]:
    """Schema and holder key problems of each ``(claims, holder)``, and its holder key."""
    global _process_checker
    if _process_checker is None:
        _process_checker = RowChecker()
    results = []
    for claims, holder in rows:
        problems = list(_process_checker.problems(claims))
        results.append((problems, _holder_key(holder, problems)))
    return results


def _checked(
    rows: Sequence[tuple[dict[str, Any], dict[str, Any]]], workers: int,
) -> list[tuple[list[str], dict[str, str] | None]]:
    """:func:`_check_rows` of every row, in worker processes for a long batch, in input order."""
    if workers <= 1 or len(rows) < PARALLEL_FROM:
        return _check_rows(rows)
    chunks = [rows[start:start + _CHECK_CHUNK] for start in range(0, len(rows), _CHECK_CHUNK)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        return [result for chunk in pool.map(_check_rows, chunks) for result in chunk]


_Raw = tuple[int, dict[str, Any], dict[str, Any], list[str], dict[str, Any]]


def _finish(
    raw: Sequence[_Raw],
    defaults: BatchDefaults,
    *,
    label: str,
    workers: int = 1,
    kinds: Sequence[str] = (KIND_MICROCRED,),
) -> list[BatchEntry]:
    """Validate every row (for each of ``kinds``), check duplicates, and raise once with every problem."""
    errors: list[str] = []
    entries: list[BatchEntry] = []
    first_row_of: dict[str, int] = {}
    left_out = [frozenset(name for name in _DEFAULTED if name not in claims) for _, claims, _, _, _ in raw]
    rows = [(_apply_defaults(claims, defaults), holder) for _, claims, holder, _, _ in raw]
    checked = _checked(rows, workers)
    together = zip(raw, rows, checked, left_out, strict=True)
    for (row, _, holder, problems, extras), (claims, _), (row_problems, holder_jwk), defaulted in together:
        problems.extend(row_problems)
        if KIND_EUDI_LEARNING in kinds and not problems:
            problems.extend(eudi_learning_row_problems(claims, extras, issuer=_CHECK_ISSUER, iat=_CHECK_IAT))
        learner = claims.get("learner")
        student_id = learner.get("student_id") if isinstance(learner, Mapping) else None
        if isinstance(student_id, str) and student_id.strip():
            if student_id in first_row_of:
                problems.append(
                    f"learner.student_id: {student_id!r} is already on {label} {first_row_of[student_id]} "
                    "(one credential per student per batch)"
                )
            else:
                first_row_of[student_id] = row
        errors.extend(f"{label} {row}: {problem}" for problem in problems)
        holder_did = holder.get(HOLDER_DID) if holder_jwk is not None else None
        entries.append(BatchEntry(row=row, claims=claims, holder_jwk=holder_jwk, defaulted=defaulted, extras=extras,
                                  holder_did=holder_did if isinstance(holder_did, str) else None))
    if errors:
        raise InvalidCredentialData(errors)
    return entries


def _delimiter(header_line: str) -> str:
    return max(_DELIMITERS, key=header_line.count)


@in_batch_collection
def parse_csv(text: str, defaults: BatchDefaults, *, workers: int = 1,
              kinds: Sequence[str] = (KIND_MICROCRED,)) -> list[BatchEntry]:
    """Parse and validate a CSV batch; raise :class:`InvalidCredentialData` listing every problem.

    ``workers`` > 1 checks a batch of :data:`PARALLEL_FROM` rows or more in that many processes (on 2 cores
    this did not pay: shipping rows out and answers back costs this process as much as the checks; the CLI
    checks in its own process).
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidCredentialData(["the CSV file is empty: expected a header line and one row per learner"])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0]))
    header = [name.strip() for name in next(reader)]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if unknown:
        problems.append(
            f"unknown column(s) {', '.join(repr(n) for n in unknown)}; expected some of: {', '.join(CSV_COLUMNS)}"
        )
    if repeated:
        problems.append(f"column(s) {', '.join(map(repr, repeated))} appear more than once")
    if problems:
        raise InvalidCredentialData(problems)
    raw: list[_Raw] = []
    columns = _columns(header)
    for cells in reader:
        if not "".join(cells).strip():  # no cell holds more than white space (in C, not a generator per row)
            continue
        row = reader.line_num
        if len(raw) >= MAX_ROWS:
            raise InvalidCredentialData([f"the batch has more than {MAX_ROWS} rows; split it"])
        row_problems: list[str] = []
        if len(cells) != len(header):
            row_problems.append(f"expected {len(header)} cells as in the header, found {len(cells)}")
        # A row of another length is already a problem above; its cells still get checked, paired as far as they go.
        named = dict(zip(header, cells, strict=False))
        claims, holder = _csv_row_claims(named, row_problems, columns)
        raw.append((row, claims, holder, row_problems, _csv_extras(named, columns)))
    if not raw:
        raise InvalidCredentialData(["the CSV file has a header but no rows"])
    return _finish(raw, defaults, label="row", workers=workers, kinds=kinds)


@in_batch_collection
def parse_json(text: str, defaults: BatchDefaults, *, workers: int = 1,
               kinds: Sequence[str] = (KIND_MICROCRED,)) -> list[BatchEntry]:
    """Parse and validate a JSON batch (array of claim objects); entries are numbered from 1."""
    document = json_loads(text, what="the JSON batch")
    if isinstance(document, Mapping) and set(document) == {"credentials"}:
        document = document["credentials"]
    if not isinstance(document, list) or not document:
        raise InvalidCredentialData(
            ['expected a non-empty JSON array of credential objects (or {"credentials": [...]})']
        )
    if len(document) > MAX_ROWS:
        raise InvalidCredentialData([f"the batch has {len(document)} entries, over {MAX_ROWS}; split it"])
    raw: list[_Raw] = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, Mapping):
            raw.append((number, {}, {}, [f"expected an object, found {type(item).__name__}"], {}))
            continue
        claims = {k: v for k, v in item.items() if k not in (HOLDER_JWK, HOLDER_DID, *EUDI_COLUMNS)}
        holder = {k: v for k, v in item.items() if k in (HOLDER_JWK, HOLDER_DID)}
        raw.append((number, claims, holder, [], {k: v for k, v in item.items() if k in EUDI_COLUMNS}))
    return _finish(raw, defaults, label="entry", workers=workers, kinds=kinds)


def parse_batch(text: str, filename: str, defaults: BatchDefaults, *, workers: int = 1,
                kinds: Sequence[str] = (KIND_MICROCRED,)) -> list[BatchEntry]:
    """Pick the parser from the file name (``.csv`` or ``.json``); check rows for each of ``kinds``."""
    lower = filename.lower()
    if lower.endswith(".csv"):
        return parse_csv(text, defaults, workers=workers, kinds=kinds)
    if lower.endswith(".json"):
        return parse_json(text, defaults, workers=workers, kinds=kinds)
    raise InvalidInput(f"expected a .csv or .json file, found {filename!r}")


def _canonical_row(entry: BatchEntry) -> dict[str, Any]:
    row: dict[str, Any] = {"claims": {k: v for k, v in entry.claims.items() if k not in entry.defaulted},
                           "holder_jwk": entry.holder_jwk}
    if entry.extras:
        row["extras"] = entry.extras
    return row


def batch_digest(entries: Sequence[BatchEntry], *, kinds: Sequence[str] = (KIND_MICROCRED,)) -> str:
    """The SHA-256 (hex) of a batch's canonical rows: given claims, EUDI columns and holder keys, order-free,
    and the kinds issued when they are not microcred's alone (the same rows with ``--also ob3`` are another batch)."""
    rows = sorted(
        json.dumps(_canonical_row(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for entry in entries
    )
    if tuple(kinds) != (KIND_MICROCRED,):
        rows.append("kinds:" + ",".join(kinds))
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()
