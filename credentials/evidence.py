"""Verification evidence: what a verifier saw, signed by it, and its re-check against the chain later (issue 14, §5).

The file is a JWS (RFC 7515) in the flattened JSON serialization (§7.2.2): ``{"protected", "payload",
"signature"}``, ES256, protected header ``{"alg": "ES256", "typ": EVIDENCE_TYP, "kid": <RFC 7638 thumbprint>}``.
The verifier publishes the key at ``/.well-known/jwks.json`` (RFC 7517 JWK Set). The payload (JSON):

- ``version`` (1), ``made_at`` (the verifier's clock, seconds), ``verifier`` (its public URL);
- ``presentation``: ``sha256`` of the presentation text (hex) and its ``format``;
- ``credential``: ``sha256`` of its issuer-signed JWT (the RFC 9162 leaf input of :mod:`credentials.merkle`),
  ``iss``, ``vct``, ``iat``, ``exp``;
- ``verified``, ``undecided`` and ``checks``: every check as the answer JSON has it (ARCHITECTURE.md ⚑), each
  with the ``inputs`` it was decided on: ``revocation`` the status list URI, index, list id, anchored SHA-256,
  version, block and transaction and the Status List Token itself; ``issuer_trust`` the type, the time asked,
  the block read and every entry of the trust chain as the registry held it with the blocks of its events;
  ``issuance_anchor`` the issuance proof and the anchor's block, time and account; ``validity_period`` the
  credential's times; ``signature`` the key id;
- ``ledger``: chain id, registry addresses, the block (number and hash) the verifier had processed;
- ``issuer``; ``claims`` (the disclosed claims) unless the employer left them out (``claims_omitted``).

:func:`recheck` compares such evidence with what the chain says now (:class:`Now`, gathered by the caller):
each re-checkable check is ``unchanged``, ``worse`` (revoked or suspended since, accreditation withdrawn, the
anchor the evidence names gone from the chain, expired) or ``undecided`` (the chain cannot be read, another
chain). Facts of the presentation itself (signatures, disclosures, holder binding) cannot change. Pure: keys,
answers and the time are handed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from credentials._json import json_dumps, json_loads_object
from credentials.errors import InvalidInput
from credentials.issuance_anchor import IssuanceAnchor
from credentials.jose import PrivateKey, PublicKey, b64url_decode, b64url_encode
from credentials.merkle import IssuanceProof, leaf_hash
from credentials.verification_model import FAILED, PASSED, UNAVAILABLE, CheckResult, TrustAnswer, Unavailable

__all__ = ["EVIDENCE_TYP", "EVIDENCE_VERSION", "UNCHANGED", "WORSE", "UNDECIDED", "EXIT_CODES", "Evidence",
           "Finding", "Recheck", "Now", "sign_evidence", "parse_evidence", "recheck", "jwk_set"]

EVIDENCE_TYP = "microcred-evidence+json"
EVIDENCE_VERSION = 1
UNCHANGED, WORSE, UNDECIDED = "unchanged", "worse", "undecided"
#: ``microcred verify --evidence``: 0 still valid, 1 something changed for the worse (or a bad signature),
#: 2 cannot decide.
EXIT_CODES = {UNCHANGED: 0, WORSE: 1, UNDECIDED: 2}
_MAX_EVIDENCE = 1024 * 1024
_SHA256_HEX = 64
_YEAR_10000 = 253_402_300_800  # the first second datetime cannot show


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def sign_evidence(payload: Mapping[str, Any], key: PrivateKey) -> str:
    """The evidence file's text: ``payload`` signed with the verifier's ES256 ``key`` (flattened JWS JSON)."""
    if key.alg != "ES256":
        raise InvalidInput(f"evidence is signed with ES256; the key is for {key.alg}")
    header = {"alg": key.alg, "typ": EVIDENCE_TYP, "kid": key.public_key().thumbprint()}
    protected = b64url_encode(json_dumps(header).encode("utf-8"))
    encoded = b64url_encode(json_dumps(payload).encode("utf-8"))
    signature = key.sign(f"{protected}.{encoded}".encode("ascii"))
    return json_dumps({"protected": protected, "payload": encoded, "signature": b64url_encode(signature)}) + "\n"


def jwk_set(keys: Sequence[PublicKey]) -> dict[str, Any]:
    """An RFC 7517 JWK Set of the verifier's evidence keys, each with its ``kid``, ``use`` and ``alg``."""
    return {"keys": [{**key.to_jwk(), "kid": key.thumbprint(), "use": "sig", "alg": key.alg} for key in keys]}


