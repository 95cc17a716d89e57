"""The issuer's home page (issue 15, §1 item 1): who it is, its accreditation, its status lists, the registrar.

The accreditation is the TrustRegistry's answer (EBSI's Trusted Issuers
Registry model: root → accreditation organisation → issuer) read through
:mod:`ledger` with the app's ledger settings, kept for :data:`ACCREDITATION_TTL`
seconds so a busy page does not ask the node on every visit. When the ledger
cannot be read the page says so in plain words (the operator log has why); the
rest of the page is the issuer's own archive and never waits for the chain.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template

from credentials.errors import MicrocredError
from issuer.archive import LIST_KIND_BITSTRING
from issuer.web.context import get_service, identity
from issuer.web.public import list_endpoint
from ledger.config import LedgerSettings

__all__ = ["bp", "ACCREDITATION_TTL", "AccreditationSummary"]

#: Seconds an accreditation read from the ledger is shown before it is read again.
ACCREDITATION_TTL = 30
_CACHE_KEY = "microcred_issuer_accreditation"
_LOCK = threading.Lock()
log = logging.getLogger(__name__)

bp = Blueprint("home", __name__)


@dataclass(frozen=True)
class AccreditationSummary:
    """What the page says about the issuer's accreditation; ``readable`` False when the ledger did not answer."""

    readable: bool
    accredited: bool = False
    standing: str = ""
    accredited_by: str | None = None
    types: tuple[str, ...] = ()
    valid_from: int | None = None
    valid_until: int | None = None

    @property
    def valid_until_text(self) -> str:
        """The end of the accreditation as a date (UTC), e.g. ``28 Nov 2026``."""
        return time.strftime("%d %b %Y", time.gmtime(self.valid_until)) if self.valid_until else ""


def _read_accreditation(did: str) -> AccreditationSummary:
    # Here: this loads web3 (seconds to import), needed only when the page is first shown.
    from ledger.deployment import open_ledger

    try:
        ledger = open_ledger(LedgerSettings.of(current_app.config))
        found = ledger.trust.lookup(did)
        accreditor = None
        if len(found.chain) > 1:
            accreditor = found.chain[1].legal_name or found.chain[1].did
        entry = found.chain[0] if found.chain else None
        return AccreditationSummary(
            readable=True, accredited=found.accredited, standing=found.standing.words, accredited_by=accreditor,
            types=entry.vcts if entry else (), valid_from=entry.valid_from if entry else None,
            valid_until=entry.valid_until if entry else None)
    except (MicrocredError, OSError, ValueError) as exc:
        log.warning("the home page could not read the accreditation of %s: %s", did, exc)
        return AccreditationSummary(readable=False)


def accreditation(did: str) -> AccreditationSummary:
    """The issuer's accreditation, read at most every :data:`ACCREDITATION_TTL` seconds per app."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with _LOCK:
        summary = _read_accreditation(did)
        current_app.extensions[_CACHE_KEY] = (time.monotonic() + ACCREDITATION_TTL, summary)
    return summary


def _list_rows() -> list[dict[str, Any]]:
    rows = []
    for item in get_service().archive.status_lists():
        rows.append({"id": item.id, "endpoint": list_endpoint(item.kind), "used": item.used, "size": item.size,
                     "version": item.version, "pending": item.anchor_pending,
                     # while a newer version waits for its anchor, verifiers are served the anchored one
                     "served": item.anchored_version if item.anchor_pending and item.anchored_token else None,
                     "kind": "W3C Bitstring Status List" if item.kind == LIST_KIND_BITSTRING else "Token Status List"})
    return rows


@bp.get("/")
def index() -> str:
    me = identity()
    return render_template("home.html", identity=me, accreditation=accreditation(me.did), lists=_list_rows())
