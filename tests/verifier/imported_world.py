"""Builders of whole credentials for the verifier tests: Open Badges (JWT and Data Integrity), W3C status
lists, sealed Europass EDCs and holder-signed presentations of them (OpenID4VP 1.0 Appendix B shapes)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base58
from cryptography.hazmat.primitives.asymmetric import ed25519

from credentials.bitstring_status_list import Bitstring, build_status_list_credential
from credentials.data_integrity import (
    _hash_data,  # a presentation's proof must cover challenge and domain
    sign_data_integrity,
)
from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jades import seal_jades
from credentials.jose import PrivateKey, b64url_encode, sign_jws
from credentials.jsonld import DEFAULT_CONTEXT_LOADER
from credentials.jwt_vc import sign_jwt_vc_json, sign_vc_jwt
from credentials.multikey import multibase_from_public_key
from tests.core.test_imported_algs import RSA_2048, RSA_2048_DID, rsa_sign

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VC2 = "https://www.w3.org/ns/credentials/v2"
VC11 = "https://www.w3.org/2018/credentials/v1"
ELM_EXAMPLE = json.loads((VECTORS / "europass-edc" / "edc-dc-example.json").read_text(encoding="utf-8"))


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Holder:
    """A learner's key and its did:key."""

    def __init__(self, alg: str = "ES256"):
        self.key = PrivateKey.generate(alg)
        self.did = did_key_from_public_key(self.key.public_key())
        self.kid = verification_method_id(self.did)


class JwtIssuer:
    """A did:key issuer signing JWTs (ES256, or RS256 from a given RSA key)."""

    def __init__(self, key: PrivateKey | None = None):
        self.key = key or PrivateKey.generate("ES256")
        self.did = did_key_from_public_key(self.key.public_key())
        self.kid = verification_method_id(self.did)


class DiIssuer:
    """A did:key Ed25519 issuer signing Data Integrity proofs."""

    def __init__(self):
        self.key = ed25519.Ed25519PrivateKey.generate()
        msid = multibase_from_public_key(self.key.public_key())
        self.did = f"did:key:{msid}"
        self.method = f"{self.did}#{msid}"


def badge(issuer: str, holder: str | None, *, valid_from: int, status_url: str | None = None, index: int = 88123,
          achievement_type: str = "MicroCredential", name: str = "Introduction to Smart Contracts") -> dict[str, Any]:
    """An Open Badge 3.0 (VCDM 2.0) with ECTS and EQF alignments, optionally a Bitstring status entry."""
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://uni.example/achievements/smart-contracts", "type": ["Achievement"], "name": name,
            "description": "Write and test a Solidity contract.", "achievementType": achievement_type,
            "criteria": {"narrative": "Pass the project assessment."}, "creditsAvailable": 5,
            "alignment": [
                {"type": ["Alignment"], "targetName": "ECTS", "targetUrl": "http://data.europa.eu/snb/education-credit/6fcec5c5af",
                 "targetFramework": "ECTS"},
                {"type": ["Alignment"], "targetName": "EQF level 6", "targetUrl": "http://data.europa.eu/snb/eqf/6",
                 "targetFramework": "EQF", "targetCode": "6"},
            ],
        },
    }
    if holder is not None:
        subject["id"] = holder
    document: dict[str, Any] = {
        "@context": [VC2, OB3_CONTEXT],
        "id": "urn:uuid:0c8b4f2e-6b1f-4a55-9f43-3d3c1f1c9a01",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Università di Prova"},
        "validFrom": iso(valid_from),
        "credentialSubject": subject,
    }
    if status_url is not None:
        document["credentialStatus"] = {
            "id": f"{status_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": status_url}
    return document


def badge_jwt(issuer: JwtIssuer, holder: str | None, *, valid_from: int, **kwargs: Any) -> str:
    return sign_vc_jwt(badge(issuer.did, holder, valid_from=valid_from, **kwargs), issuer.key, kid=issuer.kid)


def badge_di(issuer: DiIssuer, holder: str | None, *, valid_from: int, **kwargs: Any) -> dict[str, Any]:
    return sign_data_integrity(badge(issuer.did, holder, valid_from=valid_from, **kwargs), issuer.key, issuer.method,
                               iso(valid_from))


def rsa_badge_jwt(holder: str | None, *, valid_from: int, alg: str = "RS256", **kwargs: Any) -> tuple[str, str]:
    """An Open Badge as vc+jwt signed RS256 / PS256 by the RSA 2048 did:key of the did-key vectors; (token, DID)."""
    document = badge(RSA_2048_DID, holder, valid_from=valid_from, **kwargs)
    return rsa_sign(document, RSA_2048, alg, {"typ": "vc+jwt", "kid": f"{RSA_2048_DID}#{RSA_2048_DID[8:]}"}), \
        RSA_2048_DID


def bitstring_list_jwt(issuer: JwtIssuer, url: str, *, valid_from: int, revoked: tuple[int, ...] = ()) -> str:
    """A BitstringStatusListCredential secured as vc+jwt, with the bits of ``revoked`` set."""
    bits = Bitstring.new()
    for index in revoked:
        bits.set(index, True)
    return sign_vc_jwt(build_status_list_credential(bits, id=url, issuer=issuer.did, valid_from=valid_from),
                       issuer.key, kid=issuer.kid)


