"""The ``revocation`` check: a Status List Token anchored on chain, and the credential's bit.

Implements the revocation check of ARCHITECTURE.md ("Verifier HTTP API" ⚑)
over draft-ietf-oauth-status-list (Token Status List, ``status_list`` claim,
``application/statuslist+jwt``): the fetched token must hash (SHA-256) to the
value anchored for its list on the StatusRegistry, be signed by the
credential's issuer and name the URI it was fetched from; then the bit at the
credential's ``idx`` decides. When the token cannot be fetched and the latest
anchoring event carries the list itself, that list is read instead. Stale
evidence (older than ``Policy.max_status_age``) is ``unavailable``. A list with
fewer than ``Policy.min_status_list_entries`` entries (default 131,072) fails:
in a small list an index all but names its holder (draft §12.2, herd privacy).

The status list id on chain is the last path segment of the list's URI, as
``issuer.service`` anchors it (:func:`status_list_id`). No I/O: the evidence
comes from a :data:`~credentials.verification_model.StatusResolver`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from credentials.errors import FormatError, InvalidDid, InvalidInput, InvalidKey, RevocationError, VerificationError
from credentials.jose import PublicKey, UnverifiedJws
from credentials.status_list import (
    STATUS_INVALID,
    STATUS_VALID,
    VerifiedStatusList,
    referenced_status,
    verify_status_list_token,
)
from credentials.verification_model import (
    PASSED,
    SKIPPED,
    UNAVAILABLE,
    CheckRun,
    Policy,
    StatusEvidence,
    StatusResolver,
    Unavailable,
    ask,
)

__all__ = ["StatusListMemo", "status_list_id", "check_revocation"]

_STATUS_WORDS = {STATUS_VALID: "valid", STATUS_INVALID: "revoked", 0x02: "suspended"}


class StatusListMemo:
    """Verified Status List Tokens by (sha256, issuer, uri), bounded; ``exp`` is rechecked on every use.

    It also remembers the SHA-256 of the last few tokens it hashed (a token is a large string, and the resolver
    hands over the same one for every credential on its list): the hash is compared with the anchor on every
    use, only not computed again (issue 16).
    """

    def __init__(self, size: int = 256, digests: int = 32):
        self._size = size
        self._items: OrderedDict[tuple[bytes, str, str], VerifiedStatusList] = OrderedDict()
        self._digests_size = digests
        self._digests: OrderedDict[str, bytes] = OrderedDict()

    def digest(self, token: str) -> bytes:
        """The SHA-256 of ``token``'s UTF-8 bytes."""
        found = self._digests.get(token)  # the same string object again: its hash is kept, the match by identity
        if found is None:
            found = self._digests[token] = hashlib.sha256(token.encode("utf-8")).digest()
            while len(self._digests) > self._digests_size:
                self._digests.popitem(last=False)
        return found

    def get(self, key: tuple[bytes, str, str], now: int) -> VerifiedStatusList | None:
        found = self._items.get(key)
        if found is not None and found.exp is not None and now >= found.exp:
            raise RevocationError(f"the status list token expired at {found.exp}; it is now {now}")
        return found

    def put(self, key: tuple[bytes, str, str], value: VerifiedStatusList) -> None:
        self._items[key] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)


@lru_cache(maxsize=1024)
def status_list_id(uri: str) -> str:
    """The list id anchored on chain for a status list URI: its last path segment (remembered per URI: the core
    and the ledger view ask it for every verification, of the few lists a verifier sees)."""
    segments = [s for s in urlsplit(uri).path.split("/") if s]
    if not segments:
        raise FormatError(f"the status list URI {uri!r} names no list (its path is empty)")
    return segments[-1]


def _token_key(token: str, issuer_key: PublicKey | Callable[[str | None], PublicKey]) -> PublicKey:
    """``issuer_key``, or the key it resolves for the token's own ``kid`` (an issuer whose keys rotate)."""
    if isinstance(issuer_key, PublicKey):
        return issuer_key
    try:
        kid = UnverifiedJws.parse(token, what="status list token").header.get("kid")
        return issuer_key(kid if isinstance(kid, str) else None)
    except VerificationError as exc:
        raise RevocationError(exc.reason) from exc
    except (InvalidDid, InvalidKey) as exc:
        raise RevocationError(f"the status list token's signing key cannot be resolved: {exc}") from exc
    except (ConnectionError, TimeoutError):
        raise RevocationError("the status list token's signing key cannot be read now") from None


