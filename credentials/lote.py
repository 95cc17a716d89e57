"""The TrustRegistry as an ETSI TS 119 602 List of Trusted Entities (LoTE), JSON binding; and back.

ETSI TS 119 602 V1.1.1 (2025-11), "Electronic Signatures and Trust
Infrastructures (ESI); Lists of trusted entities; Data model", clause 6 and its
JSON binding (Annex A, schema ``1960201_json_schema.json``, vendored byte for
byte under ``credentials/schemas/``; see ``credentials/schemas/SOURCE-etsi-ts-119602.md``).

:func:`build_lote` writes entries of the TrustRegistry (the root, the
accreditation organisations, the issuers) as a LoTE:

* one ``TrustedEntity`` per DID: ``TEName`` the legal name, the DID (a URI)
  as its electronic address and information URI, the country in its postal
  address (``StreetAddress`` is empty: the registry holds no street);
* one service per entity: ``ServiceTypeIdentifier`` :data:`SERVICE_TYPES`
  (root / tao / issuer), the DID in ``ServiceDigitalIdentity.OtherIds``,
  ``ServiceStatus`` granted / suspended / withdrawn (revoked) with its
  starting time, and the accreditation itself (accredited by, credential
  types, validity, EQF ceiling) as a ``ServiceInformationExtensions`` member
  ``microcredAccreditation``;
* ``LoTESequenceNumber`` is the block the registry was read at, so a later
  list always has a higher number; ``SchemeExtensions`` names chain, registry
  and block.

:func:`parse_lote` reads any LoTE (ours or another scheme operator's): strict
JSON, the vendored schema (every violation with its JSON path), the dates of
clause 6.1.3 (``YYYY-MM-DDThh:mm:ssZ``), a ``NextUpdate`` not yet passed, and
the DIDs it lists whose service is not withdrawn or suspended
(:attr:`ImportedList.trusted_dids`). Pure: the schema is read from the
package, ``now`` is a parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from credentials._json import json_loads
from credentials.errors import InvalidInput

__all__ = [
    "LOTE_VERSION",
    "LOTE_TYPE",
    "SERVICE_TYPES",
    "STATUS_GRANTED",
    "STATUS_SUSPENDED",
    "STATUS_WITHDRAWN",
    "EXTENSION_KEY",
    "MAX_LOTE_BYTES",
    "TrustedEntry",
    "SchemeInfo",
    "ImportedList",
    "build_lote",
    "schema_errors",
    "parse_lote",
    "iso_time",
]

LOTE_VERSION = 1
#: Our list's type (clause 6.3.3 allows a scheme's own URI).
LOTE_TYPE = "urn:microcred:lote:type:accredited-micro-credential-issuers"
SERVICE_TYPES = {
    "root": "urn:microcred:lote:svc:root-of-trust",
    "tao": "urn:microcred:lote:svc:accreditation-organisation",
    "issuer": "urn:microcred:lote:svc:micro-credential-issuance",
}
#: Service status URIs: those of ETSI TS 119 612 for granted and withdrawn; a suspension has no ETSI URI.
STATUS_GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
STATUS_WITHDRAWN = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
STATUS_SUSPENDED = "urn:microcred:lote:status:suspended"
_NOT_TRUSTED = frozenset({STATUS_WITHDRAWN, STATUS_SUSPENDED})
EXTENSION_KEY = "microcredAccreditation"
SCHEME_EXTENSION_KEY = "microcredTrustRegistry"
SCHEMA_RESOURCE = "schemas/ts119602_1960201_json_schema.json"
JWK_SCHEMA_RESOURCE = "schemas/ts119602_rfc7517.json"
#: Where the schema is published; its relative ``$ref`` to ``rfcs/rfc7517.json`` resolves against it.
SCHEMA_URI = ("https://forge.etsi.org/rep/esi/x19_60201_lists_of_trusted_entities/-/raw/main/"
              "1960201_json_schema/1960201_json_schema.json")
MAX_LOTE_BYTES = 8 * 1024 * 1024
_MAX_REPORTED = 20
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]$")
_LANG = "en"


def iso_time(timestamp: int) -> str:
    """Clause 6.1.3's UTC form, ``YYYY-MM-DDThh:mm:ssZ``."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str, where: str) -> int:
    if not isinstance(text, str) or not _DATE_TIME.match(text):
        raise InvalidInput(f"{where}: expected a UTC date-time YYYY-MM-DDThh:mm:ssZ (TS 119 602 clause 6.1.3), "
                           f"found {str(text)[:40]!r}")
    try:
        return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise InvalidInput(f"{where}: {text!r} is not a calendar date-time") from None