@dataclass(frozen=True)
class Evidence:
    """An evidence file parsed, its signature not yet checked (:meth:`signature_problem`)."""

    kid: str
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    def signature_problem(self, keys: Mapping[str, PublicKey]) -> str | None:
        """None when a key of ``keys`` (by kid) signed it; else why not, in words."""
        key = keys.get(self.kid)
        if key is None:
            return (f"the evidence is signed by key {self.kid[:43]}, which is not among the verifier keys given "
                    f"({', '.join(sorted(k[:12] + '…' for k in keys)) or 'none'})")
        if not key.verify(self.signing_input, self.signature, alg="ES256"):
            return "the evidence's signature does not match its content: it was changed after the verifier signed it"
        return None

    def check(self, name: str) -> dict[str, Any]:
        found = next((c for c in self.payload["checks"] if c.get("check") == name), None)
        return found if isinstance(found, dict) else {}


def parse_evidence(text: str | bytes) -> Evidence:
    """Split and decode an evidence file; :class:`InvalidInput` saying what is wrong with it."""
    if len(text) > _MAX_EVIDENCE:
        raise InvalidInput(f"an evidence file is at most {_MAX_EVIDENCE} bytes, this one is {len(text)}")
    outer = json_loads_object(text, what="the evidence file")
    if set(outer) != {"protected", "payload", "signature"}:
        raise InvalidInput("expected an evidence file with the members protected, payload and signature (a JWS in "
                           f"the flattened JSON serialization), found {', '.join(sorted(map(str, outer)))[:120]}")
    if not all(isinstance(outer[m], str) for m in outer):
        raise InvalidInput("expected the evidence file's protected, payload and signature to be base64url text")
    header = json_loads_object(b64url_decode(outer["protected"]), what="the evidence's protected header")
    if header.get("alg") != "ES256" or header.get("typ") != EVIDENCE_TYP or not isinstance(header.get("kid"), str):
        raise InvalidInput(f"expected a protected header with alg ES256, typ {EVIDENCE_TYP} and a kid, found "
                           f"alg {str(header.get('alg'))[:20]!r}, typ {str(header.get('typ'))[:40]!r}")
    if "crit" in header:
        raise InvalidInput("the evidence's protected header marks parameters as critical; none is understood")
    payload = json_loads_object(b64url_decode(outer["payload"]), what="the evidence's payload")
    if payload.get("version") != EVIDENCE_VERSION:
        raise InvalidInput(f"expected evidence version {EVIDENCE_VERSION}, found {str(payload.get('version'))[:20]}")
    checks = payload.get("checks")
    if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
        raise InvalidInput("expected the evidence's checks to be a list of objects")
    signature = b64url_decode(outer["signature"])
    return Evidence(header["kid"], payload, f"{outer['protected']}.{outer['payload']}".encode("ascii"), signature)


@dataclass(frozen=True)
class Finding:
    """What the re-check found for one check: ``outcome`` is UNCHANGED, WORSE or UNDECIDED."""

    check: str
    outcome: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "outcome": self.outcome, "detail": self.detail}


@dataclass(frozen=True)
class Recheck:
    findings: tuple[Finding, ...]

    @property
    def outcome(self) -> str:
        outcomes = {f.outcome for f in self.findings}
        return WORSE if WORSE in outcomes else UNDECIDED if UNDECIDED in outcomes else UNCHANGED

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


