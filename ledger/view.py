"""Chain-backed trust and status resolvers with caches that stay correct.

The verifier core (:mod:`credentials.verification`) asks two questions per
presentation: "was this issuer accredited for this type at this time?" and
"what is the anchored hash of this status list?". One web3 contract call costs
≈ 5 ms (BASELINES.md), ≈ 80 ES256 verifications, so the answers are cached
per issuer / list and read at the block the cache has processed.

:class:`LedgerView` keeps the caches honest:

* **Events.** A watcher thread polls the chain every ``poll_interval``
  seconds; on a new block it reads the TrustRegistry and StatusRegistry events
  since the last processed block and drops every cached answer they touch (any
  trust event clears the trust cache; an anchor event drops that list). A
  revocation anchored in block N is honoured by every verification that
  starts after the watcher has seen block N, one poll interval plus two log
  reads later (``tests/verifier/test_api.py``, ``bench/bench_verify.py``).
  A served status list whose hash is not the anchor at the processed block
  makes the view confirm the head afresh, read the anchor again and fetch
  the list again, asking caches on the way to revalidate, before the core is
  told the hashes differ: a list anchored a moment ago, or the version before
  kept by a CDN for its max-age, is the usual reason
  (``tests/verifier/test_view_freshness.py``, ``tests/ledger/test_view_revalidate.py``).
* **Reorganisations.** The processed block is kept by number *and* hash, and
  every read is pinned to that hash (EIP-1898 ``blockHash``), so a read never
  answers from a block that replaced it. Each poll checks that the new block
  descends from the processed one (its parent hash, or the hash now at the
  processed height); if not, the chain was reorganised and every cached
  answer is dropped — answers are then read afresh at the new block, which
  is the same as re-reading from the common ancestor, at the price of a few
  cache misses (``tests/ledger/test_view_reorg.py``).
* **Confirmations.** With ``confirmations`` k (``MICROCRED_CONFIRMATIONS``,
  0 on Anvil) the view reads state, and events, at head − k: what a
  reorganisation shallower than k cannot undo.
* **Fail closed.** When the watcher has not confirmed the head for
  ``max_lag`` seconds (counted from when the head was asked for, not from
  the node's answer), a request tries one refresh itself; if the node does
  not answer, the resolvers answer :class:`~credentials.verification_model.Unavailable`,
  and they recover by themselves once the node answers again. No lock is held
  while reading (reads are pinned to a hash), and a request waits for a
  refresh another thread is making only until its own deadline
  (:func:`ledger.chain.deadline`): a hung node costs a verification its
  deadline, not one timeout per call.
* **Anchor listeners.** :meth:`LedgerView.on_anchor_events` registers a
  callable told, after each advance, the StatusRegistry anchoring events of
  the new blocks, or ``None`` when any list may have changed unseen (a
  reorganisation, or a gap wider than :data:`MAX_EVENT_RANGE` blocks, which
  is never read in one request: the caches are dropped instead). The
  wallet marks the credentials of an anchoring issuer stale with it
  (:mod:`wallet.freshness`).
* **What clients see.** An ``Unavailable`` reason says what failed in the
  user's terms ("the ledger did not answer"); the exception, which may name
  the node's URL (an API key) or a server path, goes to the operator's log.

* **W3C status lists.** :meth:`LedgerView.list_status` answers for a
  Bitstring Status List / StatusList2021 credential like :meth:`status` for
  an IETF token, with one difference: a list its issuer does not anchor (a
  foreign issuer's, or an X.509-sealed organisation's) is still fetched
  (through ``fetch_list``; kept :data:`UNANCHORED_LIST_TTL_S` seconds, its
  ``checked_at`` the time of the fetch), and the core decides by policy
  whether an unanchored list may be trusted.

Whether a trust answer counts a revoked or suspended accreditation is decided
in :mod:`ledger.trust_rules`. :func:`open_view` is how a service gets a view:
the ledger of its settings, opened and brought to the head once.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from credentials.did_mcr import DidRecord
from credentials.errors import InvalidDid, MicrocredError
from credentials.issuance_anchor import IssuanceAnchor
from credentials.status_check import status_list_id
from credentials.verification_model import StatusEvidence, TrustAnswer, Unavailable
from ledger.artifacts import Role
from ledger.chain import BlockHeader, BlockRef, time_left
from ledger.config import LedgerSettings
from ledger.deployment import Ledger, open_ledger
from ledger.errors import LedgerError, LedgerUnavailable, TransactionReverted
from ledger.issuance import IssuanceAnchorSource
from ledger.status import AnchorEvent
from ledger.trust import UNLIMITED, AccreditationLookup
from ledger.trust_rules import trust_answer, trust_answer_at

__all__ = ["LedgerView", "TokenSource", "AnchorListener", "MAX_EVENT_RANGE", "NO_ANSWER", "BAD_ANSWER",
           "user_reason", "open_view", "standing_span"]

DEFAULT_POLL_INTERVAL_S = 0.2
DEFAULT_MAX_LAG_S = 1.0
_CACHE_SIZE = 4096
_FETCH_RETRY_S = 2.0
_REFRESH_WAIT_S = 30.0  # outside any deadline: how long a refresh waits for another thread's
#: The most blocks whose events one advance reads; a wider gap drops every cached answer instead.
MAX_EVENT_RANGE = 2_000
#: Seconds an unanchored W3C status list is kept before it is fetched again.
UNANCHORED_LIST_TTL_S = 30.0

#: What a client is told when the ledger fails; the operator's log gets the exception.
NO_ANSWER = "the ledger did not answer"
BAD_ANSWER = "the ledger's answer could not be used"

#: ``(uri) -> token text``; raises ConnectionError (FetchError) or ValueError (FetchRefused).
TokenSource = Callable[[str], str]
#: Told the anchoring events of each advance, or None when any list may have changed unseen; must not raise.
AnchorListener = Callable[[Sequence[AnchorEvent] | None], None]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")


def user_reason(exc: BaseException) -> str:
    """A ledger failure in the user's terms (no URL, path or exception text)."""
    return NO_ANSWER if isinstance(exc, ConnectionError) else BAD_ANSWER