@dataclass(frozen=True)
class TrustedEntry:
    """One TrustRegistry entry, as the list shows it (times in epoch seconds; None: not set / no end)."""

    did: str
    role: str
    legal_name: str
    country: str
    accredited_by: str | None
    vcts: tuple[str, ...]
    max_eqf_level: int | None
    valid_from: int
    valid_until: int | None
    suspended_at: int | None
    revoked_at: int | None

    @property
    def status(self) -> str:
        return STATUS_WITHDRAWN if self.revoked_at else STATUS_SUSPENDED if self.suspended_at else STATUS_GRANTED


@dataclass(frozen=True)
class SchemeInfo:
    """Who publishes the list and what it was read from."""

    operator_name: str
    territory: str
    issued_at: int
    next_update: int
    sequence: int
    chain_id: int
    registry: str
    distribution_points: tuple[str, ...] = ()


def _names(text: str) -> list[dict[str, str]]:
    return [{"lang": _LANG, "value": text}]


def _uris(uri: str) -> list[dict[str, str]]:
    return [{"lang": _LANG, "uriValue": uri}]


def _service(entry: TrustedEntry) -> dict[str, Any]:
    starting = entry.revoked_at or entry.suspended_at or entry.valid_from
    accreditation = {
        "role": entry.role, "accreditedBy": entry.accredited_by, "credentialTypes": list(entry.vcts),
        "maxEqfLevel": entry.max_eqf_level, "validFrom": iso_time(entry.valid_from),
        "validUntil": None if entry.valid_until is None else iso_time(entry.valid_until),
        "suspendedAt": None if entry.suspended_at is None else iso_time(entry.suspended_at),
        "revokedAt": None if entry.revoked_at is None else iso_time(entry.revoked_at),
    }
    return {"ServiceInformation": {
        "ServiceName": _names(f"{entry.role} accreditation of {entry.legal_name}"),
        "ServiceDigitalIdentity": {"OtherIds": [entry.did]},
        "ServiceTypeIdentifier": SERVICE_TYPES.get(entry.role, SERVICE_TYPES["issuer"]),
        "ServiceStatus": entry.status,
        "StatusStartingTime": iso_time(starting),
        "ServiceInformationExtensions": [{EXTENSION_KEY: accreditation}],
    }}


def _entity(entry: TrustedEntry) -> dict[str, Any]:
    return {
        "TrustedEntityInformation": {
            "TEName": _names(entry.legal_name or entry.did),
            "TEAddress": {
                "TEPostalAddress": [{"lang": _LANG, "StreetAddress": "", "Country": entry.country}],
                "TEElectronicAddress": _uris(entry.did),
            },
            "TEInformationURI": _uris(entry.did),
        },
        "TrustedEntityServices": [_service(entry)],
    }


def build_lote(entries: Sequence[TrustedEntry], scheme: SchemeInfo) -> dict[str, Any]:
    """The LoTE document (``{"LoTE": {...}}``) listing ``entries``, root first, then in the order given."""
    ordered = sorted(entries, key=lambda e: (e.role != "root", e.role != "tao"))
    information: dict[str, Any] = {
        "LoTEVersionIdentifier": LOTE_VERSION,
        "LoTESequenceNumber": int(scheme.sequence),
        "LoTEType": LOTE_TYPE,
        "SchemeOperatorName": _names(scheme.operator_name),
        "SchemeName": _names(f"{scheme.territory}:microcred accreditations of TrustRegistry {scheme.registry} "
                             f"on chain {scheme.chain_id}"),
        "SchemeTerritory": scheme.territory,
        "ListIssueDateTime": iso_time(scheme.issued_at),
        "NextUpdate": iso_time(scheme.next_update),
        "SchemeExtensions": [{SCHEME_EXTENSION_KEY: {"chainId": scheme.chain_id, "registry": scheme.registry,
                                                     "block": scheme.sequence}}],
    }
    if scheme.distribution_points:
        information["DistributionPoints"] = list(scheme.distribution_points)
    lote: dict[str, Any] = {"ListAndSchemeInformation": information}
    if ordered:
        lote["TrustedEntitiesList"] = [_entity(e) for e in ordered]
    return {"LoTE": lote}


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    package = resources.files("credentials")
    schema = json.loads(package.joinpath(SCHEMA_RESOURCE).read_text("utf-8"))
    jwk = json.loads(package.joinpath(JWK_SCHEMA_RESOURCE).read_text("utf-8"))
    jwk_uri = SCHEMA_URI.rsplit("/", 1)[0] + "/rfcs/rfc7517.json"
    registry: Registry = Registry().with_resources([
        (SCHEMA_URI, Resource.from_contents(schema, default_specification=DRAFT7)),
        (jwk_uri, Resource.from_contents(jwk, default_specification=DRAFT7)),
    ])
    return Draft7Validator({"$ref": SCHEMA_URI}, registry=registry)


