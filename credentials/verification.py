"""The verifier's core: one presentation in, every check by name out.

Implements the verification of ARCHITECTURE.md ("Verifier HTTP API" ⚑) over
SD-JWT VC presentations (IETF RFC 9901 and draft-ietf-oauth-sd-jwt-vc-12, with
Key Binding JWTs) and W3C VCs secured as JWTs (``vc+jwt``, ``jwt_vc_json``):

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
=================  ==========================================================

A check that cannot run because an earlier one failed is ``skipped``; a
resolver that cannot answer makes its check ``unavailable``. The result is
``verified`` only when every required check ``passed`` (fail closed).

No I/O here: trust, status and replay come in as callables, ``now`` is a
parameter. A resolver signals "cannot answer" by returning :class:`Unavailable`
or raising ``ConnectionError`` / ``TimeoutError`` (``ledger.errors.
LedgerUnavailable`` is one). The status list id on chain is the last path
segment of the list's URI, as ``issuer.service`` anchors it
(:func:`status_list_id`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from credentials.errors import CHECKS, FormatError, IssuerTrustError, RevocationError, SignatureError, VerificationError
from credentials.errors import DisclosureError, InvalidDid, InvalidKey, InvalidInput, ReplayError
from credentials.jose import PublicKey, UnverifiedJws, b64url_encode
from credentials.jwt_vc import verify_jwt_vc
from credentials.microcredential import MICRO_CREDENTIAL_VCT, validate_disclosed
from credentials.sd_jwt.common import UnverifiedSdJwt
from credentials.sd_jwt.key_binding import KeyBindingPolicy, verify_kb_jwt
from credentials.sd_jwt.verifier import check_time_claims, sd_alg_of, unpack_disclosures
from credentials.sd_jwt_vc import ACCEPTED_TYPS, NEVER_DISCLOSABLE, resolve_did_issuer_key
from credentials.status_list import STATUS_INVALID, STATUS_VALID, VerifiedStatusList, referenced_status
from credentials.status_list import StatusList, verify_status_list_token

__all__ = [
    "PASSED", "FAILED", "SKIPPED", "UNAVAILABLE", "STATUSES",
    "HEADER_KEY_PARAMETERS", "Unavailable", "TrustLink", "TrustAnswer", "StatusEvidence", "Policy",
    "CheckResult", "VerificationResult", "TrustResolver", "StatusResolver", "ReplayGuard",
    "StatusListMemo", "status_list_id", "kb_jwt_id", "verify_presentation",
]

PASSED, FAILED, SKIPPED, UNAVAILABLE = "passed", "failed", "skipped", "unavailable"
STATUSES = (PASSED, FAILED, SKIPPED, UNAVAILABLE)
#: JOSE header members that carry or point at a key; an issuer's key comes from its DID only.
HEADER_KEY_PARAMETERS = ("jwk", "jku", "x5c", "x5u")
_STATUS_WORDS = {STATUS_VALID: "valid", STATUS_INVALID: "revoked", 0x02: "suspended"}


@dataclass(frozen=True)
class Unavailable:
    """A resolver's answer when it cannot answer (chain or status server down)."""

    reason: str


@dataclass(frozen=True)
class TrustLink:
    """One entry of an accreditation chain: who, under which name, in which role."""

    did: str
    name: str
    role: str


@dataclass(frozen=True)
class TrustAnswer:
    """The trust registry's answer for (issuer, vct, time); ``chain[0]`` is the issuer, ``chain[-1]`` the root."""

    accredited: bool
    reason: str
    chain: tuple[TrustLink, ...] = ()
    country: str | None = None
    accredited_by: str | None = None
    max_eqf_level: int | None = None
    block: int | None = None


@dataclass(frozen=True)
class StatusEvidence:
    """What the status resolver found for one list.

    ``anchored_sha256`` None: never anchored. ``token``: the fetched Status List
    Token, or None with ``fetch_error`` saying why. ``carried_list``: the zlib
    bytes of the list carried by the anchoring event of ``carried_version``.
    ``checked_at``: when the anchor was last confirmed against the chain head.
    """

    anchored_sha256: bytes | None
    anchored_block: int | None = None
    anchored_version: int | None = None
    token: str | None = None
    fetch_error: str | None = None
    carried_list: bytes | None = None
    carried_version: int | None = None
    checked_at: int | None = None


TrustResolver = Callable[[str, str, int], "TrustAnswer | Unavailable"]
StatusResolver = Callable[[str, str], "StatusEvidence | Unavailable"]