class _Lru(OrderedDict):
    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _CACHE_SIZE:
            self.popitem(last=False)


def standing_span(lookup: AccreditationLookup) -> tuple[int, int] | None:
    """The times ``[from, until)`` around ``lookup.at_time`` at which the registry's standing is the same.

    The contract's ``_standing(did, vct, at)`` (``contracts/TrustRegistry.sol``) depends on ``at`` only through
    ``at < validFrom``, ``at >= validUntil``, ``at >= revokedAt`` and ``at >= suspendedAt`` of the entries it
    walks, which are the returned chain's; between two consecutive such times every comparison, so the standing,
    is the same. None when the chain is not whole (no entry, a link that does not name the next, no root at its
    end): then only the asked time is known.
    """
    chain = lookup.chain
    if not chain or chain[0].did != lookup.did or chain[-1].role is not Role.ROOT:
        return None
    if any(link.role is Role.NONE or link.accredited_by != above.did
           for link, above in zip(chain, chain[1:], strict=False)):
        return None
    at = lookup.at_time
    if not 0 <= at < UNLIMITED:
        return None
    times = {moment for link in chain
             for moment in (link.valid_from, link.valid_until, link.revoked_at, link.suspended_at)
             if moment is not None}
    return (max((t for t in times if t <= at), default=0), min((t for t in times if t > at), default=UNLIMITED))


def open_view(settings: LedgerSettings, fetch_token: TokenSource, *, poll_interval: float = DEFAULT_POLL_INTERVAL_S,
              watch: bool = False, fetch_list: TokenSource | None = None, refetch_token: TokenSource | None = None,
              refetch_list: TokenSource | None = None) -> LedgerView:
    """The view of the ledger ``settings`` name, refreshed to the head; its watcher started if ``watch``.

    Raises what opening the ledger raises (``ConfigurationError``, ``DeploymentNotFound``,
    ``LedgerUnavailable``, ...): the caller decides what a client is told.
    """
    view = LedgerView(open_ledger(settings), fetch_token, poll_interval=poll_interval, fetch_list=fetch_list,
                      refetch_token=refetch_token, refetch_list=refetch_list)
    view.refresh()
    if watch:
        view.start()
    return view