def _path(parts: Iterable[Any]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return "$" + text


def schema_errors(document: Any) -> list[str]:
    """Every violation of the TS 119 602 JSON schema, ``"<JSON path>: <what>"``, in document order."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{_path(e.absolute_path)}: {e.message[:200]}" for e in errors]


@dataclass(frozen=True)
class ImportedList:
    """A checked LoTE: who published it, its number and dates, and the DIDs it trusts."""

    operator_name: str
    sequence: int
    issued_at: int
    next_update: int
    trusted_dids: tuple[str, ...]
    not_trusted: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"operator_name": self.operator_name, "sequence": self.sequence,
                "issued_at": iso_time(self.issued_at), "next_update": iso_time(self.next_update),
                "trusted_dids": list(self.trusted_dids), "not_trusted": list(self.not_trusted)}


def _service_dids(service: dict[str, Any]) -> list[str]:
    identity = service.get("ServiceDigitalIdentity") or {}
    return [value for value in identity.get("OtherIds") or [] if isinstance(value, str) and _DID.match(value)]


def _loads(text: str) -> Any:
    """Strict JSON (:func:`credentials._json.json_loads`); a syntax error says its line and column."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the list is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise InvalidInput("the list is not JSON (nested too deep)") from None
    return json_loads(text, what="the list")


def parse_lote(text: str | bytes, *, now: int) -> ImportedList:
    """Check a LoTE (JSON binding) and return what it trusts; InvalidInput listing every reason otherwise."""
    if isinstance(text, bytes):
        if len(text) > MAX_LOTE_BYTES:
            raise InvalidInput(f"expected a list of at most {MAX_LOTE_BYTES} bytes, found {len(text)}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"expected UTF-8 JSON, found an invalid byte at offset {exc.start}") from None
    if len(text) > MAX_LOTE_BYTES:
        raise InvalidInput(f"expected a list of at most {MAX_LOTE_BYTES} bytes, found {len(text)} characters")
    document = _loads(text)
    errors = schema_errors(document)
    if errors:
        shown = errors[:_MAX_REPORTED]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        raise InvalidInput(f"the list breaks the ETSI TS 119 602 JSON schema in {len(errors)} place(s){more}: "
                           + "; ".join(shown))
    information = document["LoTE"]["ListAndSchemeInformation"]
    if information["LoTEVersionIdentifier"] != LOTE_VERSION:
        raise InvalidInput(f"$.LoTE.ListAndSchemeInformation.LoTEVersionIdentifier: expected {LOTE_VERSION}, "
                           f"found {information['LoTEVersionIdentifier']}")
    issued = _epoch(information["ListIssueDateTime"], "$.LoTE.ListAndSchemeInformation.ListIssueDateTime")
    next_update = _epoch(information["NextUpdate"], "$.LoTE.ListAndSchemeInformation.NextUpdate")
    if next_update < issued:
        raise InvalidInput(f"$.LoTE.ListAndSchemeInformation.NextUpdate: {information['NextUpdate']} is before the "
                           f"list's issue time {information['ListIssueDateTime']}")
    if next_update <= now:
        raise InvalidInput(f"$.LoTE.ListAndSchemeInformation.NextUpdate: the list was due to be replaced at "
                           f"{information['NextUpdate']}, which has passed ({iso_time(now)}): a stale list")
    trusted: dict[str, None] = {}
    refused: dict[str, None] = {}
    for e, entity in enumerate(document["LoTE"].get("TrustedEntitiesList", [])):
        for s, wrapper in enumerate(entity["TrustedEntityServices"]):
            service = wrapper["ServiceInformation"]
            where = f"$.LoTE.TrustedEntitiesList[{e}].TrustedEntityServices[{s}].ServiceInformation"
            if "StatusStartingTime" in service:
                _epoch(service["StatusStartingTime"], f"{where}.StatusStartingTime")
            target = refused if service.get("ServiceStatus") in _NOT_TRUSTED else trusted
            target.update(dict.fromkeys(_service_dids(service)))
    trusted = {did: None for did in trusted if did not in refused}  # withdrawn anywhere: not trusted
    if not trusted:
        raise InvalidInput("the list names no DID whose service is granted (ServiceDigitalIdentity.OtherIds): "
                           "nothing to trust")
    return ImportedList(information["SchemeOperatorName"][0]["value"], int(information["LoTESequenceNumber"]),
                        issued, next_update, tuple(trusted), tuple(refused))
