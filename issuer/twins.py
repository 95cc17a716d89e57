"""Twins: the same CSV row as an Open Badges 3.0 credential or an EUDI learning credential.

A microcred row (the Annex I claims of :mod:`credentials.microcredential`) is
also issued, on request, as

- an **Open Badges 3.0** ``OpenBadgeCredential`` (1EdTech Open Badges
  Specification 3.0, §8.1 ``AchievementCredential``; W3C VC Data Model 2.0
  with the vendored OB 3.0 context ``context-3.0.3.json``), secured as a JWT
  (W3C VC-JOSE-COSE §3.1.1, ``typ: vc+jwt``, the issuer's key and ``kid``)
  by :func:`credentials.jwt_vc.sign_vc_jwt`. Its status is a W3C Bitstring
  Status List v1.0 ``BitstringStatusListEntry`` (purpose ``revocation``).
  The Annex I elements map exactly as :func:`credentials.annex_ob3.annex_from_ob3`
  reads them back:

  ================================  ===========================================
  microcred claim                   Open Badge
  ================================  ===========================================
  ``title``                         ``achievement.name`` (and the credential's ``name``)
  ``further_information``           ``achievement.description`` (else a sentence
                                    naming title, ECTS and EQF level: OB 3.0
                                    requires a description)
  ``assessment_type``               ``achievement.criteria.narrative``
  ``ects``                          ``achievement.creditsAvailable`` + an alignment
                                    to the ECTS framework (ELM's ECTS concept)
  ``eqf_level``                     an alignment to ``http://data.europa.eu/snb/eqf/N``
  ``learning_outcomes``             one alignment each (``targetName``;
                                    ``targetFramework`` "Learning outcome")
  ``grade``                         ``credentialSubject.result[0].value``
  ``issued_on``                     ``awardedDate`` (midnight UTC of that day)
  the awarding body that is the     ``issuer`` Profile (``id`` the issuer's DID,
  issuer                            ``name``, ``address.addressCountryCode``)
  ``learner``                       ``credentialSubject.identifier``: the name
                                    (``name``) and student number
                                    (``sisSourcedId``), not hashed; the
                                    holder's DID as ``credentialSubject.id``
  ================================  ===========================================

  Not carried (Open Badges has no place for them): the QF-EHEA cycle, form of
  participation, quality assurance, identity verification, stackability, the
  learner's date of birth, and awarding bodies other than the issuer.

- the **EUDI learning credential** (:mod:`credentials.eudi_learning`, vct
  ``urn:eu.europa.ec.eudi:learning:credential:1``): its claim set filled from
  the row (:func:`eudi_learning_claims`), with three columns the microcred
  claims lack (``language_of_classes``, ``expected_study_time``,
  ``prerequisites_to_enroll``); validated by
  :func:`credentials.eudi_learning.validate_eudi_learning_for_issue` on the way out.

No I/O, clock or randomness here: ids and times are parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from credentials.annex_elm import ECTS_CONCEPT
from credentials.bitstring_status_list import PURPOSE_REVOCATION, STATUS_LIST_ENTRY_TYPE
from credentials.eudi_learning import EUDI_LEARNING_VCT, eudi_learning_problems
from credentials.open_badges import OPEN_BADGE_CREDENTIAL, VCDM2_CONTEXT
from issuer.archive import KIND_EUDI_LEARNING, KIND_MICROCRED, KIND_OB3

__all__ = [
    "OB3_CONTEXT",
    "OB3_TYPES",
    "OB3_SCHEMA_ID",
    "EUDI_COLUMNS",
    "TWIN_KINDS",
    "PRIMARY_KINDS",
    "ob3_credential",
    "ob3_with_subject",
    "eudi_learning_claims",
    "eudi_learning_row_problems",
]

#: The OB 3.0 context the twin names (vendored: ``credentials/contexts/ob-v3p0-3.0.3.json``).
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_TYPES = ("VerifiableCredential", OPEN_BADGE_CREDENTIAL)
OB3_SCHEMA_ID = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
_OB3_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
_EQF_URL = "http://data.europa.eu/snb/eqf/{}"
LEARNING_OUTCOME_FRAMEWORK = "Learning outcome"

#: CSV columns (and JSON members) only the EUDI learning credential uses; ``|`` separates list items.
EUDI_COLUMNS = ("language_of_classes", "expected_study_time", "prerequisites_to_enroll")
EUDI_LIST_COLUMNS = ("language_of_classes", "prerequisites_to_enroll")
#: What ``--also`` may add, and what ``--vct`` may choose as the row's main credential.
TWIN_KINDS = (KIND_OB3, KIND_EUDI_LEARNING)
PRIMARY_KINDS = (KIND_MICROCRED, KIND_EUDI_LEARNING)


def _xml_datetime(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alignment(name: str, url: str, framework: str, code: str | None = None) -> dict[str, Any]:
    alignment: dict[str, Any] = {"type": ["Alignment"], "targetName": name, "targetUrl": url,
                                 "targetFramework": framework}
    if code is not None:
        alignment["targetCode"] = code
    return alignment


def _outcome_url(issuer_did: str, outcome: str) -> str:
    """A stable URN for one learning outcome of this issuer (OB 3.0 requires a ``targetUrl``)."""
    digest = hashlib.sha256(f"{issuer_did}\n{outcome}".encode()).hexdigest()[:32]
    return f"urn:microcred:learning-outcome:{digest}"


def _achievement_id(issuer_did: str, title: str) -> str:
    """The same course of the same issuer is the same achievement, whoever earned it."""
    digest = hashlib.sha256(f"{issuer_did}\n{title}".encode()).hexdigest()[:32]
    return f"urn:microcred:achievement:{digest}"


def _issuer_profile(claims: Mapping[str, Any], issuer_did: str, issuer_name: str) -> dict[str, Any]:
    bodies = [b for b in claims.get("awarding_body", []) if isinstance(b, Mapping)]
    own = next((b for b in bodies if b.get("id") == issuer_did), None)
    countries = claims.get("issuer_country") or []
    country = own.get("country") if own else (countries[0] if countries else None)
    profile: dict[str, Any] = {"id": issuer_did, "type": ["Profile"], "name": own["name"] if own else issuer_name}
    if country:
        profile["address"] = {"type": ["Address"], "addressCountryCode": country}
    return profile


def _description(claims: Mapping[str, Any]) -> str:
    if claims.get("further_information"):
        return str(claims["further_information"])
    return (f"{claims['title']}: a micro-credential of {claims['ects']} ECTS credits at EQF level "
            f"{claims['eqf_level']}.")


def ob3_credential(
    claims: Mapping[str, Any],
    *,
    credential_id: str,
    issuer_did: str,
    issuer_name: str,
    subject_id: str | None,
    status_list_credential: str,
    status_index: int,
    valid_from: int,
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` twin of a microcred row (see the module docstring)."""
    learner = claims["learner"]
    alignments = [
        _alignment("European Credit Transfer and Accumulation System (ECTS)", ECTS_CONCEPT, "ECTS"),
        _alignment(f"EQF level {claims['eqf_level']}", _EQF_URL.format(claims["eqf_level"]), "EQF",
                   str(claims["eqf_level"])),
        *(_alignment(outcome, _outcome_url(issuer_did, outcome), LEARNING_OUTCOME_FRAMEWORK)
          for outcome in claims["learning_outcomes"]),
    ]
    achievement = {
        "id": _achievement_id(issuer_did, claims["title"]),
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": claims["title"],
        "description": _description(claims),
        "criteria": {"narrative": claims["assessment_type"]},
        "creditsAvailable": claims["ects"],
        "alignment": alignments,
    }
    identifiers = [{"type": "IdentityObject", "identityHash": f"{learner['given_name']} {learner['family_name']}",
                    "identityType": "name", "hashed": False},
                   {"type": "IdentityObject", "identityHash": learner["student_id"], "identityType": "sisSourcedId",
                    "hashed": False}]
    subject: dict[str, Any] = {"type": ["AchievementSubject"], "achievement": achievement, "identifier": identifiers}
    if subject_id:
        subject = {"id": subject_id, **subject}
    if claims.get("grade"):
        subject["result"] = [{"type": ["Result"], "value": claims["grade"]}]
    return {
        "@context": [VCDM2_CONTEXT, OB3_CONTEXT],
        "id": credential_id,
        "type": list(OB3_TYPES),
        "issuer": _issuer_profile(claims, issuer_did, issuer_name),
        "validFrom": _xml_datetime(valid_from),
        "awardedDate": f"{claims['issued_on']}T00:00:00Z",
        "name": claims["title"],
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{status_list_credential}#{status_index}",
            "type": STATUS_LIST_ENTRY_TYPE,
            "statusPurpose": PURPOSE_REVOCATION,
            "statusListIndex": str(status_index),
            "statusListCredential": status_list_credential,
        },
        "credentialSchema": [{"id": OB3_SCHEMA_ID, "type": _OB3_SCHEMA_TYPE}],
    }


