"""The ``revocation`` check for W3C status lists: Bitstring Status List v1.0 and StatusList2021.

Implements the verification side of W3C *Bitstring Status List v1.0*
(§2.1 ``BitstringStatusListEntry``, §2.2 ``BitstringStatusListCredential``,
§3.2 "Validate Algorithm") and of its predecessor *Status List 2021* (W3C CCG
report, ``StatusList2021Entry`` / ``StatusList2021Credential``, as Europass
EDCs carry them, ``encodedList`` base64url of the GZIP bitstring without a
multibase prefix), for the purposes ``revocation`` and ``suspension``:

1. every ``credentialStatus`` entry (Europass EDCs: ``status``) is read
   strictly; one of another kind or purpose fails;
2. the list credential named by ``statusListCredential`` comes from a
   :data:`~credentials.verification_model.StatusResolver` — the same
   resolver shape as the IETF lists (:mod:`credentials.status_check`): the
   fetched text and, when the issuer anchors the list on the StatusRegistry
   (list id = last path segment of the URL), the anchored SHA-256 of that
   text, which must match;
3. its signature is checked by the caller's :data:`ListVerifier` (whatever
   secures it: ``vc+jwt`` / ``jwt_vc_json``, Data Integrity, a JAdES seal),
   and its issuer must be the credential's issuer;
4. the bit at ``statusListIndex`` decides (set: revoked / suspended).

A list its issuer does not anchor is read from the issuer's server alone:
``revocation`` passes saying so ("not anchored on chain; read from the
issuer's list") when ``Policy.unanchored_status_lists`` allows it (the
default, since foreign issuers anchor nothing), and fails otherwise. A list
that cannot be fetched (and is not carried on chain) leaves the check
``unavailable``: never passed (fail closed). No I/O here.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from credentials._status_common import ListWording, fetch_list
from credentials.bitstring_status_list import (
    Bitstring,
    BitstringStatusListEntry,
    StatusListCredential,
    entry_status,
    parse_status_list_credential,
)
from credentials.data_integrity import date_time_seconds
from credentials.errors import InvalidInput, RevocationError, VerificationError
from credentials.status_check import status_list_id
from credentials.verification_model import (
    PASSED,
    SKIPPED,
    UNAVAILABLE,
    CheckRun,
    Policy,
    StatusResolver,
)

__all__ = [
    "BITSTRING_ENTRY", "STATUS_LIST_2021_ENTRY", "ListVerifier", "W3cStatusEntry", "W3cListMemo",
    "read_status_entries", "check_w3c_revocation",
]

BITSTRING_ENTRY, STATUS_LIST_2021_ENTRY = "BitstringStatusListEntry", "StatusList2021Entry"
_LIST_2021_CREDENTIAL, _LIST_2021 = "StatusList2021Credential", "StatusList2021"
_PURPOSES = ("revocation", "suspension")
_WORDS = {"revocation": "revoked", "suspension": "suspended"}
_INDEX = re.compile(r"0|[1-9][0-9]{0,12}")
_MAX_ENTRIES = 4
#: ``(list credential text, expected issuer, now) -> the list credential, its signature by that issuer checked``.
ListVerifier = Callable[[str, str, int], Mapping[str, Any]]


@dataclass(frozen=True)
class W3cStatusEntry:
    """One status entry of a credential: its kind, purpose, index and list URL."""

    kind: str
    purpose: str
    index: int
    list_url: str


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def read_status_entries(credential: Mapping[str, Any]) -> tuple[W3cStatusEntry, ...]:
    """The W3C status entries of ``credential`` (``credentialStatus``, else ELM's ``status``); () when none.

    Raises :class:`RevocationError` for an entry that cannot be used (named kind, purpose, index, URL).
    """
    status = credential.get("credentialStatus", credential.get("status"))
    if status is None:
        return ()
    entries = status if isinstance(status, list) else [status]
    if not entries or len(entries) > _MAX_ENTRIES:
        raise RevocationError(f"expected 1 to {_MAX_ENTRIES} status entries, found {len(entries)}")
    found = []
    for number, entry in enumerate(entries):
        where = f"status entry {number}"
        if not isinstance(entry, Mapping):
            raise RevocationError(f"{where} is not an object")
        kinds = [k for k in _types(entry.get("type")) if k in (BITSTRING_ENTRY, STATUS_LIST_2021_ENTRY)]
        if not kinds:
            raise RevocationError(f"{where} has type {str(entry.get('type'))[:60]!r}; this verifier reads "
                                  f"{BITSTRING_ENTRY} and {STATUS_LIST_2021_ENTRY}")
        purpose = entry.get("statusPurpose")
        if purpose not in _PURPOSES:
            raise RevocationError(f"{where} has statusPurpose {str(purpose)[:40]!r}; expected revocation or suspension")
        index = entry.get("statusListIndex")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            index = str(index)
        if not isinstance(index, str) or not _INDEX.fullmatch(index):
            raise RevocationError(f"{where} has statusListIndex {str(index)[:40]!r}; expected a base-10 number")
        url = entry.get("statusListCredential")
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= 2048 else None
        if parts is None or not isinstance(url, str) or parts.scheme not in ("https", "http") or not parts.netloc:
            raise RevocationError(f"{where} has statusListCredential {str(url)[:80]!r}; expected an https URL")
        if entry.get("statusSize", 1) != 1:
            raise RevocationError(f"{where} has statusSize {entry.get('statusSize')!r}; only 1 is supported")
        found.append(W3cStatusEntry(kinds[0], str(purpose), int(index), url))
    return tuple(found)


@dataclass(frozen=True)
class _List:
    """A verified list: its bitstring, purposes, id, and end of validity (epoch seconds or None)."""

    bitstring: Bitstring
    purposes: tuple[str, ...]
    id: str | None
    valid_until: int | None


class W3cListMemo:
    """Verified W3C status lists by (SHA-256 of the text, issuer, URL), bounded."""

    def __init__(self, size: int = 64):
        self._size = size
        self._items: OrderedDict[tuple[bytes, str, str], _List] = OrderedDict()

    def get(self, key: tuple[bytes, str, str]) -> _List | None:
        return self._items.get(key)

    def put(self, key: tuple[bytes, str, str], value: _List) -> None:
        self._items[key] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)


def _parse_2021(credential: Mapping[str, Any]) -> _List:
    if _LIST_2021_CREDENTIAL not in _types(credential.get("type")):
        raise RevocationError(f"the status list is not a {_LIST_2021_CREDENTIAL}")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or _LIST_2021 not in _types(subject.get("type")):
        raise RevocationError(f"the status list's subject is not a {_LIST_2021}")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise RevocationError("the status list has no encodedList")
    if not encoded.startswith("u"):  # Status List 2021: plain base64(url) of the GZIP bitstring
        encoded = "u" + encoded.translate(str.maketrans("+/", "-_")).rstrip("=")
    purposes = tuple(p for p in _types(subject.get("statusPurpose")) if isinstance(p, str))
    return _List(Bitstring.decode(encoded), purposes, credential.get("id") if isinstance(credential.get("id"), str)
                 else None, _until(credential))


def _until(credential: Mapping[str, Any]) -> int | None:
    value = credential.get("validUntil", credential.get("expirationDate"))
    return None if value is None else date_time_seconds(value, "the status list's validUntil", RevocationError)


def _parse(credential: Mapping[str, Any], entry: W3cStatusEntry) -> _List:
    try:
        if entry.kind == STATUS_LIST_2021_ENTRY and _LIST_2021_CREDENTIAL in _types(credential.get("type")):
            return _parse_2021(credential)
        parsed = parse_status_list_credential(credential)
    except InvalidInput as exc:
        raise RevocationError(f"the status list cannot be read: {exc}") from None
    return _List(parsed.bitstring, parsed.status_purposes, parsed.id, _until(credential))


def _bit(listed: _List, entry: W3cStatusEntry, now: int) -> bool:
    if listed.valid_until is not None and now >= listed.valid_until:
        raise RevocationError(f"the status list {entry.list_url[:80]} expired at {listed.valid_until}; it is now {now}")
    if listed.id is not None and listed.id != entry.list_url:
        raise RevocationError(f"the status list is {listed.id[:80]!r}, but the credential points at "
                              f"{entry.list_url[:80]!r}")
    if entry.purpose not in listed.purposes:
        raise RevocationError(f"the status list serves {', '.join(listed.purposes) or 'no purpose'}, but the "
                              f"credential's entry is for {entry.purpose}")
    try:
        return entry_status(BitstringStatusListEntry(entry.purpose, entry.index, entry.list_url),
                            _as_bitstring_list(listed))
    except InvalidInput as exc:
        raise RevocationError(f"the credential's status {exc}") from None


def _as_bitstring_list(listed: _List) -> StatusListCredential:
    return StatusListCredential(None, "", None, None, None, listed.purposes, listed.bitstring, None)


def _one(run: CheckRun, policy: Policy, status: StatusResolver, entry: W3cStatusEntry, issuer: str,
         verify_list: ListVerifier, now: int, memo: W3cListMemo) -> tuple[str | None, int | None]:
    """The detail of one passed entry (None: the run already says why not) and its anchor block."""
    list_id = status_list_id(entry.list_url)
    fetched = fetch_list(run, policy, status, issuer, entry.list_url, now, ListWording(
        "status list", f"the status of list {list_id}",
        f"status list {list_id} of {issuer[:80]} is not anchored on the StatusRegistry, and this verifier accepts "
        "anchored lists only",
        "not anchored on chain; read from the issuer's list"))
    if fetched is None:
        return None, None
    text, digest, source = fetched.text, fetched.digest, fetched.source
    key = (digest, issuer, entry.list_url)
    listed = memo.get(key)
    try:
        if listed is None:
            listed = _parse(verify_list(text, issuer, now), entry)
            memo.put(key, listed)
        if _bit(listed, entry, now):
            raise RevocationError(f"index {entry.index} of list {list_id} ({source}) is {_WORDS[entry.purpose]}")
    except VerificationError as exc:
        reason = exc.reason if exc.check == "revocation" else f"the status list {list_id} is not usable: {exc.reason}"
        run.fail(RevocationError(reason))
        return None, None
    except (ConnectionError, TimeoutError) as exc:  # the list's issuer key (a did:web) could not be fetched
        run.set("revocation", UNAVAILABLE, f"the status list {list_id} cannot be checked now: {str(exc)[:200]}")
        return None, None
    return f"{entry.purpose} index {entry.index} of list {list_id} ({source}) is not set", fetched.anchored_block


def check_w3c_revocation(run: CheckRun, policy: Policy, status: StatusResolver | None, credential: Mapping[str, Any],
                         issuer: str, verify_list: ListVerifier, now: int, memo: W3cListMemo,
                         *, status_required: bool) -> dict[str, Any] | None:
    """Run ``revocation`` for a credential with W3C status entries; returns the answer's ``status`` member."""
    try:
        entries = read_status_entries(credential)
    except RevocationError as exc:
        run.fail(exc)
        return None
    if not entries:
        if status_required:
            run.fail(RevocationError("the credential has no status entry, and this verifier requires one"))
        else:
            run.set("revocation", SKIPPED, "the credential carries no status entry: its issuer offers no way to "
                    "revoke it, and this verifier does not require one", required=False)
        return None
    shown = {"uri": entries[0].list_url, "index": entries[0].index, "anchored_block": None}
    if status is None:
        run.set("revocation", UNAVAILABLE, "this verifier cannot read W3C status lists")
        return shown
    details = []
    for entry in entries:
        detail, block = _one(run, policy, status, entry, issuer, verify_list, now, memo)
        if detail is None:
            return shown
        if entry is entries[0]:
            shown["anchored_block"] = block
        details.append(detail)
    run.set("revocation", PASSED, "; ".join(details))
    return shown
