"""The verifier service: settings → policy, resolvers and caches around the pure core.

One :class:`VerifierService` per process. It turns the Flask settings
(``MICROCRED_VERIFIER_*`` environment variables, see :data:`DEFAULTS`) into a
:class:`~credentials.verification_model.Policy`, opens the ledger lazily (so the
service starts, and answers 503, while the chain is down), and runs
:func:`~credentials.verification.verify_presentation` with the chain-backed
resolvers of :mod:`ledger.view`, a replay guard and a cache of issuer
keys. Status lists and link-mode QR texts are fetched with the one strict fetcher,
:class:`infra.fetch.StrictFetcher`.

Replay records, OpenID4VP transactions and rate-limit counters live in the
shared store of :mod:`infra.store` (SQLite in the data dir, or Redis when
``MICROCRED_REDIS_URL`` is set), so every worker and every instance sharing it
sees the same: a presentation accepted by one is a replay for all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from credentials.errors import CHECKS, ConfigurationError, FormatError, MicrocredError
from infra.rate_limit import RateLimit, enforce, parse_rate_limit
from infra.store import Store, open_store
from credentials.jose import PublicKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.presentation_codec import KIND_INLINE, KIND_LINK, classify_scanned
from credentials.sd_jwt_vc import resolve_did_issuer_key
from credentials.status_check import StatusListMemo
from credentials.status_list import MIN_STATUS_LIST_ENTRIES
from credentials.verification import verify_presentation
from credentials.verification_model import (
    FAILED, SKIPPED, UNAVAILABLE, CheckResult, Policy, StatusEvidence, TrustAnswer, Unavailable, VerificationResult,
)
from infra.fetch import FetchError, FetchPolicy, FetchRefused, StrictFetcher

__all__ = ["DEFAULTS", "ReplayCache", "VerifierService", "settings_list", "settings_bool"]

#: Settings (``app.config`` keys; set as ``MICROCRED_<KEY>`` in the environment) and their defaults.
DEFAULTS: dict[str, Any] = {
    "DATA_DIR": None,                         # ledger data dir (deployment.json); default MICROCRED_DATA_DIR / ./var
    "RPC_URL": None,                          # Ethereum JSON-RPC URL; default the devnet's
    "VERIFIER_TRUSTED_ROOTS": None,           # comma list; default: the deployment's root DID
    "VERIFIER_ACCEPTED_VCTS": MICRO_CREDENTIAL_VCT,
    "VERIFIER_AUDIENCE": None,                # the aud a KB-JWT must carry (None: any, checked per request)
    "VERIFIER_KB_MAX_AGE": 300,
    "VERIFIER_CLOCK_SKEW": 60,
    "VERIFIER_HOLDER_BINDING_REQUIRED": True,
    "VERIFIER_MAX_STATUS_AGE": 60,
    "VERIFIER_MIN_STATUS_LIST_ENTRIES": MIN_STATUS_LIST_ENTRIES,  # shorter status lists fail (herd privacy)
    "VERIFIER_MAX_BODY": 64 * 1024,           # bytes of a request body
    "VERIFIER_FETCH_HOSTS": "",               # allow-list for status lists and links; empty: any public host
    "DEV_LOOPBACK": False,                    # fetch from this machine, plain http to it (development only)
    "FETCH_ALLOW_PRIVATE": False,             # fetch from RFC 1918 / unique-local / CGNAT addresses (intranet)
    "FETCH_CA_FILE": None,                    # extra CA certificates (PEM) trusted for outbound https
    "VERIFIER_FETCH_ALLOW_HTTP": False,       # plain http to any allowed host (development only)
    "VERIFIER_FETCH_ALLOW_LOOPBACK": False,   # the verifier's own name for DEV_LOOPBACK's loopback part
    "VERIFIER_FETCH_ALLOW_PRIVATE": False,    # the verifier's own name for FETCH_ALLOW_PRIVATE
    "VERIFIER_FETCH_TIMEOUT": 3.0,
    "VERIFIER_POLL_INTERVAL": 0.2,
    "VERIFIER_DEADLINE": 5.0,                 # seconds for all chain reads of one verification (then 503)
    "VERIFIER_PUBLIC_URL": None,              # this service's base URL, for OpenID4VP response_uri
    "REDIS_URL": None,                        # Redis/Valkey for shared state; default SQLite in the data dir
    "VERIFIER_RATE_LIMIT": "120/60",          # verifications per client: N per S seconds, or "off"
    "VERIFIER_OPENID4VP_RATE_LIMIT": "30/60",  # new OpenID4VP requests per client
}
#: Rate-limited actions: (setting, store namespace, what the client is told it sent too many of).
RATE_LIMITS = {
    "verify": ("VERIFIER_RATE_LIMIT", "rate-verify", "verification requests"),
    "openid4vp": ("VERIFIER_OPENID4VP_RATE_LIMIT", "rate-openid4vp", "new presentation requests"),
}
REPLAY_NAMESPACE = "replay"
_LEDGER_RETRY_S = 1.0
_log = logging.getLogger(__name__)


def settings_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def settings_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


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
        ttl = min(max(expires_at - self._clock(), 1), self._max_ttl)
        return self._store.add_once(REPLAY_NAMESPACE, kb_jwt_id, ttl)


@dataclass(frozen=True)
class _Settings:
    policy_base: Policy | None
    roots: tuple[str, ...]
    fetch: FetchPolicy


class VerifierService:
    """Everything one verifier process needs; thread-safe."""

    def __init__(self, config: Mapping[str, Any], *, clock: Callable[[], float] = time.time):
        self.config = {**DEFAULTS, **{k: v for k, v in config.items() if k in DEFAULTS and v is not None}}
        self.clock = clock
        flag = self.config.get
        self.fetch_policy = FetchPolicy.from_config(
            self.config,
            allowed_hosts=frozenset(h.lower() for h in settings_list(self.config["VERIFIER_FETCH_HOSTS"])),
            allow_http=settings_bool(flag("VERIFIER_FETCH_ALLOW_HTTP")),
            allow_loopback=settings_bool(flag("DEV_LOOPBACK")) or settings_bool(flag("VERIFIER_FETCH_ALLOW_LOOPBACK")),
            allow_private=settings_bool(flag("FETCH_ALLOW_PRIVATE")) or settings_bool(flag("VERIFIER_FETCH_ALLOW_PRIVATE")),
            timeout=float(self.config["VERIFIER_FETCH_TIMEOUT"]),
        )
        self.status_fetcher = StrictFetcher(self.fetch_policy)
        self.link_fetcher = StrictFetcher(replace(self.fetch_policy, max_bytes=64 * 1024))
        self.store = open_store(self.data_dir(), self.config["REDIS_URL"], clock=clock)
        self.replay = ReplayCache(self.store, clock, max_ttl=int(self.config["VERIFIER_KB_MAX_AGE"])
                                  + 2 * int(self.config["VERIFIER_CLOCK_SKEW"]))
        self.rate_limits: dict[str, RateLimit | None] = {
            action: parse_rate_limit(self.config[setting], setting=f"MICROCRED_{setting}")
            for action, (setting, _, _) in RATE_LIMITS.items()}
        self.memo = StatusListMemo()
        self._view: Any = None
        self._ledger_error: str | None = None
        self._ledger_tried = float("-inf")
        self._lock = threading.Lock()
        self._policy: Policy | None = None
        self.issuer_key = lru_cache(maxsize=1024)(resolve_did_issuer_key)

    def data_dir(self) -> Path:
        """The data dir: ``DATA_DIR``, else ``MICROCRED_DATA_DIR``, else ``./var``."""
        from ledger.config import data_dir

        return Path(self.config["DATA_DIR"]).resolve() if self.config["DATA_DIR"] else data_dir()

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
                    self._ledger_error = _ledger_reason(exc)
                    _log.warning("the ledger cannot be opened: %s", exc)
        finally:
            self._lock.release()
        return self._view

    def _open_view(self) -> Any:
        from ledger.config import LedgerSettings
        from ledger.deployment import open_ledger
        from ledger.view import LedgerView

        env = LedgerSettings.from_env()
        settings = LedgerSettings(Path(self.config["DATA_DIR"]).resolve() if self.config["DATA_DIR"] else env.data_dir,
                                  self.config["RPC_URL"] or env.rpc_url, env.confirmations)
        ledger = open_ledger(settings)  # reads at head − MICROCRED_CONFIRMATIONS (ledger.view)
        view = LedgerView(ledger, self._fetch_status_token, poll_interval=float(self.config["VERIFIER_POLL_INTERVAL"]))
        view.refresh()
        return view

    def _fetch_status_token(self, uri: str) -> str:
        return self.status_fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list")

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

    def policy(self) -> Policy:
        """The configured policy; trusted roots default to the deployment's root (needs the ledger once)."""
        if self._policy is not None:
            return self._policy
        roots = settings_list(self.config["VERIFIER_TRUSTED_ROOTS"])
        if not roots:
            view = self.ledger_view()
            roots = (view.ledger.deployment.root_did,) if view is not None else ()
        policy = Policy(
            trusted_roots=frozenset(roots),
            accepted_vcts=frozenset(settings_list(self.config["VERIFIER_ACCEPTED_VCTS"])),
            kb_max_age=int(self.config["VERIFIER_KB_MAX_AGE"]),
            clock_skew=int(self.config["VERIFIER_CLOCK_SKEW"]),
            holder_binding_required=settings_bool(self.config["VERIFIER_HOLDER_BINDING_REQUIRED"]),
            max_status_age=int(self.config["VERIFIER_MAX_STATUS_AGE"]),
            min_status_list_entries=int(self.config["VERIFIER_MIN_STATUS_LIST_ENTRIES"]),
            expected_audience=self.config["VERIFIER_AUDIENCE"],
        )
        if roots:
            self._policy = policy
        return policy

    # ------------------------------------------------------------- verify

    def resolve_text(self, text: str) -> str:
        """The presentation a scanned or pasted text stands for (fetching a link).

        FormatError if there is none: the text is not a presentation, the link
        is refused, or its host answered but not with a presentation (a used
        one-time link: 404/410). FetchError (transient) when nobody answered.
        """
        scanned = classify_scanned(text)
        if scanned.kind == KIND_INLINE:
            return scanned.value
        if scanned.kind == KIND_LINK:
            try:
                return self.link_fetcher.get_text(scanned.value, accept="application/dc+sd-jwt, text/plain",
                                                  what="presentation link")
            except FetchRefused as exc:
                raise FormatError(f"the presentation link cannot be used: {exc}") from None
            except FetchError as exc:
                if exc.transient:
                    raise
                raise FormatError(f"the presentation link cannot be used: {exc}") from None
        raise FormatError(f"the code holds an {scanned.kind.replace('_', ' ')}, not a presentation")

    def verify(self, text: str, *, nonce: str | None = None, audience: str | None = None,
               now: int | None = None) -> VerificationResult:
        """Verify a presentation, or a scanned text (link-mode QR) that leads to one."""
        when = int(self.clock()) if now is None else now
        try:
            presentation = self.resolve_text(text) if _looks_scanned(text) else text
        except (FormatError, FetchError) as exc:  # a bad text or link fails; a link nobody answers is unavailable
            status, reason = (FAILED, exc.reason) if isinstance(exc, FormatError) else (UNAVAILABLE, str(exc))
            return VerificationResult(None, tuple(
                CheckResult(c, status, reason) if c == "format" else CheckResult(c, SKIPPED, "nothing to verify")
                for c in CHECKS))
        from ledger.chain import deadline

        # One deadline for every chain read of this verification (trust, status, opening the ledger):
        # a hung node costs it VERIFIER_DEADLINE seconds, then `unavailable` (503), not a timeout per call.
        with deadline(float(self.config["VERIFIER_DEADLINE"])):
            return verify_presentation(presentation, policy=self.policy(), trust=self._trust, status=self._status,
                                       replay=self.replay, now=when, nonce=nonce, audience=audience,
                                       resolve_issuer_key=self._issuer_key, memo=self.memo)

    def _issuer_key(self, iss: str, kid: str | None) -> PublicKey:
        return self.issuer_key(iss, kid)

    def close(self) -> None:
        if self._view is not None:
            self._view.stop()
        self.store.close()


