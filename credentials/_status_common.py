"""The steps every status-list check shares: fetch through the resolver, then hold the text against its anchor.

Shared by :mod:`credentials.status_check_bitstring` (W3C *Bitstring Status
List v1.0* §3.2 and *Status List 2021*) and
:mod:`credentials.status_check_1edtech` (*1EdTech Revocation List Status
Method* 1.0): the list's text comes from a
:data:`~credentials.verification_model.StatusResolver` (fetched now, or the
copy carried on chain when it is the anchored version); too old evidence or no
text leaves ``revocation`` ``unavailable`` (fail closed); when the issuer
anchors the list on the StatusRegistry the text's SHA-256 must match the
anchor, and an unanchored list passes only when
``Policy.unanchored_status_lists`` allows it. No I/O here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from credentials.errors import RevocationError
from credentials.verification_model import UNAVAILABLE, CheckRun, Policy, StatusResolver, Unavailable, ask

__all__ = ["ListWording", "FetchedList", "fetch_list"]


@dataclass(frozen=True)
class ListWording:
    """How a check names its list in the run's details (each method keeps its own words)."""

    noun: str  # "status list", "revocation list": "the <noun> <url> cannot be fetched", "the <noun> at <url> has …"
    unreachable: str  # the subject of "… cannot be checked: <why>"
    refused: str  # the failure when the list is not anchored and the policy wants anchored lists only
    unanchored: str  # where the text came from, when it is not anchored and the policy allows it


@dataclass(frozen=True)
class FetchedList:
    """A list text that may be read: its SHA-256, where it came from, and the block anchoring it (None if none)."""

    text: str
    digest: bytes
    source: str
    anchored_block: int | None


def fetch_list(run: CheckRun, policy: Policy, status: StatusResolver, issuer: str, url: str, now: int,
               wording: ListWording) -> FetchedList | None:
    """The text of the list at ``url`` checked against its anchor; None when ``run`` already says why not."""
    evidence = ask(status, issuer, url)
    if isinstance(evidence, Unavailable):
        run.set("revocation", UNAVAILABLE, f"{wording.unreachable} cannot be checked: {evidence.reason}")
        return None
    text = evidence.token
    if text is None and evidence.carried_list is not None and evidence.carried_version == evidence.anchored_version:
        text = evidence.carried_list.decode("utf-8", "replace")
    if text is None:
        run.set("revocation", UNAVAILABLE, f"the {wording.noun} {url[:120]} cannot be fetched "
                f"({evidence.fetch_error or 'no answer'})")
        return None
    if evidence.checked_at is not None and now - evidence.checked_at > policy.max_status_age:
        run.set("revocation", UNAVAILABLE, f"the status information is {now - evidence.checked_at} s old, "
                f"more than the {policy.max_status_age} s this verifier accepts")
        return None
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    if evidence.anchored_sha256 is None:
        if not policy.unanchored_status_lists:
            run.fail(RevocationError(wording.refused))
            return None
        return FetchedList(text, digest, wording.unanchored, evidence.anchored_block)
    if digest != evidence.anchored_sha256:
        run.fail(RevocationError(f"the {wording.noun} at {url[:120]} has SHA-256 {digest.hex()[:16]}…, but the "
                                 f"hash anchored in block {evidence.anchored_block} is "
                                 f"{evidence.anchored_sha256.hex()[:16]}…"))
        return None
    return FetchedList(text, digest, f"anchored at block {evidence.anchored_block}", evidence.anchored_block)
