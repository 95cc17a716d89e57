"""Open Badges 3.0 and CLR 2.0 credentials: recognise, check and verify (Data Integrity).

Implements the credential side of:

- 1EdTech *Open Badges Specification* 3.0 (Final, 2024) §8.1
  ``AchievementCredential`` (alias ``OpenBadgeCredential``) and its
  verification steps (§9 "Verification and Validation"): a VCDM 2.0
  credential (1.1 as in the pre-2024 drafts still seen in the wild) whose
  ``@context`` includes an OB 3.0 context and whose ``type`` includes
  ``VerifiableCredential`` and ``OpenBadgeCredential`` /
  ``AchievementCredential``; issuer ``Profile`` with an ``id``;
  ``credentialSubject`` an ``AchievementSubject`` with an ``achievement``.
  VCDM 2.0 badges are also checked against 1EdTech's JSON Schema
  ``ob_v3p0_achievementcredential_schema.json`` (draft 2019-09), vendored in
  ``credentials/schemas/`` from the copy committed by educredentials/obv3-examples
  (``schemas/``, commit ``a5a6b6d5eb043d37ef004a16fb84fed65b15de6a``), which
  1EdTech publishes at purl.imsglobal.org. A valid badge is answered by the
  schema compiled once into closures (:mod:`credentials.schema_fast`); an
  invalid one's reasons come from ``jsonschema``, as they always did.
- 1EdTech *Comprehensive Learner Record* 2.0 ``ClrCredential`` (a
  ``ClrSubject`` with ``verifiableCredential``): recognised and checked the
  same way, without a schema (none is vendored); the nested credentials are
  returned raw, not verified here.

:func:`check_open_badge_credential` checks the form and validity period of a
credential whatever secures it (the VC-JOSE path hands it the JWT's payload);
:func:`verify_open_badge` also verifies its Data Integrity proof(s) and that
every proof was made by a key of the issuer. ``credentialStatus`` entries are
returned raw for the status layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator

from credentials._json import json_loads_object
from credentials.data_integrity import VerifiedProof, date_time_seconds, verify_data_integrity
from credentials.errors import FormatError, SchemaViolation, SignatureError, ValidityPeriodError
from credentials.jsonld import (
    DEFAULT_CONTEXT_LOADER,
    ContextLoader,
    check_bounds,
    check_contexts_known,
    parse_json_document,
)
from credentials.multikey import VerificationMethodResolver
from credentials.schema_fast import Check, compile_schema

__all__ = [
    "LDP_VC_FORMAT",
    "OPEN_BADGE_CREDENTIAL",
    "ACHIEVEMENT_CREDENTIAL",
    "CLR_CREDENTIAL",
    "OPEN_BADGE_TYPES",
    "VCDM2_CONTEXT",
    "VCDM11_CONTEXT",
    "OB3_CONTEXTS",
    "CLR2_CONTEXTS",
    "OB3_SCHEMA_RESOURCE",
    "OpenBadgeInfo",
    "VerifiedOpenBadge",
    "check_open_badge_credential",
    "open_badge_schema_problems",
    "verify_open_badge",
]

#: The format name of a JSON-LD credential secured with an embedded proof (OpenID4VCI ``ldp_vc``).
LDP_VC_FORMAT = "ldp_vc"
OPEN_BADGE_CREDENTIAL = "OpenBadgeCredential"
ACHIEVEMENT_CREDENTIAL = "AchievementCredential"
CLR_CREDENTIAL = "ClrCredential"
OPEN_BADGE_TYPES = frozenset({OPEN_BADGE_CREDENTIAL, ACHIEVEMENT_CREDENTIAL, CLR_CREDENTIAL})
VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VCDM11_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB3_CONTEXTS = frozenset({
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
})
CLR2_CONTEXTS = frozenset({
    "https://purl.imsglobal.org/spec/clr/v2p0/context.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
})
OB3_SCHEMA_RESOURCE = "schemas/ob_v3p0_achievementcredential_schema.json"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"
_MAX_SCHEMA_PROBLEMS = 20


@dataclass(frozen=True)
class OpenBadgeInfo:
    """An Open Badge / CLR credential whose form and validity period passed.

    ``kind`` is ``OpenBadgeCredential``, ``AchievementCredential`` or
    ``ClrCredential``; ``data_model`` ``"2.0"`` or ``"1.1"``; times are epoch
    seconds; ``achievements`` holds the OB ``credentialSubject.achievement``
    (one) or, for CLR, each nested credential's achievement, raw;
    ``credential_status`` the raw ``credentialStatus`` entries.
    """

    kind: str
    data_model: str
    types: tuple[str, ...]
    issuer_id: str
    issuer: dict[str, Any]
    subject_id: str | None
    valid_from: int | None
    valid_until: int | None
    credential_status: tuple[dict[str, Any], ...]
    achievements: tuple[dict[str, Any], ...]
    credential: dict[str, Any]


@dataclass(frozen=True)
class VerifiedOpenBadge:
    """:class:`OpenBadgeInfo` plus the proofs that verified (all by the issuer's keys)."""

    format: str
    info: OpenBadgeInfo
    proofs: tuple[VerifiedProof, ...]

    @property
    def issuer_id(self) -> str:
        return self.info.issuer_id

    @property
    def types(self) -> tuple[str, ...]:
        return self.info.types

    @property
    def credential_status(self) -> tuple[dict[str, Any], ...]:
        return self.info.credential_status


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _kind(credential: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    types = credential.get("type")
    if not isinstance(types, (str, list)) or not all(isinstance(t, str) for t in _list(types)):
        raise FormatError("the credential's 'type' must be a string or a list of strings")
    names = tuple(_list(types))
    kinds = [t for t in names if t in OPEN_BADGE_TYPES]
    if VERIFIABLE_CREDENTIAL not in names or not kinds:
        raise FormatError(
            "expected type VerifiableCredential with OpenBadgeCredential, AchievementCredential or ClrCredential, "
            f"found {_short(list(names))}"
        )
    return kinds[0], names


def _data_model(credential: Mapping[str, Any], kind: str) -> str:
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts:
        raise FormatError("the credential's '@context' must be a non-empty list")
    first = contexts[0]
    if first not in (VCDM2_CONTEXT, VCDM11_CONTEXT):
        raise FormatError(
            f"expected the first @context to be {VCDM2_CONTEXT} or {VCDM11_CONTEXT}, found {_short(first)}")
    wanted = CLR2_CONTEXTS if kind == CLR_CREDENTIAL else OB3_CONTEXTS
    if not wanted & {c for c in contexts if isinstance(c, str)}:
        spec = "CLR 2.0" if kind == CLR_CREDENTIAL else "Open Badges 3.0"
        raise FormatError(f"the credential is a {kind} but its @context lists no {spec} context")
    return "2.0" if first == VCDM2_CONTEXT else "1.1"


def _issuer(credential: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    issuer = credential.get("issuer")
    profile: dict[str, Any] = dict(issuer) if isinstance(issuer, Mapping) else {"id": issuer}
    issuer_id = profile.get("id")
    if not isinstance(issuer_id, str) or ":" not in issuer_id:
        raise FormatError("the credential's issuer must be a URI, or a Profile object with an 'id' URI")
    if isinstance(issuer, Mapping) and "Profile" not in _list(issuer.get("type")):
        raise FormatError(f"the issuer profile's type must include Profile, found {_short(issuer.get('type'))}")
    return issuer_id, profile


def _subject(credential: Mapping[str, Any], kind: str) -> tuple[str | None, tuple[dict[str, Any], ...]]:
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise FormatError("the credential's credentialSubject must be one JSON object")
    subject_id = subject.get("id") if isinstance(subject.get("id"), str) else None
    if kind == CLR_CREDENTIAL:
        nested = subject.get("verifiableCredential")
        if not isinstance(nested, list) or not nested or not all(isinstance(c, Mapping) for c in nested):
            raise FormatError("a ClrCredential's subject must hold a non-empty list 'verifiableCredential'")
        found = [c.get("credentialSubject", {}).get("achievement")
                 for c in nested if isinstance(c.get("credentialSubject"), Mapping)]
        return subject_id, tuple(dict(a) for a in found if isinstance(a, Mapping))
    achievement = subject.get("achievement")
    if not isinstance(achievement, Mapping) or not isinstance(achievement.get("name"), (str, Mapping)):
        raise FormatError("an Open Badge's credentialSubject must hold an 'achievement' object with a 'name'")
    return subject_id, (dict(achievement),)


def _validity(credential: Mapping[str, Any], data_model: str, now: int, leeway: int) -> tuple[int | None, int | None]:
    start_name, end_name = ("validFrom", "validUntil") if data_model == "2.0" else ("issuanceDate", "expirationDate")
    start = end = None
    if start_name in credential:
        start = date_time_seconds(credential[start_name], f"the credential's {start_name!r}", ValidityPeriodError)
    if end_name in credential:
        end = date_time_seconds(credential[end_name], f"the credential's {end_name!r}", ValidityPeriodError)
    if data_model == "1.1" and start is None:
        raise ValidityPeriodError("a VCDM 1.1 credential must carry issuanceDate")
    if start is not None and now + leeway < start:
        raise ValidityPeriodError(f"the credential is not valid before {credential[start_name]}")
    if end is not None and now - leeway >= end:
        raise ValidityPeriodError(f"the credential expired at {credential[end_name]}")
    return start, end


def _status(credential: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    status = credential.get("credentialStatus")
    if status is None:
        return ()
    entries = _list(status)
    if not all(isinstance(entry, Mapping) for entry in entries):
        raise FormatError("credentialStatus must be an object or a list of objects")
    return tuple(dict(entry) for entry in entries)


@dataclass(frozen=True)
class _Form:
    """What the form checks read (in check order: bounds, contexts, type, data model, issuer, subject, status)."""

    kind: str
    types: tuple[str, ...]
    data_model: str
    issuer_id: str
    issuer: dict[str, Any]
    subject_id: str | None
    achievements: tuple[dict[str, Any], ...]
    status: tuple[dict[str, Any], ...]


def _form(credential: Any, loader: ContextLoader) -> _Form:
    if not isinstance(credential, Mapping):
        raise FormatError("an Open Badge must be a JSON object")
    check_bounds(credential, what="the credential")
    check_contexts_known(credential, loader=loader)
    kind, types = _kind(credential)
    data_model = _data_model(credential, kind)
    issuer_id, issuer = _issuer(credential)
    subject_id, achievements = _subject(credential, kind)
    return _Form(kind, types, data_model, issuer_id, issuer, subject_id, achievements, _status(credential))


def _info(credential: Mapping[str, Any], form: _Form, now: int, leeway: int) -> OpenBadgeInfo:
    valid_from, valid_until = _validity(credential, form.data_model, now, leeway)
    return OpenBadgeInfo(form.kind, form.data_model, form.types, form.issuer_id, form.issuer, form.subject_id,
                         valid_from, valid_until, form.status, form.achievements, dict(credential))


def check_open_badge_credential(
    credential: Mapping[str, Any], *, now: int, leeway: int = 60, loader: ContextLoader = DEFAULT_CONTEXT_LOADER
) -> OpenBadgeInfo:
    """Recognise and check an Open Badge / CLR credential (no proof): form, then validity period.

    Every ``@context`` must be one ``loader`` knows (vendored), whatever secures
    the credential. Raises :class:`FormatError` or :class:`ValidityPeriodError`.
    """
    return _info(credential, _form(credential, loader), now, leeway)


@lru_cache(maxsize=1)
def _ob3_schema() -> dict[str, Any]:
    text = resources.files("credentials").joinpath(OB3_SCHEMA_RESOURCE).read_text("utf-8")
    return json_loads_object(text, what="the Open Badges 3.0 schema")


@lru_cache(maxsize=1)
def _ob3_validator() -> Draft201909Validator:
    return Draft201909Validator(_ob3_schema())


@lru_cache(maxsize=1)
def _ob3_is_valid() -> Check:
    """The schema compiled to closures (valid / invalid only); ``jsonschema`` if it cannot be compiled."""
    return compile_schema(_ob3_schema()) or _ob3_validator().is_valid


def open_badge_schema_problems(info: OpenBadgeInfo) -> tuple[str, ...] | None:
    """Problems 1EdTech's OB 3.0 JSON Schema finds (empty: valid), or None when no schema applies (CLR, VCDM 1.1)."""
    if info.kind == CLR_CREDENTIAL or info.data_model != "2.0":
        return None
    credential = dict(info.credential)
    if isinstance(credential.get("proof"), Mapping):
        credential["proof"] = [credential["proof"]]  # VCDM allows one proof object; the schema wants a list
    if _ob3_is_valid()(credential):
        return ()
    errors = sorted(_ob3_validator().iter_errors(credential), key=lambda e: [str(p) for p in e.absolute_path])
    problems = []
    for error in errors[:_MAX_SCHEMA_PROBLEMS]:
        where = "/".join(str(p) for p in error.absolute_path) or "(credential)"
        problems.append(f"{where}: {_short(error.message)}")
    return tuple(problems)


def verify_open_badge(
    document: Mapping[str, Any] | str | bytes,
    *,
    resolve_verification_method: VerificationMethodResolver,
    now: int,
    leeway: int = 60,
    loader: ContextLoader = DEFAULT_CONTEXT_LOADER,
) -> VerifiedOpenBadge:
    """Verify an Open Badge 3.0 / CLR 2.0 credential secured with Data Integrity.

    In check order: ``format`` (JSON within the caps, OB / CLR form, known
    contexts), ``signature`` (every proof verifies and was made by a key
    whose controller is the issuer), ``validity_period`` (proof and
    credential), ``schema`` (1EdTech's JSON Schema, for VCDM 2.0 badges).
    """
    credential = parse_json_document(document) if isinstance(document, (str, bytes)) else document
    form = _form(credential, loader)  # once: the proofs are checked over copies, the credential does not change
    issuer_id = form.issuer_id
    proofs = verify_data_integrity(credential, resolve_verification_method=resolve_verification_method, loader=loader)
    for proof in proofs:
        if proof.controller != issuer_id:
            raise SignatureError(
                f"the proof was made by a key of {_short(proof.controller)}, not by the issuer {_short(issuer_id)}"
            )
    for proof in proofs:
        if proof.expires is not None and now >= proof.expires:
            raise ValidityPeriodError("the credential's proof has expired")
    info = _info(credential, form, now, leeway)
    problems = open_badge_schema_problems(info)
    if problems:
        raise SchemaViolation("the Open Badge breaks 1EdTech's OB 3.0 schema: " + "; ".join(problems[:5]))
    return VerifiedOpenBadge(LDP_VC_FORMAT, info, proofs)