def ob3_with_subject(credential: Mapping[str, Any], subject_id: str) -> dict[str, Any]:
    """The badge with ``credentialSubject.id`` set (an offer redeemed with the learner's key)."""
    subject = {k: v for k, v in credential["credentialSubject"].items() if k != "id"}
    return {**credential, "credentialSubject": {"id": subject_id, **subject}}


def _ects_study_time(ects: Any) -> str:
    return f"{ects} ECTS credits (about {round(ects * 25)} to {round(ects * 30)} hours of study)"


def eudi_learning_claims(claims: Mapping[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
    """The EUDI learning credential's claims from a microcred row and its EUDI-only columns.

    ``expected_study_time`` defaults to the ECTS workload in words (1 ECTS is
    25 to 30 hours of study, ECTS Users' Guide 2015); ``language_of_classes``
    has no default (the row must say it).
    """
    learner, bodies = claims["learner"], claims["awarding_body"]
    eudi: dict[str, Any] = {
        "issuing_authority": bodies[0]["name"],
        "issuing_country": claims["issuer_country"][0],
        "date_of_issuance": claims["issued_on"],
        "family_name": learner["family_name"],
        "given_name": learner["given_name"],
        "achievement_title": claims["title"],
        "learning_outcomes": list(claims["learning_outcomes"]),
        "learner_identification": learner["student_id"],
        "expected_study_time": extras.get("expected_study_time") or _ects_study_time(claims["ects"]),
        "level_of_learning_experience": claims["eqf_level"],
        "types_of_quality_assurance": [claims["quality_assurance"]],
    }
    if claims.get("further_information"):
        eudi["achievement_description"] = claims["further_information"]
    if claims.get("grade"):
        eudi["assessment_grade"] = claims["grade"]
    if extras.get("language_of_classes"):
        eudi["language_of_classes"] = list(extras["language_of_classes"])
    if extras.get("prerequisites_to_enroll"):
        eudi["prerequisites_to_enroll"] = list(extras["prerequisites_to_enroll"])
    if isinstance(claims.get("stackability"), Mapping):
        eudi["integration_stackability_options"] = claims["stackability"].get("option") == "stackable"
    return eudi


def eudi_learning_row_problems(claims: Mapping[str, Any], extras: Mapping[str, Any], *, issuer: str,
                               iat: int) -> list[str]:
    """What keeps a (schema-valid) microcred row from being an EUDI learning credential, as
    ``"eudi-learning: claim: problem"`` (the claims as they would be signed, ``iss`` / ``iat`` / ``vct`` too)."""
    unknown = sorted(set(extras) - set(EUDI_COLUMNS))
    if unknown:
        return [f"eudi-learning: unknown column(s) {', '.join(unknown)}"]
    try:
        eudi = eudi_learning_claims(claims, extras)
    except (KeyError, IndexError, TypeError):
        return []  # the microcred checks already name what the row lacks
    signed = {**eudi, "iss": issuer, "iat": iat, "vct": EUDI_LEARNING_VCT}
    return [f"eudi-learning: {problem}" for problem in eudi_learning_problems(signed, disclosed=False)]
