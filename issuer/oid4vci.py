"""OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow (issuer side).

Implements, from OpenID4VCI 1.0 (final, editor's draft -17 text):

- §4.1 the Credential Offer (``credential_issuer``, ``credential_configuration_ids``,
  ``grants`` with ``urn:ietf:params:oauth:grant-type:pre-authorized_code``),
  sent by reference (``openid-credential-offer://?credential_offer_uri=…``);
- §6 the Token Endpoint for that grant (``pre-authorized_code``; no ``tx_code``);
- §7 the Nonce Endpoint (``{"c_nonce": …}``);
- §8 the Credential Endpoint: ``credential_configuration_id`` and
  ``proofs: {"jwt": [<one proof>]}``; Appendix F.1 ``jwt`` key proofs
  (``typ: openid4vci-proof+jwt``, ``jwk`` or a did:key/did:jwk ``kid`` in the
  header, ``aud`` = the Credential Issuer Identifier, ``iat``, ``nonce`` = a
  ``c_nonce`` from the Nonce Endpoint, used once); the response
  ``{"credentials": [{"credential": …, "issuance_proof": {…}}]}`` — the
  ``issuance_proof`` member beside the credential is microcred's extension
  (issue 14, :mod:`issuer.issuance`: the credential's RFC 9162 inclusion proof
  to a root anchored on the IssuanceRegistry);
- §12.2 Credential Issuer metadata for the SD-JWT VC profile (Appendix A.3:
  ``format: dc+sd-jwt``, ``vct``: microcred's and the EUDI learning
  credential) and for the Open Badge twins as W3C VCs signed as JWTs
  (Appendix A.1.1: ``format: jwt_vc_json``, ``credential_definition.type``),
  and the RFC 8414 authorization server metadata with
  ``pre-authorized_grant_anonymous_access_supported``.

One offer is one row of a batch: its credential and the twins made with it
(:mod:`issuer.twins`), one configuration id each; each is signed when
redeemed, bound to the key the proof was made with (``cnf.jwk``; an Open
Badge names the key's did:jwk as its subject). The offer is used up once all
are redeemed.
Errors are :class:`~credentials.errors.OAuthError` carrying the spec's error codes
(:class:`~credentials.errors.InvalidAccessToken` 401, :class:`~credentials.errors.OfferNotFound`
404, the rest 400: :data:`infra.web_errors.HTTP_STATUS`); no Flask here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from credentials.dids import resolve_public_key
from credentials.errors import InvalidAccessToken, InvalidInput, OAuthError, OfferNotFound, VerificationError
from credentials.eudi_learning import EUDI_LEARNING_CLAIM_LABELS, EUDI_LEARNING_VCT
from credentials.jose import PublicKey, UnverifiedJws
from credentials.jwt_vc import JWT_VC_JSON_FORMAT
from credentials.merkle import credential_digest
from credentials.microcredential import CLAIM_LABELS, MICRO_CREDENTIAL_VCT
from credentials.sd_jwt_vc import SD_JWT_VC_TYP
from issuer.archive import DELIVERY_REDEEMED, KIND_EUDI_LEARNING, KIND_MICROCRED, KIND_OB3, CredentialRecord
from issuer.identity import IssuerIdentity
from issuer.service import IssuerService
from issuer.twins import OB3_TYPES

__all__ = [
    "ISSUANCE_PROOF_MEMBER",
    "CREDENTIAL_CONFIGURATION_ID",
    "EUDI_LEARNING_CONFIGURATION_ID",
    "OPEN_BADGE_CONFIGURATION_ID",
    "CONFIGURATION_OF_KIND",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_TYP",
    "OFFER_SCHEME",
    "TOKEN_LIFETIME",
    "NONCE_LIFETIME",
    "PROOF_MAX_AGE",
    "OAuthError",
    "offer_uri",
    "offer_page_url",
    "credential_offer",
    "credential_issuer_metadata",
    "authorization_server_metadata",
    "jwt_vc_issuer_metadata",
    "Oid4vciIssuer",
]

CREDENTIAL_CONFIGURATION_ID = "micro-credential"
#: The member of a credential object in the Credential Response that carries its issuance proof.
ISSUANCE_PROOF_MEMBER = "issuance_proof"
EUDI_LEARNING_CONFIGURATION_ID = "eudi-learning-credential"
OPEN_BADGE_CONFIGURATION_ID = "open-badge-3"
#: The credential configuration of each kind of archived credential.
CONFIGURATION_OF_KIND = {
    KIND_MICROCRED: CREDENTIAL_CONFIGURATION_ID,
    KIND_EUDI_LEARNING: EUDI_LEARNING_CONFIGURATION_ID,
    KIND_OB3: OPEN_BADGE_CONFIGURATION_ID,
}
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_SCHEME = "openid-credential-offer://"
TOKEN_LIFETIME = 600
NONCE_LIFETIME = 300
#: A key proof older than this (or this far in the future) is refused (seconds).
PROOF_MAX_AGE = 300
_PROOF_ALGS = ("ES256", "EdDSA")


def offer_page_url(identity: IssuerIdentity, offer_id: str) -> str:
    """The human page with the offer as a link and a QR code."""
    return f"{identity.base_url}/offers/{offer_id}"


def offer_uri(identity: IssuerIdentity, offer_id: str) -> str:
    """``openid-credential-offer://?credential_offer_uri=…`` (§4.1.3, by reference)."""
    by_reference = f"{identity.base_url}/credential-offer/{offer_id}"
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(by_reference, safe='')}"