class ReplayGuard(Protocol):
    def __call__(self, kb_jwt_id: str, expires_at: int) -> bool:
        """True the first time ``kb_jwt_id`` is seen (remember it until ``expires_at``)."""


@dataclass(frozen=True)
class Policy:
    """What this verifier accepts. ``trusted_roots`` empty trusts nobody (fail closed)."""

    trusted_roots: frozenset[str]
    accepted_vcts: frozenset[str] = frozenset({MICRO_CREDENTIAL_VCT})
    kb_max_age: int = 300
    clock_skew: int = 60
    holder_binding_required: bool = True
    status_required: bool = True
    max_status_age: int = 60
    expected_nonce: str | None = None
    expected_audience: str | None = None


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str
    detail: str
    required: bool = True

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class VerificationResult:
    """The verdict and every check, in :data:`CHECKS` order; :meth:`to_json` is the API answer."""

    format: str | None
    checks: tuple[CheckResult, ...]
    issuer: dict[str, Any] | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] | None = None
    trust_chain: tuple[TrustLink, ...] = ()
    holder_binding: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return all(c.status == PASSED for c in self.checks if c.required)

    @property
    def undecided(self) -> bool:
        """No required check failed, but one could not be completed: the answer is "cannot say"."""
        required = [c for c in self.checks if c.required]
        return not any(c.status == FAILED for c in required) and any(c.status == UNAVAILABLE for c in required)

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.check == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified, "format": self.format, "checks": [c.to_json() for c in self.checks],
            "issuer": self.issuer, "claims": self.claims, "status": self.status,
        }


class StatusListMemo:
    """Verified Status List Tokens by (sha256, issuer, uri), bounded; ``exp`` is rechecked on every use."""

    def __init__(self, size: int = 256):
        self._size = size
        self._items: OrderedDict[tuple[bytes, str, str], VerifiedStatusList] = OrderedDict()

    def get(self, key: tuple[bytes, str, str], now: int) -> VerifiedStatusList | None:
        found = self._items.get(key)
        if found is not None and found.exp is not None and now >= found.exp:
            raise RevocationError(f"the status list token expired at {found.exp}; it is now {now}")
        return found

    def put(self, key: tuple[bytes, str, str], value: VerifiedStatusList) -> None:
        self._items[key] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)


def status_list_id(uri: str) -> str:
    """The list id anchored on chain for a status list URI: its last path segment."""
    segments = [s for s in urlsplit(uri).path.split("/") if s]
    if not segments:
        raise FormatError(f"the status list URI {uri!r} names no list (its path is empty)")
    return segments[-1]


def kb_jwt_id(kb_jwt: str) -> str:
    """The replay-cache id of a KB-JWT: the hex SHA-256 of its compact form."""
    return hashlib.sha256(kb_jwt.encode("ascii")).hexdigest()


class _Run:
    """Collects one run's check results."""

    def __init__(self) -> None:
        self.results: dict[str, CheckResult] = {}

    def set(self, check: str, status: str, detail: str, *, required: bool = True) -> None:
        self.results.setdefault(check, CheckResult(check, status, detail, required))

    def fail(self, exc: VerificationError) -> None:
        self.set(exc.check, FAILED, exc.reason)

    def done(self, check: str) -> bool:
        return check in self.results

    def ok(self, check: str) -> bool:
        return check in self.results and self.results[check].status == PASSED

    def finish(self, skipped_because: str) -> tuple[CheckResult, ...]:
        return tuple(self.results.get(c) or CheckResult(c, SKIPPED, skipped_because) for c in CHECKS)


def _ask(resolver: Callable[..., Any], *args: Any) -> Any:
    try:
        return resolver(*args)
    except (ConnectionError, TimeoutError) as exc:
        return Unavailable(str(exc) or type(exc).__name__)


def _trust(run: _Run, policy: Policy, trust: TrustResolver, iss: str, vct: str, iat: Any,
           claims: Mapping[str, Any]) -> TrustAnswer | None:
    if not isinstance(iat, int) or isinstance(iat, bool):
        run.fail(IssuerTrustError("the credential has no 'iat', so its issuer's accreditation at issuance cannot be checked"))
        return None
    answer = _ask(trust, iss, vct, iat)
    if isinstance(answer, Unavailable):
        run.set("issuer_trust", UNAVAILABLE, f"the trust registry cannot be read: {answer.reason}")
        return None
    if not answer.accredited:
        run.fail(IssuerTrustError(answer.reason))
        return answer
    root = answer.chain[-1].did if answer.chain else None
    if root not in policy.trusted_roots:
        run.fail(IssuerTrustError(f"{iss} is accredited under the root {root!r}, which this verifier does not trust"))
        return answer
    level = claims.get("eqf_level")
    if answer.max_eqf_level and isinstance(level, int) and level > answer.max_eqf_level:
        run.fail(IssuerTrustError(f"{iss} is accredited up to EQF level {answer.max_eqf_level}, not {level}"))
        return answer
    names = " → ".join(f"{link.name} ({link.did})" for link in answer.chain)
    run.set("issuer_trust", PASSED, f"accredited for {vct} at {iat}: {names}")
    return answer


