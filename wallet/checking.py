# For the OpenID4VP consent page (helper H4, issue 13): wallet.freshness.current_badge(account_id, credential_id)
# returns the badge of a stored credential as it is now (re-checked first when stale): .status is one of
# revoked / suspended / expired / valid / unknown (STATUS_* below), .label the sentence to show.
"""The trust badge a credential card shows: signature, issuer trust, validity period, status.

The wallet verifies signature, format and validity period itself with the
core (:mod:`credentials.sd_jwt_vc`, :mod:`credentials.jwt_vc`). Issuer trust
and revocation need the ledger: they come from a *trust check* the app is
configured with (``TRUST_CHECK``: ``(raw, format, now) ->`` the verifier API's
answer, a mapping with ``checks`` and ``issuer``, see ARCHITECTURE.md "Verifier
HTTP API"; a bare list of check dicts is accepted too). Without one the badge
says "not checked"; when it cannot reach the chain the badge says "could not
check", and the wallet keeps working.

The issuer's name a card shows is the trust registry's legal name
(``issuer.name``, the accredited entry of the chain) when ``issuer_trust``
passed: :attr:`Badge.issuer_name`. The awarding body a credential names is the
issuer's own statement, shown as such.

:func:`core_trust_check` makes such a check from the verifier core
(:func:`credentials.verification.verify_presentation`) and the trust and status
resolvers the caller has (the chain-backed ones for a deployment), with holder
binding off: a stored credential is the issued form, without a KB-JWT. A
credential from elsewhere carrying a W3C status list (Bitstring Status List
v1.0, StatusList2021: :mod:`credentials.status_check_bitstring`) is checked
through the same list resolver the verifier uses,
:meth:`ledger.view.LedgerView.list_status`: the list fetched by the wallet's
strict fetcher (:func:`w3c_list_source`) and compared with its anchor on the
StatusRegistry when its issuer anchors it.

:func:`status_of` reads a stored badge as one word (:data:`STATUS_VALID`,
revoked, suspended, expired, or unknown for anything else: not checked, could
not check, another failed check). :class:`LedgerTrustCheck` is the chain-backed
check a deployment uses: its :class:`ledger.view.LedgerView` is opened on first
use or by :meth:`LedgerTrustCheck.watch` (retrying while the chain is down),
tells anchor listeners what it sees (:mod:`wallet.freshness` marks credentials
stale with it), and is stopped by :meth:`LedgerTrustCheck.close`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from credentials.errors import MicrocredError, VerificationError
from credentials.issuance_anchor import AnchoredIssuance, IssuanceAnchorResolver, anchored_issuance
from credentials.jose import PublicKey
from credentials.sd_jwt_vc import resolve_did_issuer_key
from credentials.verification import Policy, StatusResolver, TrustResolver, W3cListMemo, verify_presentation
from credentials.verification_keys import KeyResolver
from credentials.x509_trust import TrustAnchors
from infra.fetch import StrictFetcher
from ledger.config import LedgerSettings

if TYPE_CHECKING:  # web3 takes seconds to import: only when chain checks are configured
    from ledger.view import AnchorListener, LedgerView

__all__ = [
    "BADGE_VERIFIED",
    "BADGE_UNCHECKED",
    "BADGE_UNAVAILABLE",
    "BADGE_FAILED",
    "BADGE_UNVERIFIED",
    "TrustCheck",
    "Badge",
    "badge_for",
    "unverified_badge",
    "W3C_LIST_ACCEPT",
    "w3c_list_source",
    "core_trust_check",
    "ledger_trust_check",
    "LedgerTrustCheck",
    "STATUS_VALID",
    "STATUS_REVOKED",
    "STATUS_SUSPENDED",
    "STATUS_EXPIRED",
    "STATUS_UNKNOWN",
    "status_of",
]

BADGE_VERIFIED = "verified"
BADGE_UNCHECKED = "unchecked"
BADGE_UNAVAILABLE = "unavailable"
BADGE_FAILED = "failed"
#: A document with no signature, kept because the learner chose "keep as unverified".
BADGE_UNVERIFIED = "unverified"

_LABELS = {
    BADGE_VERIFIED: "Verified: trusted issuer, not revoked",
    BADGE_UNCHECKED: "Signature valid; issuer trust and status not checked",
    BADGE_UNAVAILABLE: "Signature valid; could not check issuer trust and status",
    BADGE_FAILED: "Problem found",
    BADGE_UNVERIFIED: "Not verified: this document carries no signature; kept at your request",
}

#: A stored badge in one word (:func:`status_of`); only ``valid`` may be offered or counted as valid.
STATUS_VALID = "valid"
STATUS_REVOKED = "revoked"
STATUS_SUSPENDED = "suspended"
STATUS_EXPIRED = "expired"
STATUS_UNKNOWN = "unknown"
_SUSPENDED = re.compile(r"\bis suspended\b")
_REVOKED = re.compile(r"\bis revoked\b|^revoked by the issuer")
_EXPIRED = re.compile(r"\bexpired\b")

#: What a W3C status list credential may be served as (vc+jwt, a JSON-LD credential, a sealed EDC list).
W3C_LIST_ACCEPT = "application/vc+jwt, application/vc, application/ld+json, application/json;q=0.9, */*;q=0.5"

#: ``(raw credential, format, now) -> {"checks": [...], "issuer": {...}}`` (or just the checks);
#: raises OSError / MicrocredError when unreachable.
TrustCheck = Callable[[str, str, int], "Mapping[str, Any] | Sequence[dict[str, Any]]"]
_MAX_NAME = 200

log = logging.getLogger(__name__)

#: Seconds for every chain read of one trust check (opening the ledger, head, trust, status): a hung
#: node costs an import this long, then the badge says "could not check" (``ledger.chain.deadline``).
CHECK_DEADLINE_S = 5.0


@dataclass(frozen=True)
class Badge:
    """What the card shows: a state, a sentence, the checks behind it, the registry's name of the issuer."""

    state: str
    label: str
    checks: tuple[dict[str, str], ...] = field(default=())
    issuer_name: str | None = None  # the trust registry's legal name; None unless issuer_trust passed

    def detail_json(self) -> str:
        """The ``badge_detail`` column."""
        return json.dumps({"label": self.label, "checks": list(self.checks)})


