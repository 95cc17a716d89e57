"""The verifier service: settings → policy, resolvers and caches around the pure core.

One :class:`VerifierService` per process. It turns the checked settings
(``MICROCRED_VERIFIER_*`` environment variables, see :mod:`verifier.settings`) into a
:class:`~credentials.verification_model.Policy`, opens the ledger lazily (so the
service starts, and answers 503, while the chain is down), and runs
:func:`~credentials.verification.verify_presentation` with the chain-backed
resolvers of :mod:`ledger.view`, a replay guard and a cache of issuer
keys (did:mcr issuers' keys from the DidRegistry at the block the ledger
view has processed). Status lists (IETF tokens and W3C list credentials), did:web documents
and link-mode QR texts are fetched with the one strict fetcher,
:class:`infra.fetch.StrictFetcher`: a did:web naming a private or loopback
address is refused (``signature`` fails saying so); documents are kept
``VERIFIER_DID_WEB_TTL`` seconds. Sealed credentials chain to the anchors of
``MICROCRED_X509_TRUST_ANCHORS`` (a PEM bundle, read once at start-up).

Replay records, OpenID4VP transactions and rate-limit counters live in the
shared store of :mod:`infra.store` (SQLite in the data dir, or Redis when
``MICROCRED_REDIS_URL`` is set), so every worker and every instance sharing it
sees the same: a presentation accepted by one is a replay for all.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, cast

from credentials.did_mcr import DidRecord
from credentials.errors import CHECKS, ConfigurationError, FormatError, InvalidDid, MicrocredError
from credentials.europass import parse_trust_anchors
from credentials.issuance_anchor import IssuanceAnchor
from credentials.jose import PublicKey
from credentials.presentation_codec import KIND_INLINE, KIND_LINK, classify_scanned, parse_stack
from credentials.sd_jwt_vc import resolve_did_issuer_key
from credentials.stack import StackResult, stack_result
from credentials.status_check import StatusListMemo
from credentials.status_check_bitstring import W3cListMemo
from credentials.verification import verify_presentation
from credentials.verification_keys import KeyResolver, did_web_url
from credentials.verification_memo import IssuerJwtMemo
from credentials.verification_model import (
    FAILED,
    SKIPPED,
    UNAVAILABLE,
    CheckResult,
    Policy,
    StatusEvidence,
    TrustAnswer,
    Unavailable,
    VerificationResult,
)
from credentials.x509_trust import TrustAnchors
from infra.errors import FetchRefused, RemoteUnreachable, UnusableAnswer
from infra.fetch import FetchPolicy, StrictFetcher
from infra.rate_limit import RateLimit, enforce, parse_rate_limit
from infra.settings import Settings, settings_from_env
from infra.store import Store, open_store
from ledger.config import LedgerSettings
from ledger.errors import DeploymentNotFound, InvalidDeployment
from verifier.imported_trust import load_imported, trusted_list_path
from verifier.links import fetch_presentation_link
from verifier.settings import RATE_LIMITS, SETTINGS

__all__ = ["ReplayCache", "VerifierService", "RATE_LIMITS"]

REPLAY_NAMESPACE = "replay"
DID_DOCUMENT_MAX_BYTES = 64 * 1024
DID_CACHE_SIZE = 1024
#: What a W3C status list credential may come as (vc+jwt, a JSON-LD credential with a proof, a JAdES seal).
W3C_LIST_ACCEPT = "application/vc+jwt, application/vc, application/ld+json, application/json;q=0.9, */*;q=0.5"
#: What a presentation link may answer: an SD-JWT VC presentation, a JWT or JSON presentation of a whole credential.
LINK_ACCEPT = ("application/dc+sd-jwt, application/vp+jwt, application/jwt, application/vp+ld+json, application/json, "
               "text/plain")
_LEDGER_RETRY_S = 1.0
_log = logging.getLogger(__name__)
#: (scanned link, the presentation it led to) of this context's last verification of a link: the result page's
#: evidence is made from the presentation (:meth:`VerifierService.presentation_of`), which the link gives only once.
_LINKED: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("microcred_linked", default=None)


class ReplayCache:
    """The core's ``ReplayGuard`` over the shared store: a KB-JWT id is recorded once, until it expires.

    No cap by count: a record lives until the KB-JWT could no longer be
    accepted anyway (``expires_at``; at most ``max_ttl`` seconds), so the store
    holds at most the accepted presentations of that window and never refuses
    anybody for being full. A store that cannot answer raises
    ``ConnectionError``; the core reports ``replay`` as unavailable (fail closed).
    """

    def __init__(self, store: Store, clock: Callable[[], float] = time.time, *, max_ttl: int = 420):
        self._store = store
        self._clock = clock
        self._max_ttl = max_ttl

    def __call__(self, kb_jwt_id: str, expires_at: int) -> bool:
        ttl = expires_at - self._clock()  # min(max(ttl, 1), max_ttl) without the two builtin calls (issue 16)
        if ttl < 1:
            ttl = 1
        if ttl > self._max_ttl:
            ttl = self._max_ttl
        return self._store.add_once(REPLAY_NAMESPACE, kb_jwt_id, ttl)


class VerifierService:
    """Everything one verifier process needs; thread-safe."""

    def __init__(self, config: Mapping[str, Any], *, clock: Callable[[], float] = time.time):
        """``config``: the app's checked :class:`~infra.settings.Settings`, or a mapping of overrides read
        like the app reads them (``MICROCRED_*`` from the environment, then ``config``; checked the same way)."""
        self.settings = config if isinstance(config, Settings) else settings_from_env(SETTINGS, config)
        self.clock = clock
        settings = self.settings
        self.fetch_policy = FetchPolicy.from_config(
            settings,
            allowed_hosts=frozenset(h.lower() for h in settings.VERIFIER_FETCH_HOSTS),
            allow_http=settings.VERIFIER_FETCH_ALLOW_HTTP,
            allow_loopback=settings.DEV_LOOPBACK or settings.VERIFIER_FETCH_ALLOW_LOOPBACK,
            allow_private=settings.FETCH_ALLOW_PRIVATE or settings.VERIFIER_FETCH_ALLOW_PRIVATE,
            timeout=settings.VERIFIER_FETCH_TIMEOUT,
        )
        self.status_fetcher = StrictFetcher(self.fetch_policy)
        self.link_fetcher = StrictFetcher(replace(self.fetch_policy, max_bytes=settings.VERIFIER_MAX_IMPORTED_BODY))
        self.did_fetcher = StrictFetcher(replace(self.fetch_policy, max_bytes=DID_DOCUMENT_MAX_BYTES))
        self.trust_anchors = _trust_anchors(settings.X509_TRUST_ANCHORS)
        self._did_documents: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._did_lock = threading.Lock()
        self.store = open_store(settings.DATA_DIR, settings.REDIS_URL, clock=clock)
        self.replay = ReplayCache(self.store, clock, max_ttl=settings.VERIFIER_KB_MAX_AGE
                                  + 2 * settings.VERIFIER_CLOCK_SKEW)
        self.rate_limits: dict[str, RateLimit | None] = {
            action: parse_rate_limit(settings[setting], setting=f"MICROCRED_{setting}")
            for action, (setting, _, _) in RATE_LIMITS.items()}
        self.memo = StatusListMemo()
        self.jwt_memo = IssuerJwtMemo()  # a credential shown again: parsed and issuer-signature-checked once per key
        self.list_memo = W3cListMemo()
        self._view: Any = None
        self._ledger_error: str | None = None
        #: Why the ledger cannot be opened, in the words of whoever reads the check details (a command sets its own)
        self.ledger_reason: Callable[[MicrocredError], str] = _ledger_reason
        self._ledger_tried = float("-inf")
        self._lock = threading.Lock()
        self._policy: Policy | None = None
        # read once, at start-up: a list that cannot be used stops the service naming the file
        self.imported_roots = load_imported(trusted_list_path(settings), now=int(clock()))
        self.issuer_key = lru_cache(maxsize=1024)(resolve_did_issuer_key)
        self.keys = KeyResolver(self._did_document, offline_issuer_key=self._issuer_key, did_records=self._did_record)
        self._deadline_s = settings.VERIFIER_DEADLINE
        self._deadline: Callable[[float], AbstractContextManager[float]] | None = None  # ledger.chain.deadline

    def data_dir(self) -> Path:
        """The data dir (``DATA_DIR``, by default ``MICROCRED_DATA_DIR`` or ``./var``)."""
        return self.settings.DATA_DIR

    def limit(self, action: str, client: str | None) -> None:
        """Count one ``action`` (a key of :data:`RATE_LIMITS`) by ``client``; RateLimited past the limit."""
        _, namespace, what = RATE_LIMITS[action]
        enforce(self.store, namespace, self.rate_limits[action], client, what=what)

    # ------------------------------------------------------------- ledger

    def ledger_view(self) -> Any:
        """The :class:`~ledger.view.LedgerView`, opened on first use; None while unreachable.

        Why it could not be opened is kept in the user's terms for check
        details; the exception (it may name the node's URL or the deployment
        file's path) goes to the log only.
        """
        if self._view is not None:
            return self._view
        # here, not at the top: ledger.chain loads web3 (seconds to import) with the ledger, not when the app is built
        from ledger.chain import time_left

        left = time_left()  # another request opening it may hang on the node: wait no longer than our deadline
        if not self._lock.acquire(timeout=-1 if left is None else max(0.0, left)):
            return None
        try:
            if self._view is None and time.monotonic() - self._ledger_tried > _LEDGER_RETRY_S:
                self._ledger_tried = time.monotonic()
                try:
                    self._view = self._open_view()
                    self._ledger_error = None
                except MicrocredError as exc:
                    self._ledger_error = self.ledger_reason(exc)
                    _log.warning("the ledger cannot be opened: %s", exc)
        finally:
            self._lock.release()
        return self._view

    def _open_view(self) -> Any:
        # here, not at the top: ledger.chain loads web3 (seconds to import) with the ledger, not when the app is built
        from ledger.view import open_view

        # reads at head − MICROCRED_CONFIRMATIONS (ledger.view)
        # a list whose hash is not the anchored one is fetched again asking caches to revalidate (a CDN's stale copy)
        return open_view(LedgerSettings.of(self.settings), self._fetch_status_token,
                         poll_interval=self.settings.VERIFIER_POLL_INTERVAL, fetch_list=self._fetch_status_list,
                         refetch_token=partial(self._fetch_status_token, revalidate=True),
                         refetch_list=partial(self._fetch_status_list, revalidate=True))

    def _fetch_status_token(self, uri: str, *, revalidate: bool = False) -> str:
        return self.status_fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list",
                                            revalidate=revalidate)

    def _fetch_status_list(self, uri: str, *, revalidate: bool = False) -> str:
        return self.status_fetcher.get_text(uri, accept=W3C_LIST_ACCEPT, what="status list", encoding="utf-8",
                                            revalidate=revalidate)

    def _did_document(self, did: str) -> str:
        """The text of a did:web document, fetched strictly and kept ``VERIFIER_DID_WEB_TTL`` seconds.

        A URL the fetcher refuses (a private or loopback address, a host off the
        allow-list) or an answer that is not one is :class:`InvalidDid` (the check
        fails, saying why); nobody answering stays a ``ConnectionError``
        (the check is ``unavailable``) and is not kept.
        """
        with self._did_lock:
            found = self._did_documents.get(did)
        if found is not None and time.monotonic() < found[1]:
            return found[0]
        try:
            text = self.did_fetcher.get_text(did_web_url(did), accept="application/did+json, application/json",
                                             what="DID document", encoding="utf-8")
        except (FetchRefused, UnusableAnswer) as exc:
            raise InvalidDid(f"the DID document of {did[:80]} cannot be used: {exc}") from None
        with self._did_lock:
            self._did_documents[did] = (text, time.monotonic() + self.settings.VERIFIER_DID_WEB_TTL)
            self._did_documents.move_to_end(did)
            while len(self._did_documents) > DID_CACHE_SIZE:
                self._did_documents.popitem(last=False)
        return text

    def _did_record(self, did: str) -> DidRecord:
        """A did:mcr DID's record at the block the ledger view has processed; ConnectionError while it is down."""
        view = self.ledger_view()
        if view is None:
            raise ConnectionError(self._ledger_error or "the ledger did not answer")
        return cast(DidRecord, view.did_record(did))

    def _trust(self, did: str, vct: str, at_time: int) -> TrustAnswer | Unavailable:
        view = self.ledger_view()
        if view is None:
            return Unavailable(self._ledger_error or "the ledger did not answer")
        return view.trust(did, vct, at_time)

    def _status(self, did: str, uri: str) -> StatusEvidence | Unavailable:
        view = self.ledger_view()
        if view is None:
            return Unavailable(self._ledger_error or "the ledger did not answer")
        return view.status(did, uri)

    def _list_status(self, did: str, uri: str) -> StatusEvidence | Unavailable:
        view = self.ledger_view()
        if view is None:
            return Unavailable(self._ledger_error or "the ledger did not answer")
        return view.list_status(did, uri)

    def policy(self) -> Policy:
        """The configured policy; trusted roots default to the deployment's root (needs the ledger once)."""
        if self._policy is not None:
            return self._policy
        settings = self.settings
        roots = tuple(settings.VERIFIER_TRUSTED_ROOTS) + (self.imported_roots or ())  # an imported list: its roots
        if not roots:
            view = self.ledger_view()
            roots = (view.ledger.deployment.root_did,) if view is not None else ()
        policy = Policy(
            trusted_roots=frozenset(roots),
            accepted_vcts=frozenset(settings.VERIFIER_ACCEPTED_VCTS),
            kb_max_age=settings.VERIFIER_KB_MAX_AGE,
            clock_skew=settings.VERIFIER_CLOCK_SKEW,
            holder_binding_required=settings.VERIFIER_HOLDER_BINDING_REQUIRED,
            max_status_age=settings.VERIFIER_MAX_STATUS_AGE,
            min_status_list_entries=settings.VERIFIER_MIN_STATUS_LIST_ENTRIES,
            expected_audience=settings.VERIFIER_AUDIENCE,
            whole_credential_binding_required=settings.VERIFIER_WHOLE_CREDENTIAL_BINDING_REQUIRED,
            imported_status_required=settings.VERIFIER_IMPORTED_STATUS_REQUIRED,
            unanchored_status_lists=settings.VERIFIER_UNANCHORED_STATUS_LISTS,
            issuance_anchor_required=settings.VERIFIER_REQUIRE_ISSUANCE_ANCHOR,
        )
        if roots:
            self._policy = policy
        return policy

    # ------------------------------------------------------------- verify

    def resolve_text(self, text: str) -> str:
        """The presentation a scanned or pasted text stands for (fetching a link).

        FormatError if there is none: the text is not a presentation, the link
        is refused, or its host answered but not with a presentation (a used,
        withdrawn or expired one-time link: 404/410, :mod:`verifier.links`).
        RemoteUnreachable when nobody answered (or a 5xx).
        """
        scanned = classify_scanned(text)
        if scanned.kind == KIND_INLINE:
            return scanned.value
        if scanned.kind == KIND_LINK:
            return fetch_presentation_link(self.link_fetcher, scanned.value, accept=LINK_ACCEPT)
        raise FormatError(f"the code holds an {scanned.kind.replace('_', ' ')}, not a presentation")

    def verify(self, text: str, *, nonce: str | None = None, audience: str | None = None,
               now: int | None = None) -> VerificationResult:
        """Verify a presentation, or a scanned text (link-mode QR) that leads to one.

        A text that leads to a stack fails ``format`` saying so: :meth:`verify_text` takes both.
        """
        return cast(VerificationResult, self.verify_text(text, nonce=nonce, audience=audience, now=now, stacks=False))

    def verify_text(self, text: str, *, nonce: str | None = None, audience: str | None = None,
                    now: int | None = None, stacks: bool = True) -> VerificationResult | StackResult:
        """Verify what a scanned, pasted or posted text stands for: one presentation, or a stack
        (``{"presentations": [...]}``, pasted or behind a link; :meth:`verify_stack`)."""
        when = int(self.clock()) if now is None else now
        try:
            if _looks_scanned(text):
                _LINKED.set(None)
                presentation = self.resolve_text(text)
                _LINKED.set((text, presentation))
            else:
                presentation = text
            members = parse_stack(presentation)
            if members is not None and not stacks:
                raise FormatError(f"the text holds a stack of {len(members)} presentations; verify it as a stack")
        except (FormatError, RemoteUnreachable) as exc:  # a bad text or link fails; a link nobody answers: unavailable
            return _unread(exc)
        if members is not None:
            return self.verify_stack(members, nonce=nonce, audience=audience, now=when)
        # One deadline for every chain read of this verification (trust, status, opening the ledger):
        # a hung node costs it VERIFIER_DEADLINE seconds, then `unavailable` (503), not a timeout per call.
        with (self._deadline or self._chain_deadline())(self._deadline_s):
            return self._verify_presentation(presentation, nonce, audience, when)

    def presentation_of(self, text: str) -> str:
        """The presentation ``text`` led to in this context's last verification (a link, fetched), else ``text``."""
        linked = _LINKED.get()
        return linked[1] if linked is not None and linked[0] == text else text

    def _chain_deadline(self) -> Callable[[float], AbstractContextManager[float]]:
        """:func:`ledger.chain.deadline`, imported on the first verification (not at each: issue 16)."""
        # here, not at the top: ledger.chain loads web3 (seconds to import) with the ledger, not when the app is built
        from ledger.chain import deadline

        self._deadline = deadline
        return deadline

    def verify_stack(self, presentations: Sequence[str], *, nonce: str | None = None, audience: str | None = None,
                     now: int | None = None, problems: Sequence[str] = ()) -> StackResult:
        """Verify each presentation of a stack (never a link: members are presentations), then the stack's
        integrity and summary (:func:`credentials.stack.stack_result`): every member bound to ``nonce`` and
        ``audience`` when given, else to those of the first; each credential counted once. An SD-JWT VC member
        over ``VERIFIER_MAX_BODY``
        fails ``format``. ``problems``: what is wrong with the answer as a whole (the stack is then not verified).
        """
        when = int(self.clock()) if now is None else now
        results = self.verify_members(presentations, nonce=nonce, audience=audience, now=when)
        return stack_result(results, nonce=nonce, audience=audience, problems=problems, presentations=presentations)

    def verify_members(self, presentations: Sequence[str], *, nonce: str | None = None, audience: str | None = None,
                       now: int | None = None) -> list[VerificationResult]:
        """Each presentation of a stack or of an OpenID4VP answer, under one deadline for their chain reads.

        A member is a presentation, never a link: one that looks like a link (or another scanned code) fails
        ``format`` and is not fetched, so an answer cannot make the verifier fetch URLs of its choosing. An
        SD-JWT VC member over ``VERIFIER_MAX_BODY`` fails ``format``.
        """
        when = int(self.clock()) if now is None else now
        limit = self.settings.VERIFIER_MAX_BODY
        results = []
        with (self._deadline or self._chain_deadline())(self._deadline_s):  # one for the chain reads of them all
            for presentation in presentations:
                size = len(presentation.encode("utf-8", "replace"))
                if _looks_scanned(presentation):
                    results.append(_unread(FormatError(
                        "a link or scanned code is not a presentation: the presentations of a stack or of a "
                        "wallet's answer are verified as sent, never fetched")))
                elif "~" in presentation and not presentation.lstrip().startswith("{") and size > limit:
                    results.append(_unread(FormatError(f"the SD-JWT VC presentation is {size} bytes, over the "
                                                       f"limit of {limit}")))
                else:
                    results.append(self._verify_presentation(presentation, nonce, audience, when))
        return results

    def _verify_presentation(self, presentation: str, nonce: str | None, audience: str | None,
                             when: int) -> VerificationResult:
        return verify_presentation(presentation, policy=self.policy(), trust=self._trust, status=self._status,
                                   replay=self.replay, now=when, nonce=nonce, audience=audience,
                                   memo=self.memo, keys=self.keys, lists=self._list_status,
                                   trust_anchors=self.trust_anchors, list_memo=self.list_memo,
                                   issuance=self._issuance_anchor, jwt_memo=self.jwt_memo)

    def _issuance_anchor(self, issuer_did: str, root: bytes) -> IssuanceAnchor | Unavailable:
        """The IssuanceRegistry's anchor of ``root`` at the block the ledger view has processed."""
        view = self.ledger_view()
        if view is None:
            return Unavailable(self._ledger_error or "the ledger did not answer")
        return cast(IssuanceAnchor | Unavailable, view.issuance_anchor(issuer_did, root))

    def _issuer_key(self, iss: str, kid: str | None) -> PublicKey:
        return self.issuer_key(iss, kid)

    def close(self) -> None:
        if self._view is not None:
            self._view.stop()
        self.store.close()


def _trust_anchors(path: str | None) -> TrustAnchors | None:
    """The anchors of ``MICROCRED_X509_TRUST_ANCHORS`` (checked by the settings), or None when unset."""
    if not path:
        return None
    with open(path, "rb") as bundle:
        return parse_trust_anchors(bundle.read())


def _ledger_reason(exc: MicrocredError) -> str:
    """Why the ledger cannot be used, in the user's terms (never the URL, path or exception text)."""
    if isinstance(exc, (DeploymentNotFound, InvalidDeployment, ConfigurationError)):
        return "the verifier's ledger is not set up; its operator has been told"
    if isinstance(exc, ConnectionError):
        return "the ledger did not answer"
    return "the ledger's answer could not be used"


def _unread(exc: FormatError | RemoteUnreachable) -> VerificationResult:
    """The result for a text that leads to no presentation: ``format`` failed (or unavailable: nobody answered)."""
    status, reason = (FAILED, exc.reason) if isinstance(exc, FormatError) else (UNAVAILABLE, str(exc))
    return VerificationResult(None, tuple(
        CheckResult(c, status, reason) if c == "format" else CheckResult(c, SKIPPED, "nothing to verify")
        for c in CHECKS))


def _looks_scanned(text: str) -> bool:
    head = text.lstrip()[:40].lower()
    return head.startswith(("http://", "https://", "openid4vp://", "openid-credential-offer://", "eudi-openid4vp://",
                            "haip://"))
