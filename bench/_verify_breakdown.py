"""Where one verification's microseconds go (issue 16, §1: account for every microsecond above the two signatures).

``breakdown(service, presentations)`` verifies each presentation with the service, as the core line does, with
a timer around each stage of :func:`credentials.verification._sd_jwt_vc` (the names it calls, replaced here for
the measurement only and put back after it) and around every signature check. Each stage's time is its own:
what nested timed stages took (the signature checks inside the issuer signature and holder binding stages) is
counted under them. What no stage covers (the check bookkeeping, result objects, the service's own steps, the
garbage collector) is "the rest": the wall time of the whole verification minus every stage and minus what the
timers themselves add around the outermost timed calls (measured on a timed no-op in the same run, shown on its
own line: on a loaded machine some microseconds a stage, which "the rest" once counted as the product's).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

_STAGES = (
    # (label, module attribute of credentials.verification or None, what it covers)
    ("split + parse (SD-JWT, issuer JWT, KB-JWT)", None, ""),
    ("signature checks (ES256 verify x2)", None, ""),
    ("issuer key resolution", "_issuer_key", ""),
    ("disclosures (decode, digest, unpack)", "unpack_disclosures", ""),
    ("holder binding (KB claims, sd_hash)", "_holder_binding", ""),
    ("validity period", "check_time_claims", ""),
    ("issuer trust (ledger view)", "_trust", ""),
    ("replay record (shared store)", "_replay", ""),
    ("revocation (status list, anchor)", "check_revocation", ""),
    ("issuance anchor", "check_issuance_anchor", ""),
    ("schema of the disclosed claims", None, ""),
    ("Annex I view", None, ""),
)


class _Timers:
    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        self.outermost = [0]  # timed calls made outside any other: their timer's cost outside it is in the rest
        self._stack: list[list[Any]] = []

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        clock, stack, own, outermost = time.perf_counter_ns, self._stack, self.own, self.outermost

        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [0]  # time of nested timed stages
            if not stack:
                outermost[0] += 1
            stack.append(frame)
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = clock() - start
                stack.pop()
                own[label] += elapsed - frame[0]
                if stack:
                    stack[-1][0] += elapsed
        return timed


def _timer_cost_ns(rounds: int = 20_000) -> float:
    """What one outermost timed call costs beyond its own stage time and the loop calling it (ns, median of 5)."""
    samples = []
    for _ in range(5):
        timers = _Timers()
        timed = timers.wrap("calibration", lambda: None)
        loop_start = time.perf_counter_ns()
        for _ in range(rounds):
            pass
        loop = time.perf_counter_ns() - loop_start
        start = time.perf_counter_ns()
        for _ in range(rounds):
            timed()
        wall = time.perf_counter_ns() - start
        samples.append(max(0.0, (wall - loop - timers.own["calibration"]) / rounds))
    return sorted(samples)[2]


def breakdown(service: Any, presentations: list[str]) -> list[tuple[str, float]]:
    """(label, microseconds per verification) for each stage and the rest, over ``presentations``."""
    from credentials import verification
    from credentials.jose import PublicKey, UnverifiedJws
    from credentials.sd_jwt.common import UnverifiedSdJwt
    from credentials.verification_memo import IssuerJwtMemo

    timers = _Timers()
    labels = [label for label, _, _ in _STAGES]
    parse, signatures, schema, annex = labels[0], labels[1], labels[10], labels[11]
    patched: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, replacement: Any) -> None:
        patched.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, replacement)

    for label, attribute, _ in _STAGES:
        if attribute is not None:
            patch(verification, attribute, timers.wrap(label, getattr(verification, attribute)))
    patch(PublicKey, "verify", timers.wrap(signatures, PublicKey.verify))
    patch(UnverifiedSdJwt, "parse", classmethod(timers.wrap(parse, UnverifiedSdJwt.parse.__func__)))
    patch(UnverifiedJws, "parse", classmethod(timers.wrap(parse, UnverifiedJws.parse.__func__)))
    patch(IssuerJwtMemo, "parse", timers.wrap(parse, IssuerJwtMemo.parse))
    patch(verification, "parsed_kb_jwt", timers.wrap(parse, verification.parsed_kb_jwt))
    known_type = verification.sd_jwt_vc_type
    timed_types: dict[str, Any] = {}  # made once per vct: a copy per verification was counted in the rest

    def timed_type(vct: str) -> Any:
        if vct not in timed_types:
            known = known_type(vct)
            timed_types[vct] = None if known is None else dataclasses.replace(
                known, validate_disclosed=timers.wrap(schema, known.validate_disclosed),
                annex_view=timers.wrap(annex, known.annex_view))
        return timed_types[vct]
    patch(verification, "sd_jwt_vc_type", timed_type)
    try:
        start = time.perf_counter_ns()
        for presentation in presentations:
            if not service.verify(presentation).verified:
                raise SystemExit("a breakdown presentation did not verify")
        total = time.perf_counter_ns() - start
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)
    count = len(presentations)
    rows = [(label, timers.own[label] / count / 1000) for label in labels]
    timers_us = timers.outermost[0] * _timer_cost_ns() / count / 1000
    rows.append(("the breakdown's own timers (measurement only)", timers_us))
    rows.append(("the rest (bookkeeping, results, service, garbage collector)",
                 total / count / 1000 - sum(us for _, us in rows)))
    return rows


def print_breakdown(title: str, rows: list[tuple[str, float]], bound_us: float) -> None:
    total = sum(us for _, us in rows)
    print(f"{title}: {total:,.0f} us per verification (the bound's two signature checks: {bound_us:,.0f} us)")
    for label, us in rows:
        print(f"    {label:<62} {us:8.1f} us {us / total * 100:6.1f} %")
