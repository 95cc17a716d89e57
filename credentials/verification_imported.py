"""Whole credentials through the verifier's named checks: JWT VCs, Open Badges, Europass EDCs, and their VPs.

The formats ARCHITECTURE.md calls imported ("Formats" ⚑), each verified by its
module and reported with the same checks and the same one answer as an
SD-JWT VC (:mod:`credentials.verification`):

==================  =================================================================
``vc+jwt``,         W3C VC secured as a JWT (:mod:`credentials.jwt_vc`), Open Badges
``jwt_vc_json``     3.0 / CLR 2.0 among them (then also their form,
                    :func:`credentials.open_badges.check_open_badge_credential`)
``ldp_vc``          Open Badges 3.0 / CLR 2.0 with Data Integrity proofs
                    (:func:`credentials.open_badges.verify_open_badge`)
``europass-edc``    a Europass EDC sealed with JAdES (:mod:`credentials.europass`)
``vp+jwt``,         a holder-signed presentation of one of the above
``jwt_vp_json``,    (:mod:`credentials.verification_vp`)
``ldp_vp``
==================  =================================================================

Checks: ``format``; ``signature`` (issuer keys from did:key / did:jwk / did:web
through :class:`~credentials.verification_keys.KeyResolver`, seals through the
configured X.509 anchors); ``disclosures`` skipped (whole credentials);
``holder_binding`` the presentation's signature by the credential's holder,
or ``skipped`` with why for a credential shown on its own when
``Policy.whole_credential_binding_required`` is off; ``replay`` of the
presentation; ``validity_period``; ``issuer_trust`` for any of the
credential's type strings (:mod:`credentials.verification_types`);
``revocation`` by W3C status lists (:mod:`credentials.status_check_bitstring`) or a 1EdTech
revocation list (:mod:`credentials.status_check_1edtech`);
``schema`` 1EdTech's OB 3.0 JSON Schema where it applies. ``claims`` is the
credential subject, ``annex`` its Annex I view. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from credentials._json import json_loads
from credentials.annex_elm import annex_from_elm
from credentials.annex_ob3 import annex_from_ob3
from credentials.annex_view import AnnexView
from credentials.data_integrity import verify_data_integrity
from credentials.errors import (
    FormatError,
    InvalidInput,
    IssuerTrustError,
    ReplayError,
    RevocationError,
    SchemaViolation,
    SignatureError,
    VerificationError,
)
from credentials.europass import check_seal_form, verify_sealed_edc
from credentials.issuance_anchor import ISSUANCE_PROOF_VP_MEMBER, IssuanceAnchorResolver, check_issuance_anchor
from credentials.jades import verify_jades
from credentials.jose import IMPORTED_FORMAT_ALGS, UnverifiedJws
from credentials.jsonld import MAX_DOCUMENT_BYTES, check_bounds, parse_json_document
from credentials.jwt_vc import verify_jwt_vc
from credentials.open_badges import (
    CLR_CREDENTIAL,
    LDP_VC_FORMAT,
    OPEN_BADGE_TYPES,
    check_open_badge_credential,
    open_badge_schema_problems,
    verify_open_badge,
)
from credentials.status_check_1edtech import check_1edtech_revocation, uses_revocation_list
from credentials.status_check_bitstring import W3cListMemo, check_w3c_revocation
from credentials.verification_keys import KeyResolver
from credentials.verification_model import (
    FAILED,
    PASSED,
    SKIPPED,
    UNAVAILABLE,
    CheckRun,
    Policy,
    ReplayGuard,
    StatusResolver,
    TrustAnswer,
    TrustResolver,
    Unavailable,
    VerificationResult,
    ask,
    issuer_json,
    judge_accreditation,
)
from credentials.verification_types import edc_types, jwt_vc_types, ob3_types
from credentials.verification_vp import (
    UnverifiedPresentation,
    looks_like_presentation,
    parse_presentation,
    verify_holder_binding,
)
from credentials.x509_trust import TrustAnchors, seal_subject

__all__ = ["ImportedContext", "VerifiedWhole", "verify_imported", "looks_sealed"]

_HEADER_KEYS = ("jwk", "jku", "x5c", "x5u")
_EARLIER = "an earlier check failed"


@dataclass(frozen=True)
class ImportedContext:
    """What verifying a whole credential needs besides the text: policy, resolvers, the time."""

    policy: Policy
    trust: TrustResolver
    replay: ReplayGuard
    now: int
    keys: KeyResolver = field(default_factory=KeyResolver)
    lists: StatusResolver | None = None
    trust_anchors: TrustAnchors | None = None
    memo: W3cListMemo = field(default_factory=W3cListMemo)
    issuance: IssuanceAnchorResolver | None = None


@dataclass(frozen=True)
class VerifiedWhole:
    """A whole credential whose format and signature passed (its validity period too, unless noted)."""

    format: str
    description: str
    signature_detail: str
    issuer_id: str
    credential: dict[str, Any]
    types: tuple[str, ...]
    issued_at: int | None
    valid_detail: str
    holder_did: str | None = None
    holder_jwk: dict[str, Any] | None = None
    annex: AnnexView | None = None
    schema_problems: tuple[str, ...] | None = None


def looks_sealed(document: Mapping[str, Any]) -> bool:
    """A JAdES JSON serialization (a sealed EDC), not a JSON-LD credential."""
    return "payload" in document and ("signatures" in document or "protected" in document)


def _subject(credential: Mapping[str, Any]) -> dict[str, Any]:
    subject = credential.get("credentialSubject")
    return dict(subject) if isinstance(subject, Mapping) else {}


def _holder(credential: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    subject_id = _subject(credential).get("id")
    cnf = credential.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) and isinstance(cnf.get("jwk"), Mapping) else None
    did = subject_id if isinstance(subject_id, str) and subject_id.startswith("did:") else None
    return did, dict(jwk) if jwk is not None else None


def _period(start: int | None, end: int | None) -> str:
    return f"valid from {start if start is not None else 'issuance'} until {end if end is not None else 'no end'}"


def _jwt_vc(token: str, ctx: ImportedContext, parsed: UnverifiedJws | None) -> VerifiedWhole:
    unverified = parsed or UnverifiedJws.parse(token, what="JWT VC", allowed_algs=IMPORTED_FORMAT_ALGS)
    carried = [n for n in _HEADER_KEYS if n in unverified.header]
    if carried:
        raise SignatureError(f"the JWT VC carries a key in its own header ({', '.join(carried)}); "
                             "the key must come from the issuer's DID")
    verified = verify_jwt_vc(unverified, resolve_issuer_key=ctx.keys.issuer_key, now=ctx.now,
                             leeway=ctx.policy.clock_skew)
    credential = verified.credential
    holder_did, holder_jwk = _holder(credential)
    if holder_jwk is None and isinstance(unverified.payload.get("cnf"), Mapping):
        holder_jwk = _holder({"cnf": unverified.payload["cnf"]})[1]
    listed = credential.get("type")
    badge_kinds = [t for t in (listed if isinstance(listed, list) else [listed]) if t in OPEN_BADGE_TYPES]
    plain = VerifiedWhole(verified.format, f"{verified.format} credential",
                          f"{verified.alg} by {verified.kid or verified.issuer_id}", verified.issuer_id, credential,
                          jwt_vc_types(listed, ctx.policy.accepted_vcts), verified.valid_from,
                          _period(verified.valid_from, verified.valid_until), holder_did, holder_jwk)
    if not badge_kinds:
        return plain
    info = check_open_badge_credential(credential, now=ctx.now, leeway=ctx.policy.clock_skew)
    return replace(plain, description=f"{verified.format} {info.kind} (VCDM {info.data_model})",
                   types=ob3_types(info.kind, info.achievements), annex=annex_from_ob3(credential),
                   schema_problems=open_badge_schema_problems(info))


def _ldp_vc(document: dict[str, Any], ctx: ImportedContext) -> VerifiedWhole:
    problems: tuple[str, ...] | None
    try:
        badge = verify_open_badge(document, resolve_verification_method=ctx.keys.verification_method, now=ctx.now,
                                  leeway=ctx.policy.clock_skew)
        info, suites = badge.info, ", ".join(sorted({p.cryptosuite for p in badge.proofs}))
        problems = None if info.kind == CLR_CREDENTIAL or info.data_model != "2.0" else ()  # as verify_open_badge
    except SchemaViolation as exc:  # raised last: form, proofs and validity period all passed
        info, suites, problems = check_open_badge_credential(document, now=ctx.now), "Data Integrity", (exc.reason,)
    holder_did, holder_jwk = _holder(document)
    return VerifiedWhole(LDP_VC_FORMAT, f"{LDP_VC_FORMAT} {info.kind} (VCDM {info.data_model})",
                         f"{suites} by {info.issuer_id}", info.issuer_id, dict(document),
                         ob3_types(info.kind, info.achievements), info.valid_from,
                         _period(info.valid_from, info.valid_until), holder_did, holder_jwk,
                         annex_from_ob3(document), problems)


def _edc(text: str, ctx: ImportedContext) -> VerifiedWhole:
    if ctx.trust_anchors is None:
        check_seal_form(text)  # a malformed seal fails format, as it does where anchors are configured
        raise SignatureError("no X.509 trust anchors are configured on this verifier, so no seal can be traced to "
                             "a trusted authority")
    sealed = verify_sealed_edc(text, trust_anchors=ctx.trust_anchors, now=ctx.now, leeway=ctx.policy.clock_skew)
    holder_did, _ = _holder(sealed.credential)
    anchor = sealed.chain[-1].subject if sealed.chain else "an anchor"
    return VerifiedWhole(sealed.format, "Europass EDC sealed with JAdES",
                         f"{sealed.alg} seal of {sealed.legal_name or sealed.issuer_id} ({sealed.issuer_id}), "
                         f"certificate chain to {anchor[:120]}", sealed.issuer_id, sealed.credential,
                         edc_types(sealed.credential_profiles), sealed.signing_time,
                         _period(sealed.valid_from, sealed.valid_until), holder_did, sealed.holder_jwk,
                         annex_from_elm(sealed.credential), None)


def _verify_whole(credential: str | dict[str, Any], ctx: ImportedContext, run: CheckRun,
                  parsed: UnverifiedJws | None = None) -> VerifiedWhole | None:
    """Format, signature and validity period of one whole credential into ``run``; None if one failed.

    ``parsed``: the JWT ``credential`` already split and decoded by the caller (it is decoded once)."""
    try:
        try:
            if isinstance(credential, dict):
                if looks_sealed(credential):
                    return _edc(_json_text(credential), ctx)
                return _ldp_vc(credential, ctx)
            text = credential.strip()
            if text.startswith("{"):
                document = _json(text)
                return _edc(text, ctx) if looks_sealed(document) else _ldp_vc(document, ctx)
            return _jwt_vc(text, ctx, parsed)
        except (ConnectionError, TimeoutError) as exc:
            run.set("format", PASSED, "credential")
            run.set("signature", UNAVAILABLE, f"the issuer's key cannot be fetched now: {str(exc)[:200]}")
            return None
    except VerificationError as exc:
        if exc.check != "format":
            run.set("format", PASSED, "credential")
        if exc.check in ("validity_period", "schema"):
            run.set("signature", PASSED, "the issuer's signature matches")
        run.fail(exc)
        return None


def _json_text(document: Mapping[str, Any]) -> str:
    """A JSON object back to text (a JAdES seal signs its payload string, not this envelope)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _json(text: str) -> dict[str, Any]:
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_DOCUMENT_BYTES:
        raise FormatError(f"the credential is {size} bytes, over the limit of {MAX_DOCUMENT_BYTES}")
    try:
        value = json_loads(text, what="the credential")
    except InvalidInput as exc:
        raise FormatError(str(exc)) from None
    if not isinstance(value, dict):
        raise FormatError("a JSON credential must be a JSON object")
    return value


