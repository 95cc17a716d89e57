"""TrustRegistry entries as EBSI-style Verifiable Accreditations (W3C VCDM 1.1, EBSI Trust Model).

EBSI's Trusted Issuers Registry records, for each accredited party, a
Verifiable Accreditation issued by its accreditor (EBSI Trust Model, "ebsi-
trust-model" schemas 2024-01): ``VerifiableAuthorisationForTrustChain`` for the
Root TAO, ``VerifiableAccreditationToAccredit`` for a TAO,
``VerifiableAccreditationToAttest`` for a Trusted Issuer; ``credentialSubject``
names the DID and ``accreditedFor`` the credential types (``types``) with
``limitJurisdiction``. Our entries map one to one: role root / tao / issuer,
``accredited_by`` is the VC's ``issuer``, validity its ``validFrom`` /
``expirationDate``. Suspended and revoked entries are not exported: EBSI
would revoke those VCs, so a consumer must not see them as current.

Unsigned by default (the VC JSON, ``proof: none`` said at the top). With
``signer`` — a :class:`SigningKey` whose did:key / did:jwk is the root's DID —
the VCs that the root issues (the root's own and its TAOs') are signed as
``jwt_vc_json`` (VC-JWT of VCDM 1.1 §6.3.1, ES256 or EdDSA, ``kid`` the
root's verification method); the others are issued by TAOs, whose keys the
exporter does not hold, and stay unsigned (the answer says which is which).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credentials.dids import did_jwk_from_public_key, did_key_from_public_key, verification_method_id
from credentials.errors import InvalidKey
from credentials.jose import PrivateKey, sign_jws
from credentials.lote import TrustedEntry, iso_time

__all__ = ["VC_CONTEXT", "ACCREDITATION_TYPES", "SigningKey", "accreditation_credentials"]

VC_CONTEXT = "https://www.w3.org/2018/credentials/v1"
ACCREDITATION_TYPES = {
    "root": "VerifiableAuthorisationForTrustChain",
    "tao": "VerifiableAccreditationToAccredit",
    "issuer": "VerifiableAccreditationToAttest",
}
_BASE_TYPES = ["VerifiableCredential", "VerifiableAttestation", "VerifiableAccreditation"]


@dataclass(frozen=True)
class SigningKey:
    """The root's signing key; :meth:`for_did` checks that the key is the DID's own."""

    did: str
    key: PrivateKey

    @classmethod
    def for_did(cls, did: str, key: PrivateKey) -> SigningKey:
        public = key.public_key()
        own = {did_key_from_public_key(public), did_jwk_from_public_key(public)}
        if did not in own:
            raise InvalidKey(f"expected the key of the root {did[:80]}, found the key of {sorted(own)[0][:80]} "
                             "(only a did:key or did:jwk root can sign with a key file)")
        return cls(did, key)


def _credential(entry: TrustedEntry, *, root_did: str, chain_id: int, registry: str, issued_at: int) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": f"urn:microcred:accreditation:{chain_id}:{registry}:{entry.did}",
        "type": [*_BASE_TYPES, ACCREDITATION_TYPES.get(entry.role, ACCREDITATION_TYPES["issuer"])],
        "issuer": entry.accredited_by or root_did,
        "issuanceDate": iso_time(issued_at),
        "validFrom": iso_time(entry.valid_from),
        "credentialSubject": {
            "id": entry.did,
            "legalName": entry.legal_name,
            "accreditedFor": [{"types": list(entry.vcts), "limitJurisdiction": entry.country,
                               **({"maxEqfLevel": entry.max_eqf_level} if entry.max_eqf_level else {})}],
        },
        "termsOfUse": [{"type": "TrustRegistryEntry", "id": f"eip155:{chain_id}:{registry}",
                        "role": entry.role}],
    }
    if entry.valid_until is not None:
        credential["expirationDate"] = iso_time(entry.valid_until)
    return credential


def _jwt(credential: dict[str, Any], entry: TrustedEntry, signer: SigningKey, issued_at: int) -> str:
    payload: dict[str, Any] = {"iss": signer.did, "sub": entry.did, "jti": credential["id"], "iat": issued_at,
                               "nbf": entry.valid_from, "vc": credential}
    if entry.valid_until is not None:
        payload["exp"] = entry.valid_until
    return sign_jws(payload, signer.key, header={"typ": "JWT", "kid": verification_method_id(signer.did)})


def accreditation_credentials(entries: Sequence[TrustedEntry], *, root_did: str, chain_id: int, registry: str,
                              block: int, issued_at: int, signer: SigningKey | None = None) -> dict[str, Any]:
    """``{"proof", "note", "registry", "accreditations": [...]}``: a VC (or ``{"jwt": ...}``) per current entry."""
    current = [e for e in entries if not e.revoked_at and not e.suspended_at]
    items: list[dict[str, Any]] = []
    signed = 0
    for entry in current:
        credential = _credential(entry, root_did=root_did, chain_id=chain_id, registry=registry, issued_at=issued_at)
        if signer is not None and credential["issuer"] == signer.did:
            items.append({"jwt": _jwt(credential, entry, signer, issued_at)})
            signed += 1
        else:
            items.append(credential)
    if signer is None:
        proof, note = "none", "unsigned: no key of the root was given; each accreditor signs its own"
    else:
        proof = "jwt" if signed == len(items) else "partial"
        note = (f"{signed} of {len(items)} signed by the root {root_did} (jwt_vc_json); "
                "the others are issued by accreditation organisations and are unsigned here")
    return {"proof": proof, "note": note,
            "registry": {"chainId": chain_id, "address": registry, "block": block, "root": root_did},
            "accreditations": items}
