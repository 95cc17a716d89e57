"""Access certificates of verifiers (credentials.x509_trust.validate_access_chain): the certificate an
OpenID4VP verifier signs its request object with (OpenID4VP 1.0 §5.9.3 ``x509_san_dns`` / ``x509_hash``,
HAIP 1.0) must chain to an anchor, sign (digitalSignature), and not be a CA."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509

from credentials.errors import SignatureError
from credentials.x509_trust import TrustAnchors, dns_names, validate_access_chain
from tests.x509_pki import INTERMEDIATE, ROOT, SEAL_USAGE, SIGNED_AT, make_pki, name, spec

ACCESS_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                             encipher_only=False, decipher_only=False)
NON_REPUDIATION_ONLY = x509.KeyUsage(digital_signature=False, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False)
ACCESS = spec(INTERMEDIATE, subject=name("verifier.example", organization="Demo Employer GmbH", country="DE"),
              ca=False, path_length=None, key_usage=ACCESS_USAGE,
              extra=((x509.SubjectAlternativeName([x509.DNSName("verifier.example"),
                                                   x509.DNSName("www.verifier.example")]), False),))


def validate(pki, *, at=SIGNED_AT, anchors=None):
    return validate_access_chain(pki.seal, [pki.intermediate], TrustAnchors.from_pem(anchors or pki.anchors_pem),
                                 at=at)


def failure(pki, **kwargs) -> str:
    with pytest.raises(SignatureError) as caught:
        validate(pki, **kwargs)
    return caught.value.reason


def test_an_access_certificate_chains_to_its_anchor():
    pki = make_pki("ec", seal=ACCESS)
    path = validate(pki)
    assert [link.trust_anchor for link in path] == [False, False, True]
    assert dns_names(pki.seal) == ("verifier.example", "www.verifier.example")


def test_a_certificate_without_a_san_has_no_dns_names():
    assert dns_names(make_pki("ec").seal) == ()


def test_an_access_certificate_must_allow_digital_signature():
    reason = failure(make_pki("ec", seal=spec(ACCESS, key_usage=NON_REPUDIATION_ONLY)))
    assert "access certificate" in reason
    assert "digitalSignature" in reason


def test_an_access_certificate_must_have_key_usage():
    assert "has no keyUsage" in failure(make_pki("ec", seal=spec(ACCESS, key_usage=None)))


def test_a_ca_certificate_is_not_an_access_certificate():
    assert "is a CA certificate" in failure(make_pki("ec", seal=spec(ACCESS, ca=True, key_usage=SEAL_USAGE)))


def test_an_expired_access_certificate_is_refused():
    expired = spec(ACCESS, not_after=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    assert "had expired" in failure(make_pki("ec", seal=expired))


def test_an_access_certificate_under_another_root_is_refused():
    other = make_pki("rsa", root=spec(ROOT, subject=name("Another Root CA")))
    assert "does not end at a configured trust anchor" in failure(make_pki("ec", seal=ACCESS),
                                                                   anchors=other.anchors_pem)
