"""Seal certificate chains (credentials.x509_trust): RFC 5280 path validation at the signing time, seal key usage,
and the issuer identifier of X.509-sealed organisations. Negative cases name the certificate and the reason."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import verification

from credentials.errors import ConfigurationError, SignatureError
from credentials.x509_trust import (
    MAX_ISSUER_CHECKS,
    TrustAnchors,
    issuer_id_for,
    seal_subject,
    validate_seal_chain,
)
from tests.x509_pki import (
    CA_USAGE,
    ENCIPHER_ONLY_USAGE,
    INTERMEDIATE,
    NOT_AFTER,
    NOT_BEFORE,
    ORG_ID,
    ROOT,
    SEAL,
    SIGNED_AT,
    certificate,
    key,
    make_pki,
    name,
    pem,
    spec,
)

DAY = datetime.timedelta(days=1)


def validate(pki, *, at=SIGNED_AT, anchors=None, untrusted=None):
    return validate_seal_chain(
        pki.seal,
        [pki.intermediate] if untrusted is None else untrusted,
        TrustAnchors.from_pem(anchors or pki.anchors_pem),
        at=at,
    )


def failure(pki, **kwargs) -> str:
    with pytest.raises(SignatureError) as caught:
        validate(pki, **kwargs)
    assert caught.value.check == "signature"
    return caught.value.reason


@pytest.mark.parametrize("kind", ["ec", "rsa", "p384"])
def test_a_good_chain_validates_and_is_summarised_seal_first(kind):
    pki = make_pki(kind)
    path = validate(pki)
    assert [link.subject for link in path] == [c.subject.rfc4514_string()
                                               for c in (pki.seal, pki.intermediate, pki.root)]
    assert [link.trust_anchor for link in path] == [False, False, True]
    assert path[0].not_before == int(NOT_BEFORE.timestamp())
    assert path[0].not_after == int(NOT_AFTER.timestamp())
    assert len(path[0].sha256) == 64


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_pyca_cryptography_verifier_accepts_the_same_chains(kind):
    """An independent path validator (cryptography's, Web PKI profile made permissive for a seal leaf) agrees."""
    pki = make_pki(kind, seal=spec(SEAL, extra=((x509.AuthorityKeyIdentifier.from_issuer_public_key(
        key(kind, 1).public_key()), False),)))
    validate(pki)
    ee_policy = (
        verification.ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.ExtendedKeyUsage, verification.Criticality.AGNOSTIC, None)
        .may_be_present(x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None)
    )
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store([pki.root]))
        .time(datetime.datetime.fromtimestamp(SIGNED_AT, tz=datetime.UTC))
        .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
        .build_client_verifier()
    )
    assert verifier.verify(pki.seal, [pki.intermediate]).chain[-1] == pki.root


def test_the_intermediate_may_come_in_any_order_among_unrelated_certificates():
    pki, other = make_pki("ec"), make_pki("rsa")
    path = validate(pki, untrusted=[other.intermediate, other.root, pki.intermediate])
    assert len(path) == 3


OTHER_ROOT = spec(ROOT, subject=name("Another Root CA", organization="Elsewhere"))


def test_a_chain_to_another_anchor_fails_signature():
    pki, other = make_pki("ec"), make_pki("rsa", root=OTHER_ROOT)
    reason = failure(pki, anchors=other.anchors_pem)
    assert "does not end at a configured trust anchor" in reason
    assert "microcred Test Seal CA" in reason


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_an_anchor_of_the_same_name_but_another_key_fails_signature(kind):
    pki, impostor = make_pki("ec"), make_pki(kind, root=ROOT)
    impostor_root = certificate(ROOT, key(kind, 7).public_key(), ROOT.subject, key(kind, 7))
    reason = failure(pki, anchors=pem(impostor_root))
    assert "does not verify with the key of 'microcred Test Root CA'" in reason
    assert impostor.root.subject == pki.root.subject


def test_a_chain_carrying_its_own_root_still_needs_that_root_as_anchor():
    pki, other = make_pki("ec"), make_pki("rsa", root=OTHER_ROOT)
    reason = failure(pki, anchors=other.anchors_pem, untrusted=[pki.intermediate, pki.root])
    assert "does not end at a configured trust anchor" in reason
    assert "Test Root CA" in reason