@dataclass(frozen=True)
class Now:
    """What the chain says now, as the caller read it (None: not asked, since the evidence has no such input).

    ``ledger``: chain id and registry addresses of the deployment read (or Unavailable);
    ``anchor_then``: the status list's latest anchor as of the evidence's anchored block, read now
    (``(sha256, version)``, None when the chain holds none then); ``revocation``: the ``revocation`` check run
    now with the evidence's status reference; ``status_block``: the block of the anchor it read;
    ``trust``: the registry's answer now for the evidence's (issuer, type, time); ``issuance``: the
    issuance registry's answer now for the evidence's batch root.
    """

    time: int
    ledger: Mapping[str, Any] | Unavailable
    anchor_then: tuple[bytes, int] | None | Unavailable = None
    revocation: CheckResult | None = None
    status_block: int | None = None
    trust: TrustAnswer | Unavailable | None = None
    issuance: IssuanceAnchor | Unavailable | None = None
    notes: tuple[str, ...] = field(default=())


_LEDGER_KEYS = ("chain_id", "trust_registry", "status_registry")


def _same_ledger(recorded: Any, now: Mapping[str, Any]) -> str | None:
    if not isinstance(recorded, dict):
        return "the evidence names no ledger"
    for key in _LEDGER_KEYS:
        if str(recorded.get(key)).lower() != str(now.get(key)).lower():
            return (f"the evidence was made on chain {recorded.get('chain_id')} with {key.replace('_', ' ')} "
                    f"{recorded.get(key)}; this verifier reads chain {now.get('chain_id')} with {now.get(key)}")
    return None


def _revocation(evidence: Evidence, now: Now) -> Finding | None:
    check = evidence.check("revocation")
    inputs = check.get("inputs")
    if check.get("status") != PASSED or not isinstance(inputs, dict):
        return None
    token, anchored = inputs.get("status_list_token"), inputs.get("anchored_sha256")
    block, version = inputs.get("anchored_block"), inputs.get("anchored_version")
    if isinstance(token, str) and hashlib.sha256(token.encode("utf-8")).hexdigest() != anchored:
        return Finding("revocation", WORSE, "the evidence's status list token does not hash to the anchor it names")
    if isinstance(now.anchor_then, Unavailable):
        return Finding("revocation", UNDECIDED, f"the status anchor cannot be read: {now.anchor_then.reason}")
    if now.anchor_then is None or now.anchor_then[0].hex() != anchored or now.anchor_then[1] != version:
        return Finding("revocation", WORSE, f"the chain no longer holds the status anchor the evidence names "
                                            f"(version {version} at block {block}): the chain was reorganised or "
                                            "is not the one the evidence was made on")
    result = now.revocation
    if result is None or result.status == UNAVAILABLE:
        return Finding("revocation", UNDECIDED, result.detail if result else "the status was not read again")
    where = f"index {inputs.get('index')} of list {inputs.get('list_id')}"
    if result.status == FAILED:
        for word in ("revoked", "suspended"):
            if result.detail.endswith(f"is {word}"):
                return Finding("revocation", WORSE, f"{word} at block {now.status_block} since the evidence was made "
                                                    f"({where}; valid in the list anchored at block {block})")
        return Finding("revocation", WORSE, f"the status no longer checks: {result.detail}")
    if now.status_block == block:
        return Finding("revocation", UNCHANGED, f"{where}: still valid, the list unchanged since block {block}")
    return Finding("revocation", UNCHANGED, f"{where}: still valid in the list anchored at block {now.status_block}")


def _anchored_before(evidence: Evidence, revoked_at: int | None) -> bool:
    """Whether the evidence's verified issuance anchor predates a revocation for cause (issue 14, §2)."""
    inputs = evidence.check("issuance_anchor").get("inputs")
    if revoked_at is None or evidence.check("issuance_anchor").get("status") != PASSED or not isinstance(inputs,
                                                                                                       dict):
        return False
    anchored_at = inputs.get("anchored_at")
    return isinstance(anchored_at, int) and anchored_at < revoked_at


