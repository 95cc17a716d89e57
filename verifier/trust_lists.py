"""The trust lists this verifier publishes (issue 14, §3): its TrustRegistry, readable by others.

``GET /trust/lote.json``: the registry as an ETSI TS 119 602 List of Trusted
Entities, JSON binding (:mod:`credentials.lote`), ``application/json``;
``GET /trust/accreditations.json``: the same entries as EBSI-style Verifiable
Accreditations, unsigned (:mod:`credentials.ebsi_accreditation`).

Both are read from the chain at one block and kept :data:`CACHE_SECONDS`
seconds (``Cache-Control: public, max-age``), so a crawler costs one registry
read per window. When the chain cannot be read the answer is 503 with a
reason and ``Retry-After``, never a 500.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app

from credentials.errors import MicrocredError
from verifier.context import current_service

__all__ = ["bp", "LOTE_PATH", "ACCREDITATIONS_PATH", "CACHE_SECONDS"]

bp = Blueprint("trust_lists", __name__)
LOTE_PATH = "/trust/lote.json"
ACCREDITATIONS_PATH = "/trust/accreditations.json"
CACHE_SECONDS = 30
_RETRY_AFTER = 5
_log = logging.getLogger(__name__)
_cache_lock = threading.Lock()


def _cached(kind: str, make: Callable[[Any], dict[str, Any]]) -> Response:
    service = current_service()
    cache: dict[str, tuple[float, bytes]] = current_app.extensions.setdefault("microcred_trust_lists", {})
    with _cache_lock:
        found = cache.get(kind)
    if found is None or time.monotonic() >= found[0]:
        view = service.ledger_view()
        if view is None:
            return _unavailable()
        # here, not at the top: ledger.trust_export loads web3 (seconds to import), only when a list is asked for
        from ledger.trust_export import registry_snapshot

        try:
            document = make(registry_snapshot(view.ledger, block=view.refresh()))  # the confirmed block
        except (MicrocredError, ConnectionError, TimeoutError) as exc:
            _log.warning("the trust list cannot be read from the chain: %s", exc)
            return _unavailable()
        found = (time.monotonic() + CACHE_SECONDS, json.dumps(document, ensure_ascii=False).encode("utf-8"))
        with _cache_lock:
            cache[kind] = found
    answer = Response(found[1], mimetype="application/json")
    answer.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return answer


def _unavailable() -> Response:
    body = {"error": "the trust registry cannot be read from the ledger now; try again shortly"}
    answer = Response(json.dumps(body), status=503, mimetype="application/json")
    answer.headers["Retry-After"] = str(_RETRY_AFTER)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _public_url() -> str | None:
    url = current_service().settings.VERIFIER_PUBLIC_URL
    return url.rstrip("/") if url else None


@bp.get(LOTE_PATH)
def lote() -> Response:
    """The TrustRegistry as a TS 119 602 LoTE; its DistributionPoints name this URL when the public URL is known."""
    from ledger.trust_export import lote_of  # web3, as above

    base = _public_url()
    points = (base + LOTE_PATH,) if base else ()
    return _cached("lote", lambda snapshot: lote_of(snapshot, distribution_points=points))


@bp.get(ACCREDITATIONS_PATH)
def accreditations() -> Response:
    """The TrustRegistry's current entries as unsigned EBSI-style Verifiable Accreditations."""
    from ledger.trust_export import accreditations_of  # web3, as above

    return _cached("ebsi", accreditations_of)
