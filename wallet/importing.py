"""Import a credential into an account: recognise, verify with the core, check whose it is, store once.

Formats, told apart by their shape (the stored ``format`` column in brackets):

- SD-JWT VC (draft-ietf-oauth-sd-jwt-vc over RFC 9901), ``<JWT>~<D>~…~``
  [``dc+sd-jwt``]: :func:`credentials.sd_jwt_vc.verify_sd_jwt_vc` (no KB-JWT:
  a stored credential is the issued form), the vct's schema when microcred
  knows the vct (:func:`credentials.credential_types.sd_jwt_vc_type`: its own
  micro-credential, the EUDI learning credential), bound through ``cnf.jwk``;
- W3C VC secured as a JWT (VCDM 2.0 ``vc+jwt``, VCDM 1.1 ``jwt_vc_json``;
  Open Badges 3.0 / CLR 2.0 among them) [``jwt_vc``]:
  :func:`credentials.jwt_vc.verify_jwt_vc` (RS256 / PS256 allowed for these
  imported formats), and for a badge the OB 3.0 form
  (:func:`credentials.open_badges.check_open_badge_credential`);
- Open Badge 3.0 / CLR 2.0 with a Data Integrity proof, JSON [``ldp_vc``]:
  :func:`credentials.open_badges.verify_open_badge`;
- Europass EDC sealed with JAdES, JSON [``europass-edc``]:
  :func:`credentials.europass.verify_sealed_edc` against the X.509 trust
  anchors of ``MICROCRED_X509_TRUST_ANCHORS``;
- an OB 3.0 or ELM document with no proof or seal [``unsigned``]: refused,
  unless the learner chose "keep as unverified"; then stored with
  ``verified = 0`` and labelled so everywhere, never counted or shared.

With its issuance proof: a JSON object ``{"credential": "<compact credential>",
"issuance_proof": {…}}`` — the issuer's ``<id>.with-proof.json`` file, the
same object as in the OpenID4VCI credential response — is the credential
with the RFC 9162 inclusion proof of its issuing batch
(:mod:`credentials.merkle`); the proof must lead from this credential to its
root (else ``format`` fails saying so) and is kept (``issuance_proof``) to be
sent along in each presentation. Whether the root is anchored is the
verifier's ``issuance_anchor`` check.

Whose it is: an SD-JWT VC must be bound (``cnf.jwk``) to one of the account's
keys; a W3C credential whose subject (or an EDC whose ``cnf``) names a
did:key / did:jwk that is not the account's is refused as another holder's;
one naming no DID subject is kept, ``subject_bound = 0``: presenting it
proves the presenter holds this wallet's key, not that they are its subject.

JSON credentials may be up to 2 MB (:data:`MAX_JSON_BYTES`); compact tokens
keep the SD-JWT / JWT caps. Everything is refused with a
:class:`VerificationError` naming its check (or :class:`DuplicateCredential`)
before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from credentials._json_limits import parse_limited_json
from credentials.annex_view import AnnexView
from credentials.credential_types import sd_jwt_vc_type
from credentials.errors import (
    DuplicateCredential,
    FormatError,
    HolderBindingError,
    InvalidInput,
    SignatureError,
    VerificationError,
)
from credentials.europass import EDC_JSON_LIMITS, EDC_TYPE, MAX_EDC_BYTES, verify_sealed_edc
from credentials.jose import MAX_TOKEN_LENGTH, PublicKey
from credentials.jwt_vc import verify_jwt_vc
from credentials.merkle import IssuanceProof, credential_leaf
from credentials.multikey import resolve_did_verification_method
from credentials.open_badges import OPEN_BADGE_TYPES, check_open_badge_credential, verify_open_badge
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import IssuerKeyResolver, resolve_did_issuer_key, verify_sd_jwt_vc
from credentials.x509_trust import TrustAnchors
from wallet.annex import (
    FORMAT_EDC,
    FORMAT_JWT_VC,
    FORMAT_LDP_VC,
    FORMAT_SD_JWT_VC,
    FORMAT_UNSIGNED,
    annex_for_document,
    annex_for_sd_jwt,
)
from wallet.checking import Badge, TrustCheck, badge_for, unverified_badge
from wallet.db import inserted_id
from wallet.holding import HolderKeyRecord

__all__ = [
    "FORMAT_SD_JWT_VC",
    "FORMAT_JWT_VC",
    "FORMAT_LDP_VC",
    "FORMAT_EDC",
    "FORMAT_UNSIGNED",
    "MAX_JSON_BYTES",
    "DuplicateCredential",
    "CheckedCredential",
    "unsigned_document_kind",
    "check_credential",
    "store_credential",
    "import_credential",
    "assess_credential",
]

#: The member beside ``credential`` that carries its issuance proof (issuer.oid4vci.ISSUANCE_PROOF_MEMBER).
ISSUANCE_PROOF_MEMBER = "issuance_proof"
#: ``(credential, its issuance proof or None) -> the resolver of its issuer's key``.
IssuerKeysFor = Callable[[str, "dict[str, Any] | None"], IssuerKeyResolver]
#: A JSON credential (sealed EDC, Open Badge) larger than this is refused.
MAX_JSON_BYTES = MAX_EDC_BYTES
_MAX_TITLE = 200
_KEY_DID = re.compile(r"^did:(?:key|jwk):")
_VCDM_CONTEXTS = ("https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/v2")
_ELM_CONTEXT = re.compile(r"https?://data\.europa\.eu/snb/model/context/[A-Za-z0-9._-]{1,64}")
_SEAL_MEMBERS = ("signatures", "signature", "protected")


@dataclass(frozen=True)
class CheckedCredential:
    """A credential that passed import (or was kept as unverified): what to store and show."""

    format: str
    raw: str
    raw_sha256: str
    issuer: str
    vct: str
    holder_key_id: int
    view: AnnexView
    verified: bool = True
    subject_bound: bool = True
    #: The issuer's inclusion proof (credentials.merkle.IssuanceProof JSON), when delivered with it.
    issuance_proof: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return (self.view.title.text() if self.view.title else self.vct)[:_MAX_TITLE] or self.vct[:_MAX_TITLE]

    @property
    def issuer_name(self) -> str:
        bodies = self.view.awarding_bodies
        return (bodies[0].name.text() if bodies else _short_id(self.issuer))[:_MAX_TITLE]

    @property
    def ects(self) -> float | None:
        value = self.view.ects_value
        return float(value) if isinstance(value, Decimal) else None

    @property
    def issued_on(self) -> str | None:
        return self.view.issued_on.text()[:40] if self.view.issued_on else None


def _short_id(identifier: str) -> str:
    return identifier if len(identifier) <= 40 else f"{identifier[:28]}…{identifier[-8:]}"


def _matching_key(thumbprint: str | None, dids: set[str], keys: list[HolderKeyRecord]) -> HolderKeyRecord:
    for key in keys:
        if thumbprint is not None and key.thumbprint == thumbprint:
            return key
        if dids & set(key.dids):
            return key
    raise HolderBindingError("this credential is bound to another holder's key, not to this wallet's; "
                             "ask its issuer to issue it to you")


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    try:
        return PublicKey.from_jwk(jwk).thumbprint()
    except InvalidInput as exc:
        raise HolderBindingError(f"the credential's holder key is unusable: {exc}") from exc


def _bind_subject(subject_id: str | None, holder_jwk: Mapping[str, Any] | None,
                  keys: list[HolderKeyRecord]) -> tuple[HolderKeyRecord, bool]:
    """(the key to present with, whether the credential names it) for a W3C credential or an EDC."""
    if holder_jwk is not None:
        return _matching_key(_thumbprint(holder_jwk), set(), keys), True
    if isinstance(subject_id, str) and _KEY_DID.match(subject_id):
        return _matching_key(None, {subject_id.split("#", 1)[0]}, keys), True
    if not keys:
        raise HolderBindingError("this account has no holder key to present the credential with")
    return keys[-1], False  # the newest key signs its presentations


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    if isinstance(value, str):
        return {value}
    return {t for t in value if isinstance(t, str)} if isinstance(value, list) else set()


def _sd_jwt_vc(raw: str, keys: list[HolderKeyRecord], now: int,
               issuer_key: IssuerKeyResolver = resolve_did_issuer_key) -> CheckedCredential:
    HolderSdJwt.parse(raw)  # structure: every disclosure at exactly one place, no KB-JWT
    verified = verify_sd_jwt_vc(raw, resolve_issuer_key=issuer_key, now=now, key_binding=None)
    if verified.holder_jwk is None:
        raise HolderBindingError("this credential names no holder key (cnf.jwk), so it cannot be presented as yours")
    key = _matching_key(_thumbprint(verified.holder_jwk), set(), keys)
    known = sd_jwt_vc_type(verified.vct)
    if known is not None:
        known.validate_disclosed({**verified.disclosed, "iss": verified.issuer, "iat": verified.issued_at,
                                  "vct": verified.vct})
    return CheckedCredential(FORMAT_SD_JWT_VC, raw, _sha256(raw), verified.issuer, verified.vct, key.id,
                             view=annex_for_sd_jwt(raw))


def _jwt_vc(raw: str, keys: list[HolderKeyRecord], now: int,
            issuer_key: IssuerKeyResolver = resolve_did_issuer_key) -> CheckedCredential:
    verified = verify_jwt_vc(raw, resolve_issuer_key=issuer_key, now=now)
    credential = verified.credential
    badge_types = sorted(_types(credential) & OPEN_BADGE_TYPES)
    if badge_types:
        check_open_badge_credential(credential, now=now)  # OB 3.0 form and contexts, whatever secures it
    key, bound = _bind_subject(verified.subject_id, None, keys)
    types = credential.get("type")
    last_type = types[-1] if isinstance(types, list) and types else "VerifiableCredential"
    kind = badge_types[0] if badge_types else str(last_type)
    return CheckedCredential(FORMAT_JWT_VC, raw, _sha256(raw), verified.issuer_id, kind, key.id,
                             view=annex_for_document(credential), subject_bound=bound)


def _ldp_vc(raw: str, document: dict[str, Any], keys: list[HolderKeyRecord], now: int) -> CheckedCredential:
    badge = verify_open_badge(document, resolve_verification_method=resolve_did_verification_method, now=now)
    key, bound = _bind_subject(badge.info.subject_id, None, keys)
    return CheckedCredential(FORMAT_LDP_VC, raw, _sha256(raw), badge.issuer_id, badge.info.kind, key.id,
                             view=annex_for_document(document), subject_bound=bound)


def _edc(raw: str, keys: list[HolderKeyRecord], now: int, anchors: TrustAnchors | None) -> CheckedCredential:
    if anchors is None:
        raise SignatureError("no X.509 trust anchors are configured (MICROCRED_X509_TRUST_ANCHORS), so the "
                             "seal's certificate chain cannot be checked")
    sealed = verify_sealed_edc(raw, trust_anchors=anchors, now=now)
    subject = sealed.credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    key, bound = _bind_subject(subject_id if isinstance(subject_id, str) else None, sealed.holder_jwk, keys)
    return CheckedCredential(FORMAT_EDC, raw, _sha256(raw), sealed.issuer_id, EDC_TYPE, key.id,
                             view=annex_for_document(sealed.credential), subject_bound=bound)


def _is_elm_document(document: Mapping[str, Any]) -> bool:
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    return (bool(contexts) and contexts[0] in _VCDM_CONTEXTS
            and all(isinstance(c, str) and _ELM_CONTEXT.fullmatch(c) for c in contexts[1:]) and len(contexts) > 1
            and {"VerifiableCredential", EDC_TYPE} <= _types(document)
            and isinstance(document.get("credentialSubject"), dict))


def _unsigned_kind(document: Mapping[str, Any], now: int) -> str:
    """What an unsigned document is ("Open Badge", "Europass credential"); FormatError if neither."""
    if _types(document) & OPEN_BADGE_TYPES:
        check_open_badge_credential(document, now=now)  # known contexts, OB form, validity period
        return "Open Badge"
    if _is_elm_document(document):
        return "Europass credential"
    raise FormatError("this JSON is neither a sealed Europass credential nor an Open Badge with a proof; "
                      "microcred cannot tell what it is")


def _unsigned(raw: str, document: dict[str, Any], keys: list[HolderKeyRecord], now: int,
              keep_unverified: bool) -> CheckedCredential:
    kind = _unsigned_kind(document, now)
    if not keep_unverified:
        raise SignatureError(f"this {kind} carries no signature or seal, so nothing shows who issued it or that "
                             "it was not changed")
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    key, _ = _bind_subject(None, None, keys)
    return CheckedCredential(FORMAT_UNSIGNED, raw, _sha256(raw), str(issuer_id or "unknown")[:400], kind, key.id,
                             view=annex_for_document(document), verified=False, subject_bound=False)


def _parse_json(raw: str) -> dict[str, Any]:
    return parse_limited_json(raw, EDC_JSON_LIMITS, max_bytes=MAX_JSON_BYTES, what="the credential")


def unsigned_document_kind(text: object, *, now: int) -> str | None:
    """"Open Badge" / "Europass credential" when ``text`` is such a document without proof or seal, else None."""
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return None
    try:
        document = _parse_json(text.strip())
        if "proof" in document or any(member in document for member in _SEAL_MEMBERS):
            return None
        return _unsigned_kind(document, now)
    except VerificationError:
        return None


def _with_proof(text: str) -> tuple[str, dict[str, Any]] | None:
    """``(credential, proof)`` of a credential delivered with its issuance proof, or None for anything else."""
    stripped = text.strip()
    if not stripped.startswith("{") or '"issuance_proof"' not in stripped:
        return None
    document = _parse_json(stripped)
    if set(document) != {"credential", ISSUANCE_PROOF_MEMBER}:
        return None
    credential, unverified_proof = document["credential"], document[ISSUANCE_PROOF_MEMBER]
    if not isinstance(credential, str):
        raise FormatError("expected the credential beside its issuance proof as a compact string")
    try:
        proof = IssuanceProof.from_json(unverified_proof)
        leaf = credential_leaf(credential)
    except InvalidInput as exc:
        raise FormatError(f"the issuance proof cannot be used: {exc}") from None
    if not proof.proves(leaf):
        raise FormatError("the issuance proof does not belong to this credential (it does not lead from it to "
                          "its root)")
    return credential, proof.to_json()


def check_credential(text: object, keys: list[HolderKeyRecord], *, now: int,
                     trust_anchors: TrustAnchors | None = None, keep_unverified: bool = False,
                     issuer_keys: IssuerKeysFor | None = None) -> CheckedCredential:
    """Parse and verify ``text`` for an account holding ``keys``; raise on anything wrong.

    ``issuer_keys(credential, issuance proof or None)`` gives the resolver of the issuer's key of a JWT
    (default: did:key / did:jwk offline; the app's ledger check also resolves did:mcr, at the proof's
    anchor block when there is one: :meth:`wallet.checking.LedgerTrustCheck.issuer_keys`).

    ``keep_unverified``: the learner chose to keep an unsigned OB 3.0 / ELM
    document; it comes back with ``verified=False``. Nothing else is ever kept unverified.
    """
    if not isinstance(text, str):
        raise FormatError("expected the credential as text")
    bundle = _with_proof(text)
    if bundle is not None:
        credential, proof = bundle
        checked = check_credential(credential, keys, now=now, trust_anchors=trust_anchors,
                                   issuer_keys=(lambda raw, _: issuer_keys(raw, proof)) if issuer_keys else None)
        return replace(checked, issuance_proof=proof)
    if text.lstrip().startswith("{"):
        raw = text.strip()  # JSON keeps its spaces: they may sit inside strings the signature covers
        document = _parse_json(raw)
        if "payload" in document and any(member in document for member in _SEAL_MEMBERS):
            return _edc(raw, keys, now, trust_anchors)
        if "proof" in document:
            return _ldp_vc(raw, document, keys, now)
        return _unsigned(raw, document, keys, now, keep_unverified)
    raw = "".join(text.split())  # pasted text may be wrapped; no whitespace belongs in a compact token
    if not raw:
        raise FormatError("nothing was pasted or uploaded")
    if len(raw) > MAX_TOKEN_LENGTH:
        raise FormatError(f"the credential is {len(raw)} characters, more than the {MAX_TOKEN_LENGTH} accepted")
    try:
        issuer_key = issuer_keys(raw, None) if issuer_keys else resolve_did_issuer_key
        if "~" in raw:
            return _sd_jwt_vc(raw, keys, now, issuer_key)
        return _jwt_vc(raw, keys, now, issuer_key)
    except VerificationError:
        raise
    except InvalidInput as exc:
        raise FormatError(f"the credential is malformed: {exc}") from exc


def store_credential(db: Database, account_id: int, checked: CheckedCredential, badge: Badge, *, now: int) -> int:
    """Insert inside the caller's transaction; :class:`DuplicateCredential` if already held."""
    existing = db.execute(
        "SELECT id FROM credentials WHERE account_id = ? AND raw_sha256 = ?", [account_id, checked.raw_sha256]
    ).fetchone()
    if existing:
        raise DuplicateCredential(existing[0])
    view = checked.view
    cursor = db.execute(
        "INSERT INTO credentials (account_id, holder_key_id, format, raw, raw_sha256, issuer, vct, title, issuer_name, "
        "registry_name, ects, eqf_level, issued_on, badge, badge_detail, checked_at, imported_at, verified, "
        "subject_bound, view_kind, issuance_proof) VALUES (" + ", ".join("?" * 21) + ")",
        [account_id, checked.holder_key_id, checked.format, checked.raw, checked.raw_sha256, checked.issuer,
         checked.vct, checked.title, checked.issuer_name, badge.issuer_name, checked.ects, view.eqf_level_value,
         checked.issued_on, badge.state, badge.detail_json(), now, now, int(checked.verified),
         int(checked.subject_bound), view.kind,
         json.dumps(checked.issuance_proof) if checked.issuance_proof is not None else None],
    )
    return inserted_id(cursor)


