"""The verifier's vocabulary: check statuses, the policy, resolver answers, check results.

The value types of :mod:`credentials.verification` (ARCHITECTURE.md "Verifier
HTTP API" ⚑: the check names of :data:`credentials.errors.CHECKS`, the status
values, the answer JSON of :meth:`VerificationResult.to_json`), split out so
that the checks themselves (:mod:`credentials.verification`,
:mod:`credentials.status_check`) stay short. No I/O.

A resolver signals "cannot answer" by returning :class:`Unavailable` or
raising ``ConnectionError`` / ``TimeoutError`` (:func:`ask` turns the latter
into the former).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, TypeVar

from credentials.annex_view import AnnexView
from credentials.errors import CHECKS, IssuerTrustError, VerificationError
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.sd_jwt.key_binding import KeyBindingPolicy
from credentials.status_list import MIN_STATUS_LIST_ENTRIES

__all__ = [
    "judge_accreditation",
    "PASSED", "FAILED", "SKIPPED", "UNAVAILABLE", "STATUSES", "Unavailable", "TrustLink", "TrustAnswer",
    "StatusEvidence", "Policy", "CheckResult", "VerificationResult", "TrustResolver", "StatusResolver",
    "ReplayGuard", "CheckRun", "ask", "issuer_json",
]

PASSED, FAILED, SKIPPED, UNAVAILABLE = "passed", "failed", "skipped", "unavailable"
STATUSES = (PASSED, FAILED, SKIPPED, UNAVAILABLE)


@dataclass(frozen=True)
class Unavailable:
    """A resolver's answer when it cannot answer (chain or status server down)."""

    reason: str


@dataclass(frozen=True)
class TrustLink:
    """One entry of an accreditation chain: who, under which name, in which role."""

    did: str
    name: str
    role: str


@dataclass(frozen=True)
class TrustAnswer:
    """The trust registry's answer for (issuer, vct, time); ``chain[0]`` is the issuer, ``chain[-1]`` the root."""

    accredited: bool
    reason: str
    chain: tuple[TrustLink, ...] = ()
    country: str | None = None
    accredited_by: str | None = None
    max_eqf_level: int | None = None
    block: int | None = None
    #: Set when the registry held the issuer accredited at the asked time and only a revocation for cause (of its
    #: entry or one up its chain, at this time) withdrew the trust: a credential whose issuance anchor is older is
    #: still trusted (issue 14; ``ledger.trust_rules``).
    revoked_at: int | None = None

    def __init__(self, accredited: bool, reason: str, chain: tuple[TrustLink, ...] = (), country: str | None = None,
                 accredited_by: str | None = None, max_eqf_level: int | None = None, block: int | None = None,
                 revoked_at: int | None = None) -> None:
        object.__setattr__(self, "__dict__", {  # see CheckResult.__init__
            "accredited": accredited, "reason": reason, "chain": chain, "country": country,
            "accredited_by": accredited_by, "max_eqf_level": max_eqf_level, "block": block, "revoked_at": revoked_at})

    @cached_property
    def chain_names(self) -> str:
        """'Issuer (did) → … → Root (did)', for the ``issuer_trust`` detail: built once per answer (issue 16)."""
        return " → ".join([f"{link.name} ({link.did})" for link in self.chain])


@dataclass(frozen=True)
class StatusEvidence:
    """What the status resolver found for one list.

    ``anchored_sha256`` None: never anchored. ``token``: the fetched Status List
    Token, or None with ``fetch_error`` saying why. ``carried_list``: the zlib
    bytes of the list carried by the anchoring event of ``carried_version``.
    ``checked_at``: when the anchor was last confirmed against the chain head.
    """

    anchored_sha256: bytes | None
    anchored_block: int | None = None
    anchored_version: int | None = None
    token: str | None = None
    fetch_error: str | None = None
    carried_list: bytes | None = None
    carried_version: int | None = None
    checked_at: int | None = None

    def __init__(self, anchored_sha256: bytes | None, anchored_block: int | None = None,
                 anchored_version: int | None = None, token: str | None = None, fetch_error: str | None = None,
                 carried_list: bytes | None = None, carried_version: int | None = None,
                 checked_at: int | None = None) -> None:
        object.__setattr__(self, "__dict__", {  # see CheckResult.__init__
            "anchored_sha256": anchored_sha256, "anchored_block": anchored_block, "anchored_version": anchored_version,
            "token": token, "fetch_error": fetch_error, "carried_list": carried_list,
            "carried_version": carried_version, "checked_at": checked_at})


