"""EBSI-style Verifiable Accreditations of TrustRegistry entries (credentials.ebsi_accreditation)."""

from __future__ import annotations

import pytest

from credentials.dids import did_key_from_public_key, resolve_public_key
from credentials.ebsi_accreditation import SigningKey, accreditation_credentials
from credentials.errors import InvalidKey
from credentials.jose import PrivateKey, UnverifiedJws
from credentials.lote import TrustedEntry

KEY = PrivateKey.generate("ES256")
ROOT_DID = did_key_from_public_key(KEY.public_key())


def _entries():
    root = TrustedEntry(ROOT_DID, "root", "Ministero", "IT", None, (), None, 0, None, None, None)
    tao = TrustedEntry("did:web:agency.example", "tao", "Agenzia", "IT", ROOT_DID, ("urn:t",), None, 10, None,
                       None, None)
    issuer = TrustedEntry("did:web:uni.example", "issuer", "Università", "IT", tao.did, ("urn:t",), 7, 20, 99,
                          None, None)
    suspended = TrustedEntry("did:web:paused.example", "issuer", "Paused", "IT", tao.did, ("urn:t",), None, 20,
                             None, 30, None)
    return [root, tao, issuer, suspended]


def _export(signer=None):
    return accreditation_credentials(_entries(), root_did=ROOT_DID, chain_id=31337, registry="0x" + "ab" * 20,
                                     block=7, issued_at=50, signer=signer)


def test_unsigned_by_default_and_saying_so_without_the_suspended_entry():
    document = _export()
    assert document["proof"] == "none"
    assert "unsigned" in document["note"]
    subjects = [vc["credentialSubject"]["id"] for vc in document["accreditations"]]
    assert subjects == [ROOT_DID, "did:web:agency.example", "did:web:uni.example"]
    issuer_vc = document["accreditations"][2]
    assert issuer_vc["issuer"] == "did:web:agency.example"
    assert issuer_vc["expirationDate"] == "1970-01-01T00:01:39Z"
    assert issuer_vc["credentialSubject"]["accreditedFor"] == [{"types": ["urn:t"], "limitJurisdiction": "IT",
                                                                "maxEqfLevel": 7}]


def test_with_the_roots_key_the_vcs_the_root_issues_are_signed_jwts_and_the_others_stay_unsigned():
    document = _export(SigningKey.for_did(ROOT_DID, KEY))
    assert document["proof"] == "partial"
    signed = [item["jwt"] for item in document["accreditations"] if "jwt" in item]
    assert len(signed) == 2
    for token in signed:
        jws = UnverifiedJws.parse(token)
        jws.verify_with(resolve_public_key(ROOT_DID))
        assert jws.payload["iss"] == ROOT_DID
    assert document["accreditations"][2]["issuer"] == "did:web:agency.example"


def test_a_key_that_is_not_the_roots_is_refused():
    with pytest.raises(InvalidKey, match="expected the key of the root"):
        SigningKey.for_did(ROOT_DID, PrivateKey.generate("ES256"))
