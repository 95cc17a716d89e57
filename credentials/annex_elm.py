"""Annex I view of a European Learning Model 3 credential (Europass EDC).

Implements the mapping of the European Learning Model v3 (ELM 3.x, the EDC
application profile ``edc-generic``: ``Person``, ``LearningAchievement``,
``LearningAchievementSpecification`` / ``Qualification``, ``AwardingProcess``,
``LearningAssessment``, ``CreditPoint``, ``Accreditation``) onto
:class:`~credentials.annex_view.AnnexView`. The credential is the JSON-LD
document a JAdES seal signs (:mod:`credentials.jades` unwraps it); the first
claim of ``credentialSubject.hasClaim`` (ELM 3.0 - 3.2) is mapped:

=======================  ==========================================================
Annex I element          ELM source (``a`` = the claim, ``s`` = ``a.specifiedBy``)
=======================  ==========================================================
learner                  ``credentialSubject.fullName`` / ``givenName`` / ``familyName``,
                         ``dateOfBirth``, ``nationalID.notation``, ``identifier[].notation``
title                    ``a.title`` (else ``s.title``)
awarding body, country   ``a.awardedBy.awardingBody`` (``legalName``, ``id``,
                         ``location.address.countryCode.prefLabel``); no body: the
                         credential's ``issuer``
date of issuing          ``a.awardedBy.awardingDate``, else ``issued``, ``issuanceDate``, ``validFrom``
learning outcomes        ``s.learningOutcome[].title``
workload                 ``s.creditPoint`` whose ``framework`` is ECTS → ECTS; other
                         credit points or ``s.volumeOfLearning`` → workload
EQF level                ``s.eqfLevel.id`` ``http://data.europa.eu/snb/eqf/N``
assessment, grade        ``a.provenBy[0].title``, ``a.provenBy[0].grade.noteLiteral``
identity verification    ``a.provenBy[0].idVerification.prefLabel``
participation            ``s.mode.prefLabel``
quality assurance        ``s.hasAccreditation[]`` (``title``, else the whole entry)
prerequisites            ``s.entryRequirement.noteLiteral``
stackability             ``s.isPartialQualification``
further information      ``a.description``, ``s.language.prefLabel``, ``s.nqfLevel.prefLabel``
=======================  ==========================================================

Left out of More details: ``@context``, ``type`` and ``inScheme`` (JSON-LD
plumbing: the vocabulary and concept scheme a node belongs to) and ``proof``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from credentials.annex_view import AnnexView, AwardingBody, Sourced, ViewBuilder, json_pointer

__all__ = ["ELM_SKIPPED", "ECTS_CONCEPT", "annex_from_elm"]

ELM_SKIPPED = frozenset({"@context", "type", "inScheme", "proof"})
#: The ELM concept for ECTS credits (education-credit scheme).
ECTS_CONCEPT = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
_EQF_URI = re.compile(r"^https?://data\.europa\.eu/snb/eqf/([1-8])$")

Path = list[str | int]


def _first(b: ViewBuilder, path: Path) -> Path:
    """``path`` itself for an object, ``path + [0]`` for a list of them."""
    return [*path, 0] if isinstance(b.get(path), list) else path


def _entries(b: ViewBuilder, path: Path) -> list[Path]:
    value = b.get(path)
    if isinstance(value, list):
        return [[*path, index] for index in range(len(value))]
    return [path] if isinstance(value, Mapping) else []


def _is_ects(b: ViewBuilder, credit: Path) -> bool:
    framework = b.get([*credit, "framework"])
    if not isinstance(framework, Mapping):
        return False
    label = framework.get("prefLabel")
    english = label.get("en") if isinstance(label, Mapping) else None
    return framework.get("id") == ECTS_CONCEPT or english == "ECTS"


def _learner(b: ViewBuilder) -> tuple[Sourced, ...]:
    subject: Path = ["credentialSubject"]
    found = [
        b.take([*subject, "fullName"], "Full name"),
        b.take([*subject, "givenName"], "Given name"),
        b.take([*subject, "familyName"], "Family name"),
        b.take([*subject, "dateOfBirth"], "Date of birth"),
        b.take([*subject, "nationalID", "notation"], "National identifier"),
    ]
    for entry in _entries(b, [*subject, "identifier"]):
        found.append(b.take([*entry, "notation"], "Identifier"))
    return tuple(s for s in found if s)


def _bodies(b: ViewBuilder, claim: Path) -> tuple[tuple[AwardingBody, ...], tuple[Sourced, ...]]:
    bodies: list[AwardingBody] = []
    countries: list[Sourced] = []
    paths = _entries(b, [*claim, "awardedBy", "awardingBody"]) or _entries(b, ["issuer"])
    for body in paths:
        name = b.take([*body, "legalName"]) or b.take([*body, "id"])
        if name is None:
            continue
        country = b.take([*body, "location", "address", "countryCode", "prefLabel"], "Country")
        bodies.append(AwardingBody(name, b.take([*body, "id"]) if name.path.endswith("/legalName") else None,
                                   country))
        if country is not None and country.value not in [c.value for c in countries]:
            countries.append(country)
    return tuple(bodies), tuple(countries)


def _workload(b: ViewBuilder, spec: Path) -> tuple[Sourced | None, Sourced | None]:
    """(ECTS, other workload)."""
    ects = other = None
    for credit in _entries(b, [*spec, "creditPoint"]):
        if ects is None and _is_ects(b, credit):
            ects = b.take([*credit, "point"], "ECTS credits")
        elif other is None:
            other = b.take(credit, "Credit points")
    if other is None:
        other = b.take([*spec, "volumeOfLearning"], "Volume of learning (ISO 8601 duration)")
    return ects, other


def _eqf(b: ViewBuilder, spec: Path) -> Sourced | None:
    identifier = b.get([*spec, "eqfLevel", "id"])
    match = _EQF_URI.match(identifier) if isinstance(identifier, str) else None
    if match is None:
        return b.take([*spec, "eqfLevel"], "EQF level (not a level URI)")
    b.use([*spec, "eqfLevel", "id"])
    return Sourced(int(match.group(1)), json_pointer([*spec, "eqfLevel", "id"]), identifier)


def annex_from_elm(credential: Mapping[str, Any]) -> AnnexView:
    """The Annex I view of an ELM 3 / Europass EDC credential (the JSON-LD document)."""
    b = ViewBuilder(credential, skip_keys=ELM_SKIPPED)
    claim = _first(b, ["credentialSubject", "hasClaim"])
    spec = _first(b, [*claim, "specifiedBy"])
    assessment = _first(b, [*claim, "provenBy"]) if b.get([*claim, "provenBy"]) is not None else (
        _first(b, [*claim, "wasDerivedFrom"]))
    bodies, countries = _bodies(b, claim)
    ects, workload = _workload(b, spec)
    issued = (b.take([*claim, "awardedBy", "awardingDate"]) or b.take(["issued"])
              or b.take(["issuanceDate"]) or b.take(["validFrom"]))
    outcomes = tuple(s for s in (b.take([*entry, "title"], "Learning outcome")
                                 for entry in _entries(b, [*spec, "learningOutcome"])) if s)
    accreditations = tuple(s for s in (b.take([*entry, "title"], "Accreditation") or b.take(entry, "Accreditation")
                                       for entry in _entries(b, [*spec, "hasAccreditation"])) if s)
    further = tuple(s for s in (
        b.take([*claim, "description"], "Description"),
        b.take([*_first(b, [*spec, "language"]), "prefLabel"], "Language"),
        b.take([*spec, "nqfLevel", "prefLabel"], "National qualifications framework level"),
    ) if s)
    return AnnexView(
        kind="elm",
        learner=_learner(b),
        title=b.take([*claim, "title"]) or b.take([*spec, "title"]),
        awarding_bodies=bodies,
        countries=countries,
        issued_on=issued,
        learning_outcomes=outcomes,
        ects=ects,
        workload=workload,
        eqf_level=_eqf(b, spec),
        assessment=b.take([*assessment, "title"], "Assessment"),
        participation=b.take([*_first(b, [*spec, "mode"]), "prefLabel"], "Mode"),
        quality_assurance=accreditations,
        prerequisites=tuple(s for s in (b.take([*spec, "entryRequirement", "noteLiteral"], "Entry requirements"),)
                            if s),
        identity_verification=b.take([*assessment, "idVerification", "prefLabel"]),
        grade=b.take([*assessment, "grade", "noteLiteral"], "Grade"),
        stackability=b.take([*spec, "isPartialQualification"], "Partial qualification"),
        further_information=further,
        more_details=b.more_details(),
    )