def _trust(run: CheckRun, ctx: ImportedContext, whole: VerifiedWhole) -> TrustAnswer | None:
    policy, issuer = ctx.policy, whole.issuer_id
    if not whole.types:
        run.fail(IssuerTrustError(f"credential type {whole.credential.get('type')!r:.120} is not one this verifier "
                                  "accepts"))
        return None
    if whole.issued_at is None:
        run.fail(IssuerTrustError("the credential states no issuance time, so its issuer's accreditation at issuance "
                                  "cannot be checked"))
        return None
    refusals: list[TrustAnswer] = []
    for kind in whole.types:
        answer = ask(ctx.trust, issuer, kind, whole.issued_at)
        if isinstance(answer, Unavailable):
            run.set("issuer_trust", UNAVAILABLE, f"the trust registry cannot be read: {answer.reason}")
            return None
        if not answer.accredited:
            refusals.append(answer)
            continue
        level = whole.annex.eqf_level_value if whole.annex else None
        judge_accreditation(run, policy, answer, issuer, kind, whole.issued_at, level)
        return answer
    run.fail(IssuerTrustError(f"{refusals[0].reason} (credential types: {', '.join(whole.types)})"))
    return refusals[0]


def _binding(run: CheckRun, ctx: ImportedContext, whole: VerifiedWhole,
             presentation: UnverifiedPresentation | None) -> Any:
    unbound = whole.holder_did is None and whole.holder_jwk is None
    if presentation is None or unbound:
        if presentation is None:
            why = (f"a {whole.format} credential shown on its own carries no proof of who presents it (no "
                   "holder-signed presentation)")
        else:
            why = (f"the credential names no holder (no credentialSubject.id DID, no cnf key), so the presentation's "
                   f"signature by {str(presentation.holder)[:80]} cannot tie it to the person showing it")
        if ctx.policy.whole_credential_binding_required:
            run.set("holder_binding", FAILED, f"{why}, and this verifier requires that binding")
        else:
            run.set("holder_binding", SKIPPED, f"{why}; this verifier does not require one", required=False)
        run.set("replay", SKIPPED, "no holder-bound presentation to check for replay", required=False)
        return None
    try:
        bound = verify_holder_binding(presentation, holder_did=whole.holder_did, holder_jwk=whole.holder_jwk,
                                      keys=ctx.keys, policy=ctx.policy, now=ctx.now)
    except VerificationError as exc:
        run.set("holder_binding", FAILED, exc.reason)
        return None
    except (ConnectionError, TimeoutError) as exc:
        run.set("holder_binding", UNAVAILABLE, f"the holder's key cannot be fetched now: {str(exc)[:200]}")
        return None
    run.set("holder_binding", PASSED, f"{presentation.format} signed by the credential's holder for "
            f"{bound.audience!r}, {ctx.now - bound.issued_at} s ago")
    return bound


