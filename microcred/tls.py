"""HTTPS for the LAN demo: a self-signed certificate made on first run.

Phone browsers allow the camera only on HTTPS (or localhost), so
``make demo LAN=1`` serves on the machine's LAN address with a certificate
generated here with ``cryptography``: an ECDSA P-256 key (mode 0600) and a
certificate valid for the LAN address, 127.0.0.1 and localhost, kept under
``<data dir>/tls/`` and reused while it still covers the address.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["lan_address", "ensure_certificate", "certificate_fingerprint"]

_VALIDITY_DAYS = 365


def lan_address() -> str | None:
    """This machine's first non-loopback IPv4 address, from its own host name (no traffic sent)."""
    try:
        _, _, addresses = socket.gethostbyname_ex(socket.gethostname())
    except OSError:
        return None
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_loopback and not ip.is_link_local:
            return address
    return None


def _covers(cert: x509.Certificate, host: str) -> bool:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    addresses = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    still_valid = cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return host in addresses and still_valid


def ensure_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """``(certificate, key)`` PEM paths for ``host``, made if missing or not covering it."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "demo-cert.pem", directory / "demo-key.pem"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if _covers(cert, host):
            return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"microcred demo ({host})")])
    now = dt.datetime.now(dt.UTC)
    alternative_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if host != "127.0.0.1":
        alternative_names.append(x509.IPAddress(ipaddress.ip_address(host)))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def certificate_fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint, as a browser shows it, so a learner can check what to accept."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
