"""OpenID for Verifiable Credential Issuance 1.0, wallet side, pre-authorized code flow.

From OpenID4VCI 1.0:

- §4.1 Credential Offer: ``openid-credential-offer://?credential_offer=<JSON>``
  (by value) or ``?credential_offer_uri=<https URL>`` (by reference, fetched
  with GET); ``credential_issuer``, ``credential_configuration_ids``, ``grants``
  with ``urn:ietf:params:oauth:grant-type:pre-authorized_code``. A
  ``tx_code`` is not supported (the wallet says so).
- §12.2.2 Credential Issuer metadata at ``/.well-known/openid-credential-issuer``
  inserted between host and path; the authorization server is the first of
  ``authorization_servers`` or the issuer itself, its RFC 8414 metadata at
  ``/.well-known/oauth-authorization-server`` (same insertion) gives
  ``token_endpoint``.
- §6 Token Request: form ``grant_type`` + ``pre-authorized_code``.
- §7 Nonce Endpoint: POST, answer ``{"c_nonce": …}``.
- §8 Credential Request: ``{"credential_configuration_id", "proofs": {"jwt": [proof]}}``
  with ``Authorization: Bearer``; answer ``{"credentials": [{"credential": …}]}``.
- Appendix A: credential formats ``dc+sd-jwt`` (``vc+sd-jwt`` on input),
  ``jwt_vc_json`` / ``vc+jwt`` (a JWT string) and ``ldp_vc`` (a JSON object,
  handed on as JSON text); the wallet's import verifies each (:mod:`wallet.importing`).
- Appendix F.1 key proof: header ``typ: openid4vci-proof+jwt``, ``alg``, the
  holder's public ``jwk``; payload ``aud`` = the Credential Issuer Identifier,
  ``iat``, ``nonce`` = the ``c_nonce``; no ``iss`` (anonymous pre-authorized access).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from credentials.errors import InvalidCredentialOffer
from credentials.jose import PrivateKey, json_dumps, json_loads_object, sign_jws
from wallet.transport import Client

__all__ = [
    "OFFER_SCHEME",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_TYP",
    "CredentialOffer",
    "parse_offer",
    "well_known_url",
    "key_proof",
    "redeem_offer",
]

OFFER_SCHEME = "openid-credential-offer"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
ISSUER_WELL_KNOWN = "/.well-known/openid-credential-issuer"
AS_WELL_KNOWN = "/.well-known/oauth-authorization-server"
_SD_JWT_FORMATS = ("dc+sd-jwt", "vc+sd-jwt")
_JWT_VC_FORMATS = ("jwt_vc_json", "vc+jwt")
#: Appendix A.1.2: a JSON-LD credential with a Data Integrity proof, delivered as a JSON object.
_LDP_VC_FORMATS = ("ldp_vc",)


class CredentialOffer:
    """A parsed §4.1.1 offer (pre-authorized code grant only)."""

    def __init__(self, document: Mapping[str, Any]):
        issuer = document.get("credential_issuer")
        ids = document.get("credential_configuration_ids")
        grants = document.get("grants")
        if not isinstance(issuer, str) or not issuer:
            raise InvalidCredentialOffer("the credential offer has no credential_issuer")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise InvalidCredentialOffer("the credential offer names no credential_configuration_ids")
        grant = grants.get(PRE_AUTHORIZED_GRANT) if isinstance(grants, Mapping) else None
        if not isinstance(grant, Mapping) or not isinstance(grant.get("pre-authorized_code"), str):
            raise InvalidCredentialOffer(
                "the credential offer has no pre-authorized code; only that grant is supported")
        if grant.get("tx_code") is not None:
            raise InvalidCredentialOffer("the offer needs a transaction code, which this wallet does not support yet")
        self.credential_issuer = issuer
        self.configuration_ids = tuple(ids)
        self.pre_authorized_code = grant["pre-authorized_code"]
        self.authorization_server = grant.get("authorization_server")


def parse_offer(text: str, client: Client) -> CredentialOffer:
    """The offer in an ``openid-credential-offer://`` URI, fetched if given by reference."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() != OFFER_SCHEME:
        raise InvalidCredentialOffer(f"expected an {OFFER_SCHEME}:// link, found {text[:40]!r}")
    query = parse_qs(parts.query, keep_blank_values=False)
    by_value, by_reference = query.get("credential_offer"), query.get("credential_offer_uri")
    if by_value and not by_reference:
        document = json_loads_object(by_value[0], what="the credential offer")
    elif by_reference and not by_value:
        document = client.json("GET", by_reference[0], what="credential offer")
    else:
        raise InvalidCredentialOffer(
            "the offer link must carry exactly one of credential_offer or credential_offer_uri")
    if not isinstance(document, Mapping):
        raise InvalidCredentialOffer("the credential offer is not a JSON object")
    offer = CredentialOffer(document)
    client.check(offer.credential_issuer, "credential issuer")
    return offer


