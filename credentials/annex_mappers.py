"""Annex I views of the SD-JWT VCs microcred knows: its own micro-credential and
the EUDI learning credential.

* :func:`annex_from_microcred` — ``urn:microcred:vct:micro-credential:1``, the
  claim table of ``shared/ARCHITECTURE.md`` (⚑) and
  :data:`credentials.microcredential.MICROCRED_CLAIMS`.
* :func:`annex_from_eudi_learning` — ``urn:eu.europa.ec.eudi:learning:credential:1``
  (:mod:`credentials.eudi_learning`): ``issuing_authority`` → awarding body,
  ``issuing_country`` → country, ``date_of_issuance`` → date of issuing,
  ``achievement_title`` → title, ``learning_outcomes``,
  ``level_of_learning_experience`` → EQF level, ``expected_study_time`` →
  workload (free text, never counted as ECTS), ``types_of_quality_assurance``
  → quality assurance, ``prerequisites_to_enroll`` → prerequisites,
  ``assessment_grade`` → grade, ``integration_stackability_options`` →
  stackability; ``achievement_description``, ``language_of_classes`` and
  ``date_of_expiry`` → further information. The EUDI claim set has no type of
  assessment, form of participation or identity verification.

Both take the claims as verified (for a presentation: the disclosed ones, plus
the always-visible ``iss`` / ``iat`` / ``vct`` / ``exp`` if the caller passes
them). Left out of More details: ``cnf`` (the holder's key) and ``status``
(the revocation check reports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credentials.annex_view import AnnexView, AwardingBody, Sourced, ViewBuilder

__all__ = ["SD_JWT_VC_SKIPPED", "annex_from_microcred", "annex_from_eudi_learning"]

#: Claims never listed under More details (see the module docstring).
SD_JWT_VC_SKIPPED = frozenset({"cnf", "status"})


def _list(builder: ViewBuilder, name: str, label: str = "") -> tuple[Sourced, ...]:
    return builder.take_each([name], label)


#: (AnnexView field, claim) of the microcred claims shown as one value, and of those shown as a list.
_MICROCRED_ONE = (("title", "title"), ("issued_on", "issued_on"), ("ects", "ects"), ("eqf_level", "eqf_level"),
                  ("qf_ehea_cycle", "qf_ehea_cycle"), ("assessment", "assessment_type"),
                  ("participation", "participation"), ("identity_verification", "identity_verification"),
                  ("grade", "grade"), ("stackability", "stackability"))
_MICROCRED_EACH = (("countries", "issuer_country"), ("learning_outcomes", "learning_outcomes"),
                   ("quality_assurance", "quality_assurance"), ("further_information", "further_information"))
_LEARNER = (("given_name", "Given name"), ("family_name", "Family name"), ("birth_date", "Date of birth"),
            ("student_id", "Student number"))


#: The plan of :func:`_plain_microcred_view`: claim -> (AnnexView field, JSON Pointer), and the learner's labels.
_ONE_PLAN = {claim: (field, "/" + claim) for field, claim in _MICROCRED_ONE}
_EACH_PLAN = {claim: (field, "/" + claim + "/") for field, claim in _MICROCRED_EACH}
_LEARNER_PLAN = {name: ("/learner/" + name, label) for name, label in _LEARNER}


def annex_from_microcred(claims: Mapping[str, Any]) -> AnnexView:
    """The Annex I view of a microcred micro-credential's (disclosed) claims.

    A claim that is not there is not asked for (a presentation discloses a few of them: every verification
    builds this view, issue 16); one that is there is taken as :class:`ViewBuilder` takes it. Claims that are
    all plain (:func:`_plain_microcred_view`) are mapped by a precomputed plan, to the same view."""
    plain = _plain_microcred_view(claims) if type(claims) is dict else None
    return plain if plain is not None else _microcred_view(claims)


def _plain_microcred_view(claims: dict[str, Any]) -> AnnexView | None:
    """The view :func:`_microcred_view` builds, when every claim is plain: a one-value claim holding a non-empty
    string, a number or a boolean; a list claim holding non-empty strings (or one); a ``learner`` object of its
    four members holding non-empty strings. Then every claim is shown where the plan says and nothing is left for
    More details. None for anything else (a missing or empty value, a language map, an awarding body, a claim the
    plan does not know…): the builder maps it (issue 16: every verification of a micro-credential builds this view)."""
    shown: dict[str, Any] = {}
    learner: tuple[Sourced, ...] = ()
    for claim, value in claims.items():
        kind = type(value)
        one = _ONE_PLAN.get(claim)
        if one is not None:
            if not (kind is str and value) and kind is not int and kind is not float and kind is not bool:
                return None
            shown[one[0]] = Sourced(value, one[1])
        elif claim in _EACH_PLAN and kind is list:
            for item in value:
                if type(item) is not str or not item:
                    return None
            field, prefix = _EACH_PLAN[claim]
            shown[field] = tuple([Sourced(item, prefix + str(index)) for index, item in enumerate(value)])
        elif claim in _EACH_PLAN and kind is str and value:  # a single value: a list of one
            field, prefix = _EACH_PLAN[claim]
            shown[field] = (Sourced(value, prefix[:-1]),)
        elif claim == "learner" and kind is dict:
            for name, item in value.items():
                if name not in _LEARNER_PLAN or type(item) is not str or not item:
                    return None
            learner = tuple([Sourced(value[name], *_LEARNER_PLAN[name]) for name, _ in _LEARNER if name in value])
        else:
            return None
    return AnnexView("microcred", learner=learner, **shown)


def _microcred_view(claims: Mapping[str, Any]) -> AnnexView:
    """:func:`annex_from_microcred` by :class:`ViewBuilder`, for any claims."""
    b = ViewBuilder(claims, skip_keys=SD_JWT_VC_SKIPPED)
    learner: tuple[Sourced, ...] = ()
    if "learner" in claims:
        learner = tuple(s for s in (b.take(["learner", name], label) for name, label in _LEARNER) if s)
    bodies = []
    body_list = b.get(["awarding_body"])
    for index in range(len(body_list) if isinstance(body_list, list) else 0):
        name = b.take(["awarding_body", index, "name"])
        if name is not None:
            bodies.append(AwardingBody(name, b.take(["awarding_body", index, "id"]),
                                       b.take(["awarding_body", index, "country"])))
    shown: dict[str, Any] = {field: b.take([claim]) for field, claim in _MICROCRED_ONE if claim in claims}
    shown.update((field, _list(b, claim)) for field, claim in _MICROCRED_EACH if claim in claims)
    return AnnexView(kind="microcred", learner=learner, awarding_bodies=tuple(bodies), **shown,
                     more_details=b.more_details())


def annex_from_eudi_learning(claims: Mapping[str, Any]) -> AnnexView:
    """The Annex I view of an EUDI learning credential's (disclosed) claims."""
    b = ViewBuilder(claims, skip_keys=SD_JWT_VC_SKIPPED)
    learner = tuple(s for s in (
        b.take(["given_name"], "Given name(s)"),
        b.take(["family_name"], "Family name(s)"),
        b.take(["learner_identification"], "Learner identification"),
    ) if s)
    country = b.take(["issuing_country"])
    authority = b.take(["issuing_authority"])
    further = tuple(s for s in (
        b.take(["achievement_description"], "Achievement description"),
        *b.take_each(["language_of_classes"], "Language of classes"),
        b.take(["date_of_expiry"], "Date of expiry"),
    ) if s)
    return AnnexView(
        kind="eudi-learning",
        learner=learner,
        title=b.take(["achievement_title"]),
        awarding_bodies=(AwardingBody(authority, None, country),) if authority else (),
        countries=(country,) if country else (),
        issued_on=b.take(["date_of_issuance"]),
        learning_outcomes=_list(b, "learning_outcomes"),
        workload=b.take(["expected_study_time"], "Expected study time"),
        eqf_level=b.take(["level_of_learning_experience"]),
        quality_assurance=_list(b, "types_of_quality_assurance"),
        prerequisites=_list(b, "prerequisites_to_enroll"),
        grade=b.take(["assessment_grade"]),
        stackability=b.take(["integration_stackability_options"]),
        further_information=further,
        more_details=b.more_details(),
    )