def _registry_name(issuer: Any, checks: Sequence[dict[str, str]]) -> str | None:
    trusted = any(c["check"] == "issuer_trust" and c["status"] == "passed" for c in checks)
    name = issuer.get("name") if isinstance(issuer, Mapping) else None
    if not trusted or not isinstance(name, str) or not name.strip():
        return None
    return name.strip()[:_MAX_NAME]


def _signature_check(fmt: str) -> dict[str, str]:
    return {"check": "signature", "status": "passed",
            "detail": f"{fmt} signature, format and validity period checked on import"}


def badge_for(raw: str, fmt: str, *, now: int, trust_check: TrustCheck | None,
              issuance_proof: Mapping[str, Any] | None = None) -> Badge:
    """The badge of a credential whose signature already passed; ``issuance_proof``: the one kept beside it,
    handed to the trust check (which then takes the issuer's key and accreditation at the anchor's block)."""
    checks = [_signature_check(fmt)]
    if trust_check is None:
        for skipped in ("issuer_trust", "revocation"):
            checks.append({"check": skipped, "status": "skipped",
                           "detail": "not checked: no trust registry configured"})
        return Badge(BADGE_UNCHECKED, _LABELS[BADGE_UNCHECKED], tuple(checks))
    try:
        answer = (trust_check(raw, fmt, now) if issuance_proof is None
                  else trust_check(raw, fmt, now, issuance_proof=issuance_proof))  # type: ignore[call-arg]
        issuer = answer.get("issuer") if isinstance(answer, Mapping) else None
        found = [
            {"check": str(c.get("check")), "status": str(c.get("status")), "detail": str(c.get("detail", ""))}
            for c in (answer.get("checks") or () if isinstance(answer, Mapping) else answer)
        ]
    except (OSError, MicrocredError) as exc:
        log.warning("trust check unavailable: %s", exc)
        checks.append({"check": "issuer_trust", "status": "unavailable",
                       "detail": "the trust registry could not be reached"})
        return Badge(BADGE_UNAVAILABLE, _LABELS[BADGE_UNAVAILABLE], tuple(checks))
    checks.extend(c for c in found if c["check"] != "signature")
    name = _registry_name(issuer, checks)
    failed = [c for c in checks if c["status"] == "failed"]
    if failed:
        return Badge(BADGE_FAILED, f"{_LABELS[BADGE_FAILED]}: {failed[0]['detail']}"[:300], tuple(checks), name)
    if any(c["status"] == "unavailable" for c in checks):
        return Badge(BADGE_UNAVAILABLE, _LABELS[BADGE_UNAVAILABLE], tuple(checks), name)
    return Badge(BADGE_VERIFIED, _LABELS[BADGE_VERIFIED], tuple(checks), name)


