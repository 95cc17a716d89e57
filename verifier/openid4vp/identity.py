"""The verifier as a wallet knows it: its Client Identifier and how its Request Objects are signed.

OpenID4VP 1.0 §5.9 (Client Identifier Prefixes) with RFC 9101 (JAR) and
HAIP 1.0 §5:

``x509_hash:<b64url(SHA-256(DER of the leaf))>`` (the default when a certificate is configured) and
``x509_san_dns:<a dNSName of the leaf>``
    the Request Object is an ES256 JWS whose ``x5c`` header holds the leaf
    and its intermediates, never the trust anchor (HAIP 1.0 §5); the leaf is
    not self-signed and not a CA. ``x509_san_dns`` needs
    ``MICROCRED_VERIFIER_PUBLIC_URL`` whose host is one of the leaf's DNS
    names (the ``response_uri`` host must equal the Client Identifier, §5.9.3).
``decentralized_identifier:did:jwk:…``
    an ES256 key the verifier makes once and keeps in its data dir
    (:data:`DID_KEY_FILE`, mode 0600 through :mod:`infra.secret_files`); the
    header ``kid`` is the DID URL (``#0``), resolved by the wallet offline.
``redirect_uri:<response_uri>``
    unsigned (``alg: none``, §5.9.3: "cannot be signed"); the wallet knows
    only the web address.

Every Request Object carries ``typ: oauth-authz-req+jwt`` (§5). The settings
are checked once, when the blueprint is registered: a prefix that needs a
certificate without one, a key that is not the certificate's, an expired or
self-signed leaf stop start-up with a :class:`~credentials.errors.ConfigurationError`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from credentials.dids import did_jwk_from_public_key, verification_method_id
from credentials.errors import ConfigurationError
from credentials.jose import PrivateKey, b64url_encode, json_dumps, sign_jws
from credentials.x509_trust import dns_names
from infra.secret_files import load_or_create_secret_file, read_secret_file

__all__ = ["REQUEST_OBJECT_TYP", "DID_KEY_FILE", "ClientIdentity", "load_identity", "certificate_hash"]

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
#: The verifier's did:jwk key for the ``decentralized_identifier`` prefix (a private JWK, JSON), in the data dir.
DID_KEY_FILE = "openid4vp-client-key.jwk"


def certificate_hash(certificate: x509.Certificate) -> str:
    """The ``x509_hash`` value: base64url (no padding) of SHA-256 over the DER certificate (§5.9.3)."""
    return b64url_encode(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


@dataclass(frozen=True)
class ClientIdentity:
    """How this verifier names itself (``prefix``) and the key, certificates or DID its requests carry."""

    prefix: str
    key: PrivateKey | None = None
    x5c: tuple[str, ...] = ()          # standard base64 DER, leaf first (RFC 7515 §4.1.6)
    hash: str | None = None            # x509_hash
    dns_name: str | None = None        # x509_san_dns
    did: str | None = None             # decentralized_identifier
    kid: str | None = None
    organisation: str | None = None    # the leaf's O, shown on the employer's page

    def client_id(self, response_uri: str) -> str:
        """The full Client Identifier, prefix included (the KB-JWT ``aud``, §14.1.x "full client identifier")."""
        value = {"x509_hash": self.hash, "x509_san_dns": self.dns_name, "decentralized_identifier": self.did,
                 "redirect_uri": response_uri}[self.prefix]
        return f"{self.prefix}:{value}"

    def request_object(self, payload: dict[str, Any]) -> str:
        """The Request Object: an ES256 JWS for the signed prefixes, an unsecured JWT (``alg: none``) else."""
        if self.key is None:
            unsecured = {"alg": "none", "typ": REQUEST_OBJECT_TYP}
            return (b64url_encode(json_dumps(unsecured).encode("utf-8")) + "."
                    + b64url_encode(json_dumps(payload).encode("utf-8")) + ".")
        header: dict[str, Any] = {"typ": REQUEST_OBJECT_TYP}
        if self.x5c:
            header["x5c"] = list(self.x5c)
        if self.kid:
            header["kid"] = self.kid
        return sign_jws(payload, self.key, header=header)

    def describe(self) -> str:
        """How a wallet will see this verifier, in a few words for the employer's page."""
        if self.prefix in ("x509_hash", "x509_san_dns"):
            return f"certified as {self.organisation or 'the organisation in its certificate'}"
        if self.prefix == "decentralized_identifier":
            return "named by its own key (a did:jwk), not certified by anyone"
        return "unverified: only its web address is known"


