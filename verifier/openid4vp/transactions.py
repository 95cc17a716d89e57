"""OpenID4VP transactions in the shared store: four unrelated random names and a secret only the page's browser has.

The reference design of OpenID4VP 1.0 §13.3 (Response Mode ``direct_post``)
with the session-fixation defences of §14.2 and §14.3.3: a transaction is
known by

``page_id``     the employer's page ``/openid4vp/t/<page_id>``; never sent to the wallet;
``request_id``  the ``request_uri`` in the QR code; its Request Object is served once (``serve_once``);
``state``       inside the Request Object only, echoed by the wallet's answer;
``kid``         of the ephemeral encryption key (``direct_post.jwt``): finds the transaction of a JWE;
``response_code`` given to the wallet in the ``redirect_uri`` it sends the learner's browser to;

each 128 bits or more from :mod:`secrets`, and none derivable from another.
The page's browser holds a per-transaction secret in an HttpOnly cookie; the
store keeps only its SHA-256 (:meth:`Transaction.secret_matches`, constant
time). Whoever only saw the QR code knows ``request_id`` and nothing else.

Everything lives in :mod:`infra.store` (SQLite in the data dir, or Redis), so
any worker answers any step. One answer per transaction: the first answer
claims it atomically (:meth:`TransactionStore.claim_answer`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from credentials.verification_model import CheckResult, TrustLink, VerificationResult
from infra.store import Store

__all__ = ["REQUEST_LIFETIME_S", "ANSWER_LIFETIME_S", "Transaction", "Answer", "TransactionStore", "fresh",
           "well_formed", "digest"]

REQUEST_LIFETIME_S = 300
ANSWER_LIFETIME_S = 30 * 60
_TX, _REQUEST, _SERVED, _STATE, _KID, _CLAIM, _CODE, _OPENED = (
    "oid4vp-tx", "oid4vp-request", "oid4vp-served", "oid4vp-state", "oid4vp-kid", "oid4vp-claim", "oid4vp-code",
    "oid4vp-opened")
#: What :func:`fresh` makes; anything else is no name of ours and is never looked up.
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def fresh() -> str:
    """A new random name: 128 bits, base64url."""
    return secrets.token_urlsafe(16)


def well_formed(value: Any) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass
class Answer:
    """One presentation the wallet sent for one credential query, and its verification."""

    query: str
    presentation: str
    result: VerificationResult

    def to_json(self) -> dict[str, Any]:
        result = self.result
        return {"query": self.query, "presentation": self.presentation, "result": {
            "format": result.format, "checks": [asdict(c) for c in result.checks], "issuer": result.issuer,
            "claims": result.claims, "status": result.status,
            "trust_chain": [asdict(link) for link in result.trust_chain], "holder_binding": result.holder_binding}}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Answer:
        result = record["result"]
        return cls(record["query"], record["presentation"], VerificationResult(
            result["format"], tuple(CheckResult(**c) for c in result["checks"]), result["issuer"], result["claims"],
            result["status"], tuple(TrustLink(**link) for link in result["trust_chain"]), result["holder_binding"]))


@dataclass
class Transaction:
    page_id: str
    secret_hash: str
    request_id: str
    state: str
    nonce: str
    client_id: str
    base_url: str
    response_uri: str
    response_mode: str
    dcql: dict[str, Any]
    asking: list[str]                  # what is asked, in the employer's words
    created: float                     # wall-clock seconds: compared across processes and machines
    enc_key: dict[str, Any] | None = None   # the ephemeral private JWK of a direct_post.jwt request
    answered_at: int | None = None
    wallet_error: str | None = None
    answers: list[Answer] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked: bool = False

    @property
    def kid(self) -> str | None:
        return self.enc_key.get("kid") if self.enc_key else None

    def expired(self, now: float) -> bool:
        return self.answered_at is None and now - self.created > REQUEST_LIFETIME_S

    def secret_matches(self, secret: str | None) -> bool:
        return bool(secret) and hmac.compare_digest(digest(secret or ""), self.secret_hash)

    def to_json(self) -> str:
        record = asdict(self)
        record["answers"] = [a.to_json() for a in self.answers]
        return json.dumps(record, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Transaction:
        record = json.loads(text)
        record["answers"] = [Answer.from_json(a) for a in record["answers"]]
        return cls(**record)


class TransactionStore:
    """The transactions of one verifier in its shared store."""

    def __init__(self, store: Store):
        self.store = store

    def create(self, tx: Transaction) -> None:
        # Kept twice the request's lifetime, so that the employer's page can still be told "expired".
        ttl = REQUEST_LIFETIME_S * 2
        self.store.put(_TX, tx.page_id, tx.to_json(), ttl)
        self.store.put(_REQUEST, tx.request_id, tx.page_id, ttl)
        self.store.put(_STATE, tx.state, tx.page_id, ttl)
        if tx.kid:
            self.store.put(_KID, tx.kid, tx.page_id, ttl)

    def save(self, tx: Transaction) -> None:
        self.store.put(_TX, tx.page_id, tx.to_json(), ANSWER_LIFETIME_S)

    def load(self, page_id: Any) -> Transaction | None:
        if not well_formed(page_id):
            return None
        raw = self.store.get(_TX, page_id)
        return Transaction.from_json(raw) if raw is not None else None

    def _by(self, namespace: str, key: Any) -> Transaction | None:
        if not well_formed(key):
            return None
        page_id = self.store.get(namespace, key)
        return self.load(page_id) if page_id is not None else None

    def by_request(self, request_id: Any) -> Transaction | None:
        return self._by(_REQUEST, request_id)

    def by_state(self, state: Any) -> Transaction | None:
        return self._by(_STATE, state)

    def by_kid(self, kid: Any) -> Transaction | None:
        return self._by(_KID, kid)

    def by_response_code(self, code: Any) -> Transaction | None:
        if not isinstance(code, str) or not _ID.fullmatch(code):
            return None
        page_id = self.store.get(_CODE, digest(code))
        return self.load(page_id) if page_id is not None else None

    def serve_once(self, tx: Transaction) -> bool:
        """True for the first fetch of the Request Object, False for every later one."""
        first = self.store.add_once(_SERVED, tx.request_id, REQUEST_LIFETIME_S * 2)
        if first:
            self.store.put(_OPENED, tx.page_id, "1", REQUEST_LIFETIME_S * 2)
        return first

    def opened(self, tx: Transaction) -> bool:
        return self.store.get(_OPENED, tx.page_id) is not None

    def claim_answer(self, tx: Transaction) -> bool:
        """True for the one answer that may answer ``tx``; every other (racing or later) gets False."""
        return self.store.add_once(_CLAIM, tx.page_id, ANSWER_LIFETIME_S)

    def new_response_code(self, tx: Transaction) -> str:
        code = secrets.token_urlsafe(32)
        self.store.put(_CODE, digest(code), tx.page_id, ANSWER_LIFETIME_S)
        return code
