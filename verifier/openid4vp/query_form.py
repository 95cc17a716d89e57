"""The employer's "new request" form, in words an employer uses, turned into a DCQL query.

DCQL is OpenID4VP 1.0 §6; the query is built with :mod:`credentials.dcql`
(and checked there, :meth:`~credentials.dcql.DcqlQuery.parse`). The form asks
for up to :data:`SLOTS` micro-credentials; each slot says

- whether it is required, optional, or an alternative to the slot before
  (→ ``credential_sets``, §6.2: a group of alternatives is one set whose
  options are its slots; an optional slot is a set with ``required: false``;
  with every slot required there are no sets, §6.1);
- whether one or several credentials may answer it (``multiple``, §6.1);
- per claim: required, optional or not asked; optional ones make
  ``claim_sets`` (§6.3.1.2): first everything, else the required ones only;
- the allowed EQF levels and forms of participation (``values``, §6.3:
  exact matches), which imply asking for that claim.

Field names: ``c<slot>-use`` (``required`` | ``optional`` | ``alternative`` |
``off``), ``c<slot>-multiple``, ``c<slot>-claim-<claim>`` (``required`` |
``optional`` | empty), ``c<slot>-eqf_level`` and ``c<slot>-participation``
(repeated values), and ``response_mode``. A bare ``claim`` list is the
short form: one micro-credential with those claims required.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from credentials.dcql import ClaimQuery, CredentialQuery, CredentialSetQuery, DcqlQuery
from credentials.errors import InvalidInput
from credentials.microcredential import CLAIM_LABELS, MICRO_CREDENTIAL_VCT
from infra.settings import RESPONSE_MODES

__all__ = ["SLOTS", "FORM_CLAIMS", "DEFAULT_CLAIMS", "VALUE_CHOICES", "USES", "FormRequest", "slot_query_id",
           "read_form", "describe"]

SLOTS = 3
SD_JWT_VC_FORMAT = "dc+sd-jwt"
#: The claims the form offers, in Annex I order (the learner's parts one by one).
FORM_CLAIMS = ("learner.given_name", "learner.family_name", "learner.birth_date", "learner.student_id", "title",
               "issuer_country", "awarding_body", "issued_on", "learning_outcomes", "ects", "eqf_level",
               "qf_ehea_cycle", "assessment_type", "participation", "quality_assurance", "identity_verification",
               "grade", "stackability", "further_information")
DEFAULT_CLAIMS = ("title", "ects", "eqf_level")
#: Claims with allowed values the form offers (exact DCQL ``values``), and the values.
VALUE_CHOICES: dict[str, tuple[int | str, ...]] = {
    "eqf_level": tuple(range(1, 9)), "participation": ("online", "onsite", "blended")}
USES = ("required", "optional", "alternative", "off")


def slot_query_id(slot: int) -> str:
    """The credential query id of a slot: ``microcredential``, ``microcredential_2``, …"""
    return "microcredential" if slot == 1 else f"microcredential_{slot}"


def _claim_id(name: str) -> str:
    return name.replace(".", "_")


@dataclass(frozen=True)
class FormRequest:
    query: DcqlQuery
    response_mode: str


def read_form(form: MultiDict, *, default_mode: str) -> FormRequest:
    """The form's DCQL query and response mode; InvalidInput saying what to change."""
    mode = form.get("response_mode") or default_mode
    if mode not in RESPONSE_MODES:
        raise InvalidInput(f"response_mode must be one of {', '.join(RESPONSE_MODES)}; found {mode[:40]!r}")
    if "claim" in form:
        chosen = tuple(name for name in ("learner", *FORM_CLAIMS) if name in form.getlist("claim"))
        if not chosen:
            raise InvalidInput("choose at least one thing to ask for")
        return FormRequest(DcqlQuery((_credential(1, chosen, (), {}, multiple=False),), None), mode)
    slots: list[tuple[int, str, CredentialQuery]] = []
    for slot in range(1, SLOTS + 1):
        use = form.get(f"c{slot}-use") or ("required" if slot == 1 else "off")
        if use not in USES or (slot == 1 and use in ("alternative", "off")):
            raise InvalidInput(f"credential {slot}: expected one of required, optional"
                               f"{', alternative, off' if slot > 1 else ''}; found {use[:40]!r}")
        if use == "off":
            continue
        slots.append((slot, use, _slot_query(form, slot)))
    return FormRequest(DcqlQuery(tuple(q for _, _, q in slots), _credential_sets(slots)), mode)


