"""From the TrustRegistry's answer to the verifier core's ``TrustAnswer``: revocation is not expiry.

The registry answers "was DID X accredited for type T at time t?" from each
entry's validity, revocation and suspension times, up the chain to the root
(``contracts/TrustRegistry.sol`` ``_standing``; EBSI's RootTAO → TAO → TI).
The verifier asks it at the credential's ``iat`` — a time the issuer writes
itself. An issuer whose accreditation was revoked (or whoever took its key)
can still sign a *new* credential dated before the revocation, so the
registry's answer at ``iat`` cannot be the whole rule (issue 10, B8):

* **expiry** (``valid_until`` passed) is the normal end of an accreditation:
  credentials issued within the validity stay valid, so the registry's answer
  at ``iat`` stands;
* **revocation** is for cause: when the entry of the issuer or of any
  accreditor up its chain is revoked (as of the block read), no credential of
  that issuer is trusted on its own claimed ``iat`` — ``issuer_trust`` fails
  for every credential without a proof of issuance time. The answer carries
  the (earliest) revocation time as ``revoked_at`` when the registry held the
  issuer accredited at ``iat``: the verifier core trusts a credential whose
  ``issuance_anchor`` (a Merkle root of its batch anchored on chain) is in a
  block older than the revocation, and only such a credential (issue 14);
* **suspension** is a pause: while the issuer or an accreditor up its chain
  is suspended, every credential fails (an ``iat`` before the suspension
  proves nothing either); once reinstated, the registry no longer holds the
  suspension and its regular answer stands again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from credentials.verification_model import TrustAnswer, TrustLink
from ledger.trust import AccreditationLink, AccreditationLookup

__all__ = ["trust_answer", "trust_answer_at", "withdrawal_reason"]


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def withdrawal_reason(chain: Sequence[AccreditationLink]) -> str | None:
    """Why no credential of the chain's issuer is trusted now (a revocation or suspension), or None."""
    for link in chain:
        if link.revoked_at:
            return (f"the accreditation of {link.did} ({link.legal_name}) was revoked on {_date(link.revoked_at)}; "
                    "credentials of a revoked issuer are not trusted")
    for link in chain:
        if link.suspended_at:
            return (f"the accreditation of {link.did} ({link.legal_name}) is suspended since "
                    f"{_date(link.suspended_at)}; no credential of a suspended issuer is trusted while it lasts")
    return None


def trust_answer(lookup: AccreditationLookup, *, block: int | None = None) -> TrustAnswer:
    """The core's answer for ``lookup`` (made at the credential's ``iat``), revocations and suspensions applied."""
    chain = tuple(TrustLink(link.did, link.legal_name, link.role.label) for link in lookup.chain)
    entry = lookup.chain[0] if lookup.chain else None
    accredited, reason = lookup.accredited, lookup.reason
    withdrawn = withdrawal_reason(lookup.chain)
    revoked_at = None
    if withdrawn is not None:
        suspended = any(link.suspended_at for link in lookup.chain)
        if lookup.accredited and not suspended:
            revoked_at = min(link.revoked_at for link in lookup.chain if link.revoked_at)
        accredited, reason = False, withdrawn
    return TrustAnswer(accredited, reason, chain, entry.country if entry else None,
                       entry.accredited_by if entry else None, entry.max_eqf_level if entry else None, block,
                       revoked_at)


def trust_answer_at(answer: TrustAnswer, lookup: AccreditationLookup, at_time: int) -> TrustAnswer:
    """``trust_answer(replace(lookup, at_time=at_time), block=answer.block)``, from ``answer``, which is
    ``trust_answer(lookup, ...)``: for a time of the same standing (:func:`ledger.view.standing_span`), only the
    reason of an answer no withdrawal decided names the time (issue 16: a fresh credential's new ``iat``)."""
    if answer.reason != lookup.reason:
        return answer  # a withdrawal's reason: the same at every time
    return TrustAnswer(answer.accredited, lookup.reason_at(at_time), answer.chain, answer.country,
                       answer.accredited_by, answer.max_eqf_level, answer.block, answer.revoked_at)
