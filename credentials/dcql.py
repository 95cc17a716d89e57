"""The Digital Credentials Query Language (OpenID for Verifiable Presentations 1.0, §6 and §7).

A verifier asks for credentials with a DCQL query (§6): ``credentials`` is a
non-empty array of Credential Queries (``id``, ``format``, ``meta``,
``claims``, ``claim_sets``, ``multiple``, ``require_cryptographic_holder_binding``,
``trusted_authorities``), ``credential_sets`` optionally says which
combinations of them answer the use case (``options``, ``required``). A claim
is named by a claims path pointer (§7): strings select object members, a
non-negative integer one array element, ``null`` every element.

:meth:`DcqlQuery.parse` takes the query as a JSON object (or its text) and
applies every validity rule of §6 (unique ids of the allowed characters, no
empty arrays, ``claim_sets`` only with ``claims`` and naming claims by their
ids, ``credential_sets`` naming existing queries, the ``meta`` member each
format requires: ``vct_values`` for ``dc+sd-jwt`` (Appendix B.3.5),
``type_values`` for ``jwt_vc_json`` / ``ldp_vc`` (B.1.1), ``doctype_value``
for ``mso_mdoc`` (B.2.3)) plus microcred's limits (:data:`MAX_CREDENTIAL_QUERIES`
…). Unknown members are ignored, as §6 requires. A query that breaks a rule
raises :class:`~credentials.errors.InvalidPresentationRequest` naming the
member. :meth:`DcqlQuery.to_json` gives the query back as JSON.

What a wallet can answer (:func:`match`) and whether an answer satisfies the
query (:func:`check_response`) live in :mod:`credentials.dcql_match` and are
importable from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credentials._json import json_loads
from credentials.dcql_match import (
    Candidate,
    CandidateMatch,
    ClaimPath,
    ClaimValue,
    Presented,
    QueryMatch,
    SetMatch,
    check_response,
    describe_path,
    match,
    resolve_claim_path,
)
from credentials.errors import InvalidInput, InvalidPresentationRequest

__all__ = [
    "FORMAT_SD_JWT_VC", "FORMAT_JWT_VC_JSON", "FORMAT_LDP_VC", "FORMAT_MSO_MDOC", "W3C_FORMATS",
    "MAX_CREDENTIAL_QUERIES", "MAX_CLAIMS", "MAX_VALUES", "MAX_PATH_DEPTH", "MAX_CREDENTIAL_SETS", "MAX_OPTIONS",
    "ClaimPath", "ClaimValue", "ClaimQuery", "TrustedAuthority", "CredentialQuery", "CredentialSetQuery", "DcqlQuery",
    "Candidate", "CandidateMatch", "SetMatch", "QueryMatch", "Presented",
    "match", "check_response", "resolve_claim_path", "describe_path",
]

FORMAT_SD_JWT_VC = "dc+sd-jwt"
FORMAT_JWT_VC_JSON = "jwt_vc_json"
FORMAT_LDP_VC = "ldp_vc"
FORMAT_MSO_MDOC = "mso_mdoc"
#: The W3C formats whose ``meta`` carries ``type_values`` (Appendix B.1.1).
W3C_FORMATS = (FORMAT_JWT_VC_JSON, FORMAT_LDP_VC)

#: microcred's limits on a query it parses (the spec sets none): a request is small.
MAX_CREDENTIAL_QUERIES = 16
MAX_CLAIMS = 64
MAX_VALUES = 32
MAX_PATH_DEPTH = 16
MAX_CREDENTIAL_SETS = 16
#: Options in one credential set, or claim sets in one credential query.
MAX_OPTIONS = 32

_BINDING = "require_cryptographic_holder_binding"
#: Marks a member that is absent (JSON ``null`` is a present value, refused where the spec wants another type).
_ABSENT: Any = object()

#: §6.1 / §6.3: "a non-empty string consisting of alphanumeric, underscore (_), or hyphen (-) characters".
_ID = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ClaimQuery:
    """One entry of ``claims`` (§6.3). ``intent_to_retain`` is the mdoc-only member (B.2.4)."""

    id: str | None
    path: ClaimPath
    values: tuple[ClaimValue, ...] | None = None
    intent_to_retain: bool | None = None


@dataclass(frozen=True)
class TrustedAuthority:
    """One entry of ``trusted_authorities`` (§6.1.1): ``type`` (``aki``, ``etsi_tl``, …) and its ``values``."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class CredentialQuery:
    """One Credential Query (§6.1).

    ``type_values`` holds the format's type constraint as alternatives, each a set of
    types the credential must all carry: ``meta.vct_values`` becomes ``((v1,), (v2,), …)``,
    ``meta.type_values`` stays as given, ``meta.doctype_value`` becomes ``((doctype,),)``;
    ``None`` for a format this module knows no ``meta`` of.
    """

    id: str
    format: str
    type_values: tuple[tuple[str, ...], ...] | None
    claims: tuple[ClaimQuery, ...] | None
    claim_sets: tuple[tuple[str, ...], ...] | None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[TrustedAuthority, ...] | None = None


