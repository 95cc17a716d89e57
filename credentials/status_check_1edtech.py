"""The ``revocation`` check for the 1EdTech Revocation List Status Method.

Implements the verifier side of *1EdTech Revocation List Status Method* 1.0
(VCRL 1.0, https://www.imsglobal.org/spec/vcrl/v1p0/), the status method that
*Open Badges 3.0* and *CLR 2.0* (§ "Verification", "credentialStatus") name
for their credentials:

- the credential's ``credentialStatus`` is ``{"id": <list URL>, "type":
  "1EdTechRevocationList"}``;
- a GET of that URL answers a JSON ``RevocationList``: its ``id`` (the list
  URL), its ``issuer`` and ``revokedCredentials``, each entry an object with
  the ``id`` of a revoked credential, an optional ``revoked`` (true or
  omitted: revoked) and an optional ``revocationReason``;
- the credential is revoked when its ``id`` is listed so.

The list is plain JSON with no signature: it is only as trustworthy as the
issuer's server and the TLS connection to it. So, like a W3C list its issuer
does not anchor (:mod:`credentials.status_check_bitstring`), it passes only
when ``Policy.unanchored_status_lists`` allows it, saying so; when the issuer
anchors the list's SHA-256 on the StatusRegistry (list id = last path segment
of the URL), the fetched text must match the anchor. The text comes from the
same :data:`~credentials.verification_model.StatusResolver` as the W3C lists.
A list that cannot be fetched leaves the check ``unavailable`` (never passed);
a list that cannot be read fails, saying why. No I/O here.

Stricter than 1EdTech's validator on purpose: an unreachable list is not a
warning but ``unavailable``; a list that names another URL or issuer fails;
``revokedCredentials`` must be present (an answer without it, e.g. an error
page, is not "nothing revoked"). The validator reads the member as
``revokedCredential``; that spelling is read too, so a list written for it
cannot hide a revocation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from credentials._status_common import ListWording, fetch_list
from credentials.errors import InvalidInput, RevocationError, VerificationError
from credentials.jsonld import parse_json_document
from credentials.status_check import status_list_id
from credentials.verification_model import (
    PASSED,
    UNAVAILABLE,
    CheckRun,
    Policy,
    StatusResolver,
)

__all__ = [
    "REVOCATION_LIST_ENTRY", "RevocationList", "uses_revocation_list", "read_revocation_list_urls",
    "parse_revocation_list", "check_1edtech_revocation",
]

REVOCATION_LIST_ENTRY = "1EdTechRevocationList"
_REVOKED_MEMBERS = ("revokedCredentials", "revokedCredential")  # the spec's name, then the validator's
_MAX_ENTRIES = 4
_MAX_REASON = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _entries(credential: Mapping[str, Any]) -> list[Any]:
    status = credential.get("credentialStatus")
    if status is None:
        return []
    return status if isinstance(status, list) else [status]


def uses_revocation_list(credential: Mapping[str, Any]) -> bool:
    """True when any ``credentialStatus`` entry of ``credential`` is a ``1EdTechRevocationList``."""
    return any(isinstance(e, Mapping) and REVOCATION_LIST_ENTRY in _types(e.get("type"))
               for e in _entries(credential))


def read_revocation_list_urls(credential: Mapping[str, Any]) -> tuple[str, ...]:
    """The list URLs of ``credential``'s ``1EdTechRevocationList`` entries.

    Raises :class:`RevocationError` for an entry of another kind beside them,
    too many entries, or an ``id`` that is not an http(s) URL.
    """
    entries = _entries(credential)
    if not entries or len(entries) > _MAX_ENTRIES:
        raise RevocationError(f"expected 1 to {_MAX_ENTRIES} status entries, found {len(entries)}")
    urls = []
    for number, entry in enumerate(entries):
        where = f"status entry {number}"
        if not isinstance(entry, Mapping):
            raise RevocationError(f"{where} is not an object")
        if REVOCATION_LIST_ENTRY not in _types(entry.get("type")):
            raise RevocationError(f"{where} has type {str(entry.get('type'))[:60]!r} beside a "
                                  f"{REVOCATION_LIST_ENTRY}; this verifier reads one status method per credential")
        url = entry.get("id")
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= 2048 else None
        if (parts is None or not isinstance(url, str) or parts.scheme not in ("https", "http") or not parts.netloc
                or not parts.path.strip("/")):
            raise RevocationError(f"{where} ({REVOCATION_LIST_ENTRY}) has id {str(url)[:80]!r}; expected the "
                                  "https URL of the revocation list")
        urls.append(url)
    return tuple(urls)


@dataclass(frozen=True)
class RevocationList:
    """A read revocation list: its URL and the revoked credential ids with their reasons ("" when none given)."""

    url: str
    revoked: Mapping[str, str]

    def reason(self, credential_id: str) -> str | None:
        """None when ``credential_id`` is not revoked; else the reason given (possibly "")."""
        return self.revoked.get(credential_id)


def _named_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def _reason(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RevocationError(f"{where} has revocationReason of type {type(value).__name__}; expected a string")
    shown = _CONTROL.sub(" ", value).strip()
    return shown if len(shown) <= _MAX_REASON else shown[:_MAX_REASON] + "…"


def _revoked_entries(document: Mapping[str, Any]) -> list[Any]:
    found = [document[m] for m in _REVOKED_MEMBERS if m in document]
    if not found:
        raise RevocationError("the revocation list has no revokedCredentials array")
    entries: list[Any] = []
    for value in found:
        if not isinstance(value, list):
            raise RevocationError(f"the revocation list's revokedCredentials is a {type(value).__name__}, "
                                  "expected an array")
        entries.extend(value)
    return entries


def parse_revocation_list(text: str, url: str, issuer: str) -> RevocationList:
    """Read the RevocationList JSON ``text`` fetched from ``url`` for a credential of ``issuer``.

    Raises :class:`RevocationError` when it is too large or nested too deep,
    not a JSON object, names another URL or issuer, or has a malformed entry.
    """
    try:
        document = parse_json_document(text, what="the revocation list")
    except (InvalidInput, VerificationError) as exc:  # FormatError: too large, not JSON, too deep
        reason = exc.reason if isinstance(exc, VerificationError) else str(exc)
        raise RevocationError(f"the revocation list cannot be read: {reason}") from None
    listed_id = document.get("id")
    if listed_id is not None and listed_id != url:
        raise RevocationError(f"the revocation list is {str(listed_id)[:80]!r}, but the credential points at "
                              f"{url[:80]!r}")
    listed_issuer = _named_id(document.get("issuer"))
    if listed_issuer is not None and listed_issuer != issuer:
        raise RevocationError(f"the revocation list is published by {str(listed_issuer)[:80]!r}, not by the "
                              f"credential's issuer {issuer[:80]!r}")
    revoked: dict[str, str] = {}
    for number, entry in enumerate(_revoked_entries(document)):
        where = f"revoked credential entry {number}"
        if isinstance(entry, str):  # an id alone, as Open Badges 2.0 lists have it
            revoked.setdefault(entry, "")
            continue
        if not isinstance(entry, Mapping):
            raise RevocationError(f"{where} is a {type(entry).__name__}, expected an object")
        credential_id = entry.get("id")
        if not isinstance(credential_id, str) or not credential_id:
            raise RevocationError(f"{where} has id {str(credential_id)[:60]!r}; expected the revoked credential's id")
        flag = entry.get("revoked", True)
        if not isinstance(flag, bool):
            raise RevocationError(f"{where} has revoked {str(flag)[:20]!r}; expected true or false")
        reason = _reason(entry.get("revocationReason"), where)
        if flag:
            revoked.setdefault(credential_id, reason)
    return RevocationList(url, revoked)


def _one(run: CheckRun, policy: Policy, status: StatusResolver, url: str, credential_id: str, issuer: str,
         now: int) -> tuple[str | None, int | None]:
    """The detail of one passed list (None: the run already says why not) and its anchor block."""
    list_id = status_list_id(url)
    fetched = fetch_list(run, policy, status, issuer, url, now, ListWording(
        "revocation list", f"the revocation list {list_id}",
        f"the 1EdTech revocation list {list_id} of {issuer[:80]} is unsigned JSON not anchored on the "
        "StatusRegistry, and this verifier accepts anchored lists only",
        "not anchored on chain; read from the issuer's unsigned list, as trustworthy as the issuer's server and "
        "its TLS"))
    if fetched is None:
        return None, None
    text, source = fetched.text, fetched.source
    try:
        reason = parse_revocation_list(text, url, issuer).reason(credential_id)
    except RevocationError as exc:
        run.fail(RevocationError(f"the revocation list {list_id} is not usable: {exc.reason}"))
        return None, None
    if reason is not None:
        run.fail(RevocationError(f"revoked by the issuer: {reason or 'no reason given'} (1EdTech revocation list "
                                 f"{list_id}, {source})"))
        return None, None
    return f"the credential is not on the 1EdTech revocation list {list_id} ({source})", fetched.anchored_block


def check_1edtech_revocation(run: CheckRun, policy: Policy, status: StatusResolver | None,
                             credential: Mapping[str, Any], issuer: str, now: int) -> dict[str, Any] | None:
    """Run ``revocation`` for a credential whose status is a 1EdTech revocation list; the answer's ``status``."""
    try:
        urls = read_revocation_list_urls(credential)
    except RevocationError as exc:
        run.fail(exc)
        return None
    shown: dict[str, Any] = {"uri": urls[0], "index": None, "anchored_block": None}
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        run.fail(RevocationError("the credential has no id, so a 1EdTech revocation list cannot name it"))
        return shown
    if status is None:
        run.set("revocation", UNAVAILABLE, "this verifier cannot read 1EdTech revocation lists")
        return shown
    details = []
    for url in urls:
        detail, block = _one(run, policy, status, url, credential_id, issuer, now)
        if detail is None:
            return shown
        if url is urls[0]:
            shown["anchored_block"] = block
        details.append(detail)
    run.set("revocation", PASSED, "; ".join(details))
    return shown