def _verified_list(evidence: StatusEvidence, token: str, anchored: bytes, issuer_key: PublicKey, iss: str,
                   uri: str, now: int, memo: StatusListMemo) -> VerifiedStatusList:
    digest = hashlib.sha256(token.encode("utf-8")).digest()
    if digest != anchored:
        raise RevocationError(f"the status list at {uri} has SHA-256 {digest.hex()[:16]}…, but the hash anchored "
                              f"in block {evidence.anchored_block} is {anchored.hex()[:16]}…")
    key = (digest, iss, uri)
    verified = memo.get(key, now)
    if verified is None:
        verified = verify_status_list_token(token, issuer_key, expected_uri=uri, now=now)
        memo.put(key, verified)
    return verified


def _revocation(run: _Run, policy: Policy, status: StatusResolver, payload: Mapping[str, Any], iss: str,
                issuer_key: PublicKey, now: int, memo: StatusListMemo) -> dict[str, Any] | None:
    if payload.get("status") is None and not policy.status_required:
        run.set("revocation", SKIPPED, "the credential has no status entry and this verifier does not require one",
                required=False)
        return None
    try:
        reference = referenced_status(payload)
        list_id = status_list_id(reference.uri)
    except FormatError as exc:
        run.fail(RevocationError(f"the credential's status entry is unusable: {exc.reason}"))
        return None
    shown = {"uri": reference.uri, "index": reference.idx, "anchored_block": None}
    evidence = _ask(status, iss, reference.uri)
    if isinstance(evidence, Unavailable):
        run.set("revocation", UNAVAILABLE, f"the status of list {list_id} cannot be checked: {evidence.reason}")
        return shown
    shown["anchored_block"] = evidence.anchored_block
    if evidence.anchored_sha256 is None:
        run.fail(RevocationError(f"status list {list_id} of {iss} has never been anchored on the StatusRegistry"))
        return shown
    if evidence.checked_at is not None and now - evidence.checked_at > policy.max_status_age:
        run.set("revocation", UNAVAILABLE, f"the status information is {now - evidence.checked_at} s old, "
                f"more than the {policy.max_status_age} s this verifier accepts")
        return shown
    try:
        if evidence.token is not None:
            verified = _verified_list(evidence, evidence.token, evidence.anchored_sha256, issuer_key, iss,
                                      reference.uri, now, memo)
            value = verified.status(reference.idx)
            source = "list"
        elif evidence.carried_list is not None and evidence.carried_version == evidence.anchored_version:
            value = _carried(evidence.carried_list).get(reference.idx)
            source = "list carried on chain"
        else:
            run.set("revocation", UNAVAILABLE, f"the status list {reference.uri} cannot be fetched "
                    f"({evidence.fetch_error or 'no answer'}) and its latest anchor does not carry it")
            return shown
    except VerificationError as exc:
        run.fail(exc)
        return shown
    except InvalidInput as exc:
        run.fail(RevocationError(f"the credential's status {exc}"))
        return shown
    where = f"index {reference.idx} of {source} {list_id} (anchored at block {evidence.anchored_block})"
    if value != STATUS_VALID:
        run.fail(RevocationError(f"{where} is {_STATUS_WORDS.get(value, f'status {value}')}"))
    else:
        run.set("revocation", PASSED, f"{where} is valid")
    return shown


def _carried(compressed: bytes) -> StatusList:
    """The list carried by an anchoring event (zlib bytes of ``lst``), decoded with the same limits."""
    return StatusList.from_json({"bits": 1, "lst": b64url_encode(compressed)})


def _issuer_key(resolve: Callable[[str, str | None], PublicKey], iss: str, header: Mapping[str, Any]) -> PublicKey:
    carried = [name for name in HEADER_KEY_PARAMETERS if name in header]
    if carried:
        raise SignatureError(f"the issuer-signed JWT carries a key in its own header ({', '.join(carried)}); "
                             "the key must come from the issuer's DID")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise SignatureError("the issuer-signed JWT has a 'kid' that is not a string")
    try:
        return resolve(iss, kid)
    except (InvalidDid, InvalidKey) as exc:
        raise SignatureError(f"the issuer's key cannot be resolved from {iss!r:.80}: {exc}") from exc


