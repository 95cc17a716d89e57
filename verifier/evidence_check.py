"""``microcred verify --evidence FILE``: an evidence file checked again against the chain (issue 14, §5).

The file's signature is checked first, with the verifier keys given (``--jwks``: the JWK Set the
verifier serves at ``/.well-known/jwks.json``) or else this machine's own verifier key (the data dir's
``verifier-evidence-key.jwk``, never created here); a file signed by another key, or changed after it was
signed, is refused (exit 1). Then :func:`current_state` reads what the chain says now, through the same
service, settings and resolvers as ``microcred verify`` (:class:`verifier.service.VerifierService`):
the status anchor as of the evidence's block, the ``revocation`` check run again on the evidence's status
reference, the trust registry for the evidence's issuer, type and time, the issuance registry for its
batch root. :func:`credentials.evidence.recheck` decides: exit 0 still valid, 1 something changed for the
worse (each change said: "revoked at block 812 since the evidence was made", "issuer accreditation
suspended since …"), 2 cannot decide (the chain cannot be read, another chain, no key to check with).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credentials.errors import InvalidDid, InvalidInput, InvalidKey, MicrocredError
from credentials.evidence import UNDECIDED, Evidence, Finding, Now, Recheck, parse_evidence, recheck
from credentials.issuance_anchor import IssuanceAnchor
from credentials.jose import PublicKey
from credentials.merkle import IssuanceProof
from credentials.status_check import StatusListMemo, check_revocation
from credentials.verification_model import UNAVAILABLE, CheckResult, CheckRun, Unavailable
from infra.secret_files import read_secret_file
from ledger.config import LedgerSettings
from verifier.evidence import EVIDENCE_KEY_FILE, evidence_key
from verifier.terminal import ledger_problem, services_log_muted

__all__ = ["verifier_keys", "current_state", "recheck_file", "report_lines"]

_MAX_JWKS = 256 * 1024


def verifier_keys(jwks_text: str | None, data_dir: Path) -> dict[str, PublicKey]:
    """The keys evidence may be signed with, by kid: those of a JWK Set, or this machine's verifier key."""
    if jwks_text is None:
        path = Path(data_dir) / EVIDENCE_KEY_FILE
        if not path.is_file():
            return {}
        read_secret_file(path)  # refuses a key file others may read
        key = evidence_key(Path(data_dir)).public_key()
        return {key.thumbprint(): key}
    try:
        keys = json.loads(jwks_text[:_MAX_JWKS])["keys"]
        found = {}
        for jwk in keys:
            key = PublicKey.from_jwk({k: v for k, v in jwk.items() if k not in ("kid", "use")})
            found[key.thumbprint()] = key  # the kid is the key's own thumbprint, never taken on trust
        return found
    except (ValueError, TypeError, KeyError, AttributeError, InvalidKey, RecursionError) as exc:
        raise InvalidInput(f"expected a JWK Set (the verifier's /.well-known/jwks.json), found something else: "
                           f"{str(exc)[:120]}") from None


def _ledger_problem(service: Any, evidence: Evidence, answered: bool = False) -> str:
    """Why the ledger cannot be read (verifier.terminal), with the chain the evidence was made on."""
    chain_id = (evidence.payload.get("ledger") or {}).get("chain_id")
    made_on = f" (the evidence was made on chain {chain_id})" if isinstance(chain_id, int) else ""
    return ledger_problem(LedgerSettings.of(service.settings), answered=answered, made_on=made_on)


def _read(what: str, read: Any, unreachable: str | None = None) -> Any:
    """``read()``, or why ``what`` could not be read (the recheck's finding names ``what`` itself); a node that
    does not answer is said as ``unreachable``."""
    try:
        return read()
    except (MicrocredError, ConnectionError, TimeoutError) as exc:
        if unreachable is not None and isinstance(exc, (ConnectionError, TimeoutError)):
            return Unavailable(unreachable)
        return Unavailable(str(exc)[:300] or f"{what}: {type(exc).__name__}")


def _revocation_now(service: Any, evidence: Evidence, now: int) -> tuple[Any, Any, int | None]:
    """(the anchor as of the evidence's block, the revocation check run now, the block of the anchor it read)."""
    check = evidence.check("revocation")
    inputs = check.get("inputs")
    credential = evidence.payload.get("credential") or {}
    iss = credential.get("iss")
    if not isinstance(inputs, dict) or "anchored_block" not in inputs or not isinstance(iss, str):
        return None, None, None
    view = service.ledger_view()

    def anchor_then() -> tuple[bytes, int] | None:
        anchor = view.ledger.status.latest_anchor(iss, inputs["list_id"], block=int(inputs["anchored_block"]))
        return None if anchor is None else (anchor.sha256, anchor.version)

    then = _read("the status anchor", anchor_then, _ledger_problem(service, evidence))
    kid = evidence.check("signature").get("inputs", {}).get("kid")
    try:
        key = service.keys.issuer_key(iss, kid)
    except (InvalidDid, InvalidKey) as exc:
        return then, Unavailable(f"the issuer's key cannot be resolved: {exc}"), None
    except (ConnectionError, TimeoutError) as exc:
        return then, Unavailable(f"the issuer's key cannot be read now: {exc}"), None
    token_key = (lambda token_kid: service.keys.issuer_key(iss, token_kid)) if iss.startswith("did:mcr:") else key
    run = CheckRun()
    stub = {"status": {"status_list": {"idx": inputs.get("index"), "uri": inputs.get("uri")}}}
    shown = check_revocation(run, service.policy(), service._status, stub, iss, token_key, now, StatusListMemo())
    return then, run.results.get("revocation"), (shown or {}).get("anchored_block")


