"""Evaluating a DCQL query (OpenID for Verifiable Presentations 1.0, §6.4 and §7) on both sides.

- :func:`match` (wallet): for each Credential Query the held credentials that
  answer it and the claims to disclose — every claim of ``claims``, or the
  first of the ``claim_sets`` the credential satisfies (§6.4.1); then which
  options of each credential set can be answered and whether the whole query
  can (§6.4.2; without ``credential_sets`` every query is required).
- :func:`check_response` (verifier): whether a verified answer satisfies the
  query — only known query ids, one presentation unless ``multiple``, the
  format and type asked for, every required claim disclosed with an allowed
  value (here ANY claim set satisfies), and an option of every required
  credential set answered. Security Considerations, "Security Checks on the Returned
  Credentials and Presentations": the verifier must not rely on the wallet for these.

Claims path pointers are processed as §7.1.1 says (a string selects a member
of every selected object, ``null`` every element of every selected array, an
integer one element; a component that meets the wrong kind of value is an
error; an empty result is an error). A JSON ``null`` claim value counts as not
disclosed. In a verified answer an integer index selects any element, since
selective disclosure drops the elements the holder kept back and so moves the
others (as the independent ``dcql`` TypeScript implementation does).
``values`` match exactly, type included (§6.3): ``true`` is not ``1``.

The query types come from :mod:`credentials.dcql` (this module only reads
them, through the protocols below), so ``credentials.dcql`` can re-export
everything here without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "ClaimPath",
    "ClaimValue",
    "Candidate",
    "CandidateMatch",
    "SetMatch",
    "QueryMatch",
    "Presented",
    "match",
    "check_response",
    "resolve_claim_path",
    "describe_path",
]

ClaimPath = tuple[str | int | None, ...]
ClaimValue = str | int | bool


class _Claim(Protocol):
    @property
    def id(self) -> str | None: ...
    @property
    def path(self) -> ClaimPath: ...
    @property
    def values(self) -> tuple[ClaimValue, ...] | None: ...


class _Authority(Protocol):
    @property
    def type(self) -> str: ...


class _CredentialQuery(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def type_values(self) -> tuple[tuple[str, ...], ...] | None: ...
    @property
    def claims(self) -> tuple[_Claim, ...] | None: ...
    @property
    def claim_sets(self) -> tuple[tuple[str, ...], ...] | None: ...
    @property
    def multiple(self) -> bool: ...
    @property
    def require_cryptographic_holder_binding(self) -> bool: ...
    @property
    def trusted_authorities(self) -> tuple[_Authority, ...] | None: ...


class _CredentialSet(Protocol):
    @property
    def options(self) -> tuple[tuple[str, ...], ...]: ...
    @property
    def required(self) -> bool: ...


class _Query(Protocol):
    @property
    def credentials(self) -> tuple[_CredentialQuery, ...]: ...
    @property
    def credential_sets(self) -> tuple[_CredentialSet, ...] | None: ...


@dataclass(frozen=True)
class Candidate:
    """A credential the wallet holds, as the matcher sees it.

    ``type_values``: the ``vct`` (and any types it extends) of an SD-JWT VC, the ``type``
    entries of a W3C credential (give both the short and the expanded form where they
    differ); ``claims``: every claim the holder could disclose plus the always-visible ones;
    ``holder_binding``: whether the credential is bound to a key the holder proves.
    """

    ref: str
    format: str
    type_values: tuple[str, ...]
    claims: Mapping[str, Any]
    holder_binding: bool = True


@dataclass(frozen=True)
class CandidateMatch:
    """A candidate that answers a credential query: the concrete claim paths to disclose (no ``null``
    in them, in query order), and the claim set it satisfies (``None`` when the query has none)."""

    ref: str
    paths_to_disclose: tuple[ClaimPath, ...]
    claim_set: tuple[str, ...] | None
    # Without ``multiple`` the wallet sends ONE of a query's matches (§8.1); which one is the holder's choice.


@dataclass(frozen=True)
class SetMatch:
    """One credential set (or, without ``credential_sets``, the implicit one of all queries)."""

    options: tuple[tuple[str, ...], ...]
    satisfiable_options: tuple[tuple[str, ...], ...]
    required: bool
    implicit: bool = False

    @property
    def satisfiable(self) -> bool:
        return bool(self.satisfiable_options)


@dataclass(frozen=True)
class QueryMatch:
    """What a wallet can answer. ``reasons`` says, per query nothing answers, why (plain words).

    ``missing_reason`` and ``reasons`` are for the holder's screen only: they can name claim values,
    and the wallet must not let the verifier tell a value mismatch from a refusal (Privacy
    Considerations, "DCQL Value Matching"): answer both with the same error."""

    per_query: Mapping[str, tuple[CandidateMatch, ...]]
    sets: tuple[SetMatch, ...]
    satisfiable: bool
    missing_reason: str | None
    reasons: Mapping[str, str] = field(default_factory=dict)

    @property
    def requested(self) -> tuple[str, ...]:
        """The query ids some option of some set names (a query in no set is not requested)."""
        seen: dict[str, None] = {}
        for item in self.sets:
            for option in item.options:
                seen.update(dict.fromkeys(option))
        return tuple(seen)


@dataclass(frozen=True)
class Presented:
    """One verified presentation as the verifier sees it: ``claims`` holds the DISCLOSED claims only;
    ``holder_binding`` is False for a credential presented without a holder binding proof."""

    format: str
    type_values: tuple[str, ...]
    claims: Mapping[str, Any]
    holder_binding: bool = True


# --- claims path pointers (§7) ------------------------------------------------------------------

def resolve_claim_path(claims: Mapping[str, Any], path: ClaimPath, *,
                       any_index: bool = False) -> tuple[tuple[ClaimPath, Any], ...] | None:
    """The claims a pointer selects, each with its concrete path; ``None`` where §7.1.1 returns an
    error (a component meeting the wrong kind of value, or nothing selected). JSON ``null`` values
    are not selected. ``any_index``: an integer selects every element (for disclosed answers)."""
    selected: list[tuple[ClaimPath, Any]] = [((), claims)]
    for component in path:
        following: list[tuple[ClaimPath, Any]] = []
        for where, value in selected:
            if isinstance(component, str):
                if not isinstance(value, Mapping):
                    return None
                if component in value:
                    following.append(((*where, component), value[component]))
            elif not isinstance(value, list):
                return None
            elif component is None or any_index:
                following.extend(((*where, index), element) for index, element in enumerate(value))
            elif component < len(value):
                following.append(((*where, component), value[component]))
        selected = [(where, value) for where, value in following if value is not None]
    return tuple(selected) or None


def describe_path(path: ClaimPath) -> str:
    """A pointer for people: ``address.street_address``, ``degrees[].type``, ``nationalities[1]``."""
    text = ""
    for component in path:
        if isinstance(component, str):
            component = component if len(component) <= 40 else component[:40] + "…"
            text += f".{component}" if text else component
        else:
            text += "[]" if component is None else f"[{component}]"
    return text


def _same(value: Any, allowed: ClaimValue) -> bool:
    """Exact match, type included: a boolean never equals an integer; ``5.0`` equals ``5`` (one JSON number)."""
    if isinstance(allowed, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(allowed, bool) and value is allowed
    if isinstance(allowed, int):
        return isinstance(value, (int, float)) and value == allowed
    return isinstance(value, str) and value == allowed


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'
    return "an object" if isinstance(value, Mapping) else "an array" if isinstance(value, list) else "another value"


def _claim_problem(claims: Mapping[str, Any], claim: _Claim, *, any_index: bool) -> tuple[bool, str | None]:
    """(is the claim there at all, what is wrong with it or None)."""
    found = resolve_claim_path(claims, claim.path, any_index=any_index)
    name = describe_path(claim.path)
    if found is None:
        return False, name
    if claim.values is None:
        return True, None
    allowed = claim.values
    if any(_same(value, entry) for _, value in found for entry in allowed):
        return True, None
    options = ", ".join(_show(entry) for entry in allowed)
    if len(found) == 1:
        return True, f"'{name}' is {_show(found[0][1])}, not one of the allowed values {options}"
    return True, f"no value of '{name}' is one of the allowed values {options}"


def _claims_problems(claims: Mapping[str, Any], selected: Sequence[_Claim], *, disclosed: bool,
                     whose: str) -> tuple[list[str], int]:
    """(problems, how many claims fail)."""
    missing: list[str] = []
    wrong: list[str] = []
    for claim in selected:
        present, problem = _claim_problem(claims, claim, any_index=disclosed)
        if problem is not None:
            (wrong if present else missing).append(problem)
    verb = "does not disclose" if disclosed else "lacks"
    head = [f"{whose} {verb} {', '.join(missing)} that the request requires"] if missing else []
    return head + wrong, len(missing) + len(wrong)


def _claims_outcome(query: _CredentialQuery, claims: Mapping[str, Any], *, disclosed: bool,
                    whose: str) -> tuple[tuple[str, ...] | None, tuple[_Claim, ...], list[str]]:
    """(the claim set used, the claims it selects, problems); no problems = satisfied.

    With ``claim_sets`` the first satisfied option wins; when none is, the problems are those of
    the option with the fewest failing claims."""
    if query.claims is None:
        return None, (), []
    if query.claim_sets is None:
        return None, query.claims, _claims_problems(claims, query.claims, disclosed=disclosed, whose=whose)[0]
    by_id = {claim.id: claim for claim in query.claims}
    best: tuple[list[str], int] | None = None
    for option in query.claim_sets:
        chosen = tuple(by_id[name] for name in option)
        problems = _claims_problems(claims, chosen, disclosed=disclosed, whose="it")
        if not problems[0]:
            return option, chosen, []
        if best is None or problems[1] < best[1]:
            best = problems
    alternatives = " or ".join(f"({', '.join(option)})" for option in query.claim_sets)
    return None, (), [f"{whose} satisfies none of the claim sets the request allows, {alternatives}; closest: "
                      + "; ".join(best[0] if best else ())]


def _types_text(alternatives: tuple[tuple[str, ...], ...]) -> str:
    return " or ".join(" + ".join(_show(kind)[1:-1] for kind in types) for types in alternatives)


def _type_ok(query: _CredentialQuery, type_values: tuple[str, ...]) -> bool:
    """Some alternative's types are all among the credential's (B.1.1, B.3.5; a doctype is one type)."""
    return query.type_values is None or any(set(types) <= set(type_values) for types in query.type_values)


def _kind_problems(query: _CredentialQuery, fmt: str, type_values: tuple[str, ...], holder_binding: bool,
                   whose: str) -> list[str]:
    if fmt != query.format:
        return [f"{whose} is a {fmt} credential, not {query.format}"]
    problems = []
    if query.type_values is not None and not _type_ok(query, type_values):
        shown = ", ".join(type_values) or "none"
        problems.append(f"{whose} is of type {shown}, not one the request allows ({_types_text(query.type_values)})")
    if query.require_cryptographic_holder_binding and not holder_binding:
        problems.append(f"{whose} has no holder binding proof, which the request requires")
    return problems


# --- wallet side ----------------------------------------------------------------------------------

def _candidate_outcome(query: _CredentialQuery, candidate: Candidate) -> tuple[int, CandidateMatch | None, str]:
    """(how far the candidate got: 0 format, 1 type, 2 trust / binding, 3 claims, 4 matched; match; why not)."""
    if candidate.format != query.format:
        return 0, None, f"no {query.format} credential is held"
    if not _type_ok(query, candidate.type_values):
        return 1, None, f"no held {query.format} credential is of type {_types_text(query.type_values or ())}"
    if query.trusted_authorities is not None:
        kinds = ", ".join(sorted({entry.type for entry in query.trusted_authorities}))
        return 2, None, f"the request limits issuers by trusted_authorities ({kinds}), which this wallet cannot check"
    if query.require_cryptographic_holder_binding and not candidate.holder_binding:
        return 2, None, "the matching credential is not bound to a holder key, and the request requires that"
    claim_set, chosen, problems = _claims_outcome(query, candidate.claims, disclosed=False,
                                                  whose="the matching credential")
    if problems:
        return 3, None, "; ".join(problems)
    paths: list[ClaimPath] = []
    for claim in chosen:
        for where, value in resolve_claim_path(candidate.claims, claim.path) or ():
            if claim.values is None or any(_same(value, allowed) for allowed in claim.values):
                paths.append(where)
    return 4, CandidateMatch(ref=candidate.ref, paths_to_disclose=tuple(dict.fromkeys(paths)), claim_set=claim_set), ""


def _option_text(options: tuple[tuple[str, ...], ...]) -> str:
    return " | ".join(" + ".join(option) for option in options)


def _sets(query: _Query) -> tuple[tuple[tuple[tuple[str, ...], ...], bool, bool], ...]:
    """(options, required, implicit) per credential set; without ``credential_sets``, all queries in one."""
    if query.credential_sets is None:
        return ((tuple(q.id for q in query.credentials),), True, True),
    return tuple((item.options, item.required, False) for item in query.credential_sets)


def match(query: _Query, candidates: Sequence[Candidate]) -> QueryMatch:
    """What the wallet holding ``candidates`` can answer to ``query`` (§6.4)."""
    per_query: dict[str, tuple[CandidateMatch, ...]] = {}
    reasons: dict[str, str] = {}
    for credential_query in query.credentials:
        outcomes = [_candidate_outcome(credential_query, candidate) for candidate in candidates]
        per_query[credential_query.id] = tuple(found for _, found, _ in outcomes if found is not None)
        if not per_query[credential_query.id]:
            reasons[credential_query.id] = max(outcomes, key=lambda outcome: outcome[0])[2] if outcomes else \
                "the wallet holds no credential"
    sets = tuple(SetMatch(options=options, required=required, implicit=implicit,
                          satisfiable_options=tuple(o for o in options if all(per_query[i] for i in o)))
                 for options, required, implicit in _sets(query))
    unmet = [item for item in sets if item.required and not item.satisfiable]
    missing_reason = None
    if unmet:
        item = unmet[0]
        lacking = [name for option in item.options for name in option if name in reasons]
        why = "; ".join(f"'{name}': {reasons[name]}" for name in dict.fromkeys(lacking))
        if item.implicit:
            missing_reason = f"the wallet cannot answer every credential the request requires ({why})"
        else:
            missing_reason = (f"no option of the required credential set ({_option_text(item.options)}) "
                              f"can be answered ({why})")
    return QueryMatch(per_query=per_query, sets=sets, satisfiable=not unmet, missing_reason=missing_reason,
                      reasons=reasons)


# --- verifier side --------------------------------------------------------------------------------

def _presentation_problems(query: _CredentialQuery, presentation: Presented, whose: str) -> list[str]:
    problems = _kind_problems(query, presentation.format, presentation.type_values, presentation.holder_binding,
                              whose)
    if problems and presentation.format != query.format:
        return problems
    return problems + _claims_outcome(query, presentation.claims, disclosed=True, whose=whose)[2]


def check_response(query: _Query, presented: Mapping[str, Sequence[Presented]]) -> tuple[str, ...]:
    """``()`` when the verified answer satisfies ``query``; else plain-language problems (§6.4, §8.1)."""
    known = {credential_query.id: credential_query for credential_query in query.credentials}
    problems = [f"the answer names a query the request did not make: '{name}'"
                for name in presented if name not in known]
    satisfied: set[str] = set()
    for name, credential_query in known.items():
        if name not in presented:
            continue
        answers = presented[name]
        found: list[str] = []
        if not answers:
            found.append(f"the answer for '{name}' holds no presentation")
        elif len(answers) > 1 and not credential_query.multiple:
            found.append(f"'{name}' answered with {len(answers)} presentations; the request allows one")
        for number, presentation in enumerate(answers, start=1):
            whose = f"the answer for '{name}'" if len(answers) == 1 else f"presentation {number} for '{name}'"
            found.extend(_presentation_problems(credential_query, presentation, whose))
        problems.extend(found)
        if not found:
            satisfied.add(name)
    for options, required, implicit in _sets(query):
        if not required or any(all(name in satisfied for name in option) for option in options):
            continue
        if implicit:
            problems.extend(f"the answer lacks '{name}' that the request requires"
                            for name in options[0] if name not in presented)
        elif not any(all(name in presented for name in option) for option in options):
            problems.append(f"no option of the required credential set ({_option_text(options)}) was answered")
    return tuple(problems)
