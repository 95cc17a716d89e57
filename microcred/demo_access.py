"""The demo's verifier access PKI: a CA that certifies verifiers, and the demo employer's certificate.

OpenID4VP 1.0 §5.9.3 (``x509_hash``) and HAIP 1.0 §5: a verifier signs its
Request Objects with the key of an access certificate whose chain the wallet
validates to an anchor it trusts (``MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS``),
and the wallet shows the organisation the certificate names. ``microcred
demo`` makes, once, under ``<data dir>/demo-pki/access/``:

``access-ca.pem`` / ``access-ca-key.pem``
    "microcred demo access CA" (self-signed, a CA for end entities only);
    what the demo wallet trusts.
``verifier-chain.pem`` / ``verifier-key.pem``
    the demo verifier's access certificate: O "Demo Employer GmbH", C DE,
    subjectAltName the demo host (dNSName, and iPAddress when the host is an
    address), keyUsage digitalSignature only, not a CA, not self-signed;
    re-made (the CA kept) when the demo runs on another host.

Keys are written mode 0600 through :mod:`infra.secret_files` (the verifier
reads its key only so). The PKI is a demo: it lives in the data directory,
which only the demo uses.
"""

from __future__ import annotations

import ipaddress
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from credentials.x509_trust import dns_names
from infra.secret_files import create_secret_file, read_secret_file

__all__ = ["ACCESS_DIR", "ACCESS_CA_NAME", "VERIFIER_ORGANIZATION", "AccessPki", "ensure_access_pki"]

ACCESS_DIR = Path("demo-pki") / "access"
ACCESS_CA_NAME = "microcred demo access CA"
#: organisation and country of the demo verifier's access certificate.
VERIFIER_ORGANIZATION = ("Demo Employer GmbH", "DE")
_CA, _CA_KEY, _CHAIN, _KEY = "access-ca.pem", "access-ca-key.pem", "verifier-chain.pem", "verifier-key.pem"


@dataclass(frozen=True)
class AccessPki:
    directory: Path
    host: str

    @property
    def anchors_path(self) -> Path:
        """The demo access CA: ``MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS`` of the demo wallet."""
        return self.directory / _CA

    @property
    def chain_path(self) -> Path:
        """``MICROCRED_VERIFIER_X509_CHAIN`` of the demo verifier (its certificate; the CA is the anchor)."""
        return self.directory / _CHAIN

    @property
    def key_path(self) -> Path:
        """``MICROCRED_VERIFIER_X509_KEY`` of the demo verifier."""
        return self.directory / _KEY

    def verifier_env(self) -> dict[str, str]:
        return {"MICROCRED_VERIFIER_CLIENT_ID_PREFIX": "x509_hash",
                "MICROCRED_VERIFIER_X509_CHAIN": str(self.chain_path),
                "MICROCRED_VERIFIER_X509_KEY": str(self.key_path)}

    def wallet_env(self) -> dict[str, str]:
        return {"MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS": str(self.anchors_path)}


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str, organization: str, country: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _make_ca(directory: Path, start: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(ACCESS_CA_NAME, "microcred demo trust services", "EU")
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + timedelta(days=365 * 20))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(_usage(ca=True), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    create_secret_file(directory / _CA_KEY, _pem_key(key))
    (directory / _CA).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _subject_alt_names(host: str) -> list[x509.GeneralName]:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return [x509.DNSName(host)]  # a host name: the dNSName alone
    return [x509.DNSName(host), x509.IPAddress(address)]


def _make_verifier(directory: Path, host: str, start: datetime) -> None:
    ca = x509.load_pem_x509_certificate((directory / _CA).read_bytes())
    ca_key = serialization.load_pem_private_key(read_secret_file(directory / _CA_KEY), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"the demo access CA key in {directory} is not an EC key; remove the directory to remake it")
    key = ec.generate_private_key(ec.SECP256R1())
    organization, country = VERIFIER_ORGANIZATION
    certificate = (x509.CertificateBuilder().subject_name(_name(f"{organization} verifier", organization, country))
                   .issuer_name(ca.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + timedelta(days=365 * 2))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(_usage(ca=False), critical=True)
                   .add_extension(x509.SubjectAlternativeName(_subject_alt_names(host)), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))
    # A new leaf replaces the old pair whole: the key first (a secret file is never overwritten in place).
    for name in (_KEY, _CHAIN):
        (directory / name).unlink(missing_ok=True)
    create_secret_file(directory / _KEY, _pem_key(key))
    (directory / _CHAIN).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _leaf_host(directory: Path) -> str | None:
    try:
        names = dns_names(x509.load_pem_x509_certificate((directory / _CHAIN).read_bytes()))
    except (OSError, ValueError):
        return None
    return names[0] if names and (directory / _KEY).exists() else None


def ensure_access_pki(data_dir: Path, host: str, *, now: int) -> tuple[AccessPki, bool]:
    """The demo access PKI of ``data_dir`` for ``host``, made (or its leaf re-made) when missing or for another
    host; the flag says whether anything was made."""
    directory = data_dir / ACCESS_DIR
    start = datetime.fromtimestamp(now, UTC) - timedelta(days=1)
    made = False
    if not (directory / _CA).exists() or not (directory / _CA_KEY).exists():
        shutil.rmtree(directory, ignore_errors=True)  # half a PKI is none: start again
        directory.mkdir(parents=True)
        _make_ca(directory, start)
        made = True
    if made or _leaf_host(directory) != host:
        _make_verifier(directory, host, start)
        made = True
    return AccessPki(directory, host), made
