"""The verifier's evidence files (issue 14, §5): made with each result page, signed, downloaded; the key served.

After a presentation is verified on the employer's page (:func:`verifier.pages.render_result`),
:func:`offer_evidence` reads the inputs of each check again from the ledger view the verification used —
the same cached answers at the same processed block: the Status List Token and its anchor (SHA-256, version,
block, transaction), the trust chain's entries with the blocks of their events, the issuance anchor of the
holder's proof — and refuses to offer evidence when they no longer match what the result shows (the chain
moved in between: verify again). The unsigned evidence (:mod:`credentials.evidence` describes it) is kept in
the shared store for :data:`OFFER_TTL_S` seconds under an unguessable id, which the result page's form
names; ``POST /evidence/<id>`` signs it, with or without the disclosed claims as the employer chose, and
answers the file as a download.

The signing key (ES256) is created once in the data dir, ``verifier-evidence-key.jwk`` (mode 0600,
:mod:`infra.secret_files`); ``GET /.well-known/jwks.json`` publishes its public half (RFC 7517), so anyone
holding a file can check who signed it (``microcred verify --evidence FILE --jwks jwks.json``,
:mod:`verifier.evidence_check`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from credentials.errors import ConfigurationError, InvalidInput, MicrocredError
from credentials.evidence import EVIDENCE_VERSION, jwk_set, sign_evidence
from credentials.issuance_anchor import ISSUANCE_PROOF_CLAIM, IssuanceAnchor
from credentials.jose import PrivateKey, UnverifiedJws
from credentials.merkle import IssuanceProof, credential_digest
from credentials.sd_jwt.common import UnverifiedSdJwt
from credentials.status_check import status_list_id
from credentials.verification_model import PASSED, StatusEvidence, TrustAnswer, VerificationResult
from infra.secret_files import load_or_create_secret_file
from verifier.context import current_service

__all__ = ["bp", "EVIDENCE_KEY_FILE", "OFFER_TTL_S", "evidence_key", "evidence_payload", "offer_evidence",
           "evidence_file"]

bp = Blueprint("evidence", __name__)

EVIDENCE_KEY_FILE = "verifier-evidence-key.jwk"
OFFER_NAMESPACE = "evidence"
#: How long the result page's "Download evidence" works (seconds).
OFFER_TTL_S = 3600
CLAIM_CHOICES = ("omit", "include")
_log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def evidence_key(data_dir: Path) -> PrivateKey:
    """The verifier's evidence signing key (ES256), created in ``data_dir`` the first time."""
    def make() -> bytes:
        return json.dumps(PrivateKey.generate("ES256").to_jwk()).encode("utf-8")

    content, _ = load_or_create_secret_file(Path(data_dir) / EVIDENCE_KEY_FILE, make)
    try:
        return PrivateKey.from_jwk(json.loads(content))
    except (ValueError, TypeError, MicrocredError):
        raise ConfigurationError(f"expected a private JWK (ES256) in {Path(data_dir) / EVIDENCE_KEY_FILE}, found "
                                 "something else; remove the file to make a new key") from None


def _sd_jwt(presentation: str) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """(issuer-signed JWT, its header, its payload, the KB-JWT payload) of an SD-JWT VC presentation, else None."""
    text = presentation.strip()
    if "~" not in text or text.startswith("{"):
        return None
    try:
        parts = UnverifiedSdJwt.parse(text)
        jws = UnverifiedJws.parse(parts.issuer_jwt, what="issuer-signed JWT")
        kb = UnverifiedJws.parse(parts.kb_jwt, what="Key Binding JWT").payload if parts.kb_jwt else {}
    except MicrocredError:
        return None
    return parts.issuer_jwt, jws.header, jws.payload, kb


def _revocation_inputs(view: Any, iss: str, shown: dict[str, Any]) -> dict[str, Any] | None:
    uri, index = str(shown.get("uri")), shown.get("index")
    evidence = view.status(iss, uri)
    if not isinstance(evidence, StatusEvidence) or evidence.anchored_sha256 is None:
        return {"uri": uri, "index": index}
    if evidence.anchored_block != shown.get("anchored_block"):
        return None  # the list was anchored again since the verification read it
    list_id = status_list_id(uri)
    token, source = evidence.token, "list"
    if token is None and evidence.carried_list is not None and evidence.carried_version == evidence.anchored_version:
        token, source = evidence.carried_list.decode("ascii", "replace"), "list carried on chain"
    events = view.ledger.status.anchor_events(iss, list_id, from_block=evidence.anchored_block,
                                              to_block=evidence.anchored_block)
    transaction = next((e.transaction_hash for e in events if e.version == evidence.anchored_version), None)
    return {"uri": uri, "index": index, "list_id": list_id, "anchored_sha256": evidence.anchored_sha256.hex(),
            "anchored_version": evidence.anchored_version, "anchored_block": evidence.anchored_block,
            "anchor_transaction": transaction, "source": source, "status_list_token": token}


def _trust_inputs(view: Any, result: VerificationResult, iss: str, vct: str, at: int) -> dict[str, Any] | None:
    answer = view.trust(iss, vct, at)
    if not isinstance(answer, TrustAnswer):
        return {"vct": vct, "at": at}
    if answer.chain != result.trust_chain:
        return None  # the registry changed since the verification read it
    trust = view.ledger.trust
    events = trust.events(from_block=view.ledger.deployment.deployment_block, to_block=answer.block)
    chain = []
    for link in answer.chain:
        entry = trust.entry(link.did, block=answer.block)
        chain.append({"did": link.did, "name": link.name, "role": link.role,
                      "entry": entry.as_dict() if entry is not None else None,
                      "events": [{"event": e.name, "block": e.block_number} for e in events if e.did == link.did]})
    return {"vct": vct, "at": at, "read_at_block": answer.block, "accredited": answer.accredited, "chain": chain}