def _ledger_reason(exc: MicrocredError) -> str:
    """Why the ledger cannot be used, in the user's terms (never the URL, path or exception text)."""
    from ledger.errors import DeploymentNotFound, InvalidDeployment

    if isinstance(exc, (DeploymentNotFound, InvalidDeployment, ConfigurationError)):
        return "the verifier's ledger is not set up; its operator has been told"
    if isinstance(exc, ConnectionError):
        return "the ledger did not answer"
    return "the ledger's answer could not be used"


def _looks_scanned(text: str) -> bool:
    head = text.lstrip()[:40].lower()
    return head.startswith(("http://", "https://", "openid4vp://", "openid-credential-offer://", "eudi-openid4vp://",
                            "haip://"))


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse settings that do not parse, at start-up rather than on the first request."""
    for key in ("VERIFIER_KB_MAX_AGE", "VERIFIER_CLOCK_SKEW", "VERIFIER_MAX_STATUS_AGE", "VERIFIER_MAX_BODY",
                "VERIFIER_MIN_STATUS_LIST_ENTRIES"):
        try:
            if int(config.get(key, DEFAULTS[key])) < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise ConfigurationError(f"MICROCRED_{key} must be a whole number >= 0, found {config.get(key)!r}") from None
    for setting, _, _ in RATE_LIMITS.values():
        parse_rate_limit(config.get(setting, DEFAULTS[setting]), setting=f"MICROCRED_{setting}")
    try:
        if not float(config.get("VERIFIER_DEADLINE", DEFAULTS["VERIFIER_DEADLINE"])) > 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigurationError("MICROCRED_VERIFIER_DEADLINE must be a number of seconds > 0, "
                                 f"found {config.get('VERIFIER_DEADLINE')!r}") from None