def _verified_list(evidence: StatusEvidence, token: str, anchored: bytes,
                   issuer_key: PublicKey | Callable[[str | None], PublicKey], iss: str,
                   uri: str, now: int, memo: StatusListMemo) -> VerifiedStatusList:
    digest = memo.digest(token)
    if digest != anchored:
        raise RevocationError(f"the status list at {uri} has SHA-256 {digest.hex()[:16]}…, but the hash anchored "
                              f"in block {evidence.anchored_block} is {anchored.hex()[:16]}…")
    key = (digest, iss, uri)
    verified = memo.get(key, now)
    if verified is None:
        verified = verify_status_list_token(token, _token_key(token, issuer_key), expected_uri=uri, now=now)
        memo.put(key, verified)
    return verified


def check_revocation(run: CheckRun, policy: Policy, status: StatusResolver, payload: Mapping[str, Any], iss: str,
                     issuer_key: PublicKey | Callable[[str | None], PublicKey], now: int,
                     memo: StatusListMemo) -> dict[str, Any] | None:
    """Run the ``revocation`` check into ``run``; returns the ``status`` member of the answer JSON.

    ``issuer_key``: the key the status list token must be signed with, or ``kid -> key`` for an issuer whose
    keys rotate (did:mcr: the token's ``kid`` names the key valid now)."""
    if payload.get("status") is None and not policy.status_required:
        run.set("revocation", SKIPPED, "the credential has no status entry and this verifier does not require one",
                required=False)
        return None
    try:
        reference = referenced_status(payload)
        list_id = status_list_id(reference.uri)
    except FormatError as exc:
        run.fail(RevocationError(f"the credential's status entry is unusable: {exc.reason}"))
        return None
    shown = {"uri": reference.uri, "index": reference.idx, "anchored_block": None}
    evidence = ask(status, iss, reference.uri)
    if isinstance(evidence, Unavailable):
        run.set("revocation", UNAVAILABLE, f"the status of list {list_id} cannot be checked: {evidence.reason}")
        return shown
    shown["anchored_block"] = evidence.anchored_block
    if evidence.anchored_sha256 is None:
        run.fail(RevocationError(f"status list {list_id} of {iss} has never been anchored on the StatusRegistry"))
        return shown
    if evidence.checked_at is not None and now - evidence.checked_at > policy.max_status_age:
        run.set("revocation", UNAVAILABLE, f"the status information is {now - evidence.checked_at} s old, "
                f"more than the {policy.max_status_age} s this verifier accepts")
        return shown
    try:
        if evidence.token is not None:
            verified = _verified_list(evidence, evidence.token, evidence.anchored_sha256, issuer_key, iss,
                                      reference.uri, now, memo)
            source = "list"
        elif evidence.carried_list is not None and evidence.carried_version == evidence.anchored_version:
            verified = _verified_list(evidence, _carried_token(evidence.carried_list), evidence.anchored_sha256,
                                      issuer_key, iss, reference.uri, now, memo)
            source = "list carried on chain"
        else:
            run.set("revocation", UNAVAILABLE, f"the status list {reference.uri} cannot be fetched "
                    f"({evidence.fetch_error or 'no answer'}) and its latest anchor does not carry it")
            return shown
        _check_herd(verified, list_id, policy.min_status_list_entries)
        value = verified.status(reference.idx)
        # The entry's state and when the list saying so was signed: a page can say "revoked, as of <day>".
        shown["state"] = _STATUS_WORDS.get(value) or f"status {value}"
        shown["list_signed_at"] = verified.iat
    except VerificationError as exc:
        run.fail(exc)
        return shown
    except InvalidInput as exc:
        run.fail(RevocationError(f"the credential's status {exc}"))
        return shown
    where = f"index {reference.idx} of {source} {list_id} (anchored at block {evidence.anchored_block}) is"
    if value != STATUS_VALID:
        run.fail(RevocationError(f"{where} {shown['state']}"))
    else:
        run.set("revocation", PASSED, f"{where} valid")
    return shown


def _check_herd(verified: VerifiedStatusList, list_id: str, minimum: int) -> None:
    size = verified.status_list.size
    if size < minimum:
        raise RevocationError(f"status list {list_id} has {size} entries, fewer than the {minimum} this verifier "
                              "requires: in so short a list an index can single out its holder (herd privacy)")


def _carried_token(carried: bytes) -> str:
    """The Status List Token an anchoring event carries, checked like a fetched one (hash, signature)."""
    try:
        return carried.decode("ascii")
    except UnicodeDecodeError:
        raise RevocationError("the status list carried on chain is not a compact JWT") from None