def status_list_2021(issuer: str, url: str, *, purpose: str = "revocation", revoked: tuple[int, ...] = ()) -> dict:
    """A StatusList2021Credential (VCDM 1.1), encodedList plain base64url GZIP as Status List 2021 has it."""
    bits = Bitstring.new()
    for index in revoked:
        bits.set(index, True)
    return {"@context": [VC11, "https://w3id.org/vc/status-list/2021/v1"], "id": url,
            "type": ["VerifiableCredential", "StatusList2021Credential"], "issuer": issuer,
            "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": f"{url}#list", "type": "StatusList2021", "statusPurpose": purpose,
                                  "encodedList": bits.encode()[1:]}}


def edc_document(holder: str | None = None, *, status_url: str | None = None, index: int = 199) -> dict[str, Any]:
    """The published ELM example, its status entries pointed at ``status_url`` (StatusList2021, as EDCs carry)."""
    document = copy.deepcopy(ELM_EXAMPLE)
    document.pop("cnf", None)
    if holder is not None:
        document["credentialSubject"]["id"] = holder
    if status_url is None:
        document.pop("status", None)
    else:
        document["status"] = [{"id": f"{status_url}#{index}", "statusListCredential": status_url,
                               "statusListIndex": str(index), "statusPurpose": "revocation",
                               "type": "StatusList2021Entry"}]
    return document


def seal(document: dict[str, Any], pki: Any, *, signing_time: int) -> str:
    return seal_jades(json.dumps(document, ensure_ascii=False).encode("utf-8"), pki.seal_key, pki.chain,
                      signing_time=signing_time)


def jwt_vp_json(holder: Holder, credential: str | dict, *, nonce: str, audience: str, iat: int,
                key: PrivateKey | None = None) -> str:
    """OpenID4VP Appendix B.1.3.1: a VCDM 1.1 JWT presentation (``vp`` claim) of one credential."""
    vp = {"@context": [VC11], "type": ["VerifiablePresentation"], "holder": holder.did,
          "verifiableCredential": [credential]}
    return sign_jws({"iss": holder.did, "aud": audience, "nonce": nonce, "iat": iat, "vp": vp}, key or holder.key,
                    header={"kid": holder.kid, "typ": "JWT"})


def vp_jwt(holder: Holder, credential_jwt: str, *, nonce: str, audience: str, iat: int) -> str:
    """VC-JOSE-COSE §3.1.2: a vp+jwt whose payload is the presentation, the credential enveloped."""
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": holder.did,
          "verifiableCredential": [{"@context": [VC2], "type": ["EnvelopedVerifiableCredential"],
                                    "id": "data:application/vc+jwt," + credential_jwt}],
          "aud": audience, "nonce": nonce, "iat": iat}
    return sign_jws(vp, holder.key, header={"kid": holder.kid, "typ": "vp+jwt"})


def ldp_vp(holder_key: ed25519.Ed25519PrivateKey, credential: dict, *, challenge: str, domain: str,
           created: int) -> dict[str, Any]:
    """OpenID4VP Appendix B.1.3.2: a Data Integrity presentation (authentication, challenge, domain)."""
    msid = multibase_from_public_key(holder_key.public_key())
    did = f"did:key:{msid}"
    vp = {"@context": [VC2], "type": ["VerifiablePresentation"], "holder": did, "verifiableCredential": [credential]}
    signed = sign_data_integrity(vp, holder_key, f"{did}#{msid}", iso(created), proof_purpose="authentication")
    return _with_challenge(signed, holder_key, did, msid, challenge, domain, created)


def _with_challenge(signed: dict, holder_key, did: str, msid: str, challenge: str, domain: str, created: int) -> dict:
    """Re-sign with challenge and domain inside the proof options (sign_data_integrity has no parameter for them)."""
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": iso(created),
             "verificationMethod": f"{did}#{msid}", "proofPurpose": "authentication", "challenge": challenge,
             "domain": domain}
    hash_data = _hash_data(unsecured, {**proof, "@context": unsecured["@context"]}, "eddsa-rdfc-2022", "Ed25519",
                           DEFAULT_CONTEXT_LOADER)
    proof["proofValue"] = "z" + base58.b58encode(holder_key.sign(hash_data)).decode("ascii")
    return {**unsecured, "proof": proof}


def did_document(did: str, key: PrivateKey, *, fragment: str = "key-1") -> dict[str, Any]:
    """A did:web DID document listing one JsonWebKey for assertionMethod and authentication."""
    method = {"id": f"{did}#{fragment}", "type": "JsonWebKey", "controller": did,
              "publicKeyJwk": key.public_key().to_jwk()}
    return {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "verificationMethod": [method],
            "assertionMethod": [method["id"]], "authentication": [method["id"]]}


__all__ = ["rsa_badge_jwt", "Holder", "JwtIssuer", "DiIssuer", "badge", "badge_jwt", "badge_di", "bitstring_list_jwt",
           "status_list_2021", "edc_document", "seal", "jwt_vp_json", "vp_jwt", "ldp_vp", "did_document", "iso",
           "sign_jwt_vc_json", "b64url_encode"]
