"""X.509 certificate chains of electronic seals and of verifiers' access certificates, validated against
configured trust anchors.

Implements the parts of RFC 5280 §6.1 (basic path validation) that authenticate
the seal of an imported credential (a Europass EDC sealed with JAdES, see
:mod:`credentials.jades`), for one moment ``at`` — the seal's signing time —
and without any I/O (no AIA fetching, no CRL / OCSP: revocation of the seal
certificate is not checked here):

* name chaining (issuer = subject of the next certificate) and each
  certificate's signature verified with the next one's key
  (``Certificate.verify_directly_issued_by``), up to a configured anchor;
* every certificate of the path, the anchor included, valid at ``at``;
* issuers are CA certificates (``basicConstraints`` cA true), with
  ``keyCertSign`` when they carry ``keyUsage``, and their ``pathLenConstraint``
  is honoured;
* the seal (end-entity) certificate is not a CA and its ``keyUsage`` allows
  ``digitalSignature`` or ``nonRepudiation`` / ``contentCommitment`` (ETSI EN
  319 412-3 §4.2 for seals);
* an extension marked critical that is not understood fails the path
  (RFC 5280 §4.2), so name or policy constraints are refused, never ignored;
* keys: RSA of at least :data:`credentials._rsa.MIN_RSA_BITS` bits, EC P-256 /
  P-384 / P-521, Ed25519; signatures over SHA-256 or stronger (no SHA-1).

:func:`validate_access_chain` applies the same path rules to the certificate an
OpenID4VP verifier signs its request object with (OpenID4VP 1.0 §5.9.3,
``x509_san_dns`` / ``x509_hash``), at the time of the request: an end entity
whose keyUsage allows digitalSignature; :func:`dns_names` reads its dNSName SANs.

``pyca/cryptography``'s ``x509.verification`` was not used: it applies the Web
PKI profile of CA/B Forum (for instance an authorityKeyIdentifier on every
end-entity certificate, server or client EKUs) that electronic-seal
certificates under eIDAS need not follow, and answers with one opaque error
where a verifier must say which certificate failed and why. The tests check
that its client verifier accepts the chains accepted here.

The sealing organisation is named by :func:`issuer_id_for` (``x509:org:…``
from the ETSI EN 319 412-1 §5.1.4 organisation identifier, else
``x509:spki:sha256:…``), which the TrustRegistry accredits like a DID.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from credentials._rsa import MAX_RSA_BITS, MIN_RSA_BITS
from credentials.errors import ConfigurationError, SignatureError

__all__ = [
    "ORGANIZATION_IDENTIFIER_OID",
    "X509_ISSUER_PREFIX",
    "MAX_CHAIN_LENGTH",
    "TrustAnchors",
    "CertificateSummary",
    "SealSubject",
    "validate_seal_chain",
    "validate_access_chain",
    "dns_names",
    "seal_subject",
    "issuer_id_for",
    "certificate_summary",
]

#: ``organizationIdentifier`` (X.520), carried by eIDAS seal certificates (ETSI EN 319 412-1 §5.1.4).
ORGANIZATION_IDENTIFIER_OID = x509.ObjectIdentifier("2.5.4.97")
#: Issuer identifiers of X.509-sealed organisations start with this.
X509_ISSUER_PREFIX = "x509:"
#: A path longer than this (seal, intermediates and anchor) is refused.
MAX_CHAIN_LENGTH = 6
#: At most this many issuer candidates are tried per path search (each costs a signature
#: check), so certificates crafted to sign each other in a ring cannot make the search explode.
MAX_ISSUER_CHECKS = 32
#: EN 319 412-1 §5.1.4: VAT / NTR / PSD / LEI, or a national ``XX:`` scheme, + country + "-" + the identifier.
_ORG_ID = re.compile(r"(?:VAT|NTR|PSD|LEI|[A-Z]{2}:)[A-Z]{2}-[A-Za-z0-9./+_-]{1,64}")
_STRONG_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)
_EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
#: Critical extensions whose meaning this module applies (or which restrict nothing it relies on).
_UNDERSTOOD_CRITICAL = frozenset({
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.CERTIFICATE_POLICIES,  # no policy is required, so any policy set is acceptable (RFC 5280 §6.1)
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
})


def _name(certificate: x509.Certificate) -> str:
    """The certificate's subject for a message: its commonName, else the whole DN, short."""
    common = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = str(common[0].value) if common else certificate.subject.rfc4514_string()
    return repr(text[:80])


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TrustAnchors:
    """The configured anchors (a PEM bundle, e.g. the CA certificates of the EU trusted lists' QTSPs)."""

    certificates: tuple[x509.Certificate, ...]

    @classmethod
    def from_pem(cls, pem: bytes | str) -> TrustAnchors:
        """Parse a PEM bundle; raise :class:`ConfigurationError` if it holds no usable certificate."""
        data = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise ConfigurationError(
                "the X.509 trust anchor bundle must hold PEM certificates (-----BEGIN CERTIFICATE-----)"
            ) from None
        return cls.of(certificates)

    @classmethod
    def of(cls, certificates: Iterable[x509.Certificate]) -> TrustAnchors:
        unique: dict[bytes, x509.Certificate] = {}
        for certificate in certificates:
            unique.setdefault(certificate.public_bytes(serialization.Encoding.DER), certificate)
        if not unique:
            raise ConfigurationError("the X.509 trust anchor bundle holds no certificate")
        return cls(certificates=tuple(unique.values()))

    def issuers_of(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        return [anchor for anchor in self.certificates if anchor.subject == certificate.issuer]

    def contains(self, certificate: x509.Certificate) -> bool:
        return any(anchor == certificate for anchor in self.certificates)


@dataclass(frozen=True)
class CertificateSummary:
    """One certificate of a validated path, for a verifier's answer (no key material)."""

    subject: str
    issuer: str
    serial_number: str
    not_before: int
    not_after: int
    sha256: str
    trust_anchor: bool


def certificate_summary(certificate: x509.Certificate, *, trust_anchor: bool = False) -> CertificateSummary:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return CertificateSummary(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_number=format(certificate.serial_number, "x"),
        not_before=_epoch(certificate.not_valid_before_utc),
        not_after=_epoch(certificate.not_valid_after_utc),
        sha256=hashlib.sha256(der).hexdigest(),
        trust_anchor=trust_anchor,
    )


@dataclass(frozen=True)
class SealSubject:
    """Who sealed: the identifier microcred uses for the organisation and what its certificate says."""

    issuer_id: str
    legal_name: str | None
    country: str | None
    organization_identifier: str | None
    common_name: str | None


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def issuer_id_for(certificate: x509.Certificate) -> str:
    """``x509:org:<organizationIdentifier>`` when the seal certificate carries a well-formed one
    (e.g. ``x509:org:VATIT-12345678901``), else ``x509:spki:sha256:<hex>`` of its SubjectPublicKeyInfo."""
    organization = _attribute(certificate.subject, ORGANIZATION_IDENTIFIER_OID)
    if organization is not None and _ORG_ID.fullmatch(organization):
        return f"{X509_ISSUER_PREFIX}org:{organization}"
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"{X509_ISSUER_PREFIX}spki:sha256:{hashlib.sha256(spki).hexdigest()}"


def seal_subject(certificate: x509.Certificate) -> SealSubject:
    subject = certificate.subject
    common_name = _attribute(subject, NameOID.COMMON_NAME)
    return SealSubject(
        issuer_id=issuer_id_for(certificate),
        legal_name=_attribute(subject, NameOID.ORGANIZATION_NAME) or common_name,
        country=_attribute(subject, NameOID.COUNTRY_NAME),
        organization_identifier=_attribute(subject, ORGANIZATION_IDENTIFIER_OID),
        common_name=common_name,
    )


def _check_key_and_hash(certificate: x509.Certificate, *, check_hash: bool) -> None:
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError(f"certificate {_name(certificate)} has a public key of an unsupported kind") from None
    if isinstance(key, rsa.RSAPublicKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise SignatureError(
                f"certificate {_name(certificate)} has a {key.key_size}-bit RSA key; "
                f"{MIN_RSA_BITS} to {MAX_RSA_BITS} bits are accepted"
            )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, _EC_CURVES):
            raise SignatureError(
                f"certificate {_name(certificate)} uses curve {key.curve.name}; expected P-256, P-384 or P-521")
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise SignatureError(
            f"certificate {_name(certificate)} has a {type(key).__name__}; expected RSA, EC or Ed25519")
    if check_hash:
        try:
            digest = certificate.signature_hash_algorithm
        except UnsupportedAlgorithm:
            raise SignatureError(f"certificate {_name(certificate)} is signed with an unsupported algorithm") from None
        if digest is not None and not isinstance(digest, _STRONG_HASHES):
            raise SignatureError(
                f"certificate {_name(certificate)} is signed with {digest.name.upper()}; "
                "SHA-256 or stronger is required"
            )


def _check_valid_at(certificate: x509.Certificate, at: int, moment: str = "the signing time") -> None:
    not_before = _epoch(certificate.not_valid_before_utc)
    not_after = _epoch(certificate.not_valid_after_utc)
    if at < not_before:
        raise SignatureError(
            f"certificate {_name(certificate)} was not yet valid at {moment} {_iso(at)} "
            f"(valid from {_iso(not_before)})"
        )
    if at > not_after:
        raise SignatureError(
            f"certificate {_name(certificate)} had expired at {moment} {_iso(at)} "
            f"(valid until {_iso(not_after)})"
        )


def _check_critical_extensions(certificate: x509.Certificate) -> None:
    try:
        extensions = certificate.extensions
    except ValueError:
        raise SignatureError(f"certificate {_name(certificate)} has malformed or duplicate extensions") from None
    for extension in extensions:
        if extension.critical and extension.oid not in _UNDERSTOOD_CRITICAL:
            raise SignatureError(
                f"certificate {_name(certificate)} marks extension {extension.oid.dotted_string} critical, "
                "which this verifier does not process"
            )


def _extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_end_entity(leaf: x509.Certificate, at: int, *, role: str, moment: str, seal: bool) -> None:
    """The leaf: an end entity whose keyUsage lets it sign (a seal may say nonRepudiation instead)."""
    _check_critical_extensions(leaf)
    _check_key_and_hash(leaf, check_hash=True)
    _check_valid_at(leaf, at, moment)
    constraints = _extension(leaf, x509.BasicConstraints)
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        raise SignatureError(
            f"the {role} certificate {_name(leaf)} is a CA certificate; expected an end-entity {role} certificate")
    usages = "digitalSignature or nonRepudiation" if seal else "digitalSignature"
    usage = _extension(leaf, x509.KeyUsage)
    if not isinstance(usage, x509.KeyUsage):
        raise SignatureError(f"the {role} certificate {_name(leaf)} has no keyUsage; expected {usages}")
    if not (usage.digital_signature or (seal and usage.content_commitment)):
        allowed = "neither digitalSignature nor nonRepudiation (contentCommitment)" if seal else "no digitalSignature"
        raise SignatureError(f"the {role} certificate {_name(leaf)} may not sign: its keyUsage allows {allowed}")


def _check_issuer(issuer: x509.Certificate, subject: x509.Certificate, at: int, intermediates_below: int,
                  *, anchor: bool, moment: str) -> None:
    """``issuer`` signed ``subject``: check it may, at ``at``, with ``intermediates_below`` CAs under it."""
    try:
        subject.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        # ValueError / TypeError: the issuer's key is of another kind than the signature (names were compared before).
        raise SignatureError(
            f"the signature on certificate {_name(subject)} does not verify with the key of {_name(issuer)}"
        ) from None
    _check_critical_extensions(issuer)
    _check_key_and_hash(issuer, check_hash=not anchor)
    constraints = _extension(issuer, x509.BasicConstraints)
    if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
        raise SignatureError(
            f"certificate {_name(issuer)} issued {_name(subject)} but is not a CA certificate "
            "(basicConstraints cA is not true)"
        )
    if constraints.path_length is not None and intermediates_below > constraints.path_length:
        raise SignatureError(
            f"CA certificate {_name(issuer)} allows {constraints.path_length} intermediate CA(s) below it, "
            f"found {intermediates_below}"
        )
    usage = _extension(issuer, x509.KeyUsage)
    if isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
        raise SignatureError(f"CA certificate {_name(issuer)} may not sign certificates (keyUsage without keyCertSign)")
    _check_valid_at(issuer, at, moment)


class _PathSearch:
    """Depth-first search from the seal certificate to an anchor, remembering the deepest failure."""

    def __init__(self, pool: Sequence[x509.Certificate], anchors: TrustAnchors, at: int, *, moment: str):
        self.pool, self.anchors, self.at, self.moment = pool, anchors, at, moment
        self.failure: tuple[int, str] | None = None
        self.checks_left = MAX_ISSUER_CHECKS

    def _note(self, depth: int, reason: str) -> None:
        if self.failure is None or depth > self.failure[0]:
            self.failure = (depth, reason)

    def _issued(self, issuer: x509.Certificate, subject: x509.Certificate, depth: int, *, anchor: bool) -> bool:
        """True when ``issuer`` validly issued ``subject`` (the path below holds ``depth`` certificates)."""
        if self.checks_left <= 0:
            raise SignatureError(
                f"the certificate chain offers more than {MAX_ISSUER_CHECKS} candidate issuers; refused")
        self.checks_left -= 1
        try:
            _check_issuer(issuer, subject, self.at, depth - 1, anchor=anchor, moment=self.moment)
        except SignatureError as exc:
            self._note(depth, exc.reason)
            return False
        return True

    def extend(self, path: list[x509.Certificate]) -> list[x509.Certificate] | None:
        current, depth = path[-1], len(path)
        for anchor in self.anchors.issuers_of(current):
            if self._issued(anchor, current, depth, anchor=True):
                return path + [anchor]
        if depth + 1 >= MAX_CHAIN_LENGTH:
            self._note(depth, f"no trust anchor within {MAX_CHAIN_LENGTH} certificates of the leaf certificate")
            return None
        for candidate in self.pool:
            if candidate.subject != current.issuer or any(candidate == seen for seen in path):
                continue
            if self._issued(candidate, current, depth, anchor=False):
                found = self.extend(path + [candidate])
                if found is not None:
                    return found
        self._note(depth - 1, "the certificate chain does not end at a configured trust anchor: no trusted issuer "
                              f"{current.issuer.rfc4514_string()[:120]!r} was found for certificate {_name(current)}")
        return None


def _validate(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], anchors: TrustAnchors, at: int,
              *, moment: str) -> tuple[CertificateSummary, ...]:
    if anchors.contains(leaf):  # an end-entity certificate configured directly as an anchor
        return (certificate_summary(leaf, trust_anchor=True),)
    search = _PathSearch(untrusted, anchors, at, moment=moment)
    path = search.extend([leaf])
    if path is None:
        reason = (search.failure[1] if search.failure
                  else "the certificate chain does not end at a configured trust anchor")
        raise SignatureError(reason)
    return tuple(certificate_summary(c, trust_anchor=i == len(path) - 1) for i, c in enumerate(path))


