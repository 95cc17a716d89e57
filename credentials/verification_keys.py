"""Issuer and holder keys for the verifier: did:key, did:jwk offline, did:web through an injected source.

Implements key resolution for every format :mod:`credentials.verification`
verifies:

- did:key and did:jwk, offline (:mod:`credentials.dids`,
  :mod:`credentials.multikey`);
- did:web (W3C CCG *did:web Method Specification*, §3.2 "Read (Resolve)"):
  ``did:web:<host>[%3A<port>][:<path>…]`` is the document at
  ``https://<host>[:<port>]/<path…>/did.json`` (``/.well-known/did.json``
  without a path). The document's text comes from an injected
  :data:`DidDocumentSource` (the verifier's strict fetcher, cached); this
  module parses it (strict JSON, DID Core 1.0 §5: ``id`` equal to the DID,
  ``verificationMethod`` entries of type ``JsonWebKey`` / ``JsonWebKey2020``
  (``publicKeyJwk``) or ``Multikey`` (``publicKeyMultibase``), relationships
  by reference or embedded) and hands out the key named by a JWT ``kid`` or a
  proof's ``verificationMethod``, only when the document lists it under the
  relationship asked for (``assertionMethod`` for an issuer,
  ``authentication`` for a holder).

- did:mcr (:mod:`credentials.did_mcr`), through an injected
  :data:`DidRecordSource` (the DidRegistry read at the block the verifier
  has confirmed): the key named by ``kid`` must have been valid at the
  credential's issuance anchor block (``at_block``, from the
  ``issuance_anchor`` check) or, without an anchor, at the block read.

A source that cannot answer raises ``ConnectionError`` / ``TimeoutError``
(the check becomes ``unavailable``); one that refuses the address (a did:web
naming a private or loopback host) raises :class:`~credentials.errors.InvalidDid`
(the check fails, saying why). No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from credentials._json import json_loads
from credentials.did_mcr import DID_MCR_METHOD, DidRecord, key_at, verification_method_at
from credentials.dids import Did
from credentials.errors import InvalidDid, InvalidInput, InvalidKey
from credentials.jose import PublicKey
from credentials.multikey import (
    ASSERTION_METHOD,
    VerificationMethod,
    resolve_did_verification_method,
    verification_method_from_json,
)
from credentials.sd_jwt_vc import resolve_did_issuer_key

__all__ = ["DID_WEB_METHOD", "AUTHENTICATION", "DidDocumentSource", "DidRecordSource", "did_web_url",
           "parse_did_document", "KeyResolver"]

DID_WEB_METHOD = "web"
AUTHENTICATION = "authentication"
#: ``did:web`` DID → the text of its DID document; may raise ConnectionError / TimeoutError / InvalidDid.
DidDocumentSource = Callable[[str], str]
#: ``did:mcr`` DID → its DidRegistry record at the block read; may raise ConnectionError / InvalidDid.
DidRecordSource = Callable[[str], DidRecord]
_RELATIONSHIPS = (ASSERTION_METHOD, AUTHENTICATION, "capabilityInvocation", "capabilityDelegation", "keyAgreement")
_MAX_METHODS = 32


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web DID's document (did:web §3.2); InvalidDid if it is not one."""
    parsed = Did(did)
    if parsed.method != DID_WEB_METHOD:
        raise InvalidDid(f"expected a did:web, found did:{parsed.method}")
    if parsed.fragment is not None or "?" in parsed.method_specific_id:
        raise InvalidDid("a did:web to resolve must not carry a fragment or query")
    host, *path = parsed.method_specific_id.split(":")
    host = unquote(host)
    if not host or any(c in host for c in "/@?#\\ ") or any(not p or "/" in unquote(p) for p in path):
        raise InvalidDid(f"the did:web {did[:80]!r} names no valid host and path")
    return f"https://{host}/" + ("/".join(unquote(p) for p in path) + "/did.json" if path else ".well-known/did.json")


def _method_id(value: str, did: str) -> str:
    return f"{did}{value}" if value.startswith("#") else value


