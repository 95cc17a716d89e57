"""The verifier's core: one presentation in, every check by name out.

Implements the verification of ARCHITECTURE.md ("Verifier HTTP API" ⚑) over
SD-JWT VC presentations (IETF RFC 9901 and draft-ietf-oauth-sd-jwt-vc-12, with
Key Binding JWTs); whole credentials — W3C VCs secured as JWTs (``vc+jwt``,
``jwt_vc_json``), Open Badges 3.0 / CLR 2.0 (JWT or Data Integrity), sealed
Europass EDCs — and holder-signed presentations of them go through the same
checks in :mod:`credentials.verification_imported`:

=================  ==========================================================
``format``         the serialization, ``typ``, ``iss``/``vct``, accepted types
``signature``      the issuer's signature, key from its DID (never the token)
``disclosures``    RFC 9901 §7.1 disclosure processing
``holder_binding`` the KB-JWT: ``cnf.jwk`` signature, ``sd_hash``, ``aud``,
                   ``nonce``, ``iat`` within the window
``replay``         a KB-JWT seen before is refused
``validity_period`` ``exp`` / ``nbf`` / ``iat`` with the clock skew
``issuer_trust``   accredited for ``vct`` at ``iat`` up to a trusted root
``revocation``     Status List Token (draft-ietf-oauth-status-list) signed by
                   the issuer, its SHA-256 equal to the on-chain anchor, the bit
``schema``         the disclosed claims against the micro-credential schema
``issuance_anchor`` the holder's issuance proof (KB-JWT claim ``issuance_proof``)
                   leads to a batch root the issuer anchored: "issued no later
                   than block N" (:mod:`credentials.issuance_anchor`)
=================  ==========================================================

A check that cannot run because an earlier one failed is ``skipped``; a
resolver that cannot answer makes its check ``unavailable``. The result is
``verified`` only when every required check ``passed`` (fail closed).

No I/O here: trust, status and replay come in as callables, ``now`` is a
parameter. A resolver signals "cannot answer" by returning :class:`Unavailable`
or raising ``ConnectionError`` / ``TimeoutError`` (``ledger.errors.
LedgerUnavailable`` is one).

Module layout: the value types (policy, resolver answers, results) live in
:mod:`credentials.verification_model`, the ``revocation`` check in
:mod:`credentials.status_check`; this module runs the checks in order and
re-exports the public names of both, so callers import from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from credentials.credential_types import sd_jwt_vc_type
from credentials.did_mcr import DID_MCR_METHOD
from credentials.errors import (
    FormatError,
    InvalidDid,
    InvalidKey,
    IssuerTrustError,
    ReplayError,
    SignatureError,
    VerificationError,
)
from credentials.issuance_anchor import (
    ISSUANCE_PROOF_CLAIM,
    AnchoredIssuance,
    IssuanceAnchorResolver,
    anchored_issuance,
    check_issuance_anchor,
)
from credentials.jose import PublicKey, UnverifiedJws
from credentials.microcredential import EQF_LEVEL
from credentials.numeric_date import numeric_date
from credentials.sd_jwt.common import UnverifiedSdJwt
from credentials.sd_jwt.key_binding import parsed_kb_jwt, verify_kb_jwt
from credentials.sd_jwt.verifier import check_time_claims, sd_alg_of, unpack_disclosures
from credentials.sd_jwt_vc import ACCEPTED_TYPS, NEVER_DISCLOSABLE, resolve_did_issuer_key
from credentials.status_check import StatusListMemo, check_revocation, status_list_id
from credentials.status_check_bitstring import W3cListMemo
from credentials.verification_imported import ImportedContext, verify_imported
from credentials.verification_keys import KeyResolver
from credentials.verification_memo import IssuerJwtMemo
from credentials.verification_model import (
    FAILED,
    PASSED,
    SKIPPED,
    STATUSES,
    UNAVAILABLE,
    CheckResult,
    CheckRun,
    Policy,
    ReplayGuard,
    StatusEvidence,
    StatusResolver,
    TrustAnswer,
    TrustLink,
    TrustResolver,
    Unavailable,
    VerificationResult,
    ask,
    issuer_json,
    judge_accreditation,
)
from credentials.x509_trust import TrustAnchors

__all__ = [
    "PASSED", "FAILED", "SKIPPED", "UNAVAILABLE", "STATUSES",
    "HEADER_KEY_PARAMETERS", "Unavailable", "TrustLink", "TrustAnswer", "StatusEvidence", "Policy",
    "CheckResult", "VerificationResult", "TrustResolver", "StatusResolver", "ReplayGuard",
    "StatusListMemo", "W3cListMemo", "KeyResolver", "status_list_id", "kb_jwt_id", "verify_presentation",
]

#: JOSE header members that carry or point at a key; an issuer's key comes from its DID only.
HEADER_KEY_PARAMETERS = ("jwk", "jku", "x5c", "x5u")
_HEADER_KEYS = frozenset(HEADER_KEY_PARAMETERS)
_DID_MCR_PREFIX = f"did:{DID_MCR_METHOD}:"


def kb_jwt_id(kb_jwt: str) -> str:
    """The replay-cache id of a KB-JWT: the hex SHA-256 of its JWS signing input ``header.payload``.

    Never of the signature: ECDSA signatures are malleable ((r, s) and (r, n - s)
    both verify), so an id over the whole compact form let a presentation be
    replayed with its signature rewritten. The payload holds ``sd_hash``, so the
    id still tells apart two presentations of other disclosures.
    """
    signing_input = kb_jwt.rsplit(".", 1)[0]
    return hashlib.sha256(signing_input.encode("ascii")).hexdigest()


def _trust(run: CheckRun, policy: Policy, trust: TrustResolver, iss: str, vct: str, iat: Any,
           level: int | None, anchored: AnchoredIssuance | None = None) -> TrustAnswer | None:
    """``level``: the credential's disclosed EQF level, checked against the accreditation's ceiling;
    ``anchored``: the credential's verified issuance anchor, which keeps it trusted when the issuer's
    accreditation was revoked for cause after that block (and only then)."""
    if iat is None:
        run.fail(IssuerTrustError(
            "the credential has no 'iat', so its issuer's accreditation at issuance cannot be checked"))
        return None
    try:
        iat = numeric_date(iat, "the credential's 'iat'", IssuerTrustError)
    except IssuerTrustError as exc:
        run.fail(IssuerTrustError(f"{exc.reason}, so its issuer's accreditation at issuance cannot be checked"))
        return None
    answer = ask(trust, iss, vct, iat)
    if isinstance(answer, Unavailable):
        run.set("issuer_trust", UNAVAILABLE, f"the trust registry cannot be read: {answer.reason}")
        return None
    when: Any = iat
    if not answer.accredited and anchored is not None and _anchored_before_revocation(answer, anchored):
        answer = replace(answer, accredited=True)
        when = f"{iat} (anchored in block {anchored.block_number}, before the revocation of {_utc(answer.revoked_at)})"
    if not answer.accredited:
        run.fail(IssuerTrustError(answer.reason))
        return answer
    judge_accreditation(run, policy, answer, iss, vct, when, level)
    return answer


def _anchored_before_revocation(answer: TrustAnswer, anchored: AnchoredIssuance) -> bool:
    """Whether a credential refused only because its issuer's accreditation was revoked for cause was provably
    issued before that revocation: its issuance anchor's block is older (issue 14; ``revoked_at`` is set only
    when the registry held the issuer accredited at ``iat`` and nothing but a revocation withdrew it)."""
    return answer.revoked_at is not None and anchored.block_timestamp < answer.revoked_at


def _utc(timestamp: int | None) -> str:
    return datetime.fromtimestamp(timestamp or 0, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _early_anchor(parts: UnverifiedSdJwt, iss: str, issuance: IssuanceAnchorResolver | None,
                  kept_proof: Any = None, kb_jws: UnverifiedJws | None = None) -> AnchoredIssuance | None:
    """The credential's issuance anchor, if the holder sent a proof that checks (else None; the
    ``issuance_anchor`` check, run later, says why). Read before the signature, since a did:mcr key must
    have been valid at the anchor's block. The proof binds the credential's own bytes to a root anchored by
    the issuer's account, so it proves the time whoever sent it: the Key Binding JWT need not be verified yet.
    ``kept_proof``: the proof kept beside a credential checked without a Key Binding JWT (the wallet's badge);
    ``kb_jws``: the Key Binding JWT parsed (None when it is absent or malformed)."""
    if issuance is None or (parts.kb_jwt is None and kept_proof is None):
        return None
    try:
        proof = kept_proof if parts.kb_jwt is None else (
            kb_jws.payload.get(ISSUANCE_PROOF_CLAIM) if kb_jws is not None else None)
        if proof is None:
            return None
        anchored = anchored_issuance(parts.issuer_jwt, proof, iss, issuance)
    except VerificationError:
        return None
    return anchored if isinstance(anchored, AnchoredIssuance) else None


def _remembering(issuance: IssuanceAnchorResolver | None) -> IssuanceAnchorResolver | None:
    """``issuance`` answering each (issuer, root) once per verification (the anchor is read early and checked late)."""
    if issuance is None:
        return None
    answers: dict[tuple[str, bytes], Any] = {}

    def resolve(issuer: str, root: bytes) -> Any:
        if (issuer, root) not in answers:
            answers[(issuer, root)] = issuance(issuer, root)
        return answers[(issuer, root)]

    return resolve



def _issuer_key(resolve: Callable[..., PublicKey], iss: str, header: Mapping[str, Any],
                at_block: int | None = None) -> PublicKey:
    """The issuer's key named by the header's ``kid``; ``at_block``: the block of the credential's issuance
    anchor, when one was verified (a did:mcr key must have been valid then; without one, it must be valid now)."""
    if not _HEADER_KEYS.isdisjoint(header):
        carried = [name for name in HEADER_KEY_PARAMETERS if name in header]
        raise SignatureError(f"the issuer-signed JWT carries a key in its own header ({', '.join(carried)}); "
                             "the key must come from the issuer's DID")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise SignatureError("the issuer-signed JWT has a 'kid' that is not a string")
    try:
        return resolve(iss, kid) if at_block is None else resolve(iss, kid, at_block)
    except (InvalidDid, InvalidKey) as exc:
        raise SignatureError(f"the issuer's key cannot be resolved from {iss!r:.80}: {exc}") from exc


def _status_list_key(resolve: Callable[..., PublicKey], iss: str,
                     issuer_key: PublicKey) -> PublicKey | Callable[[str | None], PublicKey]:
    """The key a status list token is checked with: a did:mcr issuer's keys rotate, so its token is signed by
    the key valid now (named by the token's ``kid``), not necessarily by the one that signed an older credential."""
    if not iss.startswith(_DID_MCR_PREFIX):
        return issuer_key
    return lambda kid: resolve(iss, kid)


def _sd_jwt_vc(run: CheckRun, presentation: str, policy: Policy, trust: TrustResolver, status: StatusResolver,
               replay: ReplayGuard, now: int, resolve_key: Callable[..., PublicKey],
               memo: StatusListMemo, issuance: IssuanceAnchorResolver | None = None,
               kept_proof: Any = None, jwt_memo: IssuerJwtMemo | None = None) -> VerificationResult:
    fmt = None
    issuance = _remembering(issuance)
    anchored = None
    kb_jws = None
    try:
        parts = UnverifiedSdJwt.parse(presentation)
        seen = jwt_memo.parse(parts.issuer_jwt) if jwt_memo is not None else None
        jws = seen.jws if seen is not None else UnverifiedJws.parse(parts.issuer_jwt, what="issuer-signed JWT")
        jws.check_typ(ACCEPTED_TYPS, what="issuer-signed JWT")
        fmt = str(jws.typ).lower().removeprefix("application/")
        iss, vct = jws.payload.get("iss"), jws.payload.get("vct")
        if not isinstance(iss, str) or not iss or not isinstance(vct, str) or not vct:
            raise FormatError("the SD-JWT VC must carry 'iss' and 'vct' strings")
        if vct not in policy.accepted_vcts:
            raise FormatError(f"credential type {vct!r} is not one this verifier accepts")
        count = len(parts.disclosures)
        run.set("format", PASSED, f"{fmt} of type {vct}, {count} disclosure{'' if count == 1 else 's'}"
                + (", with a Key Binding JWT" if parts.kb_jwt else ""))
        kb_jws = parsed_kb_jwt(parts)  # decoded once; its signature is checked in holder_binding
        anchored = _early_anchor(parts, iss, issuance, kept_proof, kb_jws)
        issuer_key = _issuer_key(resolve_key, iss, jws.header, anchored.block_number if anchored else None)
        if jwt_memo is not None and seen is not None:  # the same bytes verified with this same key: not again
            jwt_memo.verify(seen, issuer_key, what="issuer-signed JWT")
        else:
            jws.verify_with(issuer_key, what="issuer-signed JWT")
        run.set("signature", PASSED, f"{issuer_key.alg} by {jws.header.get('kid') or iss}")
    except VerificationError as exc:
        if exc.check != "format":
            run.set("format", PASSED, f"{fmt or 'SD-JWT'} serialization")
        run.fail(exc)
        return VerificationResult(fmt, run.finish("the issuer's signature is not verified"))
    except (ConnectionError, TimeoutError) as exc:  # a key source that cannot answer now (did:web, did:mcr)
        run.set("signature", UNAVAILABLE, f"the issuer's key cannot be read now: {str(exc)[:200]}")
        return VerificationResult(fmt, run.finish("the issuer's signature could not be checked"))
    payload = jws.payload
    claims: dict[str, Any] = {}
    try:
        claims, used = unpack_disclosures(payload, parts.disclosures, never_disclosable=NEVER_DISCLOSABLE,
                                          known=seen.disclosures if seen is not None else None)
        run.set("disclosures", PASSED, _disclosures_detail(used))
    except VerificationError as exc:
        run.fail(exc)
    kb = _holder_binding(run, parts, payload, policy, now, kb_jws)
    try:
        check_time_claims(payload, now=now, leeway=policy.clock_skew)
        run.set("validity_period", PASSED, _period(payload, now))
    except VerificationError as exc:
        run.fail(exc)
    known = sd_jwt_vc_type(vct)
    fallback_level = claims.get(EQF_LEVEL)
    level = known.eqf_level(claims) if known else (
        fallback_level if isinstance(fallback_level, int) and not isinstance(fallback_level, bool) else None)
    answer = _trust(run, policy, trust, iss, vct, payload.get("iat"), level, anchored)
    kb_shown = _replay(run, policy, replay, kb)
    shown_status = check_revocation(run, policy, status, payload, iss, _status_list_key(resolve_key, iss, issuer_key),
                                    now, memo)
    if run.ok("disclosures"):
        if known is None:
            run.set("schema", SKIPPED, f"no schema is known for {vct}", required=False)
        else:
            try:
                known.validate_disclosed(claims)
                run.set("schema", PASSED, f"the disclosed claims fit the {known.schema_name} schema")
            except VerificationError as exc:
                run.fail(exc)
    check_issuance_anchor(run, parts.issuer_jwt, kb.payload.get(ISSUANCE_PROOF_CLAIM) if kb is not None else None,
                          iss, issuance, required=policy.issuance_anchor_required)
    disclosed = dict(claims)  # the claims less the always-visible ones, in the same order: a copy and at most
    for name in NEVER_DISCLOSABLE:  # eight deletions, not a comprehension over every claim (issue 16)
        disclosed.pop(name, None)
    annex = known.annex_view(disclosed) if known is not None and run.ok("disclosures") else None
    return VerificationResult(fmt, run.finish("the disclosures did not verify"), issuer_json(iss, answer),
                              disclosed, shown_status, answer.chain if answer else (), kb_shown, annex)



def _holds_digests(value: Any) -> bool:
    """Whether a disclosed value is an object or list that holds further disclosures (RFC 9901 §4.2.4)."""
    if isinstance(value, dict):
        return "_sd" in value or any(isinstance(v, dict) and "..." in v for v in value.values())
    return isinstance(value, list) and any(isinstance(v, dict) and set(v) == {"..."} for v in value)


def _disclosures_detail(used: Sequence[Any]) -> str:
    """'9 claims disclosed (12 disclosures: 3 of them the objects or lists that hold them) …': what was chosen.

    ``used``: the disclosures (their ``value``)."""
    holders = 0
    for disclosure in used:  # a loop, not sum() over a generator (issue 16); most values are no container
        value = disclosure.value
        if isinstance(value, (dict, list)) and _holds_digests(value):
            holders += 1
    shown = len(used) - holders
    if not used:
        return "no claim disclosed beyond the always-visible ones"
    if shown == 1 and not holders:
        return "1 claim disclosed; its disclosure matches the signed digests"
    head = f"{shown} claim{'' if shown == 1 else 's'} disclosed"
    if holders:
        head += (f" ({len(used)} disclosures: {holders} of them the "
                 f"{'object or list that holds them' if holders == 1 else 'objects or lists that hold them'})")
    return head + "; every disclosure matches the signed digests"

def _holder_binding(run: CheckRun, parts: UnverifiedSdJwt, payload: Mapping[str, Any], policy: Policy,
                    now: int, kb_jws: UnverifiedJws | None = None) -> Any:
    """The verified KB-JWT, or None (the ``holder_binding`` check says why)."""
    if parts.kb_jwt is None and not policy.holder_binding_required:
        run.set("holder_binding", SKIPPED, "no Key Binding JWT; this verifier does not require one", required=False)
        run.set("replay", SKIPPED, "no Key Binding JWT to check for replay", required=False)
        return None
    try:
        kb = verify_kb_jwt(parts, payload, policy.key_binding, now=now, sd_alg=sd_alg_of(payload), parsed=kb_jws)
    except VerificationError as exc:
        run.set("holder_binding", FAILED, exc.reason)
        return None
    run.set("holder_binding", PASSED,
            f"signed by the holder's key for {kb.audience!r}, {now - int(kb.issued_at)} s ago")
    return kb


def _replay(run: CheckRun, policy: Policy, replay: ReplayGuard, kb: Any) -> dict[str, Any] | None:
    """Record the KB-JWT as seen, only once signature, holder binding and issuer trust passed.

    Recording earlier would let anybody fill the replay store with presentations
    from issuers they made up (issue 10, B5); a record costs the store one entry
    for ``kb_max_age + clock_skew`` seconds, and only a trusted issuer's holder
    can cause one.
    """
    earned = run.replay_earned()  # else the replay check says why not
    if kb is None:
        return None
    iat = kb.issued_at  # an int (a property: read once)
    shown = {"audience": kb.audience, "nonce": kb.nonce, "iat": iat}
    if not earned:
        return shown
    first = ask(replay, kb_jwt_id(kb.kb_jwt), iat + policy.kb_max_age + policy.clock_skew)
    if isinstance(first, Unavailable):
        run.set("replay", UNAVAILABLE, f"the replay cache cannot be read: {first.reason}")
    elif first:
        run.set("replay", PASSED, "this presentation has not been seen before")
    else:
        run.fail(ReplayError("this exact presentation was already shown to this verifier"))
    return shown


def _period(payload: Mapping[str, Any], now: int) -> str:
    exp = payload.get("exp")
    return f"issued at {payload.get('iat')}, " + (f"valid until {exp}" if exp is not None else "no expiry")


def verify_presentation(
    presentation: str,
    *,
    policy: Policy,
    trust: TrustResolver,
    status: StatusResolver,
    replay: ReplayGuard,
    now: int,
    nonce: str | None = None,
    audience: str | None = None,
    resolve_issuer_key: Callable[[str, str | None], PublicKey] = resolve_did_issuer_key,
    memo: StatusListMemo | None = None,
    keys: KeyResolver | None = None,
    lists: StatusResolver | None = None,
    trust_anchors: TrustAnchors | None = None,
    list_memo: W3cListMemo | None = None,
    issuance: IssuanceAnchorResolver | None = None,
    kept_proof: Any = None,
    jwt_memo: IssuerJwtMemo | None = None,
) -> VerificationResult:
    """Run every check on ``presentation`` at ``now``; never raises for anything a holder sent.

    ``presentation``: an SD-JWT VC presentation, or a whole credential or a
    holder-signed presentation of one (:mod:`credentials.verification_imported`).
    ``keys`` resolves issuer and holder keys (did:web through its source;
    default: did:key / did:jwk offline by ``resolve_issuer_key``); ``lists``
    answers for W3C status lists like ``status`` for IETF ones;
    ``trust_anchors`` are the X.509 anchors sealed EDCs must chain to;
    ``issuance`` reads the IssuanceRegistry for the ``issuance_anchor`` check
    (None: a presented proof is ``unavailable``); ``kept_proof``: the issuance
    proof a holder keeps beside an SD-JWT VC checked without a KB-JWT (the
    wallet's own check): it dates the credential for its issuer's key and
    accreditation as a presented proof does, and no ``issuance_anchor`` check is made of it;
    ``jwt_memo``: issuer-signed JWTs parsed and signature-checked before (a credential shown again,
    :mod:`credentials.verification_memo`): every check still runs, the Key Binding JWT's signature included.
    """
    if nonce is not None or audience is not None:
        policy = replace(policy, expected_nonce=nonce if nonce is not None else policy.expected_nonce,
                         expected_audience=audience if audience is not None else policy.expected_audience)
    run = CheckRun()
    if not isinstance(presentation, str) or not presentation.strip():
        run.fail(FormatError("expected a presentation (an SD-JWT VC or a JWT VC), found nothing"))
        return VerificationResult(None, run.finish("the input is not a presentation"))
    text = presentation.strip()
    keys = keys or KeyResolver(offline_issuer_key=resolve_issuer_key)
    if "~" in text and not text.startswith("{"):
        return _sd_jwt_vc(run, text, policy, trust, status, replay, now, keys.issuer_key, memo or StatusListMemo(),
                          issuance, kept_proof, jwt_memo)
    context = ImportedContext(policy, trust, replay, now, keys, lists, trust_anchors, list_memo or W3cListMemo(),
                              issuance)
    return verify_imported(run, text, context)
