"""What a wallet's answer amounts to: each presentation verified, then the request itself enforced.

OpenID4VP 1.0 §8.6 (VP Token validation): every presentation is verified
(:meth:`verifier.service.VerifierService.verify`, with the request's
``nonce`` and the full Client Identifier as ``aud``, §B.3.6); a presentation
that fails a check is discarded; then the remaining ones must satisfy the
DCQL query (§6.4, :func:`credentials.dcql.check_response`), and §14.6
("Security Checks on the Returned Credentials and Presentations"): the
verifier never relies on the wallet to have kept to the query. An answer
lacking a required claim, with a value outside the allowed ones, or naming a
query the request did not make is not verified, and the page says why.

One presentation meeting the request, or failing its own checks, is shown on
the scan path's result page (:func:`verifier.pages.render_result`); several,
or one that is sound but falls short of the request, on the stack page (:func:`verifier.pages.render_stack_result`)
with the problems listed.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from credentials.dcql import DcqlQuery, Presented, check_response
from credentials.errors import MicrocredError
from credentials.jose import UnverifiedJws
from credentials.sd_jwt import UnverifiedSdJwt
from credentials.verification_model import FAILED, PASSED, VerificationResult
from verifier.openid4vp.transactions import Answer, Transaction
from verifier.pages import render_result, render_stack_result

__all__ = ["request_problems", "render_outcome"]

#: The DCQL format identifier of each verifier result format (legacy ``vc+sd-jwt`` is an SD-JWT VC too).
_DCQL_FORMATS = {"vc+sd-jwt": "dc+sd-jwt"}


def _discarded(result: VerificationResult) -> bool:
    return any(check.status == FAILED and check.required for check in result.checks)


def _type_values(answer: Answer) -> tuple[str, ...]:
    """The credential's type as DCQL matches it: an SD-JWT VC's ``vct`` (its signature was verified)."""
    try:
        payload: dict[str, Any] = UnverifiedJws.parse(UnverifiedSdJwt.parse(answer.presentation).issuer_jwt).payload
    except (MicrocredError, ValueError):
        return ()
    vct = payload.get("vct")
    return (vct,) if isinstance(vct, str) else ()


def request_problems(tx: Transaction) -> list[str]:
    """What the verified presentations lack against the transaction's DCQL query, in plain words (none: met)."""
    presented: dict[str, list[Presented]] = {}
    for answer in tx.answers:
        result = answer.result
        found = presented.setdefault(answer.query, [])
        if _discarded(result):
            continue  # §8.6: a presentation that fails its checks is discarded (its own verdict says why)
        fmt = _DCQL_FORMATS.get(result.format or "", result.format or "")
        found.append(Presented(fmt, _type_values(answer), result.claims,
                               holder_binding=result.check("holder_binding").status == PASSED))
    # A query whose every presentation was discarded counts as not answered, not as "holds no presentation".
    kept = {name: items for name, items in presented.items() if items or name not in _ids(tx)}
    return list(check_response(DcqlQuery.parse(tx.dcql), kept))


def _ids(tx: Transaction) -> set[str]:
    return {str(query.get("id")) for query in tx.dcql.get("credentials", []) if isinstance(query, dict)}


def render_outcome(tx: Transaction):
    """The page for an answered transaction."""
    if tx.wallet_error is not None:
        return render_template("error.html", code=200, title="Cannot check this",
                               message=f"The wallet declined: {tx.wallet_error or 'no reason given'}")
    now = tx.answered_at or 0
    # One presentation: its own verdict, also when it failed its checks (what the request then lacks follows
    # from that failure and would only repeat it).
    if len(tx.answers) == 1 and (not tx.problems or _discarded(tx.answers[0].result)):
        return render_result(tx.answers[0].result, tx.answers[0].presentation, now)
    return render_stack_result([a.result for a in tx.answers], [a.presentation for a in tx.answers], now,
                               problems=tx.problems)
