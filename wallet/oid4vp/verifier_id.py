"""Who asks: the verifier's Client Identifier Prefix checked, its request object authenticated.

OpenID4VP 1.0 §5.9.3 (Client Identifier Prefixes), §5 (request objects are
JAR, RFC 9101, ``typ: oauth-authz-req+jwt``) and HAIP 1.0 (``x509_hash``):

- ``x509_hash:<b64url SHA-256 of the DER leaf>`` and ``x509_san_dns:<dNSName>``:
  the request object comes signed, by reference, with the certificate chain in
  its ``x5c`` header (leaf first). The chain must end at one of the wallet's
  verifier anchors (``MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS``), validated as
  an access certificate (:func:`credentials.x509_trust.validate_access_chain`);
  the signature is checked with the leaf's key; ``x509_hash`` must equal the
  leaf's hash, ``x509_san_dns`` one of its dNSName SANs, and then the answer
  may only go to that host. The learner sees the certified organisation (the
  leaf's O and C) and who certified it (the anchor's CN).
- ``decentralized_identifier:<did:key | did:jwk>``: signed by a key of that DID
  (header ``kid``), resolved offline; the DID is shown, its name is not certified.
- ``redirect_uri:<response URI>``: unsigned (``alg: none``); only its web
  address is known, and the page says so.

Every other prefix is refused. The prefix is checked before anything is
fetched (:func:`check_before_fetch`); :func:`authenticate` then reads the
request object once fetched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import asdict, dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from credentials.dids import Did
from credentials.errors import InvalidInput, InvalidPresentationRequest, VerificationError
from credentials.jose import PublicKey, UnverifiedJws, b64url_decode, b64url_encode, json_loads_object
from credentials.sd_jwt_vc import resolve_did_issuer_key
from credentials.x509_trust import MAX_CHAIN_LENGTH, TrustAnchors, dns_names, seal_subject, validate_access_chain
from wallet.transport import Client

__all__ = [
    "REQUEST_OBJECT_TYP",
    "PREFIX_REDIRECT_URI",
    "PREFIX_DID",
    "PREFIX_X509_HASH",
    "PREFIX_X509_SAN_DNS",
    "NO_VERIFIER_ANCHORS",
    "VerifierIdentity",
    "check_before_fetch",
    "read_request_object",
    "authenticate",
    "x509_hash_of",
]

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
PREFIX_REDIRECT_URI = "redirect_uri"
PREFIX_DID = "decentralized_identifier"
PREFIX_X509_HASH = "x509_hash"
PREFIX_X509_SAN_DNS = "x509_san_dns"
_X509_PREFIXES = (PREFIX_X509_HASH, PREFIX_X509_SAN_DNS)
_DID_METHODS = ("key", "jwk")
#: A DER certificate in ``x5c`` longer than this (bytes) is refused before parsing.
MAX_CERTIFICATE_BYTES = 16 * 1024
NO_VERIFIER_ANCHORS = "this wallet trusts no authority that certifies verifiers"


@dataclass(frozen=True)
class VerifierIdentity:
    """What the consent page says about who asks, and how sure the wallet is of it."""

    prefix: str
    verified: bool  # the request was signed by a key the wallet could tie to the client identifier
    host: str  # where the answer goes
    organisation: str | None = None  # x509: the leaf's O (else CN)
    country: str | None = None  # x509: the leaf's C
    certified_by: str | None = None  # x509: the anchor's CN (else O, else its DN)
    did: str | None = None  # decentralized_identifier: the DID

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerifierIdentity:
        return cls(**data)


def _split(client_id: str) -> tuple[str, str]:
    prefix, colon, original = client_id.partition(":")
    if not colon or not original:
        raise InvalidPresentationRequest(
            f"unsupported client identifier {client_id[:60]!r}; expected a prefix such as x509_hash:, "
            "x509_san_dns:, decentralized_identifier: or redirect_uri:")
    return prefix, original


def check_before_fetch(client_id: str, request_uri: str | None, client: Client,
                       anchors: TrustAnchors | None) -> str | None:
    """Refuse a client identifier the wallet cannot honour before any request is sent.

    Returns the host answers must go to when the identifier fixes it (``redirect_uri``:
    the URI's host; ``x509_san_dns``: the DNS name), else None (decided once the
    signed request object is read).
    """
    prefix, original = _split(client_id)
    if prefix == PREFIX_REDIRECT_URI:
        host = client.fetcher.check_url(original, what="verifier's redirect_uri client identifier").host
        if request_uri is not None and client.fetcher.check_url(request_uri, what="request_uri").host != host:
            raise InvalidPresentationRequest(
                f"the request_uri is on another host than the verifier's {host!r}; refused")
        return host
    if prefix == PREFIX_DID:
        did = Did.parse(original)
        if did.method not in _DID_METHODS or did.fragment is not None:
            raise InvalidPresentationRequest(f"the verifier's DID must be a did:key or did:jwk, found did:{did.method}")
    elif prefix in _X509_PREFIXES:
        if anchors is None:
            raise InvalidPresentationRequest(f"{NO_VERIFIER_ANCHORS}, so it cannot check this verifier's certificate")
        if prefix == PREFIX_X509_SAN_DNS and (original != original.strip().lower() or "/" in original):
            raise InvalidPresentationRequest(f"the x509_san_dns client identifier {original[:80]!r} is not a DNS name")
    else:
        raise InvalidPresentationRequest(
            f"unsupported client identifier prefix {prefix[:40]!r}; expected x509_hash, x509_san_dns, "
            "decentralized_identifier or redirect_uri")
    if request_uri is None:
        raise InvalidPresentationRequest(f"a request from a {prefix} client must come signed, by request_uri")
    client.fetcher.check_url(request_uri, what="request_uri")
    return original if prefix == PREFIX_X509_SAN_DNS else None


def x509_hash_of(certificate: x509.Certificate) -> str:
    """The ``x509_hash`` client identifier value: base64url(SHA-256(DER certificate)), no padding."""
    return b64url_encode(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


def _unsigned(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or parts[2]:
        raise InvalidPresentationRequest("expected an unsigned request object (alg none) for a redirect_uri client")
    header = json_loads_object(b64url_decode(parts[0]), what="request object header")
    if header.get("alg") != "none":
        raise InvalidPresentationRequest("a redirect_uri client's request object must not be signed")
    return json_loads_object(b64url_decode(parts[1]), what="request object")


def _signed(token: str) -> UnverifiedJws:
    try:
        jws = UnverifiedJws.parse(token, what="request object")
        jws.check_typ((REQUEST_OBJECT_TYP,), what="request object")
    except VerificationError as exc:
        raise InvalidPresentationRequest(f"the request object is not a signed request: {exc.reason}") from exc
    return jws


def _chain(header: dict[str, Any]) -> list[x509.Certificate]:
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        raise InvalidPresentationRequest("the request object carries no certificate chain (x5c header)")
    if len(x5c) > MAX_CHAIN_LENGTH:
        raise InvalidPresentationRequest(
            f"the request object's x5c holds {len(x5c)} certificates; at most {MAX_CHAIN_LENGTH} are accepted")
    chain = []
    for index, entry in enumerate(x5c):
        if not isinstance(entry, str) or len(entry) > MAX_CERTIFICATE_BYTES * 4 // 3 + 4:
            raise InvalidPresentationRequest(f"x5c entry {index} is not a base64 certificate of a sensible size")
        try:  # RFC 7515 §4.1.6: standard base64 (not base64url) of the DER
            chain.append(x509.load_der_x509_certificate(base64.b64decode(entry, validate=True)))
        except (binascii.Error, ValueError):
            raise InvalidPresentationRequest(f"x5c entry {index} is not a DER X.509 certificate in base64") from None
    return chain


def _anchor_name(anchors: TrustAnchors, sha256_hex: str) -> str:
    for anchor in anchors.certificates:
        if hashlib.sha256(anchor.public_bytes(serialization.Encoding.DER)).hexdigest() == sha256_hex:
            for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
                values = anchor.subject.get_attributes_for_oid(oid)
                if values:
                    return str(values[0].value)[:120]
            return anchor.subject.rfc4514_string()[:120]
    return "a configured authority"


def _x509(jws: UnverifiedJws, prefix: str, original: str, anchors: TrustAnchors | None, now: int,
          response_host: str) -> VerifierIdentity:
    if anchors is None:  # checked before the fetch too
        raise InvalidPresentationRequest(NO_VERIFIER_ANCHORS)
    chain = _chain(jws.header)
    leaf = chain[0]
    if prefix == PREFIX_X509_HASH and not hmac.compare_digest(x509_hash_of(leaf), original):
        raise InvalidPresentationRequest(
            "the verifier's certificate does not match its x509_hash client identifier; refused")
    if prefix == PREFIX_X509_SAN_DNS:
        names = [name.lower() for name in dns_names(leaf)]
        if original not in names:
            raise InvalidPresentationRequest(
                f"the verifier's certificate is not issued for {original!r} (its DNS names: "
                f"{', '.join(names[:5]) or 'none'}); refused")
        if response_host != original:
            raise InvalidPresentationRequest(
                f"the answer would go to {response_host!r}, not to the certified host {original!r}; refused")
    try:
        path = validate_access_chain(leaf, chain[1:], anchors, at=now)
        key = PublicKey.from_cryptography(leaf.public_key())
        jws.verify_with(key, what="request object")
    except VerificationError as exc:
        raise InvalidPresentationRequest(f"the verifier's certificate is not trusted: {exc.reason}") from exc
    except InvalidInput as exc:
        raise InvalidPresentationRequest(f"the verifier's certificate key cannot sign requests: {exc}") from exc
    subject = seal_subject(leaf)
    return VerifierIdentity(prefix=prefix, verified=True, host=response_host,
                            organisation=(subject.legal_name or "")[:120] or None,
                            country=(subject.country or "")[:2] or None,
                            certified_by=_anchor_name(anchors, path[-1].sha256))


def _did(jws: UnverifiedJws, did: str, response_host: str) -> VerifierIdentity:
    try:
        kid = jws.header.get("kid")
        key = resolve_did_issuer_key(did, kid if isinstance(kid, str) else None)
        jws.verify_with(key, what="request object")
    except VerificationError as exc:
        raise InvalidPresentationRequest(f"the request object's signature does not check out: {exc.reason}") from exc
    except InvalidInput as exc:
        raise InvalidPresentationRequest(f"the request object is not signed by the DID that asks: {exc}") from exc
    return VerifierIdentity(prefix=PREFIX_DID, verified=True, host=response_host, did=did)


def read_request_object(token: str, client_id: str) -> tuple[UnverifiedJws | None, dict[str, Any]]:
    """Split the fetched request object: (the signed JWS or None for ``redirect_uri:``, its claims)."""
    prefix, _ = _split(client_id)
    if prefix == PREFIX_REDIRECT_URI:
        return None, _unsigned(token)
    jws = _signed(token)
    return jws, jws.payload


def authenticate(jws: UnverifiedJws | None, client_id: str, *, anchors: TrustAnchors | None, now: int,
                 response_host: str) -> VerifierIdentity:
    """Check the request object's signature against the client identifier; who the verifier is."""
    prefix, original = _split(client_id)
    if prefix == PREFIX_REDIRECT_URI:
        return VerifierIdentity(prefix=prefix, verified=False, host=response_host)
    if jws is None:
        raise InvalidPresentationRequest(f"a request from a {prefix} client must be signed")
    if prefix == PREFIX_DID:
        return _did(jws, original, response_host)
    return _x509(jws, prefix, original, anchors, now, response_host)