@dataclass(frozen=True)
class CredentialSetQuery:
    """One Credential Set Query (§6.2): alternatives of credential query ids, and whether one is required."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True)
class DcqlQuery:
    """A parsed, valid DCQL query (§6)."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    @classmethod
    def parse(cls, value: Any) -> DcqlQuery:
        """The query from a JSON object (a mapping) or its text; every rule of §6 checked."""
        if isinstance(value, (str, bytes)):
            try:
                value = json_loads(value, what="the DCQL query")
            except InvalidInput as exc:
                raise InvalidPresentationRequest(str(exc)) from exc
        top = _object(value, "the DCQL query")
        raw_credentials = _array(top.get("credentials", _ABSENT), "credentials", limit=MAX_CREDENTIAL_QUERIES,
                                 required=True)
        credentials = tuple(_credential_query(item, index) for index, item in enumerate(raw_credentials or ()))
        seen: set[str] = set()
        for query in credentials:
            if query.id in seen:
                raise _refuse(f"two credential queries have the id '{_clip(query.id)}'; ids must be unique")
            seen.add(query.id)
        raw_sets = _array(top.get("credential_sets", _ABSENT), "credential_sets", limit=MAX_CREDENTIAL_SETS)
        sets = None
        if raw_sets is not None:
            sets = tuple(_credential_set(item, f"credential_sets[{number}]", seen)
                         for number, item in enumerate(raw_sets))
        return cls(credentials=credentials, credential_sets=sets)

    def to_json(self) -> dict[str, Any]:
        """The query as a JSON object (defaults left out), which :meth:`parse` reads back to an equal query."""
        out: dict[str, Any] = {"credentials": [_credential_json(query) for query in self.credentials]}
        if self.credential_sets is not None:
            out["credential_sets"] = [
                {"options": [list(option) for option in item.options], **({} if item.required else {"required": False})}
                for item in self.credential_sets
            ]
        return out

    def query(self, query_id: str) -> CredentialQuery:
        """The credential query with this id (KeyError if the query has none)."""
        for query in self.credentials:
            if query.id == query_id:
                return query
        raise KeyError(query_id)


def _clip(text: str, limit: int = 40) -> str:
    """A string from the request, short enough to quote in a reason."""
    return text if len(text) <= limit else text[:limit] + "…"