def test_seal_certificate_expired_at_signing_time():
    pki = make_pki("ec", seal=spec(SEAL, not_after=datetime.datetime(2026, 5, 31, tzinfo=datetime.UTC)))
    reason = failure(pki)
    assert "had expired at the signing time 2026-06-01T09:30:00Z" in reason
    assert "e-seal" in reason


def test_seal_certificate_not_yet_valid_at_signing_time():
    pki = make_pki("ec", seal=spec(SEAL, not_before=datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)))
    assert "was not yet valid at the signing time" in failure(pki)


def test_intermediate_expired_at_signing_time():
    pki = make_pki("ec", intermediate=spec(INTERMEDIATE, not_after=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)))
    reason = failure(pki)
    assert "Test Seal CA" in reason
    assert "had expired" in reason


def test_anchor_expired_at_signing_time():
    pki = make_pki("ec", root=spec(ROOT, not_after=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)))
    reason = failure(pki)
    assert "Test Root CA" in reason
    assert "had expired" in reason


def test_validity_is_judged_at_the_signing_time_not_later():
    pki = make_pki("ec", seal=spec(SEAL, not_after=datetime.datetime(2026, 6, 2, tzinfo=datetime.UTC)))
    validate(pki, at=SIGNED_AT)
    assert "had expired" in failure(pki, at=SIGNED_AT + 2 * 86_400)


def test_intermediate_with_ca_false_cannot_issue():
    pki = make_pki("ec", intermediate=spec(INTERMEDIATE, ca=False, path_length=None, key_usage=CA_USAGE))
    assert "is not a CA certificate" in failure(pki)


def test_intermediate_without_basic_constraints_cannot_issue():
    pki = make_pki("ec", intermediate=spec(INTERMEDIATE, ca=None))
    assert "is not a CA certificate" in failure(pki)


def test_intermediate_without_key_cert_sign_cannot_issue():
    pki = make_pki("ec", intermediate=spec(INTERMEDIATE, key_usage=ENCIPHER_ONLY_USAGE))
    assert "keyCertSign" in failure(pki)


def test_path_length_constraint_is_honoured():
    root = spec(ROOT, path_length=0)
    pki = make_pki("ec", root=root)
    assert "allows 0 intermediate CA(s)" in failure(pki)


def test_seal_key_usage_must_allow_signing():
    pki = make_pki("ec", seal=spec(SEAL, key_usage=ENCIPHER_ONLY_USAGE))
    assert "neither digitalSignature nor nonRepudiation" in failure(pki)


def test_seal_certificate_must_have_key_usage():
    assert "has no keyUsage" in failure(make_pki("ec", seal=spec(SEAL, key_usage=None)))


@pytest.mark.parametrize("usage", ["digital_signature", "content_commitment"])
def test_either_signing_usage_is_enough(usage):
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    flags[usage] = True
    validate(make_pki("ec", seal=spec(SEAL, key_usage=x509.KeyUsage(**flags))))


def test_a_ca_certificate_is_not_a_seal():
    pki = make_pki("ec", seal=spec(SEAL, ca=True))
    assert "is a CA certificate" in failure(pki)


def test_a_broken_signature_on_the_seal_certificate_fails():
    """Same names, but the intermediate that 'issued' it is signed by a stranger's key."""
    pki = make_pki("ec", intermediate_signer=key("ec", 9))
    reason = failure(pki)
    assert "does not verify with the key of" in reason
    assert "Test Root CA" in reason


def test_a_seal_certificate_signed_by_another_key_of_the_same_name_fails():
    pki = make_pki("ec")
    forged = certificate(SEAL, key("ec", 2).public_key(), INTERMEDIATE.subject, key("ec", 8))
    with pytest.raises(SignatureError, match="does not verify"):
        validate_seal_chain(forged, [pki.intermediate], TrustAnchors.from_pem(pki.anchors_pem), at=SIGNED_AT)


def test_rsa_1024_seal_key_is_refused():
    pki = make_pki("rsa", seal_kind="rsa1024")
    assert "1024-bit RSA key" in failure(pki)


def test_rsa_1024_intermediate_key_is_refused():
    pki = make_pki("rsa", intermediate_kind="rsa1024")
    reason = failure(pki)
    assert "1024-bit RSA key" in reason
    assert "Test Seal CA" in reason


