"""The micro-credential claim set: schema checks, a typed builder, disclosure frames.

Implements the elements of Annex I of EU Council Recommendation 2022/C 243/02
(16 June 2022) on micro-credentials, named after the European Learning Model
(ELM v3) where a term exists, as the ⚑ table in ``shared/ARCHITECTURE.md``
fixes them for the SD-JWT VC ``urn:microcred:vct:micro-credential:1``.

The rules live in ``credentials/schemas/micro-credential.schema.json`` (JSON
Schema 2020-12, formats asserted) plus the cross-field rules JSON Schema says
badly (QF-EHEA cycle versus EQF level; awarding-body countries versus the
issuer countries; a stackability target only for stackable credentials).

* :func:`validate_for_issue` — the issuer's gate: every mandatory element,
  every problem reported at once (:class:`InvalidCredentialData`).
* :func:`validate_disclosed` — the verifier's gate on whatever the holder
  disclosed: the same rules, nothing required but the always-visible claims
  (:class:`SchemaViolation`, check ``schema``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from credentials._schema_check import Check, all_finite, compile_check, non_finite_problems
from credentials.errors import InvalidCredentialData, SchemaViolation

__all__ = [
    "MICRO_CREDENTIAL_VCT", "REGISTERED_CLAIMS", "ALWAYS_VISIBLE_REQUIRED", "MICROCRED_CLAIMS",
    "CLAIM_LABELS", "ANNEX_I_ELEMENTS", "EQF_TO_QF_EHEA_CYCLE", "SD_KEY", "Learner", "AwardingBody",
    "Stackability", "MicroCredential", "load_schema", "schema_problems", "validate_for_issue",
    "validate_disclosed", "certainly_valid_disclosed", "disclosure_frame", "compile_check",
]

MICRO_CREDENTIAL_VCT = "urn:microcred:vct:micro-credential:1"
SCHEMA_RESOURCE = "schemas/micro-credential.schema.json"
#: The frame key listing selectively disclosable members / indices.
SD_KEY = "_sd"

#: JWT / SD-JWT VC claims allowed beside ours, never selectively disclosable.
REGISTERED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "jti", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status"}
)
#: What every disclosed micro-credential must show (ARCHITECTURE: always visible).
ALWAYS_VISIBLE_REQUIRED = ("iss", "iat", "vct")

LEARNER, ISSUER_COUNTRY, AWARDING_BODY = "learner", "issuer_country", "awarding_body"
LEARNING_OUTCOMES, EQF_LEVEL, QF_EHEA_CYCLE = "learning_outcomes", "eqf_level", "qf_ehea_cycle"
STACKABILITY = "stackability"
_ARRAY_CLAIMS = (ISSUER_COUNTRY, AWARDING_BODY, LEARNING_OUTCOMES)
_LEARNER_MEMBERS = ("given_name", "family_name", "birth_date", "student_id")

#: microcred's own claims, in Annex I order (each selectively disclosable).
MICROCRED_CLAIMS = (
    LEARNER, "title", ISSUER_COUNTRY, AWARDING_BODY, "issued_on", LEARNING_OUTCOMES, "ects",
    EQF_LEVEL, QF_EHEA_CYCLE, "assessment_type", "participation", "quality_assurance",
    "identity_verification", "grade", STACKABILITY, "further_information",
)

#: Plain-language labels for the wallet and verifier pages.
CLAIM_LABELS: dict[str, str] = {
    LEARNER: "Learner",
    "learner.given_name": "Given name",
    "learner.family_name": "Family name",
    "learner.birth_date": "Date of birth",
    "learner.student_id": "Student number",
    "title": "Title of the micro-credential",
    ISSUER_COUNTRY: "Country of the issuer",
    AWARDING_BODY: "Awarding body",
    "issued_on": "Date of issuing",
    LEARNING_OUTCOMES: "Learning outcomes",
    "ects": "Workload (ECTS credits)",
    EQF_LEVEL: "Level (EQF)",
    QF_EHEA_CYCLE: "Cycle (QF-EHEA)",
    "assessment_type": "Type of assessment",
    "participation": "Form of participation",
    "quality_assurance": "Quality assurance",
    "identity_verification": "Supervision and identity verification during assessment",
    "grade": "Grade achieved",
    STACKABILITY: "Stackability",
    "further_information": "Further information",
}

#: Annex I element number per claim (None: one of Annex I's optional elements).
ANNEX_I_ELEMENTS: dict[str, int | None] = {
    LEARNER: 1, "title": 2, ISSUER_COUNTRY: 3, AWARDING_BODY: 4, "issued_on": 5,
    LEARNING_OUTCOMES: 6, "ects": 7, EQF_LEVEL: 8, QF_EHEA_CYCLE: 8, "assessment_type": 9,
    "participation": 10, "quality_assurance": 11, "identity_verification": None,
    "grade": None, STACKABILITY: None, "further_information": None,
}

#: The QF-EHEA cycle each EQF level corresponds to (Bologna / EQF referencing).
EQF_TO_QF_EHEA_CYCLE = {5: "short", 6: "first", 7: "second", 8: "third"}

_PATTERN_MEANINGS = {"\\S": "expected text that is not blank"}
_MAX_SHOWN = 60


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The issuer's JSON Schema, read once from the package data."""
    text = resources.files("credentials").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=2)