_Answer = TypeVar("_Answer")  # what a resolver answers (see ask)
TrustResolver = Callable[[str, str, int], "TrustAnswer | Unavailable"]
StatusResolver = Callable[[str, str], "StatusEvidence | Unavailable"]


class ReplayGuard(Protocol):
    def __call__(self, kb_jwt_id: str, expires_at: int) -> bool:
        """True the first time ``kb_jwt_id`` is seen (remember it until ``expires_at``)."""


@dataclass(frozen=True)
class Policy:
    """What this verifier accepts. ``trusted_roots`` empty trusts nobody (fail closed).

    ``min_status_list_entries``: a status list with fewer entries fails
    ``revocation`` (herd privacy: an index must hide its holder among many).

    For whole credentials (JWT VCs, Open Badges, Europass EDCs):
    ``whole_credential_binding_required`` refuses one shown without a
    holder-signed presentation (off: ``holder_binding`` is ``skipped`` saying
    so); ``imported_status_required`` refuses one without a status entry (off:
    ``revocation`` is ``skipped`` saying so); ``unanchored_status_lists``
    accepts a W3C status list its issuer does not anchor on chain, read from
    the issuer's server alone (the detail says so).

    ``issuance_anchor_required``: a presentation without an issuance proof
    fails ``issuance_anchor`` (off: ``skipped``, not required;
    :mod:`credentials.issuance_anchor`).
    """

    trusted_roots: frozenset[str]
    accepted_vcts: frozenset[str] = frozenset({MICRO_CREDENTIAL_VCT})
    kb_max_age: int = 300
    clock_skew: int = 60
    holder_binding_required: bool = True
    status_required: bool = True
    max_status_age: int = 60
    min_status_list_entries: int = MIN_STATUS_LIST_ENTRIES
    expected_nonce: str | None = None
    expected_audience: str | None = None
    whole_credential_binding_required: bool = False
    imported_status_required: bool = False
    unanchored_status_lists: bool = True
    issuance_anchor_required: bool = False

    @cached_property
    def key_binding(self) -> KeyBindingPolicy:
        """The Key Binding JWT's policy of this one: made once per policy, not per presentation (issue 16)."""
        return KeyBindingPolicy(required=self.holder_binding_required, audience=self.expected_audience,
                                nonce=self.expected_nonce, max_age=self.kb_max_age, leeway=self.clock_skew)


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str
    detail: str
    required: bool = True

    def __init__(self, check: str, status: str, detail: str, required: bool = True) -> None:
        # a frozen dataclass's own __init__ sets each field by a call of object.__setattr__; every
        # verification makes a dozen of these (issue 16): the same fields, set at once
        object.__setattr__(self, "__dict__", {"check": check, "status": status, "detail": detail,
                                              "required": required})

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class VerificationResult:
    """The verdict and every check, in :data:`CHECKS` order; :meth:`to_json` is the API answer.

    ``claims``: the disclosed claims (SD-JWT VC) or the credential subject
    (whole credentials); ``annex``: the Annex I view when the type is known.
    """

    format: str | None
    checks: tuple[CheckResult, ...]
    issuer: dict[str, Any] | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] | None = None
    trust_chain: tuple[TrustLink, ...] = ()
    holder_binding: dict[str, Any] | None = None
    annex: AnnexView | None = None

    def __init__(self, format: str | None, checks: tuple[CheckResult, ...],
                 issuer: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
                 status: dict[str, Any] | None = None, trust_chain: tuple[TrustLink, ...] = (),
                 holder_binding: dict[str, Any] | None = None, annex: AnnexView | None = None) -> None:
        # every field set at once (see CheckResult.__init__); no claims: an empty dict of its own
        object.__setattr__(self, "__dict__", {
            "format": format, "checks": checks, "issuer": issuer, "claims": {} if claims is None else claims,
            "status": status, "trust_chain": trust_chain, "holder_binding": holder_binding, "annex": annex})

    @property
    def verified(self) -> bool:
        for c in self.checks:  # noqa: SIM110 (a loop, not all() over a generator: every verification asks, issue 16)
            if c.required and c.status != PASSED:
                return False
        return True

    @property
    def undecided(self) -> bool:
        """No required check failed, but one could not be completed: the answer is "cannot say"."""
        required = [c for c in self.checks if c.required]
        return not any(c.status == FAILED for c in required) and any(c.status == UNAVAILABLE for c in required)

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.check == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified, "format": self.format,
            "checks": [{"check": c.check, "status": c.status, "detail": c.detail} for c in self.checks],  # to_json's
            "issuer": self.issuer, "claims": self.claims, "status": self.status,
            "annex": self.annex.to_json() if self.annex is not None else None,
        }