def well_known_url(identifier: str, suffix: str) -> str:
    """RFC 8615 / OpenID4VCI §12.2.2: the well-known segment goes between host and path."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{suffix}{path}"


def key_proof(holder_key: PrivateKey, *, audience: str, nonce: str | None, iat: int) -> str:
    """Appendix F.1 ``jwt`` proof with the holder's public JWK in the header."""
    payload: dict[str, Any] = {"aud": audience, "iat": iat}
    if nonce is not None:
        payload["nonce"] = nonce
    return sign_jws(payload, holder_key, header={"typ": PROOF_TYP, "jwk": holder_key.public_key().to_jwk()})


def _endpoint(metadata: Mapping[str, Any], name: str, what: str, client: Client) -> str:
    value = metadata.get(name) if isinstance(metadata, Mapping) else None
    if not isinstance(value, str):
        raise InvalidCredentialOffer(f"the {what} metadata has no {name}")
    return client.check(value, name)


def redeem_offer(text: str, holder_key: PrivateKey, *, client: Client, now: int) -> str:
    """Run the whole pre-authorized flow; return the issued credential (its serialization)."""
    offer = parse_offer(text, client)
    issuer = offer.credential_issuer
    metadata = client.json("GET", well_known_url(issuer, ISSUER_WELL_KNOWN), what="credential issuer metadata")
    if not isinstance(metadata, Mapping) or metadata.get("credential_issuer") != issuer:
        raise InvalidCredentialOffer("the issuer metadata does not name the issuer that made the offer")
    configurations = metadata.get("credential_configurations_supported")
    configuration_id = offer.configuration_ids[0]
    configuration = configurations.get(configuration_id) if isinstance(configurations, Mapping) else None
    if not isinstance(configuration, Mapping):
        raise InvalidCredentialOffer(f"the issuer does not describe the offered credential {configuration_id!r}")
    offered_format = configuration.get("format")
    if offered_format not in _SD_JWT_FORMATS + _JWT_VC_FORMATS + _LDP_VC_FORMATS:
        raise InvalidCredentialOffer(f"the offered format {configuration.get('format')!r} is not one this wallet keeps")
    servers = metadata.get("authorization_servers")
    server = offer.authorization_server or (servers[0] if isinstance(servers, list) and servers else issuer)
    as_metadata = client.json("GET", well_known_url(client.check(server, "authorization server"), AS_WELL_KNOWN),
                                 what="authorization server metadata")
    token_endpoint = _endpoint(as_metadata, "token_endpoint", "authorization server", client)
    token = client.json(
        "POST", token_endpoint, what="token endpoint",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.pre_authorized_code}).encode(),
    )
    access_token = token.get("access_token") if isinstance(token, Mapping) else None
    if not isinstance(access_token, str) or str(token.get("token_type", "")).lower() not in ("bearer", "dpop"):
        raise InvalidCredentialOffer("the token endpoint did not return a Bearer access token")
    nonce = None
    if isinstance(metadata.get("nonce_endpoint"), str):
        nonce_endpoint = _endpoint(metadata, "nonce_endpoint", "credential issuer", client)
        answer = client.post_json(nonce_endpoint, {}, what="nonce endpoint")
        nonce = answer.get("c_nonce") if isinstance(answer, Mapping) else None
        if not isinstance(nonce, str):
            raise InvalidCredentialOffer("the nonce endpoint did not return a c_nonce")
    proof = key_proof(holder_key, audience=issuer, nonce=nonce, iat=now)
    answer = client.post_json(
        _endpoint(metadata, "credential_endpoint", "credential issuer", client),
        {"credential_configuration_id": configuration_id, "proofs": {"jwt": [proof]}},
        what="credential endpoint", headers={"Authorization": f"Bearer {access_token}"},
    )
    credentials = answer.get("credentials") if isinstance(answer, Mapping) else None
    if not isinstance(credentials, list) or len(credentials) != 1:
        if isinstance(answer, Mapping) and "transaction_id" in answer:
            raise InvalidCredentialOffer(
                "the issuer will deliver this credential later (deferred issuance), which this wallet does not support")
        raise InvalidCredentialOffer("the credential endpoint did not return exactly one credential")
    first = credentials[0]
    credential = first.get("credential") if isinstance(first, Mapping) else None
    if offered_format in _LDP_VC_FORMATS and isinstance(credential, Mapping):
        return json_dumps(credential)  # the wallet imports it as JSON text, like an uploaded file
    if not isinstance(credential, str):
        raise InvalidCredentialOffer("the issued credential is not a string in a format this wallet keeps")
    proof = first.get("issuance_proof")
    if proof is not None:  # microcred's extension: imported together (wallet.importing keeps the proof)
        return json_dumps({"credential": credential, "issuance_proof": proof})
    return credential