def _replay(run: CheckRun, ctx: ImportedContext, bound: Any) -> None:
    if not run.replay_earned() or bound is None:  # the replay check says why not
        return
    first = ask(ctx.replay, "vp:" + bound.replay_id, bound.expires_at)
    if isinstance(first, Unavailable):
        run.set("replay", UNAVAILABLE, f"the replay cache cannot be read: {first.reason}")
    elif first:
        run.set("replay", PASSED, "this presentation has not been seen before")
    else:
        run.fail(ReplayError("this exact presentation was already shown to this verifier"))


def _list_verifier(ctx: ImportedContext) -> Callable[[str, str, int], Mapping[str, Any]]:
    """Checks a status list credential's signature (vc+jwt / jwt_vc_json, Data Integrity, JAdES) and its signer."""

    def verify(text: str, issuer: str, now: int) -> Mapping[str, Any]:
        if text.lstrip().startswith("{"):
            document = parse_json_document(text, what="the status list credential")
            if looks_sealed(document):
                if ctx.trust_anchors is None:
                    raise SignatureError("no X.509 trust anchors are configured to check the list's seal")
                sealed = verify_jades(document, trust_anchors=ctx.trust_anchors, now=now)
                signer = seal_subject(sealed.certificate).issuer_id
                credential = _json(sealed.payload.decode("utf-8", "replace"))
            else:
                proofs = verify_data_integrity(document, resolve_verification_method=ctx.keys.verification_method,
                                               now=now)
                named = document.get("issuer")
                named = named.get("id") if isinstance(named, Mapping) else named
                signer = str(named) if all(p.controller == named for p in proofs) else proofs[0].controller
                credential = document
        else:
            verified = verify_jwt_vc(text, resolve_issuer_key=ctx.keys.issuer_key, now=now,
                                     leeway=ctx.policy.clock_skew)
            signer, credential = verified.issuer_id, verified.credential
        if signer != issuer:
            raise RevocationError(f"the status list is signed by {str(signer)[:80]}, not by the credential's issuer "
                                  f"{issuer[:80]}")
        return credential

    return verify