def status_of(state: str, checks: Sequence[Mapping[str, Any]]) -> str:
    """A stored badge (its state and checks) in one word: valid, revoked, suspended, expired or unknown.

    Only a ``verified`` badge is valid. A failed ``revocation`` check says whether the credential's entry
    is revoked or suspended, a failed ``validity_period`` whether it expired (the core's details); any
    other failure, no check, or a check that could not be made is unknown.
    """
    if state == BADGE_VERIFIED:
        return STATUS_VALID
    if state != BADGE_FAILED:
        return STATUS_UNKNOWN
    for check in checks:
        if check.get("status") != "failed":
            continue
        detail = str(check.get("detail", ""))
        if check.get("check") == "revocation" and _SUSPENDED.search(detail):
            return STATUS_SUSPENDED
        if check.get("check") == "revocation" and _REVOKED.search(detail):
            return STATUS_REVOKED
        if check.get("check") == "validity_period" and _EXPIRED.search(detail):
            return STATUS_EXPIRED
    return STATUS_UNKNOWN


def unverified_badge() -> Badge:
    """The badge of a document kept as unverified: no check ran, none is claimed."""
    return Badge(BADGE_UNVERIFIED, _LABELS[BADGE_UNVERIFIED], ({
        "check": "signature", "status": "failed",
        "detail": "the document carries no signature or seal; kept as unverified at the learner's request"},))


def w3c_list_source(fetcher: StrictFetcher, *, revalidate: bool = False) -> Callable[[str], str]:
    """``url -> text`` of a W3C status list credential, through the wallet's strict ``fetcher``.

    Read as UTF-8 (a JSON list credential is not ASCII, unlike the IETF status list tokens). ``revalidate``:
    the request asks caches on the way to revalidate (``Cache-Control: no-cache``, RFC 9111 §5.2.1.4).
    """

    def fetch(url: str) -> str:
        return fetcher.get_text(url, accept=W3C_LIST_ACCEPT, what="status list", encoding="utf-8",
                                revalidate=revalidate)

    return fetch


def core_trust_check(policy: Policy, trust: TrustResolver, status: StatusResolver,
                     trust_anchors: TrustAnchors | None = None, *, lists: StatusResolver | None = None,
                     keys: KeyResolver | None = None, issuance: IssuanceAnchorResolver | None = None) -> TrustCheck:
    """A :data:`TrustCheck` running the verifier core's ``issuer_trust`` and ``revocation`` checks
    (``trust_anchors``: the X.509 anchors a sealed Europass EDC's chain must end at; ``lists``: the resolver
    of W3C status lists, without which such a credential's revocation is ``unavailable``; ``keys``: the
    issuers' keys, did:mcr ones from the ledger's DidRegistry; default did:key / did:jwk only; ``issuance``:
    the IssuanceRegistry, with which a credential's kept issuance proof dates it for its issuer's key and
    accreditation)."""
    stored_policy = replace(policy, holder_binding_required=False)
    list_memo = W3cListMemo()

    def check(raw: str, fmt: str, now: int, issuance_proof: Mapping[str, Any] | None = None) -> dict[str, Any]:
        result = verify_presentation(raw, policy=stored_policy, trust=trust, status=status,
                                     replay=lambda kb_jwt_id, expires_at: True, now=now,
                                     trust_anchors=trust_anchors, lists=lists, list_memo=list_memo, keys=keys,
                                     issuance=issuance, kept_proof=issuance_proof)
        kept = ("issuer_trust", "revocation", "signature", "validity_period")  # expiry after import shows
        return {"checks": [c.to_json() for c in result.checks if c.check in kept],
                "issuer": result.issuer}

    return check


