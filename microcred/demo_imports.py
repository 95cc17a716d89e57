"""Credentials from elsewhere for the demo: a sealed Europass EDC and an Open Badge 3.0 the learner imports.

``microcred demo`` makes, once, under the data directory:

* ``demo-pki/``: a small electronic-seal PKI, "Demo Qualified Seal CA" (root,
  self-signed) → the seal certificate of a third, foreign institution,
  "Universidade de Exemplo do Porto" (``organizationIdentifier``
  ``VATPT-500000000``, ETSI EN 319 412-1 §5.1.4; keyUsage digitalSignature +
  nonRepudiation as ETSI EN 319 412-3 §4.2 asks of seals). ``root-ca.pem`` is
  what the demo's wallet and verifier trust (``MICROCRED_X509_TRUST_ANCHORS``).
  Beside it the Ed25519 key of a demo Open Badges issuer, named by its did:key.
* ``demo-imports/``: the two files the walk-through imports in the wallet, bound
  to the demo learner's holder key — the ELM 3 micro-credential of
  ``demo_data/`` (derived from the published Europass example in
  tests/vectors/europass-edc, see ``demo_data/SOURCE.md``) with ``cnf.jwk`` set,
  sealed with JAdES (:func:`credentials.jades.seal_jades`), and an
  ``OpenBadgeCredential`` (1EdTech OB 3.0 §8) whose subject is the holder's
  did:key, signed with a Data Integrity proof (``eddsa-rdfc-2022``).

Both are re-made only when missing or bound to another key. The PKI is a demo:
its keys sit unencrypted in the data directory, which only the demo uses.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from credentials.data_integrity import sign_data_integrity
from credentials.dids import did_key_from_public_key
from credentials.jades import seal_jades
from credentials.jose import PublicKey
from credentials.multikey import multibase_from_public_key
from credentials.x509_trust import ORGANIZATION_IDENTIFIER_OID, issuer_id_for

__all__ = ["PKI_DIR", "IMPORTS_DIR", "EDC_FILE", "BADGE_FILE", "SEAL_ORGANIZATION", "BADGE_ISSUER_NAME",
           "DemoPki", "ensure_pki", "ensure_imports"]

PKI_DIR = "demo-pki"
IMPORTS_DIR = "demo-imports"
EDC_FILE = "europass-edc-micro-credential.jsonld"
BADGE_FILE = "open-badge-teamwork.json"
#: legal name, country, organizationIdentifier of the sealing institution.
SEAL_ORGANIZATION = ("Universidade de Exemplo do Porto", "PT", "VATPT-500000000")
BADGE_ISSUER_NAME = ("Open Skills Academy (demo)", "NL")
_ROOT, _SEAL_CERT, _SEAL_KEY, _BADGE_KEY = "root-ca.pem", "seal-cert.pem", "seal-key.pem", "badge-issuer-key.pem"
_BADGE_ECTS = 2


@dataclass(frozen=True)
class DemoPki:
    directory: Path
    seal: x509.Certificate
    seal_key: ec.EllipticCurvePrivateKey
    badge_key: ed25519.Ed25519PrivateKey

    @property
    def anchors_path(self) -> Path:
        """The PEM bundle of the one trust anchor (the root CA)."""
        return self.directory / _ROOT

    @property
    def seal_issuer_id(self) -> str:
        """``x509:org:VATPT-500000000``: how the TrustRegistry names the sealing institution."""
        return issuer_id_for(self.seal)

    @property
    def badge_issuer(self) -> str:
        return f"did:key:{multibase_from_public_key(self.badge_key.public_key())}"


def _name(common_name: str, country: str, organization: str, org_id: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if org_id:
        attributes.append(x509.NameAttribute(ORGANIZATION_IDENTIFIER_OID, org_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _certificate(subject: x509.Name, public_key, issuer: x509.Name, issuer_key, *, ca: bool,
                 start: datetime, years: int) -> x509.Certificate:
    usage = x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                          encipher_only=False, decipher_only=False)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(issuer_key, hashes.SHA256()))


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _make_pki(directory: Path, now: int) -> None:
    """Root → seal certificate and the badge issuer's key, written to a new directory renamed into place."""
    start = datetime.fromtimestamp(now, UTC) - timedelta(days=1)
    root_key, seal_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Demo Qualified Seal CA", "EU", "microcred demo trust services")
    root = _certificate(root_name, root_key.public_key(), root_name, root_key, ca=True, start=start, years=20)
    legal_name, country, org_id = SEAL_ORGANIZATION
    seal = _certificate(_name(f"{legal_name} e-seal", country, legal_name, org_id), seal_key.public_key(),
                        root_name, root_key, ca=False, start=start, years=10)
    building = Path(tempfile.mkdtemp(prefix=f".{PKI_DIR}-", dir=directory.parent))
    (building / _ROOT).write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (building / _SEAL_CERT).write_bytes(seal.public_bytes(serialization.Encoding.PEM))
    (building / _SEAL_KEY).write_bytes(_key_pem(seal_key))
    (building / _BADGE_KEY).write_bytes(_key_pem(ed25519.Ed25519PrivateKey.generate()))
    try:
        os.replace(building, directory)
    except OSError:  # another demo made it first: keep theirs
        shutil.rmtree(building, ignore_errors=True)


