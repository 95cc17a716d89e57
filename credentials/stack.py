"""A stack: several presentations shown together, one verdict each and one line for all of them.

Implements the stacking rules of the project's domain notes (a learner shows
several micro-credentials together; the employer wants one answer per
credential and the sum — total ECTS, the range of EQF levels, the issuers —
counting only verified, unrevoked ones; a credential's ``stackability``,
Annex I optional element "integration / stackability" of Council
Recommendation 2022/C 243/02, is shown beside the sum) and the stack of
ARCHITECTURE.md "Verifier HTTP API" ⚑ (``{"presentations": [...], "nonce",
"audience"}`` → ``{"verified", "results", "summary"}``).

Two steps over results that :func:`credentials.verification.verify_presentation`
made, one per presentation:

:func:`bind_stack`   stack integrity: every presentation's holder proof (the
                     SD-JWT VC's Key Binding JWT, or the holder-signed VP of a
                     whole credential) must carry the same ``nonce`` and ``aud``
                     — the expected ones when the caller gives them, else those
                     of the first presentation whose holder proof passed. A
                     presentation bound to another nonce or audience, or shown
                     without any holder proof, fails ``holder_binding`` saying so:
                     nobody can slip a presentation made for another request, or
                     a copied credential, into a stack.
:func:`summarise`    the :class:`StackSummary`: how many, how many verified, ECTS
                     and EQF range over the verified ones (the Annex I view of each
                     format, :class:`credentials.annex_view.AnnexView`; for a type
                     without a view, its ``ects`` / ``eqf_level`` claims), the
                     issuers' names, each credential's stackability.

:func:`stack_result` does both, and with the presentations given it also
counts each credential once: a credential shown twice in one stack (two
presentations of it, each fresh, so no replay) fails ``replay`` the second time,
so its ECTS cannot be added twice (:func:`credential_fingerprint`: the SHA-256
of the SD-JWT VC's issuer-signed JWT, or of the whole credential inside a
holder-signed presentation). No I/O here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from credentials._json import json_loads
from credentials.annex_view import non_negative_number, pick_language
from credentials.errors import InvalidInput, VerificationError
from credentials.jose import IMPORTED_FORMAT_ALGS, UnverifiedJws
from credentials.verification_model import FAILED, PASSED, SKIPPED, CheckResult, VerificationResult
from credentials.verification_vp import looks_like_presentation, parse_presentation

__all__ = ["MAX_STACK_PRESENTATIONS", "StackabilityEntry", "StackSummary", "StackResult", "bind_stack", "summarise",
           "stack_result", "credential_fingerprint", "count_once"]

#: A stack holds at most this many presentations (the API answers 413 beyond).
MAX_STACK_PRESENTATIONS = 16
_HOLDER_BINDING = "holder_binding"
_NO_PROOF = ("in a stack every credential must come with its holder's proof (a Key Binding JWT or a holder-signed "
             "presentation) bound to the stack's nonce and audience; this one has none")


@dataclass(frozen=True)
class StackabilityEntry:
    """What one verified credential says about stacking: its title, the value as stated, and in plain words."""

    title: str | None
    stated: Any
    text: str
    stackable: bool | None
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "stated": self.stated, "text": self.text, "stackable": self.stackable,
                "target": self.target}


@dataclass(frozen=True)
class StackSummary:
    """One stack in numbers; ECTS, EQF range, issuers and stackability count verified credentials only.

    ``ects_counted``: verified credentials that state ECTS (their sum is
    ``ects_total``); ``undecided``: not verified because a check could not be
    completed now, none failed.
    """

    count: int
    verified: int
    undecided: int
    ects_total: Decimal
    ects_counted: int
    eqf_min: int | None
    eqf_max: int | None
    issuers: tuple[str, ...]
    stackability: tuple[StackabilityEntry, ...]

    @property
    def line(self) -> str:
        """The stack in one line, e.g. ``3 of 3 verified · 14 ECTS · EQF 6–7``."""
        parts = [f"{self.verified} of {self.count} verified"
                 + (f" ({self.undecided} could not be checked now)" if self.undecided else "")]
        if self.ects_counted:
            parts.append(f"{_decimal_text(self.ects_total)} ECTS")
        if self.eqf_min is not None:
            same = self.eqf_min == self.eqf_max
            parts.append(f"EQF {self.eqf_min}" if same else f"EQF {self.eqf_min}–{self.eqf_max}")
        return " · ".join(parts)

    def towards(self) -> tuple[tuple[str, int], ...]:
        """Each named larger credential the verified ones stack towards, with how many do."""
        found: dict[str, int] = {}
        for entry in self.stackability:
            if entry.target:
                found[entry.target] = found.get(entry.target, 0) + 1
        return tuple(found.items())

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "verified": self.verified, "undecided": self.undecided,
                "ects_total": _decimal_json(self.ects_total), "ects_counted": self.ects_counted,
                "eqf_min": self.eqf_min, "eqf_max": self.eqf_max, "issuers": list(self.issuers),
                "stackability": [entry.to_json() for entry in self.stackability], "line": self.line}


@dataclass(frozen=True)
class StackResult:
    """Every presentation's result (after :func:`bind_stack`) and the summary.

    ``problems``: what is wrong with the answer as a whole (e.g. an OpenID4VP
    answer that does not meet its request), in plain words; any makes the
    stack not verified.
    """

    results: tuple[VerificationResult, ...]
    summary: StackSummary
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return bool(self.results) and all(r.verified for r in self.results) and not self.problems

    @property
    def undecided(self) -> bool:
        """Nothing failed, but a check of some presentation could not be completed."""
        return not self.problems and any(r.undecided for r in self.results) and \
            not any(not r.verified and not r.undecided for r in self.results)

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"verified": self.verified, "results": [r.to_json() for r in self.results],
                                  "summary": self.summary.to_json()}
        if self.problems:
            answer["problems"] = list(self.problems)
        return answer


def _bound(result: VerificationResult) -> tuple[str | None, str | None] | None:
    """(nonce, audience) the presentation's holder proof carries, or None when it has none that passed."""
    binding = result.holder_binding
    if result.check(_HOLDER_BINDING).status != PASSED or not isinstance(binding, Mapping):
        return None
    nonce, audience = binding.get("nonce"), binding.get("audience")
    return (nonce if isinstance(nonce, str) else None, audience if isinstance(audience, str) else None)