def _trust_now(service: Any, evidence: Evidence) -> Any:
    inputs = evidence.check("issuer_trust").get("inputs")
    credential = evidence.payload.get("credential") or {}
    if not isinstance(inputs, dict) or not isinstance(credential.get("iss"), str):
        return None
    return service._trust(credential["iss"], str(inputs.get("vct")), int(inputs.get("at", 0)))


def _issuance_now(service: Any, view: Any, evidence: Evidence) -> IssuanceAnchor | Unavailable | None:
    inputs = evidence.check("issuance_anchor").get("inputs")
    iss = (evidence.payload.get("credential") or {}).get("iss")
    if not isinstance(inputs, dict) or not isinstance(iss, str):
        return None
    try:
        root = IssuanceProof.from_json(inputs.get("proof")).root
    except InvalidInput:
        return None
    answer: IssuanceAnchor | Unavailable = _read("the issuance registry", lambda: view.issuance_anchor(iss, root),
                                                 _ledger_problem(service, evidence))
    return answer


def current_state(service: Any, evidence: Evidence, now: int) -> Now:
    """What the chain says now about each input of ``evidence``, read through ``service``."""
    with services_log_muted():
        view = service.ledger_view()
    if view is None:
        answered = "did not answer" not in (service._ledger_error or "did not answer")
        return Now(now, Unavailable(_ledger_problem(service, evidence, answered=answered)))
    from ledger.chain import deadline  # here: ledger.chain loads web3, as in verifier.service

    deployment = view.ledger.deployment
    ledger = {"chain_id": deployment.chain_id, "trust_registry": deployment.trust_registry.address,
              "status_registry": deployment.status_registry.address}
    with deadline(service.settings.VERIFIER_DEADLINE * 4):
        then, revocation, status_block = _revocation_now(service, evidence, now)
        if isinstance(revocation, Unavailable):
            revocation = CheckResult("revocation", UNAVAILABLE, revocation.reason)
        return Now(now, ledger, anchor_then=then, revocation=revocation, status_block=status_block,
                   trust=_trust_now(service, evidence), issuance=_issuance_now(service, view, evidence))


def recheck_file(service: Any, text: bytes, keys: dict[str, PublicKey], now: int) -> tuple[Evidence | None, Recheck]:
    """Parse, check the signature (a bad one is WORSE), then re-check against the chain."""
    try:
        evidence = parse_evidence(text)
    except InvalidInput as exc:
        return None, Recheck((Finding("evidence", "worse", f"the file is not a verifier's evidence: {exc}"),))
    if not keys:
        return evidence, Recheck((Finding("signature", UNDECIDED, "no verifier key to check the evidence's signature "
                                                                  "with: pass --jwks (the verifier's "
                                                                  "/.well-known/jwks.json)"),))
    problem = evidence.signature_problem(keys)
    if problem is not None:
        return evidence, Recheck((Finding("signature", "worse", problem),))
    return evidence, recheck(evidence, current_state(service, evidence, now))


_WORDS = {"unchanged": "unchanged", "worse": "CHANGED", "undecided": "cannot say"}
_VERDICTS = {0: "still valid: nothing changed for the worse since the evidence was made",
             1: "NOT valid any more, or not trustworthy evidence: see above",
             2: "cannot decide now: see above"}


def _made(made_at: Any) -> str:
    """When the evidence was made, as a person reads it (UTC)."""
    if isinstance(made_at, int) and not isinstance(made_at, bool) and 0 <= made_at < 253_402_300_800:  # year 9999
        return datetime.fromtimestamp(made_at, tz=UTC).strftime("made on %Y-%m-%d at %H:%M:%S UTC")
    return f"made at {str(made_at)[:40]!r} (not a time)"


def report_lines(evidence: Evidence | None, result: Recheck) -> list[str]:
    """What ``microcred verify --evidence`` prints."""
    lines = []
    if evidence is not None:
        payload = evidence.payload
        presentation = payload.get("presentation") or {}
        lines.append(f"evidence: {_made(payload.get('made_at'))} by {payload.get('verifier') or 'a verifier'}, "
                     f"key {evidence.kid[:16]}…, presentation sha256 {str(presentation.get('sha256'))[:16]}…, "
                     f"{'verified' if payload.get('verified') else 'not verified'} then")
    lines += [f"{f.check}: {_WORDS[f.outcome]}: {f.detail}" for f in result.findings]
    lines.append(f"result: {_VERDICTS[result.exit_code]} (exit {result.exit_code})")
    return lines
