"""A test PKI for electronic seals: root CA → intermediate CA → seal certificate, built with pyca/cryptography.

The seal certificate carries an ``organizationIdentifier`` (OID 2.5.4.97,
ETSI EN 319 412-1 §5.1.4) as eIDAS seal certificates do. Keys are generated
once per kind and reused (RSA key generation is slow); every certificate can be
rebuilt with one property changed to make the negative cases.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = ["ORG_ID", "NOT_BEFORE", "NOT_AFTER", "SIGNED_AT", "NOW", "SEAL_USAGE", "CA_USAGE", "ENCIPHER_ONLY_USAGE",
           "CertSpec", "ROOT", "INTERMEDIATE", "SEAL", "Pki", "make_pki", "key", "certificate", "name", "pem", "spec"]

ORG_ID = "VATIT-12345678901"
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2030, 1, 1, tzinfo=UTC)
#: The signing time the tests seal at, and the verifier's "now" a day later (epoch seconds).
SIGNED_AT = int(datetime(2026, 6, 1, 9, 30, tzinfo=UTC).timestamp())
NOW = SIGNED_AT + 86_400

SEAL_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                           data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                           encipher_only=False, decipher_only=False)
CA_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)
ENCIPHER_ONLY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                    crl_sign=False, encipher_only=False, decipher_only=False)

PrivateKey = Any  # rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@functools.cache
def key(kind: str = "ec", slot: int = 0) -> PrivateKey:
    """A private key of ``kind`` ("ec" P-256, "p384", "rsa" 2048, "rsa3072", "rsa1024"), one per slot."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    bits = {"rsa": 2048, "rsa3072": 3072, "rsa1024": 1024}[kind]
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(common_name: str, *, organization: str | None = None, org_id: str | None = None,
         country: str = "IT") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if org_id:
        attributes.append(x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), org_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


@dataclass(frozen=True)
class CertSpec:
    """What one certificate says; ``ca`` None leaves basicConstraints out, ``key_usage`` None leaves keyUsage out."""

    subject: x509.Name
    ca: bool | None = False
    path_length: int | None = None
    key_usage: x509.KeyUsage | None = SEAL_USAGE
    not_before: datetime = NOT_BEFORE
    not_after: datetime = NOT_AFTER
    digest: Any = field(default_factory=hashes.SHA256)
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = ()


def certificate(spec: CertSpec, public_key: Any, issuer: x509.Name, issuer_key: PrivateKey) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(spec.not_before)
        .not_valid_after(spec.not_after)
    )
    if spec.ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=spec.ca, path_length=spec.path_length), critical=True)
    if spec.key_usage is not None:
        builder = builder.add_extension(spec.key_usage, critical=True)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    for extension, critical in spec.extra:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, spec.digest)


ROOT = CertSpec(subject=name("microcred Test Root CA", organization="Test Trust Services"), ca=True, key_usage=CA_USAGE)
INTERMEDIATE = CertSpec(subject=name("microcred Test Seal CA", organization="Test Trust Services"), ca=True,
                        path_length=0, key_usage=CA_USAGE)
SEAL = CertSpec(subject=name("Università di Prova e-seal", organization="Università di Prova", org_id=ORG_ID))


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    seal: x509.Certificate
    seal_key: PrivateKey

    @property
    def chain(self) -> list[x509.Certificate]:
        """What a seal's ``x5c`` carries: seal certificate, then the intermediate (not the root)."""
        return [self.seal, self.intermediate]

    @property
    def anchors_pem(self) -> bytes:
        return pem(self.root)


def make_pki(kind: str = "ec", *, root: CertSpec = ROOT, intermediate: CertSpec = INTERMEDIATE,
             seal: CertSpec = SEAL, seal_kind: str | None = None, intermediate_kind: str | None = None,
             intermediate_signer: PrivateKey | None = None) -> Pki:
    """Root (self-signed) → intermediate → seal; each part may be replaced by another :class:`CertSpec`."""
    root_key = key(kind, 0)
    intermediate_key = key(intermediate_kind or kind, 1)
    seal_key = key(seal_kind or kind, 2)
    root_cert = certificate(root, root_key.public_key(), root.subject, root_key)
    intermediate_cert = certificate(intermediate, intermediate_key.public_key(), root.subject,
                                    intermediate_signer or root_key)
    seal_cert = certificate(seal, seal_key.public_key(), intermediate.subject, intermediate_key)
    return Pki(root=root_cert, intermediate=intermediate_cert, seal=seal_cert, seal_key=seal_key)


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def spec(base: CertSpec, **changes: Any) -> CertSpec:
    return replace(base, **changes)