def _failed(result: VerificationResult, check: str, reason: str) -> VerificationResult:
    checks = tuple(CheckResult(c.check, FAILED, reason) if c.check == check else c for c in result.checks)
    return replace(result, checks=checks)


def _failed_binding(result: VerificationResult, reason: str) -> VerificationResult:
    return _failed(result, _HOLDER_BINDING, reason)


def credential_fingerprint(presentation: str) -> str | None:
    """The SHA-256 (hex) of the credential a presentation shows, whoever presents it; None if it has no form.

    An SD-JWT VC: its issuer-signed JWT (every presentation of one credential
    carries the same). A holder-signed VP: the credential inside it; a whole
    credential shown on its own: itself (a JWT as is, JSON in sorted-keys form).
    """
    text = presentation.strip() if isinstance(presentation, str) else ""
    try:
        if "~" in text and not text.startswith("{"):
            return hashlib.sha256(text.split("~", 1)[0].encode("utf-8")).hexdigest()
        if text.startswith("{"):
            document = json_loads(text, what="the presentation")
            if not isinstance(document, dict):
                return None
            inner: Any = parse_presentation(document).credential if looks_like_presentation(document) else document
        else:
            jws = UnverifiedJws.parse(text, what="JWT", allowed_algs=IMPORTED_FORMAT_ALGS)
            inner = parse_presentation(text).credential if looks_like_presentation(jws) else text
    except (InvalidInput, VerificationError, RecursionError, ValueError):
        return None
    canonical = inner if isinstance(inner, str) else json.dumps(inner, sort_keys=True, ensure_ascii=False,
                                                                separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()


def count_once(results: Sequence[VerificationResult], presentations: Sequence[str]) -> tuple[VerificationResult, ...]:
    """The results with ``replay`` failed for every presentation of a credential shown earlier in the stack."""
    seen: dict[str, int] = {}
    checked: list[VerificationResult] = []
    for position, (result, presentation) in enumerate(zip(results, presentations, strict=False), start=1):
        fingerprint = credential_fingerprint(presentation)
        if fingerprint is not None and fingerprint in seen and result.check("replay").status != FAILED:
            result = _failed(result, "replay", f"this credential is already shown as presentation {seen[fingerprint]} "
                                               "of this stack; a credential counts once")
        elif fingerprint is not None:
            seen.setdefault(fingerprint, position)
        checked.append(result)
    return (*checked, *results[len(checked):])


def bind_stack(results: Sequence[VerificationResult], *, nonce: str | None = None,
               audience: str | None = None) -> tuple[VerificationResult, ...]:
    """The results with ``holder_binding`` failed for every presentation not bound like the rest of the stack.

    The stack's nonce and audience are ``nonce`` / ``audience`` when given,
    else those of the first presentation whose holder proof passed. A result
    whose ``holder_binding`` already failed, or was skipped because an earlier
    check failed, is returned unchanged.
    """
    bindings = [_bound(r) for r in results]
    first = next((b for b in bindings if b is not None), (None, None))
    stack_nonce = nonce if nonce is not None else first[0]
    stack_audience = audience if audience is not None else first[1]
    checked: list[VerificationResult] = []
    for result, bound in zip(results, bindings, strict=True):
        binding_check = result.check(_HOLDER_BINDING)
        if bound is None:
            unbound = binding_check.status == PASSED or (binding_check.status == SKIPPED and not binding_check.required)
            checked.append(_failed_binding(result, _NO_PROOF) if unbound else result)
            continue
        shown_nonce, shown_audience = bound
        if shown_audience != stack_audience:
            checked.append(_failed_binding(result, (
                f"this presentation was made for {str(shown_audience)[:80]!r}, not for the stack's audience "
                f"{str(stack_audience)[:80]!r}: every presentation of one stack must be made for the same request")))
        elif shown_nonce != stack_nonce:
            checked.append(_failed_binding(result, (
                "this presentation carries another nonce than the rest of the stack: every presentation of one "
                "stack must be made for the same request")))
        else:
            checked.append(result)
    return tuple(checked)


def _ects(result: VerificationResult) -> Decimal | None:
    if result.annex is not None:
        return result.annex.ects_value
    return non_negative_number(result.claims.get("ects"))


def _eqf(result: VerificationResult) -> int | None:
    if result.annex is not None:
        return result.annex.eqf_level_value
    level = non_negative_number(result.claims.get("eqf_level"))
    if level is None or level != level.to_integral_value() or not 1 <= level <= 8:
        return None
    return int(level)


def _title(result: VerificationResult) -> str | None:
    if result.annex is not None and result.annex.title is not None:
        return result.annex.title.text()
    title = result.claims.get("title")
    return title if isinstance(title, str) else None


def _stackability(result: VerificationResult) -> StackabilityEntry | None:
    """The credential's stackability statement, in plain words (microcred, EUDI learning, ELM, or as stated)."""
    if result.annex is not None:
        sourced = result.annex.stackability
        stated, path = (sourced.value, sourced.path) if sourced is not None else (None, "")
    else:
        stated, path = result.claims.get("stackability"), "/stackability"
    if stated is None:
        return None
    title = _title(result)
    if isinstance(stated, Mapping) and isinstance(stated.get("option"), str):
        option = stated["option"]
        target = stated.get("target") if isinstance(stated.get("target"), str) else None
        if option == "stackable":
            return StackabilityEntry(title, stated, f"stackable towards {target}" if target else "stackable", True,
                                     target)
        if option == "stand-alone":
            return StackabilityEntry(title, stated, "stand-alone", False)
    if isinstance(stated, bool):
        partial = path.endswith("isPartialQualification")
        if partial:
            return StackabilityEntry(title, stated, "part of a larger qualification" if stated else
                                     "a full qualification on its own", stated)
        return StackabilityEntry(title, stated, "has integration or stackability options" if stated else
                                 "no integration or stackability options", stated)
    return StackabilityEntry(title, stated, pick_language(stated)[:300], None)


def _issuer_name(result: VerificationResult) -> str | None:
    issuer = result.issuer or {}
    name, identifier = issuer.get("name"), issuer.get("id")
    if isinstance(name, str) and name:
        return name
    return identifier if isinstance(identifier, str) and identifier else None


def summarise(results: Sequence[VerificationResult]) -> StackSummary:
    """Count the stack: ECTS, EQF range, issuers and stackability over its verified (so unrevoked) credentials.

    A verified result's ``revocation`` check passed, or was skipped because the
    credential has no status entry and the verifier's policy allows that; a
    revoked or suspended credential fails it and counts for nothing.
    """
    total, counted, levels, issuers, stacking = Decimal(0), 0, [], [], []
    verified = [r for r in results if r.verified and r.check("revocation").status != FAILED]
    for result in verified:
        ects = _ects(result)
        if ects is not None:
            total += ects
            counted += 1
        level = _eqf(result)
        if level is not None:
            levels.append(level)
        name = _issuer_name(result)
        if name is not None and name not in issuers:
            issuers.append(name)
        entry = _stackability(result)
        if entry is not None:
            stacking.append(entry)
    return StackSummary(len(results), len(verified), sum(1 for r in results if r.undecided), total, counted,
                        min(levels, default=None), max(levels, default=None), tuple(issuers), tuple(stacking))


def stack_result(results: Sequence[VerificationResult], *, nonce: str | None = None, audience: str | None = None,
                 problems: Sequence[str] = (), presentations: Sequence[str] | None = None) -> StackResult:
    """:func:`bind_stack`, :func:`count_once` when the ``presentations`` (in the results' order) are given,
    then :func:`summarise`: the answer for one stack."""
    bound = bind_stack(results, nonce=nonce, audience=audience)
    if presentations is not None:
        bound = count_once(bound, presentations)
    return StackResult(bound, summarise(bound), tuple(problems))


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def _decimal_json(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