def parse_did_document(text: str, did: str) -> dict[str, VerificationMethod]:
    """The verification methods of ``did``'s document, by id, each with the relationships listing it."""
    try:
        document = json_loads(text, what="the DID document")
    except InvalidInput as exc:
        raise InvalidDid(f"the DID document of {did[:80]} is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("id") != did:
        raise InvalidDid(f"the document fetched for {did[:80]} is not its DID document (its 'id' differs)")
    raw: dict[str, Mapping[str, Any]] = {}
    listed: dict[str, set[str]] = {}
    entries = document.get("verificationMethod", [])
    if not isinstance(entries, list) or len(entries) > _MAX_METHODS:
        raise InvalidDid(f"the DID document of {did[:80]} has a malformed 'verificationMethod'")
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            raw[_method_id(entry["id"], did)] = entry
    for relationship in _RELATIONSHIPS:
        members = document.get(relationship, [])
        for member in members if isinstance(members, list) else []:
            if isinstance(member, str):
                listed.setdefault(_method_id(member, did), set()).add(relationship)
            elif isinstance(member, Mapping) and isinstance(member.get("id"), str):
                method_id = _method_id(member["id"], did)
                raw.setdefault(method_id, member)
                listed.setdefault(method_id, set()).add(relationship)
    methods = {}
    for method_id, entry in raw.items():
        if entry.get("controller") != did:
            continue  # a key controlled by somebody else speaks for them, not for this DID
        try:
            methods[method_id] = verification_method_from_json(
                {**entry, "id": method_id}, relationships=frozenset(listed.get(method_id, ())))
        except InvalidKey:
            continue  # a key kind we cannot use (RSA, X25519 …) is simply not offered
    return methods


def _jose_key(method: VerificationMethod) -> PublicKey:
    return PublicKey.from_cryptography(method.public_key)


class KeyResolver:
    """Keys of issuers and holders: did:key / did:jwk offline, did:web through ``did_documents``.

    ``issuer_key(iss, kid)`` (a JOSE key, as :func:`credentials.jwt_vc.verify_jwt_vc`
    asks) and ``verification_method(id)`` (as :mod:`credentials.data_integrity`
    asks) for ``assertionMethod``; :meth:`holder_key` and
    :meth:`holder_method` for ``authentication``. ``at_block``: the block of
    the credential's issuance anchor, for keys that change over time (did:mcr);
    None means "valid now".
    """

    def __init__(self, did_documents: DidDocumentSource | None = None,
                 offline_issuer_key: Callable[[str, str | None], PublicKey] = resolve_did_issuer_key,
                 did_records: DidRecordSource | None = None):
        self._documents = did_documents
        self._offline_issuer_key = offline_issuer_key
        self._records = did_records

    def _mcr_record(self, did: str) -> DidRecord:
        if self._records is None:
            raise InvalidDid("this verifier does not resolve did:mcr (it has no DID registry)")
        return self._records(did)

    def _web_methods(self, did: str) -> dict[str, VerificationMethod]:
        if self._documents is None:
            raise InvalidDid("this verifier does not resolve did:web")
        did_web_url(did)
        return parse_did_document(self._documents(did), did)

    def _web_method(self, did: str, method_id: str | None, relationship: str) -> VerificationMethod:
        methods = self._web_methods(did)
        if method_id is None:
            usable = [m for m in methods.values() if relationship in m.relationships]
            if len(usable) != 1:
                raise InvalidDid(f"the JWT names no key ('kid') and {did[:80]} lists {len(usable)} for {relationship}")
            return usable[0]
        method = methods.get(_method_id(method_id, did))
        if method is None:
            raise InvalidDid(f"{did[:80]} has no usable key {method_id[:80]!r}")
        if relationship not in method.relationships:
            raise InvalidDid(f"the key {method_id[:80]!r} is not listed under {relationship} by {did[:80]}")
        return method

    def _key(self, did: str, kid: str | None, relationship: str, at_block: int | None = None) -> PublicKey:
        parsed = Did(did)
        if parsed.method == DID_MCR_METHOD:
            if parsed.fragment is not None:
                raise InvalidDid("an issuer or holder did:mcr must not carry a fragment")
            return key_at(self._mcr_record(did), kid, at_block)
        if parsed.method != DID_WEB_METHOD:
            return self._offline_issuer_key(did, kid)
        if kid is not None and not kid.startswith("#") and kid.split("#", 1)[0] != did:
            raise InvalidDid(f"the key {kid[:80]!r} does not belong to {did[:80]}")
        return _jose_key(self._web_method(did, kid, relationship))

    def issuer_key(self, iss: str, kid: str | None, at_block: int | None = None) -> PublicKey:
        return self._key(iss, kid, ASSERTION_METHOD, at_block)

    def holder_key(self, did: str, kid: str | None) -> PublicKey:
        return self._key(did, kid, AUTHENTICATION)

    def _method(self, method_id: str, relationship: str, at_block: int | None = None) -> VerificationMethod:
        parsed = Did(method_id)
        if parsed.method == DID_MCR_METHOD:
            if parsed.fragment is None:
                raise InvalidDid("a did:mcr verification method must name its key with a fragment")
            return verification_method_at(self._mcr_record(parsed.did), method_id, at_block)
        if parsed.method != DID_WEB_METHOD:
            return resolve_did_verification_method(method_id)
        if parsed.fragment is None:
            raise InvalidDid("a did:web verification method must name its key with a fragment")
        return self._web_method(parsed.did, method_id, relationship)

    def verification_method(self, method_id: str, at_block: int | None = None) -> VerificationMethod:
        return self._method(method_id, ASSERTION_METHOD, at_block)

    def holder_method(self, method_id: str) -> VerificationMethod:
        return self._method(method_id, AUTHENTICATION)