#: The checks a presentation must pass before its holder proof is recorded for replay, as the replay check names them.
_RECORDED_AFTER = (("signature", "issuer's signature"), ("holder_binding", "holder binding"),
                   ("issuer_trust", "issuer accreditation"))


class CheckRun:
    """Collects one verification's check results; the first result set for a check wins."""

    def __init__(self) -> None:
        self.results: dict[str, CheckResult] = {}

    def set(self, check: str, status: str, detail: str, *, required: bool = True) -> None:
        if check not in self.results:
            self.results[check] = CheckResult(check, status, detail, required)

    def fail(self, exc: VerificationError) -> None:
        self.set(exc.check, FAILED, exc.reason)

    def ok(self, check: str) -> bool:
        return check in self.results and self.results[check].status == PASSED

    def replay_earned(self) -> bool:
        """Whether the presentation earned a replay record: the issuer's signature, the holder binding and the
        issuer's trust passed (issue 10, B5: recording earlier let anybody fill the replay store). If not, the
        ``replay`` check (unless set already) says which of them kept it from being recorded."""
        for check, name in _RECORDED_AFTER:
            if not self.ok(check):
                self.set("replay", SKIPPED, "not recorded: the holder binding did not pass, and only a presentation "
                         "whose holder proof verified is checked for replay" if check == "holder_binding" else
                         "not recorded: only presentations by an accredited issuer's holder are checked for replay, "
                         f"and this one's {name} was not confirmed")
                return False
        return True

    def finish(self, skipped_because: str) -> tuple[CheckResult, ...]:
        results = self.results
        return tuple([results.get(c) or CheckResult(c, SKIPPED, skipped_because) for c in CHECKS])


def ask(resolver: Callable[..., _Answer], *args: Any) -> _Answer | Unavailable:
    """Call a resolver; ``ConnectionError`` / ``TimeoutError`` become :class:`Unavailable`."""
    try:
        return resolver(*args)
    except (ConnectionError, TimeoutError) as exc:
        return Unavailable(str(exc) or type(exc).__name__)


def issuer_json(iss: str, answer: TrustAnswer | None) -> dict[str, Any]:
    """The ``issuer`` member of the answer JSON."""
    entry = answer.chain[0] if answer and answer.chain else None
    return {"id": iss, "name": entry.name if entry else None, "country": answer.country if answer else None,
            "accredited_by": answer.accredited_by if answer else None}


def judge_accreditation(run: CheckRun, policy: Policy, answer: TrustAnswer, issuer: str, kind: str, at: Any,
                        level: int | None) -> None:
    """``issuer_trust`` for an accredited ``answer``: its root must be trusted and ``level`` within its ceiling.

    One rule for every format (:mod:`credentials.verification`, :mod:`credentials.verification_imported`).
    """
    root = answer.chain[-1].did if answer.chain else None
    if root not in policy.trusted_roots:
        run.fail(IssuerTrustError(f"{issuer} is accredited under the root {root!r}, which this verifier does not "
                                  "trust"))
        return
    if answer.max_eqf_level and level is not None and level > answer.max_eqf_level:
        run.fail(IssuerTrustError(f"{issuer} is accredited up to EQF level {answer.max_eqf_level}, not {level}"))
        return
    run.set("issuer_trust", PASSED, f"accredited for {kind} at {at}: {answer.chain_names}")