def _slot_query(form: MultiDict, slot: int) -> CredentialQuery:
    required: list[str] = []
    optional: list[str] = []
    values: dict[str, tuple[Any, ...]] = {}
    for name in FORM_CLAIMS:
        choice = form.get(f"c{slot}-claim-{name}", "")
        if choice not in ("required", "optional", ""):
            raise InvalidInput(f"credential {slot}, {CLAIM_LABELS.get(name, name)}: expected required, optional or "
                               f"nothing; found {choice[:40]!r}")
        allowed = _allowed(form, slot, name)
        if allowed:
            values[name] = allowed
            choice = choice or "required"  # an allowed value means the claim is asked for
        (required if choice == "required" else optional if choice == "optional" else []).append(name)
    if not required:
        raise InvalidInput(f"credential {slot}: mark at least one thing as required")
    return _credential(slot, tuple(required), tuple(optional), values, multiple=bool(form.get(f"c{slot}-multiple")))


def _allowed(form: MultiDict, slot: int, name: str) -> tuple[Any, ...]:
    choices = VALUE_CHOICES.get(name)
    if choices is None:
        return ()
    given = form.getlist(f"c{slot}-{name}")
    by_text = {str(choice): choice for choice in choices}
    wrong = [value for value in given if value not in by_text]
    if wrong:
        raise InvalidInput(f"credential {slot}, {CLAIM_LABELS.get(name, name)}: expected values among "
                           f"{', '.join(by_text)}; found {wrong[0][:40]!r}")
    return tuple(choice for choice in choices if str(choice) in given)


def _credential(slot: int, required: Sequence[str], optional: Sequence[str], values: dict[str, tuple[Any, ...]],
                *, multiple: bool) -> CredentialQuery:
    claims = tuple(ClaimQuery(_claim_id(name), tuple(name.split(".")), values.get(name) or None)
                   for name in (*required, *optional))
    claim_sets = None
    if optional:
        claim_sets = (tuple(_claim_id(n) for n in (*required, *optional)), tuple(_claim_id(n) for n in required))
    return CredentialQuery(id=slot_query_id(slot), format=SD_JWT_VC_FORMAT, type_values=((MICRO_CREDENTIAL_VCT,),),
                           claims=claims, claim_sets=claim_sets, multiple=multiple)


def _credential_sets(slots: list[tuple[int, str, CredentialQuery]]) -> tuple[CredentialSetQuery, ...] | None:
    if all(use == "required" for _, use, _ in slots):
        return None  # §6.1: without credential_sets every credential query is required
    groups: list[tuple[bool, list[str]]] = []
    for _, use, query in slots:
        if use == "alternative":
            groups[-1][1].append(query.id)
        else:
            groups.append((use == "required", [query.id]))
    if not any(required for required, _ in groups):
        raise InvalidInput("at least one credential must be required")
    return tuple(CredentialSetQuery(options=tuple((qid,) for qid in ids), required=required)
                 for required, ids in groups)


def _label(path: Sequence[Any]) -> str:
    name = ".".join(str(p) for p in path)
    return CLAIM_LABELS.get(name, name)


def describe(query: DcqlQuery) -> list[str]:
    """The request in the employer's words, one line per credential set (or credential)."""
    by_id = {q.id: q for q in query.credentials}
    lines = []
    groups = ([(s.required, [option[0] for option in s.options]) for s in query.credential_sets]
              if query.credential_sets else [(True, [q.id]) for q in query.credentials])
    for required, ids in groups:
        words = " — or — ".join(_describe_credential(by_id[qid]) for qid in ids if qid in by_id)
        lines.append(f"{'Required' if required else 'Optional'}: {words}")
    return lines


def _describe_credential(query: CredentialQuery) -> str:
    kind = "one or more micro-credentials" if query.multiple else "a micro-credential"
    claims = query.claims or ()
    required_ids = set(query.claim_sets[-1]) if query.claim_sets else {c.id for c in claims}
    parts = []
    for wanted, word in ((True, "showing"), (False, "optionally")):
        names = []
        for claim in claims:
            if (claim.id in required_ids) != wanted:
                continue
            allowed = f": only {' or '.join(str(v) for v in claim.values)}" if claim.values else ""
            names.append(_label(claim.path) + allowed)
        if names:
            parts.append(f"{word} {', '.join(names)}")
    return f"{kind} {'; '.join(parts)}" if parts else kind