def test_a_certificate_signature_over_a_weak_hash_is_refused():
    """cryptography no longer signs with SHA-1; SHA-224 stands for any hash weaker than SHA-256."""
    pki = make_pki("rsa", seal=spec(SEAL, digest=hashes.SHA224()))
    assert "signed with SHA224; SHA-256 or stronger is required" in failure(pki)


def test_unknown_critical_extension_is_refused():
    constraints = x509.NameConstraints(permitted_subtrees=[x509.DNSName("example.org")], excluded_subtrees=None)
    pki = make_pki("ec", intermediate=spec(INTERMEDIATE, extra=((constraints, True),)))
    assert "2.5.29.30" in failure(pki)


def test_a_ring_of_certificates_signing_each_other_is_cut_short():
    """Many CA certificates with one name and one key all 'issue' each other: the search stays bounded."""
    pki = make_pki("ec")
    ring_spec = spec(INTERMEDIATE, path_length=None)
    ring = [certificate(ring_spec, key("ec", 1).public_key(), INTERMEDIATE.subject, key("ec", 1)) for _ in range(12)]
    with pytest.raises(SignatureError) as caught:
        validate_seal_chain(pki.seal, ring, TrustAnchors.from_pem(make_pki("rsa", root=OTHER_ROOT).anchors_pem),
                            at=SIGNED_AT)
    assert f"more than {MAX_ISSUER_CHECKS} candidate issuers" in caught.value.reason


def test_a_seal_certificate_configured_as_anchor_is_trusted_directly():
    pki = make_pki("ec")
    path = validate_seal_chain(pki.seal, [], TrustAnchors.from_pem(pem(pki.seal)), at=SIGNED_AT)
    assert len(path) == 1
    assert path[0].trust_anchor


def test_issuer_id_from_organization_identifier():
    pki = make_pki("ec")
    subject = seal_subject(pki.seal)
    assert subject.issuer_id == f"x509:org:{ORG_ID}"
    assert (subject.legal_name, subject.country, subject.organization_identifier) == (
        "Università di Prova", "IT", ORG_ID)


@pytest.mark.parametrize("org_id", [None, "12345678901", "VATIT 123", "VATit-1", "VATIT-" + "1" * 80])
def test_issuer_id_falls_back_to_the_public_key_hash(org_id):
    pki = make_pki("ec", seal=spec(SEAL, subject=name("Seal", organization="Org", org_id=org_id)))
    identifier = issuer_id_for(pki.seal)
    assert identifier.startswith("x509:spki:sha256:")
    assert len(identifier) == len("x509:spki:sha256:") + 64
    assert identifier == issuer_id_for(make_pki("ec", seal=spec(SEAL, subject=name("Other")) ).seal)


@pytest.mark.parametrize(
    "org_id", ["NTREE-17207834", "LEIXG-529900T8BM49AURSDO55", "PSDBE-NBB-0403.227.515", "IT:CF-80012345678"])
def test_issuer_id_accepts_the_en_319_412_1_forms(org_id):
    pki = make_pki("ec", seal=spec(SEAL, subject=name("Seal", org_id=org_id)))
    assert issuer_id_for(pki.seal) == f"x509:org:{org_id}"


@pytest.mark.parametrize(
    "bundle", [b"", b"not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_a_bundle_without_certificates_is_a_configuration_error(bundle):
    with pytest.raises(ConfigurationError):
        TrustAnchors.from_pem(bundle)


def test_a_bundle_with_duplicates_keeps_one_of_each():
    pki = make_pki("ec")
    assert len(TrustAnchors.from_pem(pem(pki.root, pki.root)).certificates) == 1


MALFORMED_KEY_USAGE = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.15"), b"\x01\x02not a bit string")


def test_a_seal_certificate_with_a_malformed_extension_fails_signature():
    pki = make_pki("ec", seal=spec(SEAL, key_usage=None, extra=((MALFORMED_KEY_USAGE, True),)))
    assert "malformed or duplicate extensions" in failure(pki)


def test_an_intermediate_with_a_malformed_extension_fails_signature():
    pki = make_pki("ec", intermediate=spec(INTERMEDIATE, key_usage=None, extra=((MALFORMED_KEY_USAGE, False),)))
    reason = failure(pki)
    assert "malformed or duplicate extensions" in reason
    assert "Test Seal CA" in reason