def _schema_for(disclosed: bool) -> dict[str, Any]:
    schema = load_schema()
    if disclosed:
        schema = copy.deepcopy(schema)
        schema["required"] = list(ALWAYS_VISIBLE_REQUIRED)
        schema["properties"][LEARNER]["required"] = []
        for name in _ARRAY_CLAIMS:
            schema["properties"][name].pop("minItems", None)
    return schema


@lru_cache(maxsize=2)
def _validator(disclosed: bool) -> Draft202012Validator:
    return Draft202012Validator(_schema_for(disclosed), format_checker=Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def _disclosed_check() -> Check | None:
    return compile_check(_schema_for(True))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _json_type(value: Any) -> str:
    names = {bool: "boolean", str: "string", int: "integer", float: "number", dict: "object", list: "array"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def _join(path: list[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(claims)"


def _describe(error: ValidationError) -> list[tuple[list[Any], str]]:
    """(path, problem) pairs for one jsonschema error, in words a registrar reads."""
    path, kind = list(error.absolute_path), str(error.validator)
    expected: Any = error.validator_value  # JSON values, as the schema and the claims hold them
    found: Any = error.instance
    if kind == "required":
        return [(path + [name], "missing") for name in expected if isinstance(found, dict) and name not in found]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        return [(path + [name], "unexpected claim") for name in found if name not in known]
    if kind == "type":
        wanted = expected if isinstance(expected, str) else " or ".join(expected)
        return [(path, f"expected {wanted}, found {_json_type(found)} {_shown(found)}")]
    messages: dict[str, Callable[[], str]] = {
        "exclusiveMaximum": lambda: f"{_shown(found)} is not less than {expected}",
        "exclusiveMinimum": lambda: f"{_shown(found)} is not greater than {expected}",
        "maximum": lambda: f"{_shown(found)} is more than the maximum {expected}",
        "minimum": lambda: f"{_shown(found)} is less than the minimum {expected}",
        "maxLength": lambda: f"expected at most {expected} characters, found {len(found)}",
        "minLength": lambda: f"expected at least {expected} character(s), found {len(found)}",
        "maxItems": lambda: f"expected at most {expected} entries, found {len(found)}",
        "minItems": lambda: f"expected at least {expected} entry, found {len(found)}",
        "uniqueItems": lambda: "expected each entry once, found duplicates",
        "const": lambda: f"expected {_shown(expected)}, found {_shown(found)}",
        "format": lambda: f"{_shown(found)} is not a valid {expected} (expected YYYY-MM-DD)",
        "pattern": lambda: f"{_PATTERN_MEANINGS.get(expected, 'expected a URI or a DID')}, found {_shown(found)}",
        "enum": lambda: (
            f"{_shown(found)} is not one of {', '.join(map(repr, expected))}"
            if len(expected) <= 8
            else f"{_shown(found)} is not an ISO 3166-1 alpha-2 country code (upper case, e.g. 'IT')"
        ),
    }
    describe = messages.get(kind)
    return [(path, describe() if describe else error.message)]


def _cross_field(claims: Mapping[str, Any], *, for_issue: bool) -> list[tuple[list[Any], str]]:
    problems: list[tuple[list[Any], str]] = []
    level: Any = claims.get(EQF_LEVEL)
    cycle = claims.get(QF_EHEA_CYCLE)
    level_ok = isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 8
    if level_ok and cycle is None and level in EQF_TO_QF_EHEA_CYCLE and for_issue:
        problems.append(([QF_EHEA_CYCLE], f"missing (required for eqf_level {level})"))
    if level_ok and isinstance(cycle, str) and cycle in EQF_TO_QF_EHEA_CYCLE.values():
        expected = EQF_TO_QF_EHEA_CYCLE.get(level)
        if expected is None:
            problems.append(([QF_EHEA_CYCLE],
                             f"a QF-EHEA cycle applies to EQF levels 5-8 only, found eqf_level {level}"))
        elif cycle != expected:
            problems.append(([QF_EHEA_CYCLE], f"{cycle!r} does not match eqf_level {level} (expected {expected!r})"))
    stack = claims.get(STACKABILITY)
    if isinstance(stack, Mapping) and stack.get("option") == "stand-alone" and "target" in stack:
        problems.append(([STACKABILITY, "target"], "a target is only allowed when option is 'stackable'"))
    countries, bodies = claims.get(ISSUER_COUNTRY), claims.get(AWARDING_BODY)
    if for_issue and isinstance(countries, list) and countries and isinstance(bodies, list):
        for index, body in enumerate(bodies):
            country = body.get("country") if isinstance(body, Mapping) else None
            if isinstance(country, str) and country in _country_codes() and country not in countries:
                problems.append(([AWARDING_BODY, index, "country"],
                                 f"{country!r} is not among issuer_country {countries}"))
    return problems


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    return frozenset(load_schema()["$defs"]["country"]["enum"])


def schema_problems(claims: Any, *, disclosed: bool = False) -> list[str]:
    """Every problem with ``claims`` as ``"path: what is wrong"``, sorted by path."""
    if not isinstance(claims, Mapping):
        return [f"(claims): expected an object, found {type(claims).__name__}"]
    instance = dict(claims)
    found: list[tuple[list[Any], str]] = non_finite_problems(instance, [])
    for error in _validator(disclosed).iter_errors(instance):
        found.extend(_describe(error))
    found.extend(_cross_field(instance, for_issue=not disclosed))
    seen: dict[str, None] = {}
    for path, message in sorted(found, key=lambda item: [str(p) for p in item[0]]):
        seen.setdefault(f"{_join(path)}: {message}")
    return list(seen)


def validate_for_issue(claims: Mapping[str, Any]) -> None:
    """The issuer's gate: raise :class:`InvalidCredentialData` listing every problem."""
    problems = schema_problems(claims)
    if problems:
        raise InvalidCredentialData(problems)


def certainly_valid_disclosed(claims: Any) -> bool:
    """The fast path of :func:`validate_disclosed`: True only when ``schema_problems(claims,
    disclosed=True)`` is certainly empty (the schema compiled once); False means "ask jsonschema"."""
    check = _disclosed_check()
    return (check is not None and type(claims) is dict and all_finite(claims) and check(claims)
            and not _cross_field(claims, for_issue=False))


def validate_disclosed(claims: Mapping[str, Any]) -> None:
    """The verifier's gate on disclosed claims: raise :class:`SchemaViolation`.

    The common case takes :func:`certainly_valid_disclosed`; anything it is not
    sure of goes through jsonschema, which also words the problems."""
    if certainly_valid_disclosed(claims):
        return
    problems = schema_problems(claims, disclosed=True)
    if problems:
        raise SchemaViolation(
            "the disclosed claims do not fit the micro-credential schema: " + "; ".join(problems)
        )


#: The claims :func:`disclosure_frame` knows (set once: it runs for every credential of a batch).
_FRAMEABLE = REGISTERED_CLAIMS | frozenset(MICROCRED_CLAIMS)


def disclosure_frame(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The SD-JWT disclosure frame for ``claims``: every microcred claim on its
    own, each learner member, each array element; registered claims never."""
    if not _FRAMEABLE.issuperset(claims):
        unknown = sorted(set(claims) - _FRAMEABLE)
        raise InvalidCredentialData([f"{name}: unexpected claim" for name in unknown])
    present = [name for name in MICROCRED_CLAIMS if name in claims]
    frame: dict[str, Any] = {SD_KEY: present}
    learner = claims.get(LEARNER)
    if isinstance(learner, Mapping):
        frame[LEARNER] = {SD_KEY: [name for name in _LEARNER_MEMBERS if name in learner]}
    for name in _ARRAY_CLAIMS:
        value = claims.get(name)
        if isinstance(value, list):
            frame[name] = {SD_KEY: list(range(len(value)))}
    return frame


@dataclass(frozen=True)
class Learner:
    """Annex I element 1."""

    given_name: str
    family_name: str
    birth_date: date
    student_id: str

    def to_claims(self) -> dict[str, str]:
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birth_date": self.birth_date.isoformat(),
            "student_id": self.student_id,
        }


@dataclass(frozen=True)
class AwardingBody:
    """Annex I element 4: ``id`` is a URI or a DID, ``country`` ISO 3166-1 alpha-2."""

    name: str
    id: str
    country: str

    def to_claims(self) -> dict[str, str]:
        return {"name": self.name, "id": self.id, "country": self.country}


@dataclass(frozen=True)
class Stackability:
    """Optional element: ``option`` is ``stand-alone`` or ``stackable`` (``target`` then)."""

    option: str
    target: str | None = None

    def to_claims(self) -> dict[str, str]:
        claims = {"option": self.option}
        if self.target is not None:
            claims["target"] = self.target
        return claims


@dataclass(frozen=True)
class MicroCredential:
    """A complete micro-credential; constructing one validates it (``InvalidCredentialData``)."""

    learner: Learner
    title: str
    issuer_country: tuple[str, ...]
    awarding_body: tuple[AwardingBody, ...]
    issued_on: date
    learning_outcomes: tuple[str, ...]
    ects: float
    eqf_level: int
    assessment_type: str
    participation: str
    quality_assurance: str
    qf_ehea_cycle: str | None = None
    identity_verification: str | None = None
    grade: str | None = None
    stackability: Stackability | None = None
    further_information: str | None = None

    def __post_init__(self) -> None:
        for name in (ISSUER_COUNTRY, AWARDING_BODY, LEARNING_OUTCOMES):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        validate_for_issue(self.to_claims())

    def to_claims(self) -> dict[str, Any]:
        """The claims as the issuer signs them (optional ones only when set)."""
        claims: dict[str, Any] = {
            LEARNER: self.learner.to_claims(),
            "title": self.title,
            ISSUER_COUNTRY: list(self.issuer_country),
            AWARDING_BODY: [body.to_claims() for body in self.awarding_body],
            "issued_on": self.issued_on.isoformat(),
            LEARNING_OUTCOMES: list(self.learning_outcomes),
            "ects": self.ects,
            EQF_LEVEL: self.eqf_level,
            QF_EHEA_CYCLE: self.qf_ehea_cycle,
            "assessment_type": self.assessment_type,
            "participation": self.participation,
            "quality_assurance": self.quality_assurance,
            "identity_verification": self.identity_verification,
            "grade": self.grade,
            STACKABILITY: self.stackability.to_claims() if self.stackability else None,
            "further_information": self.further_information,
        }
        return {name: value for name, value in claims.items() if value is not None}

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> MicroCredential:
        """Parse issuer-side claims (registered claims are ignored)."""
        validate_for_issue(claims)
        learner, stack = claims[LEARNER], claims.get(STACKABILITY)
        return cls(
            learner=Learner(
                given_name=learner["given_name"],
                family_name=learner["family_name"],
                birth_date=date.fromisoformat(learner["birth_date"]),
                student_id=learner["student_id"],
            ),
            title=claims["title"],
            issuer_country=tuple(claims[ISSUER_COUNTRY]),
            awarding_body=tuple(AwardingBody(**body) for body in claims[AWARDING_BODY]),
            issued_on=date.fromisoformat(claims["issued_on"]),
            learning_outcomes=tuple(claims[LEARNING_OUTCOMES]),
            ects=claims["ects"],
            eqf_level=claims[EQF_LEVEL],
            qf_ehea_cycle=claims.get(QF_EHEA_CYCLE),
            assessment_type=claims["assessment_type"],
            participation=claims["participation"],
            quality_assurance=claims["quality_assurance"],
            identity_verification=claims.get("identity_verification"),
            grade=claims.get("grade"),
            stackability=Stackability(**stack) if stack is not None else None,
            further_information=claims.get("further_information"),
        )