class LedgerView:
    """Trust and anchor answers at the processed block, invalidated by events and reorganisations."""

    def __init__(self, ledger: Ledger, fetch_token: TokenSource, *, poll_interval: float = DEFAULT_POLL_INTERVAL_S,
                 max_lag: float = DEFAULT_MAX_LAG_S, confirmations: int | None = None,
                 clock: Callable[[], float] = time.time, fetch_list: TokenSource | None = None,
                 refetch_token: TokenSource | None = None, refetch_list: TokenSource | None = None):
        """``fetch_list``: how W3C status list credentials are fetched (default: ``fetch_token``).
        ``refetch_token`` / ``refetch_list``: how a token / list whose hash was not the anchored one is fetched
        again, asking the caches on the way to revalidate (``StrictFetcher.get_text(..., revalidate=True)``);
        default: as the first time."""
        self.ledger = ledger
        self.fetch_token = fetch_token
        self.fetch_list = fetch_list or fetch_token
        self.refetch_token = refetch_token or fetch_token
        self.refetch_list = refetch_list or (self.refetch_token if fetch_list is None else fetch_list)
        self.poll_interval = poll_interval
        self.max_lag = max_lag
        self.confirmations = max(0, ledger.chain.confirmations if confirmations is None else int(confirmations))
        self.clock = clock
        self.head_block: BlockHeader | None = None
        self.confirmed_at = float("-inf")
        self.last_error: str | None = None
        self._logged_error: str | None = None
        self._generation = 0
        self._trust: _Lru = _Lru()
        self._anchors: _Lru = _Lru()
        self._carried: _Lru = _Lru()
        self._tokens: _Lru = _Lru()
        self._lists: _Lru = _Lru()
        self._statuses: _Lru = _Lru()  # (DID, URI) -> (generation, StatusEvidence) of a list whose token matched
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._listeners: list[AnchorListener] = []
        self._issuance: IssuanceAnchorSource | None = None

    @property
    def head(self) -> int | None:
        """The number of the processed block (head − confirmations when it was read)."""
        block = self.head_block
        return None if block is None else block.number

    @property
    def watching(self) -> bool:
        """Whether the watcher thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def on_anchor_events(self, listener: AnchorListener) -> None:
        """Tell ``listener`` the anchoring events of every block this view processes from now on."""
        with self._lock:
            self._listeners.append(listener)

    def _tell(self, events: Sequence[AnchorEvent] | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(events)
            except Exception:  # a listener's failure must not stop the view (it is the listener's bug)
                _log.exception("an anchor listener failed")

    # ------------------------------------------------------------ watching

    def refresh(self) -> int:
        """Confirm the block to read at; read the events since the processed one, or detect a reorg."""
        asked = time.monotonic()
        left = time_left()
        if not self._refresh_lock.acquire(timeout=_REFRESH_WAIT_S if left is None else max(0.0, left)):
            raise LedgerUnavailable("the chain head was not confirmed within the deadline "
                                    "(another read of it is still waiting for the node)")
        try:
            if self.head_block is not None and self.confirmed_at >= asked:
                return self.head_block.number  # another thread confirmed it while this one waited
            # Fresh from when the head was asked for, not from when the node answered: a block mined before
            # this moment is in what is confirmed, and a slow answer does not make the view look fresher.
            reading = time.monotonic()
            self._advance(self._target())
            self.confirmed_at = reading
            self.last_error = self._logged_error = None
            return self.head_block.number  # type: ignore[union-attr]
        finally:
            self._refresh_lock.release()

    def _target(self) -> BlockHeader:
        chain = self.ledger.chain
        if self.confirmations == 0:
            header = chain.block_header("latest")
        else:
            header = chain.block_header(max(0, chain.block_number() - self.confirmations))
        if header is None:
            raise LedgerError("the node did not return the block to read at")
        return header

    def _advance(self, header: BlockHeader) -> None:
        head = self.head_block
        if head is not None and header.hash == head.hash:
            return
        if head is None or header.number <= head.number:
            self._reset(header, reorganised=head is not None)
            return
        if header.number == head.number + 1:
            linked = header.parent_hash == head.hash
        else:
            now_there = self.ledger.chain.block_header(head.number)
            linked = now_there is not None and now_there.hash == head.hash
        if not linked:
            self._reset(header, reorganised=True)
            return
        if header.number - head.number > MAX_EVENT_RANGE:
            _log.info("the view is %s blocks behind; every cached answer is dropped rather than reading the events "
                      "of so many blocks", header.number - head.number)
            self._reset(header, reorganised=False)
            self._tell(None)
            return
        trust_events = self.ledger.trust.events(from_block=head.number + 1, to_block=header.number)
        anchor_events = self.ledger.status.anchor_events(from_block=head.number + 1, to_block=header.number)
        again = self.ledger.chain.block_header(header.number)
        if again is None or again.hash != header.hash:  # reorganised while the events were read
            self._reset(again or self._target(), reorganised=True)
            return
        with self._lock:
            if trust_events:
                self._trust.clear()
            for event in anchor_events:
                key = (event.issuer_did, event.list_id)
                self._anchors.pop(key, None)
                self._carried.pop(key, None)
            self.head_block, self._generation = header, self._generation + 1
        if anchor_events:
            self._tell(anchor_events)

    def _reset(self, header: BlockHeader, *, reorganised: bool) -> None:
        """Forget every cached answer; read at ``header`` from now on."""
        if reorganised:
            _log.warning("the chain was reorganised (or reset): block %s %s is no longer on it; "
                         "every cached trust and status answer is dropped", self.head, self.head_block and
                         self.head_block.hash)
        with self._lock:
            self.head_block, self._generation = header, self._generation + 1
            for cache in (self._trust, self._anchors, self._carried, self._tokens, self._statuses):
                cache.clear()
        if reorganised:
            self._tell(None)

    def start(self) -> None:
        """Start the watcher thread (once; safe after a fork, since it starts on first use)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            # In a context of its own: started from inside a request, it must not inherit that request's deadline.
            self._thread = threading.Thread(target=contextvars.Context().run, args=(self._watch,),
                                            name="ledger-watcher", daemon=True)
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
                self._note(exc)
            self._stop.wait(self.poll_interval)

    def _note(self, exc: BaseException) -> None:
        """Keep the failure for the operator: logged once per distinct message until the next success."""
        message = str(exc)
        self.last_error = message
        if message != self._logged_error:
            self._logged_error = message
            _log.warning("ledger read failed: %s", message)

    def _unavailable(self, exc: BaseException) -> Unavailable:
        self._note(exc)
        return Unavailable(user_reason(exc))

    def _ensure_fresh(self) -> None:
        age = time.monotonic() - self.confirmed_at
        # Every trust and status answer passes here: whether the watcher runs is asked (without the lock) only when
        # the head was not confirmed within its interval, which a running watcher does; freshness never depends
        # on it (a stale view refreshes itself below).
        if age > min(self.poll_interval, self.max_lag) and not self.watching:
            self.start()
        if self.head_block is None or age > self.max_lag:
            self.refresh()

    def _checked_at(self) -> int:
        return int(self.clock() - (time.monotonic() - self.confirmed_at))

    def _pinned(self, read: Callable[[BlockRef], _T]) -> tuple[_T, int, int]:
        """``read`` at the processed block's hash: (answer, cache generation, block number).

        A block that is no longer there (the node refuses its hash) means a
        reorganisation: refresh, which drops the caches, and read once more.
        """
        with self._lock:
            generation, head = self._generation, self.head_block
        if head is None:
            raise LedgerError("no block has been confirmed yet")
        try:
            return read(head.ref), generation, head.number
        except (LedgerUnavailable, TransactionReverted):
            raise
        except LedgerError:
            self.refresh()
            with self._lock:
                generation, now = self._generation, self.head_block
            if now is None or now == head:
                raise
            return read(now.ref), generation, now.number

    def read_at_head(self, read: Callable[[BlockRef], _T]) -> tuple[_T, int]:
        """``read`` at the processed block (confirmed afresh when stale), pinned to its hash: (answer, block number).

        For readers outside this module (:class:`ledger.issuance.IssuanceAnchorSource`); raises LedgerError.
        """
        self._ensure_fresh()
        answer, _, number = self._pinned(read)
        return answer, number

    def issuance_anchor(self, issuer_did: str, root: bytes) -> IssuanceAnchor | Unavailable:
        """The IssuanceRegistry's anchor of a batch root, read at the processed block
        (:class:`ledger.issuance.IssuanceAnchorSource`, the ``issuance_anchor`` check's resolver)."""
        if self._issuance is None:
            if self.ledger.issuance is None:
                return Unavailable("the ledger's deployment has no issuance registry")
            self._issuance = IssuanceAnchorSource(self)
        return self._issuance(issuer_did, root)

    def did_record(self, did: str) -> DidRecord:
        """A did:mcr DID's DidRegistry record at the processed block (the key resolvers' ``DidRecordSource``).

        Read afresh each time (one call, pinned to the block's hash), so a rotation
        or revocation counts from the block the view confirmed. Raises InvalidDid
        for a DID the registry does not hold (``signature`` fails) and
        LedgerUnavailable, a ConnectionError, when the chain cannot answer
        (``signature`` is ``unavailable``); the exception goes to the log.
        """
        dids = self.ledger.dids
        if dids is None:
            raise InvalidDid("this ledger has no DID registry, so did:mcr cannot be resolved")
        try:
            self._ensure_fresh()
            record, _, number = self._pinned(lambda block: dids.record(did, block=block))
        except LedgerError as exc:
            self._note(exc)
            raise LedgerUnavailable(user_reason(exc)) from None
        if record is None:
            raise InvalidDid(f"{did[:80]} is not registered in the DID registry (block {number})")
        return record

    def _cache(self, cache: _Lru, key: Any, value: Any, generation: int) -> None:
        with self._lock:
            if generation == self._generation:  # not read across an invalidation
                cache.put(key, value)

    # ------------------------------------------------------------ resolvers

    def trust(self, did: str, vct: str, at_time: int) -> TrustAnswer | Unavailable:
        """The TrustRegistry's answer at the processed block (core ``TrustResolver``).

        Kept per (DID, type, time), and per (DID, type) as the registry's lookup with the span of times over
        which its standing cannot differ (:func:`standing_span`): a fresh credential, whose ``iat`` is a second
        never asked before, is judged from the span without a chain read. Both are dropped by any trust event.
        """
        key = (did, vct, at_time)
        try:
            self._ensure_fresh()
            with self._lock:
                generation = self._generation
                found = self._trust.get(key)
                known = self._trust.get((did, vct)) if found is None else None
            if found is not None:
                return found
            if known is not None and known[1] <= at_time < known[2]:
                answer = trust_answer_at(known[4], known[0], at_time)
                self._cache(self._trust, key, answer, generation)
                return answer
            lookup, generation, number = self._pinned(
                lambda block: self.ledger.trust.lookup(did, vct, at_time, block=block))
        except LedgerError as exc:
            return self._unavailable(exc)
        except MicrocredError as exc:  # a DID the registry cannot hold: not accredited
            return TrustAnswer(False, f"{did[:80]} cannot be in the trust registry: {exc}")
        answer = trust_answer(lookup, block=number)
        self._cache(self._trust, key, answer, generation)
        span = standing_span(lookup)
        if span is not None:
            self._cache(self._trust, (did, vct), (lookup, *span, number, answer), generation)
        return answer

    def _anchor(self, did: str, list_id: str) -> Any:
        key = (did, list_id)
        with self._lock:
            if key in self._anchors:
                return self._anchors[key]
        anchor, generation, _ = self._pinned(
            lambda block: self.ledger.status.latest_anchor(did, list_id, block=block))
        self._cache(self._anchors, key, anchor, generation)
        return anchor

    def _carried_event(self, did: str, list_id: str) -> Any:
        key = (did, list_id)
        with self._lock:
            if key in self._carried:
                return self._carried[key]

        def newest_carried(block: BlockRef) -> Any:
            events = self.ledger.status.anchor_events(did, list_id, from_block=self.ledger.deployment.deployment_block,
                                                      to_block=block.number)
            carried = [e for e in events if e.compressed_list is not None]
            return carried[-1] if carried else None

        event, generation, _ = self._pinned(newest_carried)
        self._cache(self._carried, key, event, generation)
        return event

    def _token(self, uri: str, anchored_sha256: bytes,
               fetch: TokenSource | None = None) -> tuple[str | None, str | None, bool]:
        """The token behind ``uri`` for this anchor, its fetch error, and whether its hash is the anchored one
        (True when none was fetched); kept only when it is.

        A token that does not match (a lying or stale server) is handed to the
        core, which says so, but is not kept: the next verification fetches
        again, so the verifier recovers as soon as the server tells the truth.
        """
        key = (uri, anchored_sha256)
        with self._lock:
            found = self._tokens.get(key)
        if found is not None and (found[0] is not None or time.monotonic() - found[2] < _FETCH_RETRY_S):
            return found[0], found[1], True
        left = time_left()
        if left is not None and left <= 0:
            return None, "no time was left to fetch it", True
        try:
            token, error = (fetch or self.fetch_token)(uri), None
        except (ConnectionError, ValueError) as exc:
            token, error = None, str(exc)
        if token is not None and hashlib.sha256(token.encode("utf-8")).digest() != anchored_sha256:
            return token, error, False
        with self._lock:
            self._tokens.put(key, (token, error, time.monotonic()))
        return token, error, True

    def _anchored_token(self, did: str, list_id: str, uri: str, anchor: Any, fetch: TokenSource | None = None,
                        refetch: TokenSource | None = None) -> tuple[Any, str | None, str | None]:
        """The anchor of the list and its token (with the fetch error), the head confirmed afresh on a mismatch.

        A served token whose hash is not the anchored one is, most often, a version anchored after the
        processed block (every revocation, for up to a poll interval), or the version before kept by a
        cache between verifier and issuer (for up to its max-age, 300 s from microcred's issuers): the head
        is confirmed afresh, the anchor read again, and the token fetched again with ``refetch`` (which asks
        the caches on the way to revalidate) before the core is told the hashes differ. A server that still
        differs is handed over as it is (a stale or lying server fails closed). Raises LedgerError from the
        chain.
        """
        token, error, matches = self._token(uri, anchor.sha256, fetch)
        if matches:
            return anchor, token, error
        self.refresh()
        again = self._anchor(did, list_id)
        if again is not None:
            token, error, _ = self._token(uri, again.sha256, refetch or self.refetch_token)
        return again, token, error  # no anchor any more (a reorganisation): the caller says "never anchored"

    def _anchored_evidence(self, did: str, list_id: str, anchor: Any, token: str | None, error: str | None,
                           checked_at: int) -> StatusEvidence | Unavailable:
        """The evidence of an anchored list: its token, or else the newest copy carried on chain."""
        carried = carried_version = None
        if token is None:
            try:
                event = self._carried_event(did, list_id)
            except LedgerError as exc:
                self._note(exc)
                return Unavailable(f"the status list cannot be fetched ({error}) nor read from the chain "
                                   f"({user_reason(exc)})")
            except MicrocredError as exc:
                return Unavailable(f"the status list cannot be fetched ({error}) nor read from the chain: {exc}")
            if event is not None:
                carried, carried_version = event.compressed_list, event.version
        return StatusEvidence(anchor.sha256, anchor.block_number, anchor.version, token, error, carried,
                              carried_version, checked_at)

    def status(self, did: str, uri: str) -> StatusEvidence | Unavailable:
        """The anchor of the list behind ``uri`` and its token (core ``StatusResolver``).

        The evidence of a list whose served token hashes to its anchor is kept per (DID, URI) for the processed
        block (the cache generation: any event, block or reorganisation makes another), so that every
        verification until the next block is answered what the anchor and token caches would answer, built once;
        only its ``checked_at`` is that of the moment it is asked (issue 16).
        """
        try:
            self._ensure_fresh()
            # Read without the lock (one dict read): an entry of another generation than the current one is not used.
            known = self._statuses.get((did, uri))
            if known is not None and known[0] == self._generation:
                return self._as_of_now(did, uri, known)
            with self._lock:
                generation = self._generation
            list_id = status_list_id(uri)
            anchor = self._anchor(did, list_id)
            if anchor is None:
                # Never anchored, as far as the processed block knows: look at the chain again
                # before saying so, since a list anchored a moment ago is the usual reason.
                self.refresh()
                anchor = self._anchor(did, list_id)
            if anchor is not None:
                anchor, token, error = self._anchored_token(did, list_id, uri, anchor)
        except LedgerError as exc:
            return self._unavailable(exc)
        except MicrocredError as exc:
            return Unavailable(f"the anchor of {uri} cannot be read: {exc}")
        checked_at = self._checked_at()
        if anchor is None:
            return StatusEvidence(None, checked_at=checked_at)
        evidence = self._anchored_evidence(did, list_id, anchor, token, error, checked_at)
        with self._lock:
            kept = self._tokens.get((uri, anchor.sha256))
        if token is not None and kept is not None and kept[0] is token:  # the token the cache holds as matching
            self._cache(self._statuses, (did, uri), (generation, evidence), generation)
        return evidence

    def _as_of_now(self, did: str, uri: str, known: tuple[int, StatusEvidence]) -> StatusEvidence:
        """A kept evidence with the ``checked_at`` of now (kept again when that second is new)."""
        generation, evidence = known
        checked_at = self._checked_at()
        if evidence.checked_at != checked_at:
            evidence = StatusEvidence(evidence.anchored_sha256, evidence.anchored_block, evidence.anchored_version,
                                      evidence.token, evidence.fetch_error, evidence.carried_list,
                                      evidence.carried_version, checked_at)
            self._cache(self._statuses, (did, uri), (generation, evidence), generation)
        return evidence

    def _unanchored_list(self, uri: str) -> tuple[str | None, str | None, int]:
        """The list behind ``uri`` fetched now or within :data:`UNANCHORED_LIST_TTL_S`: (text, error, fetched at)."""
        with self._lock:
            found = self._lists.get(uri)
        if found is not None and time.monotonic() - found[3] < (UNANCHORED_LIST_TTL_S if found[0] is not None
                                                                  else _FETCH_RETRY_S):
            return found[0], found[1], found[2]
        left = time_left()
        if left is not None and left <= 0:
            return None, "no time was left to fetch it", int(self.clock())
        try:
            text, error = self.fetch_list(uri), None
        except (ConnectionError, ValueError) as exc:
            text, error = None, str(exc)
        fetched_at = int(self.clock())
        with self._lock:
            self._lists.put(uri, (text, error, fetched_at, time.monotonic()))
        return text, error, fetched_at

    def list_status(self, did: str, uri: str) -> StatusEvidence | Unavailable:
        """A W3C status list behind ``uri``: its anchor when ``did`` anchors it, its text either way.

        An issuer identifier the StatusRegistry cannot hold counts as "not
        anchored"; the chain being down is :class:`Unavailable`.
        """
        try:
            self._ensure_fresh()
            list_id = status_list_id(uri)
            try:
                anchor = self._anchor(did, list_id)
            except LedgerError:
                raise
            except MicrocredError:
                anchor = None
        except LedgerError as exc:
            return self._unavailable(exc)
        except MicrocredError as exc:
            return Unavailable(f"the status list {uri[:120]} cannot be used: {exc}")
        if anchor is None:
            text, error, fetched_at = self._unanchored_list(uri)
            return StatusEvidence(None, token=text, fetch_error=error, checked_at=fetched_at)
        try:
            anchor, token, error = self._anchored_token(did, list_id, uri, anchor, self.fetch_list, self.refetch_list)
        except LedgerError as exc:
            return self._unavailable(exc)
        except MicrocredError as exc:
            return Unavailable(f"the status list {uri[:120]} cannot be used: {exc}")
        if anchor is None:  # its anchor gone with a reorganisation: read as a list it does not anchor
            text, error, fetched_at = self._unanchored_list(uri)
            return StatusEvidence(None, token=text, fetch_error=error, checked_at=fetched_at)
        return self._anchored_evidence(did, list_id, anchor, token, error, self._checked_at())
