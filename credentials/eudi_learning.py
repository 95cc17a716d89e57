"""The EUDI learning credential: SD-JWT VC ``urn:eu.europa.ec.eudi:learning:credential:1``.

The claim set is the one the EUDI Wallet reference issuer publishes
(``eu-digital-identity-wallet/eudi-srv-pid-issuer``: the SD-JWT VC type
metadata ``src/main/resources/vct/learning_credential.json`` and the encoder
``adapter/out/learningcredential/EncodeLearningCredential.kt``, commit 7c8ac09;
the Python reference issuer ``eudi-srv-web-issuing-eudiw-py`` advertises the
same claims). ``tests/vectors/eudi-learning/SOURCE.md`` cites both.

==================================  ======  =====================================
claim                               sd      JSON Schema (``schemas/eudi-learning-credential.schema.json``)
==================================  ======  =====================================
``issuing_authority``               never   text, required
``issuing_country``                 never   ISO 3166-1 alpha-2, required
``date_of_issuance``                never   full-date, required
``date_of_expiry``                  never   full-date
``family_name`` / ``given_name``    always  text (family name required at issuance)
``achievement_title``               never   text, required
``achievement_description``         never   text
``learning_outcomes``               always  list of text
``assessment_grade``                always  text
``language_of_classes``             never   list of language tags, at least one
``learner_identification``          always  text, required at issuance
``expected_study_time``             always  text ("12 months"), required at issuance
``level_of_learning_experience``    always  EQF level 1-8, required at issuance
``types_of_quality_assurance``      always  list of text, at least one at issuance
``prerequisites_to_enroll``         always  list of text
``integration_stackability_options`` always boolean
==================================  ======  =====================================

:func:`validate_eudi_learning_disclosed` is the verifier's gate (the claims a
holder disclosed: the never-disclosable ones must be there, the others are
checked when present); :func:`validate_eudi_learning_for_issue` the issuer's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from credentials._schema_check import non_finite_problems
from credentials.errors import InvalidCredentialData, SchemaViolation

__all__ = [
    "EUDI_LEARNING_VCT", "EUDI_LEARNING_SCHEMA_RESOURCE", "EUDI_LEARNING_CLAIM_LABELS",
    "EUDI_LEARNING_SELECTIVELY_DISCLOSABLE", "load_eudi_learning_schema", "eudi_learning_problems",
    "validate_eudi_learning_disclosed", "validate_eudi_learning_for_issue", "eudi_learning_frame",
]

EUDI_LEARNING_VCT = "urn:eu.europa.ec.eudi:learning:credential:1"
EUDI_LEARNING_SCHEMA_RESOURCE = "schemas/eudi-learning-credential.schema.json"

#: The claims the type metadata marks ``sd: always`` (the rest are ``never``).
EUDI_LEARNING_SELECTIVELY_DISCLOSABLE = (
    "family_name", "given_name", "learning_outcomes", "assessment_grade", "learner_identification",
    "expected_study_time", "level_of_learning_experience", "types_of_quality_assurance",
    "prerequisites_to_enroll", "integration_stackability_options",
)

#: English display labels, as the type metadata gives them.
EUDI_LEARNING_CLAIM_LABELS: dict[str, str] = {
    "issuing_authority": "Issuing Authority",
    "issuing_country": "Issuing Country",
    "date_of_issuance": "Date of Issuance",
    "date_of_expiry": "Date of Expiry",
    "family_name": "Family Name(s)",
    "given_name": "Given Name(s)",
    "achievement_title": "Achievement Title",
    "achievement_description": "Achievement Description",
    "learning_outcomes": "Learning Outcomes",
    "assessment_grade": "Assessment Grade",
    "language_of_classes": "Language of classes",
    "learner_identification": "Learner identification",
    "expected_study_time": "Expected study time",
    "level_of_learning_experience": "Level of learning experience",
    "types_of_quality_assurance": "Types of quality assurance",
    "prerequisites_to_enroll": "Prerequisites to enroll",
    "integration_stackability_options": "Integration or Stackability options",
}

_MAX_SHOWN = 60


@lru_cache(maxsize=1)
def load_eudi_learning_schema() -> dict[str, Any]:
    """The JSON Schema, read once from the package data."""
    text = resources.files("credentials").joinpath(EUDI_LEARNING_SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=2)
def _validator(disclosed: bool) -> Draft202012Validator:
    schema = load_eudi_learning_schema()
    if disclosed:
        schema = copy.deepcopy(schema)
        schema["required"] = [n for n in schema["required"] if n not in EUDI_LEARNING_SELECTIVELY_DISCLOSABLE]
        for name in ("learning_outcomes", "types_of_quality_assurance", "prerequisites_to_enroll"):
            schema["properties"][name].pop("minItems", None)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _describe(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(claims)"
    kind, expected, found = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{missing}: missing"
    if kind == "type":
        return f"{path}: expected {expected}, found {type(found).__name__}"
    if kind == "enum":
        return f"{path}: {_shown(found)} is not an ISO 3166-1 alpha-2 country code (upper case, e.g. 'IT')"
    if kind == "format":
        return f"{path}: {_shown(found)} is not a valid {expected} (expected YYYY-MM-DD)"
    if kind == "const":
        return f"{path}: expected {expected!r}, found {_shown(found)}"
    if kind in ("minimum", "maximum"):
        return f"{path}: expected a level from 1 to 8, found {_shown(found)}"
    if kind == "pattern":
        wanted = "text that is not blank" if expected == chr(92) + "S" else "a language tag"
        return f"{path}: expected {wanted}, found {_shown(found)}"
    return f"{path}: {error.message[:200]}"


def eudi_learning_problems(claims: Any, *, disclosed: bool) -> list[str]:
    """Every problem with ``claims`` as ``"path: what is wrong"``, sorted."""
    if not isinstance(claims, Mapping):
        return [f"(claims): expected an object, found {type(claims).__name__}"]
    instance = dict(claims)
    problems = [f"{'.'.join(map(str, path))}: {message}" for path, message in non_finite_problems(instance, [])]
    problems.extend(_describe(error) for error in _validator(disclosed).iter_errors(instance))
    return sorted(dict.fromkeys(problems))


def validate_eudi_learning_disclosed(claims: Mapping[str, Any]) -> None:
    """The verifier's gate on disclosed claims: raise :class:`SchemaViolation`."""
    problems = eudi_learning_problems(claims, disclosed=True)
    if problems:
        raise SchemaViolation("the disclosed claims do not fit the EUDI learning credential schema: "
                              + "; ".join(problems))


def validate_eudi_learning_for_issue(claims: Mapping[str, Any]) -> None:
    """The issuer's gate: raise :class:`InvalidCredentialData` listing every problem.

    ``claims`` are the credential's own claims plus ``iss``, ``iat`` and ``vct``
    as they will be signed."""
    problems = eudi_learning_problems(claims, disclosed=False)
    if problems:
        raise InvalidCredentialData(problems)


def eudi_learning_frame(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The SD-JWT disclosure frame the type metadata prescribes: each ``sd: always``
    claim present is disclosable on its own (lists as a whole, as the reference issuer does)."""
    return {"_sd": [name for name in EUDI_LEARNING_SELECTIVELY_DISCLOSABLE if name in claims]}
