"""Annex I view of an Open Badges 3.0 / CLR 2.0 credential.

Implements the mapping of 1EdTech Open Badges Specification v3.0 (data model
§B: ``AchievementCredential`` / ``OpenBadgeCredential``, ``AchievementSubject``,
``Achievement``, ``Alignment``, ``Result``, ``Profile``) and Comprehensive
Learner Record v2.0 (``ClrCredential``, ``ClrSubject``) onto
:class:`~credentials.annex_view.AnnexView`:

===============================  ===============================================
Annex I element                  OB 3.0 source
===============================  ===============================================
learner                          ``credentialSubject.id``, ``.name``, ``.identifier[]`` (``identityHash``)
title                            ``credentialSubject.achievement.name`` (else the credential's ``name``)
awarding body, country           ``issuer`` (``name``, ``id``, ``address.addressCountryCode``)
date of issuing                  ``awardedDate``, else ``validFrom``, else ``issuanceDate``
learning outcomes                ``achievement.alignment[]`` other than EQF / ECTS ones
workload (ECTS)                  ``achievement.creditsAvailable``: ECTS only when an alignment
                                 names the ECTS framework (``targetFramework`` "ECTS" or the
                                 ELM ECTS concept); otherwise ``workload`` (OB names no unit)
EQF level                        an alignment to ``http://data.europa.eu/snb/eqf/N`` or with
                                 ``targetFramework`` "EQF" and ``targetCode`` N
type of assessment               ``achievement.criteria.narrative``
grade                            ``credentialSubject.result[0].value``
further information              ``achievement.description``, ``achievementType``,
                                 ``fieldOfStudy``, ``specialization``, the other results,
                                 ``creditsEarned``, the credential's ``description``
===============================  ===============================================

For a ``ClrCredential`` the nested achievements' names are the learning
outcomes and the CLR's ``name`` the title. Left out of More details:
``@context``, ``type`` (JSON-LD plumbing) and ``proof`` (the signature check
reports it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from credentials.annex_elm import ECTS_CONCEPT
from credentials.annex_view import AnnexView, AwardingBody, Sourced, ViewBuilder, json_pointer

__all__ = ["OB3_SKIPPED", "annex_from_ob3"]

OB3_SKIPPED = frozenset({"@context", "type", "proof"})
_EQF_URI = re.compile(r"^https?://data\.europa\.eu/snb/eqf/([1-8])$")
_SUBJECT, _ACHIEVEMENT = "credentialSubject", "achievement"


def _types(node: Any) -> list[str]:
    value = node.get("type") if isinstance(node, Mapping) else None
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _eqf_level(alignment: Mapping[str, Any]) -> tuple[int, str] | None:
    """(level, member it was read from) for an EQF alignment."""
    match = _EQF_URI.match(str(alignment.get("targetUrl", "")))
    if match:
        return int(match.group(1)), "targetUrl"
    framework, code = str(alignment.get("targetFramework", "")).upper(), str(alignment.get("targetCode", ""))
    if ("EQF" in framework.split() or framework == "EQF") and code.isdigit() and 1 <= int(code) <= 8:
        return int(code), "targetCode"
    return None


def _is_ects(alignment: Mapping[str, Any]) -> bool:
    return (str(alignment.get("targetFramework", "")).strip().upper() == "ECTS"
            or alignment.get("targetUrl") == ECTS_CONCEPT)


def _alignments(b: ViewBuilder, base: list[str | int]) -> tuple[tuple[Sourced, ...], Sourced | None, bool]:
    """(learning outcomes, EQF level, whether ECTS is named) from ``base + ["alignment"]``."""
    outcomes: list[Sourced] = []
    level: Sourced | None = None
    ects = False
    alignments = b.get([*base, "alignment"])
    for index, alignment in enumerate(alignments if isinstance(alignments, list) else []):
        if not isinstance(alignment, Mapping):
            continue
        path: list[str | int] = [*base, "alignment", index]
        eqf = _eqf_level(alignment)
        if eqf is not None and level is None:
            b.use([*path, eqf[1]])  # the alignment's other members stay in More details
            level = Sourced(eqf[0], json_pointer([*path, eqf[1]]), "EQF level (alignment)")
        elif _is_ects(alignment):
            ects = True  # says which unit creditsAvailable is in; the alignment stays in More details
        else:
            taken = b.take([*path, "targetName"], str(alignment.get("targetFramework") or "Alignment"))
            if taken is not None:
                outcomes.append(taken)
    return tuple(outcomes), level, ects


def _issuer(b: ViewBuilder) -> tuple[tuple[AwardingBody, ...], tuple[Sourced, ...]]:
    issuer = b.get(["issuer"])
    if isinstance(issuer, str):
        taken = b.take(["issuer"], "Issuer")
        return ((AwardingBody(taken),) if taken else ()), ()
    name = b.take(["issuer", "name"])
    country = b.take(["issuer", "address", "addressCountryCode"])
    if name is None:
        name = b.take(["issuer", "id"])
        return ((AwardingBody(name, None, country),) if name else ()), ((country,) if country else ())
    return (AwardingBody(name, b.take(["issuer", "id"]), country),), ((country,) if country else ())


def _learner(b: ViewBuilder) -> tuple[Sourced, ...]:
    found = [b.take([_SUBJECT, "name"], "Name"), b.take([_SUBJECT, "id"], "Identifier")]
    identifiers = b.get([_SUBJECT, "identifier"])
    for index, entry in enumerate(identifiers if isinstance(identifiers, list) else []):
        if isinstance(entry, Mapping):
            kind = str(entry.get("identityType") or "identifier") + (" (hashed)" if entry.get("hashed") else "")
            found.append(b.take([_SUBJECT, "identifier", index, "identityHash"], kind))
    return tuple(s for s in found if s)


def _clr(b: ViewBuilder) -> tuple[Sourced, ...]:
    """The names of a CLR's achievements (``achievement[]`` or nested credentials)."""
    names: list[Sourced | None] = []
    achievements = b.get([_SUBJECT, "achievement"])
    for index in range(len(achievements) if isinstance(achievements, list) else 0):
        names.append(b.take([_SUBJECT, "achievement", index, "name"], "Achievement"))
    nested = b.get([_SUBJECT, "verifiableCredential"])
    for index in range(len(nested) if isinstance(nested, list) else 0):
        path: list[str | int] = [_SUBJECT, "verifiableCredential", index, _SUBJECT, _ACHIEVEMENT, "name"]
        names.append(b.take(path, "Achievement"))
    return tuple(s for s in names if s)