def _refuse(reason: str) -> InvalidPresentationRequest:
    return InvalidPresentationRequest(f"the DCQL query is not valid: {reason}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _refuse(f"{where} must be an object, not {_kind(value)}")
    return value


def _array(value: Any, where: str, *, limit: int, required: bool = False) -> Sequence[Any] | None:
    """A non-empty JSON array of at most ``limit`` entries; ``None`` when absent and not required."""
    if value is _ABSENT:
        if required:
            raise _refuse(f"{where} is required")
        return None
    if not isinstance(value, (list, tuple)):
        raise _refuse(f"{where} must be a non-empty array, not {_kind(value)}")
    if not value:
        raise _refuse(f"{where} must not be an empty array")
    if len(value) > limit:
        raise _refuse(f"{where} has {len(value)} entries; at most {limit} are accepted")
    return value


def _boolean(value: Any, where: str, default: bool) -> bool:
    if value is _ABSENT:
        return default
    if not isinstance(value, bool):
        raise _refuse(f"{where} must be true or false, not {_kind(value)}")
    return value


def _string(value: Any, where: str) -> str:
    if value is _ABSENT:
        raise _refuse(f"{where} is required")
    if not isinstance(value, str) or not value:
        raise _refuse(f"{where} must be a non-empty string, not {_kind(value) if value != '' else 'an empty one'}")
    return value


def _identifier(value: Any, where: str) -> str:
    text = _string(value, where)
    if not _ID.fullmatch(text):
        raise _refuse(f"{where} {_clip(text)!r} may hold only letters, digits, '_' and '-'")
    return text


def _strings(value: Any, where: str, *, limit: int) -> tuple[str, ...]:
    items = _array(value, where, limit=limit, required=True) or ()
    return tuple(_string(item, f"{where}[{index}]") for index, item in enumerate(items))


def _id_list(value: Any, where: str, known: set[str], what: str) -> tuple[str, ...]:
    """A non-empty array of ids, each one of ``known``, none twice."""
    ids = tuple(_identifier(item, f"{where}[{index}]")
                for index, item in enumerate(_array(value, where, limit=MAX_CLAIMS, required=True) or ()))
    for index, name in enumerate(ids):
        if name not in known:
            raise _refuse(f"{where}[{index}] names '{_clip(name)}', which is no {what}")
        if name in ids[:index]:
            raise _refuse(f"{where} names '{_clip(name)}' twice")
    return ids


def _credential_query(value: Any, index: int) -> CredentialQuery:
    where = f"credentials[{index}]"
    item = _object(value, where)
    query_id = _identifier(item.get("id", _ABSENT), f"{where}.id")
    where = f"credential query '{_clip(query_id)}'"
    fmt = _string(item.get("format", _ABSENT), f"{where}: format")
    if "meta" not in item:
        raise _refuse(f"{where}: meta is required (an empty object places no constraint)")
    meta = _object(item["meta"], f"{where}: meta")
    claims = _claims(item.get("claims", _ABSENT), where, fmt)
    claim_sets = None
    raw_sets = _array(item.get("claim_sets", _ABSENT), f"{where}: claim_sets", limit=MAX_OPTIONS)
    if raw_sets is not None:
        if claims is None:
            raise _refuse(f"{where}: claim_sets must not be present without claims")
        missing = [str(number) for number, claim in enumerate(claims) if claim.id is None]
        if missing:
            raise _refuse(f"{where}: claims[{', '.join(missing)}] need an id because claim_sets is present")
        known = {claim.id for claim in claims if claim.id is not None}
        claim_sets = tuple(_id_list(option, f"{where}: claim_sets[{number}]", known, "claim id of this query")
                           for number, option in enumerate(raw_sets))
    authorities = _array(item.get("trusted_authorities", _ABSENT), f"{where}: trusted_authorities", limit=MAX_OPTIONS)
    return CredentialQuery(
        id=query_id,
        format=fmt,
        type_values=_type_values(meta, fmt, where),
        claims=claims,
        claim_sets=claim_sets,
        multiple=_boolean(item.get("multiple", _ABSENT), f"{where}: multiple", False),
        require_cryptographic_holder_binding=_boolean(item.get(_BINDING, _ABSENT), f"{where}: {_BINDING}", True),
        trusted_authorities=None if authorities is None else tuple(
            _trusted_authority(entry, f"{where}: trusted_authorities[{number}]")
            for number, entry in enumerate(authorities)),
    )


def _type_values(meta: Mapping[str, Any], fmt: str, where: str) -> tuple[tuple[str, ...], ...] | None:
    if fmt == FORMAT_SD_JWT_VC:
        if "vct_values" not in meta:
            raise _refuse(f"{where}: meta.vct_values is required for format {fmt}")
        return tuple((vct,) for vct in _strings(meta["vct_values"], f"{where}: meta.vct_values", limit=MAX_VALUES))
    if fmt in W3C_FORMATS:
        if "type_values" not in meta:
            raise _refuse(f"{where}: meta.type_values is required for format {fmt}")
        outer = _array(meta["type_values"], f"{where}: meta.type_values", limit=MAX_VALUES, required=True) or ()
        return tuple(_strings(inner, f"{where}: meta.type_values[{number}]", limit=MAX_VALUES)
                     for number, inner in enumerate(outer))
    if fmt == FORMAT_MSO_MDOC:
        if "doctype_value" not in meta:
            raise _refuse(f"{where}: meta.doctype_value is required for format {fmt}")
        return ((_string(meta["doctype_value"], f"{where}: meta.doctype_value"),),)
    return None


def _trusted_authority(value: Any, where: str) -> TrustedAuthority:
    item = _object(value, where)
    return TrustedAuthority(type=_string(item.get("type", _ABSENT), f"{where}.type"),
                            values=_strings(item.get("values", _ABSENT), f"{where}.values", limit=MAX_VALUES))


def _claims(value: Any, where: str, fmt: str) -> tuple[ClaimQuery, ...] | None:
    raw = _array(value, f"{where}: claims", limit=MAX_CLAIMS)
    if raw is None:
        return None
    claims = tuple(_claim(item, f"{where}: claims[{index}]", fmt) for index, item in enumerate(raw))
    ids: set[str] = set()
    paths: set[ClaimPath] = set()
    for index, claim in enumerate(claims):
        if claim.id is not None:
            if claim.id in ids:
                raise _refuse(f"{where}: two claims have the id '{_clip(claim.id)}'; ids must be unique")
            ids.add(claim.id)
        if claim.path in paths:
            raise _refuse(f"{where}: claims[{index}] points to {describe_path(claim.path)} again; "
                          "a query must not point to the same claim twice")
        paths.add(claim.path)
    return claims


def _claim(value: Any, where: str, fmt: str) -> ClaimQuery:
    item = _object(value, where)
    claim_id = _identifier(item["id"], f"{where}.id") if "id" in item else None
    raw_path = _array(item.get("path", _ABSENT), f"{where}.path", limit=MAX_PATH_DEPTH, required=True) or ()
    path = tuple(_path_element(element, f"{where}.path[{index}]") for index, element in enumerate(raw_path))
    if fmt == FORMAT_MSO_MDOC and (len(path) != 2 or not all(isinstance(element, str) for element in path)):
        raise _refuse(f"{where}.path must be two strings (a namespace and a data element) for format {fmt}")
    values = None
    if "values" in item:
        raw_values = _array(item["values"], f"{where}.values", limit=MAX_VALUES, required=True) or ()
        values = tuple(_claim_value(entry, f"{where}.values[{index}]") for index, entry in enumerate(raw_values))
    retain = None
    if fmt == FORMAT_MSO_MDOC and "intent_to_retain" in item:
        retain = _boolean(item["intent_to_retain"], f"{where}.intent_to_retain", False)
    return ClaimQuery(id=claim_id, path=path, values=values, intent_to_retain=retain)


def _path_element(value: Any, where: str) -> str | int | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _refuse(f"{where} must be a string, a non-negative integer or null, not "
                  f"{'a negative integer' if isinstance(value, int) and not isinstance(value, bool) else _kind(value)}")


def _claim_value(value: Any, where: str) -> ClaimValue:
    if isinstance(value, (str, bool, int)):
        return value
    raise _refuse(f"{where} must be a string, an integer or a boolean, not {_kind(value)}")


def _credential_set(value: Any, where: str, known: set[str]) -> CredentialSetQuery:
    item = _object(value, where)
    options = _array(item.get("options", _ABSENT), f"{where}.options", limit=MAX_OPTIONS, required=True) or ()
    return CredentialSetQuery(
        options=tuple(_id_list(option, f"{where}.options[{index}]", known, "credential query id")
                      for index, option in enumerate(options)),
        required=_boolean(item.get("required", _ABSENT), f"{where}.required", True),
    )


def _credential_json(query: CredentialQuery) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if query.type_values is not None:
        if query.format == FORMAT_SD_JWT_VC:
            meta["vct_values"] = [alternative[0] for alternative in query.type_values]
        elif query.format == FORMAT_MSO_MDOC:
            meta["doctype_value"] = query.type_values[0][0]
        else:
            meta["type_values"] = [list(alternative) for alternative in query.type_values]
    out: dict[str, Any] = {"id": query.id, "format": query.format, "meta": meta}
    if query.multiple:
        out["multiple"] = True
    if not query.require_cryptographic_holder_binding:
        out[_BINDING] = False
    if query.trusted_authorities is not None:
        out["trusted_authorities"] = [{"type": entry.type, "values": list(entry.values)}
                                      for entry in query.trusted_authorities]
    if query.claims is not None:
        out["claims"] = [_claim_json(claim) for claim in query.claims]
    if query.claim_sets is not None:
        out["claim_sets"] = [list(option) for option in query.claim_sets]
    return out


def _claim_json(claim: ClaimQuery) -> dict[str, Any]:
    out: dict[str, Any] = {} if claim.id is None else {"id": claim.id}
    out["path"] = list(claim.path)
    if claim.values is not None:
        out["values"] = list(claim.values)
    if claim.intent_to_retain is not None:
        out["intent_to_retain"] = claim.intent_to_retain
    return out
