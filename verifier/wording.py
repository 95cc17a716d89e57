"""Plain words for the employer's pages (issue 15, §1 items 4, 5, 8 and 10).

- :func:`humane` writes the Unix times in a check's detail as dates in the
  page's language ("issued at 1795846036" → "issued at 28 Nov 2026, 14:07:16
  UTC"); the JSON answer keeps the raw values (the API ⚑ is unchanged).
- :func:`verdict_of` gives the page's headline: a revoked credential says
  "Revoked by <issuer>, as of <day>" (the day of the signed status list that
  says so: the verifier cannot know an earlier moment); what is not
  a credential (garbage pasted, a photo without a QR code) says "This is not a
  credential" once, whatever the route, and what was expected in plain words
  (:data:`NOT_READABLE`; the parser's reason only as a technical detail); a link that no longer leads to a
  presentation says why (used, withdrawn by the learner, expired) when the
  wallet said so (:func:`gone_link_reason`).

A wallet's one-time link answers, once it no longer serves its presentation,
``410 Gone`` with a one-line ``text/plain`` body whose first word is
``used``, ``withdrawn`` or ``expired`` (for ``used``, an ISO 8601 time may
follow); ``404`` when it never knew the link. Any other wallet's answer is
reported as it came (no more than its status).
"""

from __future__ import annotations

import re
from typing import Any

from credentials.verification_model import FAILED, VerificationResult
from infra.i18n import N_, format_day, format_when, gettext

__all__ = ["NOTHING_TO_CHECK", "LINK_REASON_PREFIX", "GONE_REASONS", "NOT_READABLE", "humane", "gone_link_reason",
           "verdict_of", "not_credential_verdict"]

#: Verdict kinds with no credential behind them: the page shows the one answer, no checks, no certificate.
NOTHING_TO_CHECK = ("not-credential", "link")
#: How a ``format`` failure about a presentation link begins (:meth:`verifier.service.VerifierService.resolve_text`).
LINK_REASON_PREFIX = "the presentation link"
#: The first word of a wallet's ``410 Gone`` body, and what it means for the employer.
GONE_REASONS = {
    "used": "the presentation link was already used{when}: a QR link works once; ask the learner to show a new code",
    "withdrawn": "the presentation link was withdrawn by the learner; ask them to show a new code",
    "expired": "the presentation link has expired (a QR link lasts a few minutes); ask the learner to show a new code",
}
#: What the page (and ``microcred verify``, on standard error) says of text that is no presentation it reads; the
#: ``format`` check's detail keeps the parser's precise reason (the API's answer, the page's "Technical detail").
NOT_READABLE = N_("This is not a credential presentation microcred can read: expected an SD-JWT presentation, a "
                  "Europass EDC, an Open Badge or a link from a wallet's QR code.")
_TIME = re.compile(r"\b(at|until|from|since|before|after|now|iat|exp|is now)( )(1\d{9})\b")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?Z")


def humane(detail: str) -> str:
    """``detail`` with each Unix time after a time word written as a date and time in the page's language."""
    return _TIME.sub(lambda m: f"{m.group(1)} {format_when(int(m.group(3)))}", detail)


def gone_link_reason(status: int, body: bytes) -> str:
    """Why a wallet's link answered ``status`` (404 or 410), in words for the employer."""
    line = body[:200].decode("utf-8", "replace").strip().splitlines()[0] if body.strip() else ""
    word = line.split(" ", 1)[0].lower() if line else ""
    if status == 410 and word in GONE_REASONS:
        stamp = _ISO_TIME.search(line)
        return GONE_REASONS[word].format(when=f" at {stamp.group(0)}" if stamp else "")
    if status == 404:
        return (f"{LINK_REASON_PREFIX} is not known to the wallet that made it (mistyped, or already used, "
                "withdrawn or expired); ask the learner to show a new code")
    return f"{LINK_REASON_PREFIX} cannot be used: the wallet answered HTTP {status}"


def not_credential_verdict(reason: str) -> dict[str, str]:
    """The one answer for what is not a credential: pasted text, a file, a photo without a QR code."""
    return {"kind": "not-credential", "word": gettext("This is not a credential"),
            "sentence": gettext("What was scanned or pasted is not a credential this verifier reads: %(reason)s.",
                                reason=humane(reason).rstrip("."))}


def _link_verdict(reason: str) -> dict[str, str]:
    if reason.startswith(GONE_REASONS["used"].split("{")[0]):
        word = gettext("This link was already used")
    elif reason == GONE_REASONS["withdrawn"]:
        word = gettext("This link was withdrawn")
    elif reason == GONE_REASONS["expired"]:
        word = gettext("This link has expired")
    else:
        word = gettext("This link does not lead to a credential")
    return {"kind": "link", "word": word, "sentence": _sentence(humane(reason))}


def _sentence(text: str) -> str:
    text = re.sub(r" at (\d{4}-\d{2}-\d{2}T[\d:]+Z)", lambda m: f" at {format_when(m.group(1))}", text)
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _issuer_name(result: VerificationResult) -> str:
    issuer: dict[str, Any] = result.issuer or {}
    return str(issuer.get("name") or issuer.get("id") or gettext("its issuer"))


def _revoked_verdict(result: VerificationResult, state: str) -> dict[str, str]:
    name = _issuer_name(result)
    signed_at = (result.status or {}).get("list_signed_at")
    if state == "suspended":
        word = gettext("Suspended by %(issuer)s", issuer=name)
        sentence = gettext("Its issuer has suspended this credential: it is not valid while suspended.")
    else:
        word = gettext("Revoked by %(issuer)s", issuer=name)
        sentence = gettext("Its issuer has revoked this credential: it is no longer valid.")
    if isinstance(signed_at, int):  # the status list saying so was signed then: revoked on that day or before
        word = gettext("%(verdict)s, as of %(day)s", verdict=word, day=format_day(signed_at))
        sentence = f"{sentence} {gettext('So says its status list of %(when)s.', when=format_when(signed_at))}"
    return {"kind": "revoked", "word": word, "sentence": sentence}


def verdict_of(result: VerificationResult, titles: dict[str, str]) -> dict[str, str]:
    """The headline of one result: verified, cannot decide, revoked or suspended, not a credential, a dead link,
    or not verified naming the first failed check (``titles``: each check as the employer would ask it)."""
    if result.verified:
        return {"kind": "verified", "word": gettext("Verified"),
                "sentence": gettext("Authentic, from an accredited provider, not revoked, and presented by its "
                                    "holder.")}
    failed = next((c for c in result.checks if c.status == FAILED and c.required), None)
    if failed is None:
        return {"kind": "undecided", "word": gettext("Cannot decide now"),
                "sentence": gettext("A check could not be completed (the ledger or the status list did not answer). "
                                    "Nothing is wrong with the credential as far as checked; try again shortly.")}
    if failed.check == "format":
        if failed.detail.startswith(LINK_REASON_PREFIX):
            return _link_verdict(failed.detail)
        return {"kind": "not-credential", "word": gettext("This is not a credential"),
                "sentence": gettext(NOT_READABLE), "detail": humane(failed.detail)}
    if failed.check == "revocation":
        state = (result.status or {}).get("state")
        if state in ("revoked", "suspended") or failed.detail.endswith((" is revoked", " is suspended")):
            return _revoked_verdict(result, state or failed.detail.rsplit(" ", 1)[-1])
    return {"kind": "rejected", "word": gettext("Not verified"),
            "sentence": f"{titles[failed.check]} {gettext('No')}: {humane(failed.detail)}"}