def credential_offer(identity: IssuerIdentity, pre_authorized_code: str,
                     configuration_ids: Sequence[str] = (CREDENTIAL_CONFIGURATION_ID,)) -> dict[str, Any]:
    """The §4.1.1 Credential Offer object."""
    return {
        "credential_issuer": identity.base_url,
        "credential_configuration_ids": list(configuration_ids),
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": pre_authorized_code}},
    }


def _claims(labels: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"path": name.split("."), "display": [{"name": label, "locale": "en"}]} for name, label in labels.items()]


def _twin_configurations(identity: IssuerIdentity) -> dict[str, Any]:
    binding = {
        "cryptographic_binding_methods_supported": ["jwk", "did:key", "did:jwk"],
        "credential_signing_alg_values_supported": [identity.alg],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(_PROOF_ALGS)}},
    }
    return {
        EUDI_LEARNING_CONFIGURATION_ID: {
            "format": SD_JWT_VC_TYP, "vct": EUDI_LEARNING_VCT, **binding,
            "credential_metadata": {"display": [{"name": "Learning credential (EUDI)", "locale": "en"}],
                                    "claims": _claims(EUDI_LEARNING_CLAIM_LABELS)},
        },
        OPEN_BADGE_CONFIGURATION_ID: {
            "format": JWT_VC_JSON_FORMAT, "credential_definition": {"type": list(OB3_TYPES)}, **binding,
            "credential_metadata": {"display": [{"name": "Open Badge 3.0", "locale": "en"}]},
        },
    }


def credential_issuer_metadata(identity: IssuerIdentity) -> dict[str, Any]:
    """§12.2.4 Credential Issuer metadata (``/.well-known/openid-credential-issuer``)."""
    claims = _claims(CLAIM_LABELS)
    return {
        "credential_issuer": identity.base_url,
        "credential_endpoint": f"{identity.base_url}/credential",
        "nonce_endpoint": f"{identity.base_url}/nonce",
        "display": [{"name": identity.legal_name, "locale": "en"}],
        "credential_configurations_supported": {
            CREDENTIAL_CONFIGURATION_ID: {
                "format": SD_JWT_VC_TYP,
                "vct": MICRO_CREDENTIAL_VCT,
                "cryptographic_binding_methods_supported": ["jwk", "did:key", "did:jwk"],
                "credential_signing_alg_values_supported": [identity.alg],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(_PROOF_ALGS)}},
                "credential_metadata": {
                    "display": [{"name": "Micro-credential", "locale": "en"}],
                    "claims": claims,
                },
            },
            **_twin_configurations(identity),
        },
    }


def authorization_server_metadata(identity: IssuerIdentity) -> dict[str, Any]:
    """RFC 8414 metadata of the (co-located) authorization server."""
    return {
        "issuer": identity.base_url,
        "token_endpoint": f"{identity.base_url}/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
    }


