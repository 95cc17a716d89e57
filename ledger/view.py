"""Chain-backed trust and status resolvers with caches that stay correct.

The verifier core (:mod:`credentials.verification`) asks two questions per
presentation: "was this issuer accredited for this type at this time?" and
"what is the anchored hash of this status list?". One web3 contract call costs
≈ 5 ms (BASELINES.md), ≈ 80 ES256 verifications, so the answers are cached
per issuer / list and read at the block the cache has processed.

:class:`LedgerView` keeps the caches honest. A watcher thread polls the
latest block number every ``poll_interval`` seconds; on a new block it reads
the TrustRegistry and StatusRegistry events since the last processed block and
drops every cached answer they touch (any trust event clears the trust cache;
an anchor event drops that list). A revocation anchored in block N is
therefore honoured by every verification that starts after the watcher has
seen block N, one poll interval plus two log reads later (measured in
``tests/verifier/test_ledger_view.py`` and ``bench/bench_verify.py``).

Fail closed: when the watcher has not confirmed the head for ``max_lag``
seconds, a request tries one refresh itself; if the node does not answer, the
resolvers answer :class:`~credentials.verification_model.Unavailable`, and they
recover by themselves once the node answers again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from credentials.errors import MicrocredError
from credentials.status_check import status_list_id
from credentials.verification_model import StatusEvidence, TrustAnswer, TrustLink, Unavailable
from ledger.deployment import Ledger
from ledger.errors import LedgerError

__all__ = ["LedgerView", "TokenSource"]

DEFAULT_POLL_INTERVAL_S = 0.2
DEFAULT_MAX_LAG_S = 1.0
_CACHE_SIZE = 4096
_FETCH_RETRY_S = 2.0

#: ``(uri) -> token text``; raises ConnectionError (FetchError) or ValueError (FetchRefused).
TokenSource = Callable[[str], str]


class _Lru(OrderedDict):
    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _CACHE_SIZE:
            self.popitem(last=False)


class LedgerView:
    """Trust and anchor answers at the processed head, invalidated by events."""

    def __init__(self, ledger: Ledger, fetch_token: TokenSource, *, poll_interval: float = DEFAULT_POLL_INTERVAL_S,
                 max_lag: float = DEFAULT_MAX_LAG_S, clock: Callable[[], float] = time.time):
        self.ledger = ledger
        self.fetch_token = fetch_token
        self.poll_interval = poll_interval
        self.max_lag = max_lag
        self.clock = clock
        self.head: int | None = None
        self.confirmed_at = float("-inf")
        self.last_error: str | None = None
        self._generation = 0
        self._trust: _Lru = _Lru()
        self._anchors: _Lru = _Lru()
        self._carried: _Lru = _Lru()
        self._tokens: _Lru = _Lru()
        self._lock = threading.RLock()
        self._chain_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------ watching

    def refresh(self) -> int:
        """Confirm the head; on new blocks read their events and invalidate. Returns the head."""
        with self._chain_lock:
            latest = self.ledger.status.latest_block()
            if self.head is None:
                with self._lock:
                    self.head, self._generation = latest, self._generation + 1
                    self._trust.clear(), self._anchors.clear(), self._carried.clear()
            elif latest > self.head:
                trust_events = self.ledger.trust.events(from_block=self.head + 1, to_block=latest)
                anchor_events = self.ledger.status.anchor_events(from_block=self.head + 1, to_block=latest)
                with self._lock:
                    if trust_events:
                        self._trust.clear()
                    for event in anchor_events:
                        key = (event.issuer_did, event.list_id)
                        self._anchors.pop(key, None)
                        self._carried.pop(key, None)
                    self.head, self._generation = latest, self._generation + 1
            elif latest < self.head:  # the node was reset: forget everything
                with self._lock:
                    self.head, self._generation = latest, self._generation + 1
                    self._trust.clear(), self._anchors.clear(), self._carried.clear(), self._tokens.clear()
            self.confirmed_at = time.monotonic()
            self.last_error = None
            return latest

    def start(self) -> None:
        """Start the watcher thread (once; safe after a fork, since it starts on first use)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="ledger-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except MicrocredError as exc:
                self.last_error = str(exc)
            self._stop.wait(self.poll_interval)

    def _ensure_fresh(self) -> None:
        self.start()
        if time.monotonic() - self.confirmed_at > self.max_lag:
            try:
                self.refresh()
            except MicrocredError as exc:
                self.last_error = str(exc)
                raise ConnectionError(str(exc)) from None

    def _checked_at(self) -> int:
        return int(self.clock() - (time.monotonic() - self.confirmed_at))

    # ------------------------------------------------------------ resolvers

    def trust(self, did: str, vct: str, at_time: int) -> TrustAnswer | Unavailable:
        """The TrustRegistry's answer at the processed head (core ``TrustResolver``)."""
        try:
            self._ensure_fresh()
        except ConnectionError as exc:
            return Unavailable(str(exc))
        key = (did, vct, at_time)
        with self._lock:
            found = self._trust.get(key)
            generation, head = self._generation, self.head
        if found is not None:
            return found
        try:
            with self._chain_lock:
                lookup = self.ledger.trust.lookup(did, vct, at_time, block=head)
        except LedgerError as exc:
            return Unavailable(str(exc))
        except MicrocredError as exc:  # a DID the registry cannot hold: not accredited
            return TrustAnswer(False, f"{did[:80]} cannot be in the trust registry: {exc}")
        chain = tuple(TrustLink(link.did, link.legal_name, link.role.label) for link in lookup.chain)
        entry = lookup.chain[0] if lookup.chain else None
        answer = TrustAnswer(lookup.accredited, lookup.reason, chain, entry.country if entry else None,
                             entry.accredited_by if entry else None, entry.max_eqf_level if entry else None, head)
        with self._lock:
            if generation == self._generation:
                self._trust.put(key, answer)
        return answer

    def _anchor(self, did: str, list_id: str) -> Any:
        key = (did, list_id)
        with self._lock:
            if key in self._anchors:
                return self._anchors[key]
            generation, head = self._generation, self.head
        with self._chain_lock:
            anchor = self.ledger.status.latest_anchor(did, list_id, block=head)
        with self._lock:
            if generation == self._generation:
                self._anchors.put(key, anchor)
        return anchor

    def _carried_event(self, did: str, list_id: str) -> Any:
        key = (did, list_id)
        with self._lock:
            if key in self._carried:
                return self._carried[key]
            generation = self._generation
        with self._chain_lock:
            event = self.ledger.status.latest_carried_list(did, list_id)
        with self._lock:
            if generation == self._generation:
                self._carried.put(key, event)
        return event

    def _token(self, uri: str, version: int, anchored_sha256: bytes) -> tuple[str | None, str | None]:
        """The token behind ``uri`` for anchor ``version``; kept only when its hash is the anchored one.

        A token that does not match (a lying or stale server) is handed to the
        core, which says so, but is not kept: the next verification fetches
        again, so the verifier recovers as soon as the server tells the truth.
        """
        key = (uri, version)
        with self._lock:
            found = self._tokens.get(key)
        if found is not None and (found[0] is not None or time.monotonic() - found[2] < _FETCH_RETRY_S):
            return found[0], found[1]
        try:
            token, error = self.fetch_token(uri), None
        except (ConnectionError, ValueError) as exc:
            token, error = None, str(exc)
        if token is not None and hashlib.sha256(token.encode("utf-8")).digest() != anchored_sha256:
            return token, error
        with self._lock:
            self._tokens.put(key, (token, error, time.monotonic()))
        return token, error

    def status(self, did: str, uri: str) -> StatusEvidence | Unavailable:
        """The anchor of the list behind ``uri`` and its token (core ``StatusResolver``)."""
        try:
            self._ensure_fresh()
            list_id = status_list_id(uri)
            anchor = self._anchor(did, list_id)
        except ConnectionError as exc:
            return Unavailable(str(exc))
        except MicrocredError as exc:
            return Unavailable(f"the anchor of {uri} cannot be read: {exc}")
        if anchor is None:
            # Never anchored, as far as the processed head knows: look at the chain's head
            # before saying so, since a list anchored a moment ago is the usual reason.
            try:
                self.refresh()
                anchor = self._anchor(did, list_id)
            except ConnectionError as exc:
                return Unavailable(str(exc))
            except MicrocredError as exc:
                return Unavailable(f"the anchor of {uri} cannot be read: {exc}")
        checked_at = self._checked_at()
        if anchor is None:
            return StatusEvidence(None, checked_at=checked_at)
        token, error = self._token(uri, anchor.version, anchor.sha256)
        carried = carried_version = None
        if token is None:
            try:
                event = self._carried_event(did, list_id)
            except MicrocredError as exc:
                return Unavailable(f"the status list cannot be fetched ({error}) nor read from the chain: {exc}")
            if event is not None:
                carried, carried_version = event.compressed_list, event.version
        return StatusEvidence(anchor.sha256, anchor.block_number, anchor.version, token, error, carried,
                              carried_version, checked_at)