def validate_seal_chain(
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    anchors: TrustAnchors,
    *,
    at: int,
) -> tuple[CertificateSummary, ...]:
    """Validate the seal certificate ``leaf`` at ``at`` (epoch seconds) through ``untrusted``
    intermediates to one of ``anchors``; return the path, seal first, anchor last.

    Raises :class:`SignatureError` naming the certificate that failed and why.
    """
    _check_end_entity(leaf, at, role="seal", moment="the signing time", seal=True)
    return _validate(leaf, untrusted, anchors, at, moment="the signing time")


def validate_access_chain(
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    anchors: TrustAnchors,
    *,
    at: int,
) -> tuple[CertificateSummary, ...]:
    """Validate a verifier's access certificate ``leaf`` (OpenID4VP 1.0 §5.9.3 ``x509_san_dns`` /
    ``x509_hash``: the key its request objects are signed with) at ``at``, now, through ``untrusted``
    intermediates to one of ``anchors``: an end entity (not a CA) whose keyUsage allows digitalSignature,
    then the same RFC 5280 path rules as seals. Returns the path, leaf first, anchor last."""
    _check_end_entity(leaf, at, role="access", moment="the time of the request", seal=False)
    return _validate(leaf, untrusted, anchors, at, moment="the time of the request")


def dns_names(certificate: x509.Certificate) -> tuple[str, ...]:
    """The dNSName entries of the certificate's subjectAltName, in order (none without that extension)."""
    names = _extension(certificate, x509.SubjectAlternativeName)
    if not isinstance(names, x509.SubjectAlternativeName):
        return ()
    return tuple(names.get_values_for_type(x509.DNSName))