def ledger_trust_check(settings: LedgerSettings, fetch_status_token: Callable[[str], str],
                       trust_anchors: TrustAnchors | None = None,
                       fetch_status_list: Callable[[str], str] | None = None, *,
                       refetch_status_token: Callable[[str], str] | None = None,
                       refetch_status_list: Callable[[str], str] | None = None) -> LedgerTrustCheck:
    """A trust check against the ledger of ``settings`` (its data dir's deployment), opened on first use.

    ``refetch_status_token`` / ``refetch_status_list``: how a token / list whose hash was not the anchored one is
    fetched again, asking caches to revalidate (:func:`ledger.view.open_view`'s ``refetch_token`` / ``refetch_list``).
    """
    return LedgerTrustCheck(settings, fetch_status_token, trust_anchors, fetch_status_list,
                            refetch_status_token=refetch_status_token, refetch_status_list=refetch_status_list)


class LedgerTrustCheck:
    """A :data:`TrustCheck` against the ledger of ``settings``; its ledger view, watched, is opened on first use.

    The chain-backed resolvers are :class:`ledger.view.LedgerView`'s (``status``
    for IETF lists, ``list_status`` for W3C lists, fetched by
    ``fetch_status_list``, default ``fetch_status_token``); the trusted root is
    the deployment's root of trust. While the ledger cannot be opened, each
    call raises (``LedgerUnavailable``, ``ConnectionError``: the badge then
    says "could not check") and the next call tries again; :meth:`watch` keeps
    trying in the background, so that anchor listeners hear events before the
    first check. :meth:`close` stops the view's watcher; later calls raise.
    """

    def __init__(self, settings: LedgerSettings, fetch_status_token: Callable[[str], str],
                 trust_anchors: TrustAnchors | None = None,
                 fetch_status_list: Callable[[str], str] | None = None, *,
                 refetch_status_token: Callable[[str], str] | None = None,
                 refetch_status_list: Callable[[str], str] | None = None):
        self.settings = settings
        self._fetch_token = fetch_status_token
        self._fetch_list = fetch_status_list
        self._refetch_token = refetch_status_token
        self._refetch_list = refetch_status_list
        self._anchors = trust_anchors
        self._lock = threading.Lock()
        self._check: TrustCheck | None = None
        self._listeners: list[AnchorListener] = []
        self._closed = threading.Event()
        self._opener: threading.Thread | None = None
        self.view: LedgerView | None = None

    def on_anchor_events(self, listener: AnchorListener) -> None:
        """Tell ``listener`` the StatusRegistry anchoring events the view sees (from when it is open)."""
        with self._lock:
            self._listeners.append(listener)
            if self.view is not None:
                self.view.on_anchor_events(listener)

    def _open(self) -> TrustCheck:
        with self._lock:
            if self._closed.is_set():
                raise ConnectionError("the wallet's ledger checks are stopped (the wallet is shutting down)")
            if self._check is None:
                # here, not at the top: this loads web3 (seconds to import), only when chain checks are configured
                from ledger.view import open_view

                view = open_view(self.settings, self._fetch_token, watch=True, fetch_list=self._fetch_list,
                                 refetch_token=self._refetch_token, refetch_list=self._refetch_list)
                for listener in self._listeners:
                    view.on_anchor_events(listener)
                policy = Policy(trusted_roots=frozenset({view.ledger.trust.root_did()}))
                self._check = core_trust_check(policy, view.trust, view.status, self._anchors,
                                               lists=view.list_status, keys=KeyResolver(did_records=view.did_record),
                                               issuance=view.issuance_anchor)
                self.view = view
            return self._check

    def __call__(self, raw: str, fmt: str, now: int, issuance_proof: Mapping[str, Any] | None = None) -> Any:
        # here, not at the top: this loads web3 (seconds to import), only when chain checks are configured
        from ledger.chain import deadline

        with deadline(CHECK_DEADLINE_S):  # one deadline for all the chain reads of this check
            check = self._open()
            if self.view is not None:
                self.view.refresh()  # a list anchored a moment ago is seen at once
            if issuance_proof is None:
                return check(raw, fmt, now)
            return check(raw, fmt, now, issuance_proof=issuance_proof)  # type: ignore[call-arg]

    def issuer_key(self, iss: str, kid: str | None) -> PublicKey:
        """An issuer's key for importing its credential: a did:mcr's from the ledger's DidRegistry (valid now),
        any other offline (did:key / did:jwk). ConnectionError (LedgerUnavailable) while the chain is down."""
        return self._issuer_key(iss, kid, None, None)

    def issuer_keys(self, credential: str, proof: Mapping[str, Any] | None) -> Callable[[str, str | None], PublicKey]:
        """:meth:`issuer_key` for ``credential`` delivered with its issuance ``proof``: a did:mcr key must have been
        valid at the block the proof leads to (a proof that does not check leaves the key valid now)."""
        return lambda iss, kid: self._issuer_key(iss, kid, credential, proof)

    def _issuer_key(self, iss: str, kid: str | None, credential: str | None,
                    proof: Mapping[str, Any] | None) -> PublicKey:
        if not iss.startswith("did:mcr:"):
            return resolve_did_issuer_key(iss, kid)
        # here, not at the top: this loads web3 (seconds to import), only when chain checks are configured
        from ledger.chain import deadline

        with deadline(CHECK_DEADLINE_S):
            self._open()
            view = self.view
            if view is None:
                raise ConnectionError("the wallet's ledger view is not open")
            at_block = None
            if credential is not None and proof is not None:
                try:
                    anchored = anchored_issuance(credential, proof, iss, view.issuance_anchor)
                except VerificationError:
                    anchored = None
                if isinstance(anchored, AnchoredIssuance):
                    at_block = anchored.block_number
            return KeyResolver(did_records=view.did_record).issuer_key(iss, kid, at_block)

    def watch(self, *, retry_s: float = 5.0) -> None:
        """Open the view in the background now (once), retrying every ``retry_s`` seconds while the chain is down."""
        with self._lock:
            if self._opener is not None or self._closed.is_set():
                return
            self._opener = threading.Thread(target=self._open_until_done, args=(retry_s,),
                                            name="wallet-ledger-opener", daemon=True)
        self._opener.start()

    @property
    def opening(self) -> bool:
        """Whether the background opener of :meth:`watch` is still trying."""
        return self._opener is not None and self._opener.is_alive()

    def _open_until_done(self, retry_s: float) -> None:
        # here, not at the top: this loads web3 (seconds to import), only when chain checks are configured
        from ledger.chain import deadline

        said: str | None = None
        while not self._closed.is_set():
            try:
                with deadline(CHECK_DEADLINE_S):
                    self._open()
                return
            except (OSError, MicrocredError) as exc:
                if str(exc) != said:
                    said = str(exc)
                    log.warning("the wallet's ledger view cannot be opened yet (trying again every %g s): %s",
                                retry_s, exc)
            self._closed.wait(retry_s)

    def close(self) -> None:
        """Stop the view's watcher (and the background opener); checks made after this raise ConnectionError."""
        self._closed.set()
        with self._lock:
            view = self.view
        if view is not None:
            view.stop()
        if self._opener is not None and self._opener is not threading.current_thread():
            self._opener.join(timeout=CHECK_DEADLINE_S + 1)