def load_identity(settings: Any, *, now: int) -> ClientIdentity:
    """The identity the settings describe, checked (ConfigurationError naming the variable and what is wrong)."""
    chain_file, key_file = settings.VERIFIER_X509_CHAIN, settings.VERIFIER_X509_KEY
    prefix = settings.VERIFIER_CLIENT_ID_PREFIX or ("x509_hash" if chain_file else "redirect_uri")
    if prefix in ("x509_hash", "x509_san_dns"):
        return _x509_identity(prefix, chain_file, key_file, settings.VERIFIER_PUBLIC_URL, now)
    if prefix == "decentralized_identifier":
        return _did_identity(Path(settings.DATA_DIR))
    return ClientIdentity("redirect_uri")


def _x509_identity(prefix: str, chain_file: str | None, key_file: str | None, public_url: str | None,
                   now: int) -> ClientIdentity:
    missing = [name for name, value in (("MICROCRED_VERIFIER_X509_CHAIN", chain_file),
                                        ("MICROCRED_VERIFIER_X509_KEY", key_file)) if not value]
    if missing or chain_file is None or key_file is None:
        raise ConfigurationError(f"MICROCRED_VERIFIER_CLIENT_ID_PREFIX={prefix} signs requests with a certificate: "
                                 f"expected {' and '.join(missing)} to be set, found them unset")
    try:
        chain = x509.load_pem_x509_certificates(Path(chain_file).read_bytes())
    except (OSError, ValueError):
        raise ConfigurationError(f"MICROCRED_VERIFIER_X509_CHAIN: expected a PEM file of certificates (leaf first), "
                                 f"could not read certificates from {chain_file}") from None
    leaf = chain[0]
    for certificate in chain:
        if certificate.subject == certificate.issuer:
            raise ConfigurationError("MICROCRED_VERIFIER_X509_CHAIN: expected the access certificate and its "
                                     "intermediates only, found a self-signed certificate "
                                     f"({certificate.subject.rfc4514_string()}); never list the trust anchor")
    constraints = _extension(leaf, x509.BasicConstraints)
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        raise ConfigurationError("MICROCRED_VERIFIER_X509_CHAIN: expected an end-entity access certificate first, "
                                 "found a CA certificate")
    if leaf.not_valid_after_utc.timestamp() < now or leaf.not_valid_before_utc.timestamp() > now:
        raise ConfigurationError(f"MICROCRED_VERIFIER_X509_CHAIN: the access certificate is valid from "
                                 f"{leaf.not_valid_before_utc:%Y-%m-%d} to {leaf.not_valid_after_utc:%Y-%m-%d}, "
                                 "not now")
    key = _private_key(key_file, leaf)
    dns_name = None
    if prefix == "x509_san_dns":
        names = dns_names(leaf)
        host = urlsplit(public_url).hostname if public_url else None
        if host is None or host not in names:
            raise ConfigurationError(
                "MICROCRED_VERIFIER_CLIENT_ID_PREFIX=x509_san_dns: expected MICROCRED_VERIFIER_PUBLIC_URL whose host "
                f"is one of the certificate's DNS names ({', '.join(names) or 'none'}), found "
                f"{host or 'no public URL'}")
        dns_name = host
    organisations = leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return ClientIdentity(
        prefix, key=key, dns_name=dns_name, hash=certificate_hash(leaf),
        x5c=tuple(base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain),
        organisation=str(organisations[0].value) if organisations else None)


def _extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _private_key(key_file: str, leaf: x509.Certificate) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(read_secret_file(key_file), password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(f"MICROCRED_VERIFIER_X509_KEY: expected an unencrypted PEM private key, could not "
                                 f"read one from {key_file}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError("MICROCRED_VERIFIER_X509_KEY: expected an EC P-256 key (ES256, HAIP 1.0), found "
                                 f"a {type(key).__name__.removeprefix('_')}")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != leaf.public_key().public_bytes(*spki):
        raise ConfigurationError("MICROCRED_VERIFIER_X509_KEY: expected the private key of the access certificate "
                                 "(the first in MICROCRED_VERIFIER_X509_CHAIN), found another key")
    return PrivateKey.from_cryptography(key)


def _did_identity(data_dir: Path) -> ClientIdentity:
    def make() -> bytes:
        return json.dumps(PrivateKey.generate("ES256").to_jwk()).encode("utf-8")

    content, _ = load_or_create_secret_file(data_dir / DID_KEY_FILE, make)
    try:
        key = PrivateKey.from_jwk(json.loads(content))
    except (ValueError, TypeError):
        raise ConfigurationError(f"expected a private JWK (ES256) in {data_dir / DID_KEY_FILE}, found something "
                                 "else; remove the file to make a new key") from None
    did = did_jwk_from_public_key(key.public_key())
    return ClientIdentity("decentralized_identifier", key=key, did=did, kid=verification_method_id(did))