def _sd_jwt_vc(run: _Run, presentation: str, policy: Policy, trust: TrustResolver, status: StatusResolver,
               replay: ReplayGuard, now: int, resolve_key: Callable[..., PublicKey],
               memo: StatusListMemo) -> VerificationResult:
    fmt = None
    try:
        parts = UnverifiedSdJwt.parse(presentation)
        jws = UnverifiedJws.parse(parts.issuer_jwt, what="issuer-signed JWT")
        jws.check_typ(ACCEPTED_TYPS, what="issuer-signed JWT")
        fmt = str(jws.typ).lower().removeprefix("application/")
        iss, vct = jws.payload.get("iss"), jws.payload.get("vct")
        if not isinstance(iss, str) or not iss or not isinstance(vct, str) or not vct:
            raise FormatError("the SD-JWT VC must carry 'iss' and 'vct' strings")
        if vct not in policy.accepted_vcts:
            raise FormatError(f"credential type {vct!r} is not one this verifier accepts")
        run.set("format", PASSED, f"{fmt} of type {vct}, {len(parts.disclosures)} disclosure(s)"
                + (", with a Key Binding JWT" if parts.kb_jwt else ""))
        issuer_key = _issuer_key(resolve_key, iss, jws.header)
        jws.verify_with(issuer_key, what="issuer signature")
        run.set("signature", PASSED, f"{issuer_key.alg} by {jws.header.get('kid') or iss}")
    except VerificationError as exc:
        if exc.check != "format":
            run.set("format", PASSED, f"{fmt or 'SD-JWT'} serialization")
        run.fail(exc)
        return VerificationResult(fmt, run.finish("the issuer's signature is not verified"))
    payload = jws.payload
    claims: dict[str, Any] = {}
    try:
        unpacked, _ = unpack_disclosures(payload, parts.disclosures)
        smuggled = sorted(n for n in NEVER_DISCLOSABLE if n in unpacked and n not in payload)
        if smuggled:
            raise DisclosureError(f"the registered claim(s) {', '.join(smuggled)} were selectively disclosed")
        claims = unpacked
        run.set("disclosures", PASSED, f"{len(parts.disclosures)} disclosure(s) match the signed digests")
    except VerificationError as exc:
        run.fail(exc)
    kb_shown = _holder_binding(run, parts, payload, policy, replay, now)
    try:
        check_time_claims(payload, now=now, leeway=policy.clock_skew)
        run.set("validity_period", PASSED, _period(payload, now))
    except VerificationError as exc:
        run.fail(exc)
    answer = _trust(run, policy, trust, iss, vct, payload.get("iat"), claims)
    shown_status = _revocation(run, policy, status, payload, iss, issuer_key, now, memo)
    if run.ok("disclosures"):
        if vct != MICRO_CREDENTIAL_VCT:
            run.set("schema", SKIPPED, f"no schema is known for {vct}", required=False)
        else:
            try:
                validate_disclosed(claims)
                run.set("schema", PASSED, "the disclosed claims fit the micro-credential schema")
            except VerificationError as exc:
                run.fail(exc)
    disclosed = {k: v for k, v in claims.items() if k not in NEVER_DISCLOSABLE}
    return VerificationResult(fmt, run.finish("the disclosures did not verify"), _issuer_json(iss, answer),
                              disclosed, shown_status, answer.chain if answer else (), kb_shown)


def _holder_binding(run: _Run, parts: UnverifiedSdJwt, payload: Mapping[str, Any], policy: Policy,
                    replay: ReplayGuard, now: int) -> dict[str, Any] | None:
    if parts.kb_jwt is None and not policy.holder_binding_required:
        run.set("holder_binding", SKIPPED, "no Key Binding JWT; this verifier does not require one", required=False)
        run.set("replay", SKIPPED, "no Key Binding JWT to check for replay", required=False)
        return None
    kb_policy = KeyBindingPolicy(required=policy.holder_binding_required, audience=policy.expected_audience,
                                 nonce=policy.expected_nonce, max_age=policy.kb_max_age, leeway=policy.clock_skew)
    try:
        kb = verify_kb_jwt(parts, payload, kb_policy, now=now, sd_alg=sd_alg_of(payload))
    except VerificationError as exc:
        run.set("holder_binding", FAILED, exc.reason)
        return None
    run.set("holder_binding", PASSED, f"signed by the holder's key for {kb.audience!r}, {now - int(kb.issued_at)} s ago")
    first = _ask(replay, kb_jwt_id(kb.kb_jwt), int(kb.issued_at) + policy.kb_max_age + policy.clock_skew)
    if isinstance(first, Unavailable):
        run.set("replay", UNAVAILABLE, f"the replay cache cannot be read: {first.reason}")
    elif first:
        run.set("replay", PASSED, "this presentation has not been seen before")
    else:
        run.fail(ReplayError("this exact presentation was already shown to this verifier"))
    return {"audience": kb.audience, "nonce": kb.nonce, "iat": kb.issued_at}