def _trust(evidence: Evidence, now: Now) -> Finding | None:
    check = evidence.check("issuer_trust")
    inputs = check.get("inputs")
    if check.get("status") != PASSED or not isinstance(inputs, dict):
        return None
    answer = now.trust
    if answer is None:
        return Finding("issuer_trust", UNDECIDED, "the trust registry was not read again")
    if isinstance(answer, Unavailable):
        return Finding("issuer_trust", UNDECIDED, f"the trust registry cannot be read: {answer.reason}")
    recorded_root = (inputs.get("chain") or [{}])[-1].get("did")
    if answer.accredited or _anchored_before(evidence, answer.revoked_at):
        root = answer.chain[-1].did if answer.chain else None
        if root != recorded_root:
            return Finding("issuer_trust", WORSE, f"the issuer's accreditation now leads to the root {root}, not to "
                                                  f"{recorded_root} as when the evidence was made")
        kept = "" if answer.accredited else " (revoked for cause later than its anchored issuance)"
        at = inputs.get("at")
        when = _utc(at) if isinstance(at, int) and not isinstance(at, bool) and 0 <= at < _YEAR_10000 else at
        return Finding("issuer_trust", UNCHANGED, f"the issuer is still accredited for {inputs.get('vct')} at "
                                                  f"{when} (block {answer.block}){kept}")
    word = "suspended" if "suspended" in answer.reason else "revoked" if "revoked" in answer.reason else "withdrawn"
    return Finding("issuer_trust", WORSE, f"issuer accreditation {word} since the evidence was made "
                                          f"(block {answer.block}): {answer.reason}")


def _issuance(evidence: Evidence, now: Now) -> Finding | None:
    check = evidence.check("issuance_anchor")
    inputs = check.get("inputs")
    if check.get("status") != PASSED or not isinstance(inputs, dict):
        return None
    try:
        proof = IssuanceProof.from_json(inputs.get("proof"))
        digest = bytes.fromhex(str(evidence.payload.get("credential", {}).get("sha256")))
    except (InvalidInput, ValueError):
        return Finding("issuance_anchor", WORSE, "the evidence's issuance proof or credential digest is malformed")
    if len(digest) != _SHA256_HEX // 2 or not proof.proves(leaf_hash(digest)):
        return Finding("issuance_anchor", WORSE, "the evidence's issuance proof does not lead from its credential "
                                                 "digest to the root it names")
    answer = now.issuance
    if answer is None or isinstance(answer, Unavailable):
        why = answer.reason if isinstance(answer, Unavailable) else "it was not read again"
        return Finding("issuance_anchor", UNDECIDED, f"the issuance registry cannot be read: {why}")
    block = inputs.get("anchored_block")
    if answer.block_number != block or str(answer.anchored_by).lower() != str(inputs.get("anchored_by")).lower():
        return Finding("issuance_anchor", WORSE, f"the chain no longer holds the batch anchor the evidence names "
                                                 f"(block {block}); it now says block {answer.block_number}")
    return Finding("issuance_anchor", UNCHANGED, f"issued no later than block {block}: the anchor is still there")


def _validity(evidence: Evidence, now: Now) -> Finding | None:
    exp = evidence.payload.get("credential", {}).get("exp")
    if evidence.check("validity_period").get("status") != PASSED or not isinstance(exp, int):
        return None
    if now.time >= exp:
        return Finding("validity_period", WORSE, f"expired on {_utc(exp)}, since the evidence was made")
    return Finding("validity_period", UNCHANGED, f"still within its validity period (until {_utc(exp)})")


def recheck(evidence: Evidence, now: Now) -> Recheck:
    """Compare ``evidence`` (its signature already checked) with ``now``: one finding per re-checkable check."""
    payload = evidence.payload
    if not payload.get("verified"):
        failed = next((c for c in payload["checks"] if c.get("status") == FAILED), None)
        if failed is None:
            return Recheck((Finding("evidence", UNDECIDED, "the verifier could not decide when the evidence was "
                                                           "made; there is no verified result to re-check"),))
        return Recheck((Finding("evidence", WORSE, f"the presentation was not verified when the evidence was made "
                                                   f"({failed.get('check')}: {failed.get('detail')})"),))
    if isinstance(now.ledger, Unavailable):
        return Recheck((Finding("ledger", UNDECIDED, f"the ledger cannot be read: {now.ledger.reason}"),))
    other = _same_ledger(payload.get("ledger"), now.ledger)
    if other is not None:
        return Recheck((Finding("ledger", UNDECIDED, other),))
    findings = [f for f in (_revocation(evidence, now), _trust(evidence, now), _issuance(evidence, now),
                            _validity(evidence, now)) if f is not None]
    if not findings:
        findings.append(Finding("evidence", UNDECIDED, "the evidence records no input that can be checked again on "
                                                       "the chain"))
    return Recheck(tuple(findings))