def ensure_pki(data_dir: Path, *, now: int) -> tuple[DemoPki, bool]:
    """The demo PKI of ``data_dir``, made first if missing; the flag says whether it was made."""
    directory = data_dir / PKI_DIR
    made = not (directory / _BADGE_KEY).exists()
    if made:
        data_dir.mkdir(parents=True, exist_ok=True)
        _make_pki(directory, now)
    seal = x509.load_pem_x509_certificate((directory / _SEAL_CERT).read_bytes())
    seal_key = serialization.load_pem_private_key((directory / _SEAL_KEY).read_bytes(), password=None)
    badge_key = serialization.load_pem_private_key((directory / _BADGE_KEY).read_bytes(), password=None)
    if not isinstance(seal_key, ec.EllipticCurvePrivateKey) or not isinstance(badge_key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"the demo PKI in {directory} holds keys of another kind; remove the directory to remake it")
    return DemoPki(directory, seal, seal_key, badge_key), made


def _elm_document(holder_jwk: dict[str, Any]) -> dict[str, Any]:
    text = resources.files("microcred").joinpath("demo_data", "europass-edc-micro-credential.json").read_text("utf-8")
    document = json.loads(text)
    document["cnf"] = {"jwk": holder_jwk}
    return document


def _badge_document(issuer: str, subject: str, issued: str) -> dict[str, Any]:
    """An OpenBadgeCredential shaped as 1EdTech's basic example (OB 3.0 §B.1), with ECTS credits and EQF level."""
    name, country = BADGE_ISSUER_NAME
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:4f0d3a52-8b7e-4d5c-9e61-0de000000002",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": name,
                   "address": {"type": ["Address"], "addressCountryCode": country}},
        "validFrom": issued,
        "name": "Teamwork in International Projects",
        "credentialSubject": {
            "id": subject, "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:4f0d3a52-8b7e-4d5c-9e61-0de000000003", "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Teamwork in International Projects",
                "description": "Collaborating in a multilingual project team across borders.",
                "criteria": {"narrative": "Completed a six-week team project with peer and tutor assessment."},
                "creditsAvailable": _BADGE_ECTS,
                "alignment": [
                    {"type": ["Alignment"], "targetName": "ECTS", "targetUrl": "https://ects.example/",
                     "targetFramework": "ECTS"},
                    {"type": ["Alignment"], "targetName": "EQF level 5",
                     "targetUrl": "http://data.europa.eu/snb/eqf/5"},
                ],
            },
        },
    }


def _bound_to(path: Path, holder_jwk: dict[str, Any], holder_did: str) -> bool:
    """Whether the file at ``path`` exists and names this holder key (cnf.jwk of the seal, or subject DID)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if "payload" in document:  # the sealed EDC: its unencoded ELM payload
        try:
            return json.loads(document["payload"]).get("cnf", {}).get("jwk") == holder_jwk
        except (TypeError, ValueError, AttributeError):
            return False
    subject = document.get("credentialSubject")
    return isinstance(subject, dict) and subject.get("id") == holder_did


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def ensure_imports(data_dir: Path, pki: DemoPki, holder_jwk: dict[str, Any], *, now: int) -> tuple[Path, Path, bool]:
    """The sealed EDC and the Open Badge in ``data_dir/demo-imports``, bound to ``holder_jwk``: (edc, badge, made)."""
    directory = data_dir / IMPORTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    edc, badge = directory / EDC_FILE, directory / BADGE_FILE
    holder_did = did_key_from_public_key(PublicKey.from_jwk(holder_jwk))
    if _bound_to(edc, holder_jwk, holder_did) and _bound_to(badge, holder_jwk, holder_did):
        return edc, badge, False
    payload = json.dumps(_elm_document(holder_jwk), ensure_ascii=False).encode("utf-8")
    sealed = seal_jades(payload, pki.seal_key, [pki.seal], signing_time=now)
    _write(edc, json.dumps(json.loads(sealed), ensure_ascii=False, indent=1) + "\n")
    # issued now: after the accreditation of its issuer, which the verifier asks about at validFrom
    issued = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    issuer = pki.badge_issuer
    signed = sign_data_integrity(_badge_document(issuer, holder_did, issued), pki.badge_key,
                                 f"{issuer}#{issuer.split(':')[-1]}", issued)
    _write(badge, json.dumps(signed, ensure_ascii=False, indent=2) + "\n")
    return edc, badge, True