def _period(payload: Mapping[str, Any], now: int) -> str:
    exp = payload.get("exp")
    return f"issued at {payload.get('iat')}, " + (f"valid until {exp}" if exp is not None else "no expiry")


def _issuer_json(iss: str, answer: TrustAnswer | None) -> dict[str, Any]:
    entry = answer.chain[0] if answer and answer.chain else None
    return {"id": iss, "name": entry.name if entry else None, "country": answer.country if answer else None,
            "accredited_by": answer.accredited_by if answer else None}


def _jwt_vc(run: _Run, token: str, policy: Policy, trust: TrustResolver, now: int,
            resolve_key: Callable[..., PublicKey]) -> VerificationResult:
    try:
        carried = [n for n in HEADER_KEY_PARAMETERS if n in UnverifiedJws.parse(token, what="JWT VC").header]
        if carried:
            raise SignatureError(f"the JWT VC carries a key in its own header ({', '.join(carried)}); "
                                 "the key must come from the issuer's DID")
        verified = verify_jwt_vc(token, resolve_issuer_key=resolve_key, now=now, leeway=policy.clock_skew)
    except VerificationError as exc:
        if exc.check != "format":
            run.set("format", PASSED, "JWT VC")
        if exc.check == "validity_period":
            run.set("signature", PASSED, "the issuer's signature matches")
        run.fail(exc)
        return VerificationResult(None, run.finish("an earlier check failed"))
    run.set("format", PASSED, f"{verified.format} credential")
    run.set("signature", PASSED, f"{verified.alg} by {verified.kid or verified.issuer_id}")
    for check in ("disclosures", "holder_binding", "replay"):
        run.set(check, SKIPPED, f"{verified.format} has no selective disclosure or key binding", required=False)
    run.set("validity_period", PASSED, f"valid from {verified.valid_from} until {verified.valid_until}")
    types = verified.credential.get("type")
    vct = next((t for t in (types if isinstance(types, list) else [types]) if t in policy.accepted_vcts), None)
    answer = None
    if vct is None:
        run.fail(IssuerTrustError(f"credential type {types!r} is not one this verifier accepts"))
    else:
        answer = _trust(run, policy, trust, verified.issuer_id, vct, verified.valid_from, {})
    if verified.status:
        run.set("revocation", UNAVAILABLE, "W3C Bitstring status lists are not anchored on chain; this verifier "
                "cannot confirm the status of a JWT VC")
    elif not policy.status_required:
        run.set("revocation", SKIPPED, "the credential has no status entry", required=False)
    else:
        run.fail(RevocationError("the credential has no status entry, and this verifier requires one"))
    run.set("schema", SKIPPED, f"no schema is checked for {verified.format} credentials", required=False)
    subject = verified.credential.get("credentialSubject")
    return VerificationResult(verified.format, run.finish("an earlier check failed"),
                              _issuer_json(verified.issuer_id, answer), subject if isinstance(subject, dict) else {},
                              None, answer.chain if answer else ())


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
) -> VerificationResult:
    """Run every check on ``presentation`` at ``now``; never raises for anything a holder sent."""
    if nonce is not None or audience is not None:
        policy = replace(policy, expected_nonce=nonce if nonce is not None else policy.expected_nonce,
                         expected_audience=audience if audience is not None else policy.expected_audience)
    run = _Run()
    if not isinstance(presentation, str) or not presentation.strip():
        run.fail(FormatError("expected a presentation (an SD-JWT VC or a JWT VC), found nothing"))
        return VerificationResult(None, run.finish("the input is not a presentation"))
    text = presentation.strip()
    if "~" in text:
        return _sd_jwt_vc(run, text, policy, trust, status, replay, now, resolve_issuer_key, memo or StatusListMemo())
    return _jwt_vc(run, text, policy, trust, now, resolve_issuer_key)