def _vp_member(presentation: UnverifiedPresentation | None, name: str) -> Any:
    """The VP object's member ``name`` (a vp+jwt payload, a jwt_vp_json's ``vp`` claim, an ldp_vp), or None."""
    if presentation is None:
        return None
    if presentation.document is not None:
        return presentation.document.get(name)
    payload: Mapping[str, Any] = presentation.jws.payload if presentation.jws is not None else {}
    inner = payload.get("vp")
    vp: Mapping[str, Any] = inner if isinstance(inner, Mapping) else payload
    return vp.get(name)


def verify_imported(run: CheckRun, text: str, ctx: ImportedContext) -> VerificationResult:
    """Every check on a whole credential or a presentation of one (``text``: JWT or JSON)."""
    presentation: UnverifiedPresentation | None = None
    unverified: UnverifiedJws | None = None
    try:
        stripped = text.strip()
        if stripped.startswith("{"):
            document = _json(stripped)
            if looks_sealed(document) or not looks_like_presentation(document):
                inner: str | dict[str, Any] = stripped
            else:
                check_bounds(document, what="the presentation")
                presentation = parse_presentation(document)
        else:
            unverified = UnverifiedJws.parse(stripped, what="JWT", allowed_algs=IMPORTED_FORMAT_ALGS)
            if looks_like_presentation(unverified):
                presentation = parse_presentation(stripped)
            inner = stripped
        if presentation is not None:
            inner = presentation.credential
    except VerificationError as exc:
        if exc.check != "format":
            run.set("format", PASSED, "JWT")
        run.fail(exc)
        return VerificationResult(None, run.finish(_EARLIER))
    form = presentation.format if presentation else None
    whole = _verify_whole(inner, ctx, run, unverified if presentation is None else None)
    if whole is None:
        return VerificationResult(form, run.finish(_EARLIER))
    wrapped = f"{presentation.format} presentation of a " if presentation else ""
    run.set("format", PASSED, wrapped + whole.description)
    run.set("signature", PASSED, whole.signature_detail)
    run.set("disclosures", SKIPPED, f"a {whole.format} credential is shown whole (no selective disclosure)",
            required=False)
    bound = _binding(run, ctx, whole, presentation)
    run.set("validity_period", PASSED, whole.valid_detail)
    answer = _trust(run, ctx, whole)
    _replay(run, ctx, bound)
    if uses_revocation_list(whole.credential):
        shown = check_1edtech_revocation(run, ctx.policy, ctx.lists, whole.credential, whole.issuer_id, ctx.now)
    else:
        shown = check_w3c_revocation(run, ctx.policy, ctx.lists, whole.credential, whole.issuer_id,
                                     _list_verifier(ctx), ctx.now, ctx.memo,
                                     status_required=ctx.policy.imported_status_required)
    if whole.schema_problems is None:
        run.set("schema", SKIPPED, f"no schema is checked for {whole.description} credentials", required=False)
    elif whole.schema_problems:
        run.fail(SchemaViolation("the credential breaks its schema: " + "; ".join(whole.schema_problems[:5])))
    else:
        run.set("schema", PASSED, "the credential fits 1EdTech's Open Badges 3.0 JSON Schema")
    check_issuance_anchor(run, inner if isinstance(inner, str) else _json_text(inner),
                          _vp_member(presentation, ISSUANCE_PROOF_VP_MEMBER), whole.issuer_id, ctx.issuance,
                          required=ctx.policy.issuance_anchor_required)
    binding = {"audience": bound.audience, "nonce": bound.nonce, "iat": bound.issued_at} if bound else None
    return VerificationResult(form or whole.format, run.finish(_EARLIER), issuer_json(whole.issuer_id, answer),
                              _subject(whole.credential), shown, answer.chain if answer else (), binding, whole.annex)
