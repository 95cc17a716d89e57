"""Europass European Digital Credentials (EDC) sealed with JAdES: import and verify.

An EDC is a European Learning Model (ELM 3.x, application profile ``edc-ap``)
credential in JSON-LD, shaped as a W3C Verifiable Credential (VC Data Model
1.1: ``type`` ``["VerifiableCredential", "EuropeanDigitalCredential"]``,
``@context`` the VC 1.1 context and ``http://data.europa.eu/snb/model/context/edc-ap``),
sealed by the awarding institution's qualified electronic seal as a JAdES
signature (:mod:`credentials.jades`): JWS JSON serialization with the ELM
document as unencoded payload (``b64: false``), ``x5c``, ``x5t#S256`` and
``sigT`` (European Commission, "EDC: technical specifications", and the
sealed samples in ``tests/vectors/europass-edc/``).

:func:`verify_sealed_edc` checks, in order, failing the named check:

* ``format`` — at most :data:`MAX_EDC_BYTES`, strict JSON within
  :data:`EDC_JSON_LIMITS`, a JAdES seal, an ELM document inside;
* ``signature`` — the seal's signature, its algorithm, and its certificate
  chain to a configured X.509 anchor, each certificate valid at ``sigT``
  (:mod:`credentials.x509_trust`); a chain not ending at an anchor fails here,
  because without it nothing says who sealed;
* ``validity_period`` — the document's ``validFrom`` / ``validUntil``.

Whether the sealing organisation is accredited (``issuer_trust``) and whether
the credential was revoked are for the caller: :attr:`SealedEdc.issuer_id`
names the organisation as the TrustRegistry knows it (``x509:org:…``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credentials._json import json_loads
from credentials._json_limits import JsonLimits, check_json_limits, parse_limited_json
from credentials.errors import FormatError, InvalidInput, ValidityPeriodError
from credentials.jades import VerifiedJades, check_jades_form, verify_jades
from credentials.x509_trust import CertificateSummary, TrustAnchors, seal_subject

__all__ = [
    "EDC_FORMAT",
    "EDC_TYPE",
    "MAX_EDC_BYTES",
    "EDC_JSON_LIMITS",
    "SealedEdc",
    "verify_sealed_edc",
    "check_seal_form",
    "parse_trust_anchors",
]

#: The ``format`` a verifier reports for a sealed EDC.
EDC_FORMAT = "europass-edc"
EDC_TYPE = "EuropeanDigitalCredential"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"
VCDM11_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: ELM contexts, e.g. ``http://data.europa.eu/snb/model/context/edc-ap``.
_ELM_CONTEXT = re.compile(r"https?://data\.europa\.eu/snb/model/context/[A-Za-z0-9._-]{1,64}")
#: A sealed EDC larger than this is refused (documents run to about 0.5 MB).
MAX_EDC_BYTES = 2 * 1024 * 1024
#: The limits on the ELM document; the seal around it may hold one string as long as the whole input.
EDC_JSON_LIMITS = JsonLimits(max_depth=64, max_nodes=200_000, max_string=1_048_576)
_SEAL_JSON_LIMITS = JsonLimits(max_depth=16, max_nodes=10_000, max_string=MAX_EDC_BYTES)


def parse_trust_anchors(pem: bytes | str) -> TrustAnchors:
    """The anchors of a PEM bundle (as ``MICROCRED_X509_TRUST_ANCHORS`` names), for :func:`verify_sealed_edc`."""
    return TrustAnchors.from_pem(pem)


@dataclass(frozen=True)
class SealedEdc:
    """A Europass EDC whose seal, certificate chain and validity period passed.

    ``issuer_id`` (``x509:org:VATIT-…`` or ``x509:spki:sha256:…``), ``legal_name``
    and ``country`` come from the seal certificate; ``credential`` is the ELM
    document as sealed; ``credential_profiles`` the ids of its
    ``credentialProfiles`` concepts (the ELM credential type); times are epoch seconds.
    """

    issuer_id: str
    legal_name: str | None
    country: str | None
    organization_identifier: str | None
    credential: dict[str, Any]
    credential_id: str | None
    credential_profiles: tuple[str, ...]
    holder_jwk: dict[str, Any] | None
    signing_time: int
    valid_from: int | None
    valid_until: int | None
    alg: str
    chain: tuple[CertificateSummary, ...]
    unverified_properties: tuple[str, ...]
    format: str = EDC_FORMAT


def _parse_seal(data: bytes | str) -> dict[str, Any] | str:
    if not isinstance(data, (bytes, bytearray, str)):
        raise FormatError("the sealed credential must be text or bytes")
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > MAX_EDC_BYTES:
        raise FormatError(f"the sealed credential is {size} bytes, over the limit of {MAX_EDC_BYTES}")
    text_start = data.lstrip()[:1]
    if text_start in ("{", b"{"):
        return parse_limited_json(data, _SEAL_JSON_LIMITS, max_bytes=MAX_EDC_BYTES, what="the sealed credential")
    try:
        compact = data.decode("ascii") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError:
        raise FormatError("the sealed credential is neither JSON nor a compact JWS") from None
    return compact.strip()


def _times(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValidityPeriodError(f"{name} must be a date-time like 2024-01-31T12:00:00Z, found {value!r:.40}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidityPeriodError(f"{name} {value!r:.40} is not a date-time like 2024-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        raise ValidityPeriodError(f"{name} {value!r:.40} must carry a time zone")
    return int(moment.timestamp())


def _strings(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_elm(document: dict[str, Any]) -> None:
    contexts = _strings(document.get("@context"))
    if not contexts or contexts[0] not in (VCDM11_CONTEXT, VCDM2_CONTEXT):
        raise FormatError(f"an EDC's @context starts with {VCDM11_CONTEXT!r}, found {contexts[0]!r:.80}")
    elm = [c for c in contexts[1:] if isinstance(c, str) and _ELM_CONTEXT.fullmatch(c)]
    unknown = [c for c in contexts[1:] if not (isinstance(c, str) and _ELM_CONTEXT.fullmatch(c))]
    if not elm or unknown:
        raise FormatError(
            "an EDC's @context must add the ELM context (http://data.europa.eu/snb/model/context/edc-ap) "
            f"and nothing else; found {[str(c)[:80] for c in contexts[1:5]]}"
        )
    types = _strings(document.get("type"))
    if VERIFIABLE_CREDENTIAL not in types or EDC_TYPE not in types:
        raise FormatError(
            f"an EDC has type {[VERIFIABLE_CREDENTIAL, EDC_TYPE]}, found {[str(t)[:60] for t in types[:5]]}")
    if not isinstance(document.get("credentialSubject"), dict):
        raise FormatError("an EDC must have a credentialSubject object")
    issuer = document.get("issuer")
    if not (isinstance(issuer, str) or (isinstance(issuer, dict) and isinstance(issuer.get("id"), str))):
        raise FormatError("an EDC must name its issuer (an 'issuer' with an 'id')")


def _profiles(document: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        profile["id"] for profile in _strings(document.get("credentialProfiles"))
        if isinstance(profile, dict) and isinstance(profile.get("id"), str)
    )


def _check_validity(valid_from: int | None, valid_until: int | None, now: int, leeway: int) -> None:
    if valid_from is not None and valid_from > now + leeway:
        raise ValidityPeriodError("the credential is not valid yet (its validFrom lies in the future)")
    if valid_until is not None and valid_until < now - leeway:
        raise ValidityPeriodError("the credential has expired (its validUntil has passed)")


def _document(verified: VerifiedJades) -> dict[str, Any]:
    try:
        # The payload's text when the seal held it as text (the UTF-8 of the signed bytes, decoded once)
        text = verified.payload_text if verified.payload_text is not None else verified.payload
        document = json_loads(text, what="the sealed ELM document")
        check_json_limits(document, EDC_JSON_LIMITS, what="the sealed ELM document")
    except InvalidInput as exc:
        raise FormatError(str(exc)) from None
    if not isinstance(document, dict):
        raise FormatError("the sealed payload must be an ELM credential (a JSON object)")
    _check_elm(document)
    return document


def check_seal_form(data: bytes | str) -> None:
    """FormatError if ``data`` is not a well-formed JAdES seal (what :func:`verify_sealed_edc` checks first)."""
    check_jades_form(_parse_seal(data))


def verify_sealed_edc(
    data: bytes | str,
    *,
    trust_anchors: TrustAnchors,
    now: int,
    leeway: int = 60,
) -> SealedEdc:
    """Verify a sealed Europass EDC at ``now`` (epoch seconds) against ``trust_anchors``.

    Raises :class:`FormatError`, :class:`SignatureError` or
    :class:`ValidityPeriodError`; nothing else escapes for any input.
    """
    verified = verify_jades(_parse_seal(data), trust_anchors=trust_anchors, now=now)
    document = _document(verified)
    valid_from = _times(document.get("validFrom", document.get("issuanceDate")), "validFrom")
    valid_until = _times(document.get("validUntil", document.get("expirationDate")), "validUntil")
    _check_validity(valid_from, valid_until, now, leeway)
    subject = seal_subject(verified.certificate)
    cnf = document.get("cnf")
    holder_jwk = cnf.get("jwk") if isinstance(cnf, dict) and isinstance(cnf.get("jwk"), dict) else None
    credential_id = document.get("id")
    return SealedEdc(
        issuer_id=subject.issuer_id,
        legal_name=subject.legal_name,
        country=subject.country,
        organization_identifier=subject.organization_identifier,
        credential=document,
        credential_id=credential_id if isinstance(credential_id, str) else None,
        credential_profiles=_profiles(document),
        holder_jwk=holder_jwk,
        signing_time=verified.signing_time,
        valid_from=valid_from,
        valid_until=valid_until,
        alg=verified.alg,
        chain=verified.chain,
        unverified_properties=verified.unverified_properties,
    )