def jwt_vc_issuer_metadata(identity: IssuerIdentity, public_key: PublicKey) -> dict[str, Any]:
    """SD-JWT VC draft §5 JWT VC Issuer Metadata (``/.well-known/jwt-vc-issuer``)."""
    jwk = {**public_key.to_jwk(), "kid": identity.kid, "alg": public_key.alg, "use": "sig"}
    return {"issuer": identity.base_url, "jwks": {"keys": [jwk]}}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Oid4vciIssuer:
    """The token, nonce and credential endpoints' logic over an :class:`IssuerService`."""

    def __init__(self, service: IssuerService):
        self.service = service
        self.archive = service.archive
        self.identity = service.identity

    def offer_document(self, offer_id: str, *, now: int) -> dict[str, Any]:
        offer = self.archive.offer(offer_id)
        if offer is None or offer["expires_at"] <= now or offer["access_token_sha256"]:
            raise OfferNotFound("this credential offer does not exist, has expired or was used")
        group = self._group(offer)
        return credential_offer(self.identity, offer["pre_authorized_code"],
                                [CONFIGURATION_OF_KIND[r.kind] for r in group])

    def _group(self, offer: Mapping[str, Any]) -> list[CredentialRecord]:
        """The offer's credential and its twins."""
        record = self.archive.credential(offer["credential_id"])
        return [record, *self.archive.twins(record.id)]

    def token(self, form: Mapping[str, str], *, now: int) -> dict[str, Any]:
        """§6: exchange a pre-authorized code (once) for an access token."""
        grant_type = form.get("grant_type")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise OAuthError("unsupported_grant_type",
                             f"expected grant_type {PRE_AUTHORIZED_GRANT}, found {grant_type!r}")
        code = form.get("pre-authorized_code")
        if not code:
            raise OAuthError("invalid_request", "the pre-authorized_code parameter is missing")
        access_token = secrets.token_urlsafe(32)
        with self.archive.transaction():
            offer = self.archive.offer_by("pre_authorized_code", code)
            if offer is None or offer["expires_at"] <= now:
                raise OAuthError("invalid_grant", "the pre-authorized code is unknown or has expired")
            if offer["access_token_sha256"]:
                raise OAuthError("invalid_grant", "the pre-authorized code was already used")
            self.archive.update_offer(
                offer["id"], access_token_sha256=_sha256(access_token), token_expires_at=now + TOKEN_LIFETIME
            )
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}

    def nonce(self, *, now: int) -> dict[str, str]:
        """§7: a fresh ``c_nonce``, valid once for :data:`NONCE_LIFETIME` seconds."""
        value = secrets.token_urlsafe(24)
        self.archive.add_nonce(value, now + NONCE_LIFETIME, now=now)
        return {"c_nonce": value}

    def _offer_for(self, authorization: str | None, *, now: int) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise InvalidAccessToken("expected an 'Authorization: Bearer <access token>' header")
        offer = self.archive.offer_by("access_token_sha256", _sha256(token.strip()))
        if offer is None or (offer["token_expires_at"] or 0) <= now:
            raise InvalidAccessToken("the access token is unknown or has expired")
        if offer["redeemed_at"]:
            raise InvalidAccessToken("this access token was already used for its credential")
        return offer

    def _proof_key(self, proof: Any, *, now: int) -> PublicKey:
        """Appendix F.1 checks; raises ``invalid_proof`` / ``invalid_nonce``."""
        if not isinstance(proof, str):
            raise OAuthError("invalid_proof", "expected the jwt proof as a compact JWS string")
        try:
            unverified_proof = UnverifiedJws.parse(proof, what="key proof")
            unverified_proof.check_typ([PROOF_TYP], what="key proof")
            jwk, kid = unverified_proof.header.get("jwk"), unverified_proof.header.get("kid")
            if (jwk is None) == (kid is None):
                raise OAuthError("invalid_proof",
                                 "expected exactly one of 'jwk' or 'kid' (a did:key / did:jwk URL) in the proof header")
            if jwk is not None:
                if not isinstance(jwk, Mapping) or "d" in jwk:
                    raise OAuthError("invalid_proof", "the proof's 'jwk' must be a public key")
                key = PublicKey.from_jwk(jwk)
            else:
                if not isinstance(kid, str) or not kid.startswith("did:"):
                    raise OAuthError("invalid_proof", f"expected 'kid' to be a did:key or did:jwk URL, found {kid!r}")
                key = resolve_public_key(kid)
            unverified_proof.verify_with(key, what="key proof")
        except (VerificationError, InvalidInput) as exc:
            raise OAuthError("invalid_proof", str(exc)) from exc
        payload = unverified_proof.payload  # signature checked above
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.identity.base_url not in audiences:
            raise OAuthError("invalid_proof", f"expected aud {self.identity.base_url!r}, found {audience!r}")
        iat = payload.get("iat")
        if not isinstance(iat, int) or isinstance(iat, bool) or abs(now - iat) > PROOF_MAX_AGE:
            raise OAuthError("invalid_proof", f"expected iat within {PROOF_MAX_AGE} s of {now}, found {iat!r}")
        nonce = payload.get("nonce")
        if not isinstance(nonce, str) or not self.archive.consume_nonce(nonce, now=now):
            raise OAuthError("invalid_nonce",
                             "the proof's nonce is missing, unknown, expired or used; get a new c_nonce")
        return key

    def credential(self, authorization: str | None, body: Any, *, now: int) -> dict[str, Any]:
        """§8: check the request and the key proof, sign the offered credential bound to that key."""
        offer = self._offer_for(authorization, now=now)
        if not isinstance(body, Mapping):
            raise OAuthError("invalid_credential_request", "expected a JSON object")
        configuration = body.get("credential_configuration_id")
        offered = {CONFIGURATION_OF_KIND[r.kind]: r.id for r in self._group(offer)}
        if not isinstance(configuration, str) or configuration not in offered:
            raise OAuthError("unknown_credential_configuration",
                             f"expected credential_configuration_id {' or '.join(map(repr, offered))}, "
                             f"found {configuration!r:.80}")
        proofs = body.get("proofs")
        if not isinstance(proofs, Mapping) or set(proofs) != {"jwt"} or not isinstance(proofs["jwt"], list):
            raise OAuthError("invalid_credential_request", "expected proofs: {\"jwt\": [<key proof>]}")
        if len(proofs["jwt"]) != 1:
            raise OAuthError("invalid_credential_request",
                             f"expected exactly 1 key proof (one credential per configuration), "
                             f"found {len(proofs['jwt'])}")
        holder_jwk = self._proof_key(proofs["jwt"][0], now=now).to_jwk()
        with self.archive.transaction():
            current = self.archive.offer(offer["id"])
            if current is None or current["redeemed_at"]:
                raise InvalidAccessToken("this access token was already used for its credential")
            record = self.archive.credential(offered[configuration])
            if record.status == "revoked":
                raise OAuthError("credential_request_denied", "this credential was revoked by the issuer")
            if record.delivery == DELIVERY_REDEEMED:
                raise OAuthError("invalid_credential_request",
                                 f"the {configuration} credential of this offer was already issued")
            sd_jwt = self.service.sign_credential(record, holder_jwk, now=now)
            self.archive.update_credential(
                record.id, holder_jwk=json.dumps(holder_jwk), delivery=DELIVERY_REDEEMED,
                sd_jwt_sha256=hashlib.sha256(sd_jwt.encode("ascii")).hexdigest(),
            )
            self.archive.record_leaves(record.batch_id, {record.id: credential_digest(sd_jwt).hex()})
            if all(r.delivery == DELIVERY_REDEEMED for r in self._group(offer)):
                self.archive.update_offer(offer["id"], redeemed_at=now)
        return {"credentials": [self._with_issuance_proof(record.id, sd_jwt, now=now)]}

    def _with_issuance_proof(self, credential_id: str, credential: str, *, now: int) -> dict[str, Any]:
        """The credential object of the response, with the ``issuance_proof`` member (microcred's extension:
        a wallet that does not know it ignores it) when a ledger deployment is known.

        The credential is sealed into a tree of its own and its root anchored now (one transaction); when
        the ledger refuses or is down the root stays pending (the background loop and ``issuer publish``
        anchor it) and the proof, final once sealed, is delivered all the same.
        """
        root = self.service.seal_issuance(credential_ids=[credential_id], now=now)
        if root is not None:
            self.service.converge_issuance(roots=[root])
        proof = self.service.issuance_proofs([credential_id]).get(credential_id)
        answer: dict[str, Any] = {"credential": credential}
        if proof is not None:
            answer[ISSUANCE_PROOF_MEMBER] = proof
        return answer
