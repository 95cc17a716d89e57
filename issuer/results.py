"""What the issuing pipeline hands back: issued credentials, batch results, status change results."""

from __future__ import annotations

from dataclasses import dataclass, field

from issuer.anchoring import AnchorOutcome
from issuer.archive import KIND_MICROCRED
from issuer.issuance import IssuanceOutcome

__all__ = ["IssuedCredential", "BatchResult", "StatusChangeResult"]


@dataclass(frozen=True)
class IssuedCredential:
    """One issued credential: a signed SD-JWT VC, or an OpenID4VCI offer to redeem."""

    row: int
    credential_id: str
    student_id: str
    sd_jwt: str | None
    offer_id: str | None
    #: What was signed (:data:`issuer.archive.KINDS`); ``sd_jwt`` holds a ``vc+jwt`` for an Open Badge.
    kind: str = KIND_MICROCRED


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    issued: tuple[IssuedCredential, ...]
    anchors: tuple[AnchorOutcome, ...]
    #: The batch's issuance tree(s) and whether their roots are anchored (:mod:`issuer.issuance`).
    issuance: tuple[IssuanceOutcome, ...] = ()


@dataclass(frozen=True)
class StatusChangeResult:
    changed: tuple[str, ...]
    anchors: tuple[AnchorOutcome, ...]
    issued: tuple[IssuedCredential, ...] = field(default=())