def annex_from_ob3(credential: Mapping[str, Any]) -> AnnexView:
    """The Annex I view of an OB 3.0 achievement credential or a CLR 2.0 credential (as JSON)."""
    b = ViewBuilder(credential, skip_keys=OB3_SKIPPED)
    is_clr = "ClrCredential" in _types(credential)
    base: list[str | int] = [_SUBJECT, _ACHIEVEMENT]
    outcomes, level, names_ects = (_clr(b), None, False) if is_clr else _alignments(b, base)
    credits = None if is_clr else b.take([*base, "creditsAvailable"],
                                         "Credits available" if names_ects else "Credits available (no unit stated)")
    bodies, countries = _issuer(b)
    issued = b.take(["awardedDate"]) or b.take(["validFrom"]) or b.take(["issuanceDate"])
    title = None if is_clr else b.take([*base, "name"])
    grade = b.take([_SUBJECT, "result", 0, "value"], "Result")
    further: list[Sourced | None] = [
        b.take([*base, "description"], "Description of the achievement"),
        b.take([*base, "achievementType"], "Type of achievement"),
        b.take([*base, "fieldOfStudy"], "Field of study"),
        b.take([*base, "specialization"], "Specialization"),
        b.take([_SUBJECT, "creditsEarned"], "Credits earned"),
        b.take(["description"], "Description"),
    ]
    results = b.get([_SUBJECT, "result"])
    for index in range(1, len(results) if isinstance(results, list) else 0):
        further.append(b.take([_SUBJECT, "result", index, "value"], "Result"))
    return AnnexView(
        kind="clr" if is_clr else "ob3",
        learner=_learner(b),
        title=title or b.take(["name"]),
        awarding_bodies=bodies,
        countries=countries,
        issued_on=issued,
        learning_outcomes=outcomes,
        ects=credits if names_ects else None,
        workload=None if names_ects else credits,
        eqf_level=level,
        assessment=None if is_clr else b.take([*base, "criteria", "narrative"], "Criteria"),
        grade=grade,
        further_information=tuple(s for s in further if s),
        more_details=b.more_details(),
    )