def _issuance_inputs(view: Any, iss: str, proof: Any) -> dict[str, Any]:
    try:
        root = IssuanceProof.from_json(proof).root
    except InvalidInput:
        return {"proof": proof}
    answer = view.issuance_anchor(iss, root)
    if not isinstance(answer, IssuanceAnchor):
        return {"proof": proof}
    return {"proof": proof, "root": root.hex(), "anchored_block": answer.block_number,
            "anchored_at": answer.block_timestamp, "anchored_by": answer.anchored_by, "size": answer.size}


def evidence_payload(service: Any, result: VerificationResult, presentation: str, now: int) -> dict[str, Any] | None:
    """The unsigned evidence of ``result`` (claims included), or None when it cannot be made faithfully.

    ``presentation``: what was verified, or the scanned link that led to it (then the presentation the link gave).
    """
    presentation = service.presentation_of(presentation)
    view = service.ledger_view()
    sd_jwt = _sd_jwt(presentation)
    if view is None or view.head_block is None or result.format is None:
        return None
    head = view.head_block
    inputs: dict[str, dict[str, Any] | None] = {}
    credential: dict[str, Any] = {}
    if sd_jwt is not None:
        issuer_jwt, header, payload, kb = sd_jwt
        iss, vct, iat = payload.get("iss"), payload.get("vct"), payload.get("iat")
        credential = {"sha256": credential_digest(issuer_jwt).hex(), "iss": iss, "vct": vct, "iat": iat,
                      "exp": payload.get("exp")}
        inputs["signature"] = {"kid": header.get("kid"), "alg": header.get("alg")}
        inputs["validity_period"] = {k: payload.get(k) for k in ("iat", "nbf", "exp") if k in payload}
        if result.status is not None and isinstance(iss, str):
            inputs["revocation"] = _revocation_inputs(view, iss, result.status)
        if result.check("issuer_trust").status == PASSED and isinstance(iat, int):
            inputs["issuer_trust"] = _trust_inputs(view, result, str(iss), str(vct), iat)
        if kb.get(ISSUANCE_PROOF_CLAIM) is not None and isinstance(iss, str):
            inputs["issuance_anchor"] = _issuance_inputs(view, iss, kb[ISSUANCE_PROOF_CLAIM])
    if any(value is None for value in inputs.values()):
        return None
    deployment = view.ledger.deployment
    return {
        "version": EVIDENCE_VERSION, "made_at": now, "verifier": service.settings.VERIFIER_PUBLIC_URL,
        "presentation": {"sha256": hashlib.sha256(presentation.encode("utf-8", "replace")).hexdigest(),
                         "format": result.format},
        "credential": credential, "verified": result.verified, "undecided": result.undecided,
        "checks": [{**check.to_json(), **({"inputs": inputs[check.check]} if check.check in inputs else {})}
                   for check in result.checks],
        "ledger": {"chain_id": deployment.chain_id, "trust_registry": deployment.trust_registry.address,
                   "status_registry": deployment.status_registry.address,
                   "issuance_registry": deployment.issuance_registry.address if deployment.issuance_registry else None,
                   "block": head.number, "block_hash": head.hash},
        "issuer": result.issuer, "claims": result.claims, "claims_omitted": False,
    }


def offer_evidence(result: VerificationResult, presentation: str, now: int) -> str | None:
    """Keep the evidence of a result just shown; the id its page's download form names (None: none offered)."""
    service = current_service()
    from ledger.chain import deadline  # here: ledger.chain loads web3, as in verifier.service

    try:
        with deadline(service.settings.VERIFIER_DEADLINE):
            payload = evidence_payload(service, result, presentation, now)
        if payload is None:
            return None
        offer_id = secrets.token_urlsafe(18)
        service.store.put(OFFER_NAMESPACE, offer_id, json.dumps(payload), OFFER_TTL_S)
    except (MicrocredError, ConnectionError, TimeoutError) as exc:
        _log.warning("no evidence offered for this result: %s", exc)
        return None
    return offer_id


def evidence_file(payload: dict[str, Any], key: PrivateKey, *, claims: str) -> str:
    """The signed evidence file of a kept ``payload``, the disclosed claims included or omitted."""
    if claims not in CLAIM_CHOICES:
        raise InvalidInput(f"expected claims to be {' or '.join(CLAIM_CHOICES)}, found {claims[:20]!r}")
    if claims == "omit":
        payload = {**payload, "claims": None, "claims_omitted": True}
    return sign_evidence(payload, key)


@bp.post("/evidence/<offer_id>")
def download(offer_id: str):
    service = current_service()
    kept = service.store.get(OFFER_NAMESPACE, offer_id[:64]) if len(offer_id) <= 64 else None
    if kept is None:
        abort(404, "this evidence is no longer kept: verify the presentation again to get evidence")
    payload = json.loads(kept)
    text = evidence_file(payload, evidence_key(service.data_dir()), claims=request.form.get("claims", "omit"))
    name = f"evidence-{payload['presentation']['sha256'][:12]}.json"
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/.well-known/jwks.json")
def jwks():
    """The public keys evidence files are signed with (RFC 7517 JWK Set)."""
    response = jsonify(jwk_set([evidence_key(current_service().data_dir()).public_key()]))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