def import_credential(
    db: Database,
    account_id: int,
    keys: list[HolderKeyRecord],
    text: object,
    *,
    now: int,
    trust_check: TrustCheck | None,
    trust_anchors: TrustAnchors | None = None,
    keep_unverified: bool = False,
) -> tuple[int, Badge]:
    """Check, badge and store in one go (the caller holds the transaction)."""
    checked, badge = assess_credential(keys, text, now=now, trust_check=trust_check, trust_anchors=trust_anchors,
                                       keep_unverified=keep_unverified)
    return store_credential(db, account_id, checked, badge, now=now), badge


def assess_credential(
    keys: list[HolderKeyRecord],
    text: object,
    *,
    now: int,
    trust_check: TrustCheck | None,
    trust_anchors: TrustAnchors | None = None,
    keep_unverified: bool = False,
) -> tuple[CheckedCredential, Badge]:
    """Check and badge without the database: the trust check reads the chain and fetches a status list from
    wherever the credential says, so a web request does this *before* its transaction (a write lock held over a
    slow status server stopped every other learner's requests)."""
    issuer_keys = getattr(trust_check, "issuer_keys", None)  # a did:mcr issuer's key: the ledger's
    checked = check_credential(text, keys, now=now, trust_anchors=trust_anchors, keep_unverified=keep_unverified,
                               issuer_keys=issuer_keys)
    if checked.verified:
        badge = badge_for(checked.raw, checked.format, now=now, trust_check=trust_check,
                          issuance_proof=checked.issuance_proof)
    else:
        badge = unverified_badge()
    return checked, badge
