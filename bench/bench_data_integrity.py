"""Open Badge 3.0 verification with Data Integrity vs the bare Ed25519 verify rate, measured in the same run.

The credential: an OpenBadgeCredential of about 3 KB (issuer profile, an
achievement with criteria, alignment, result descriptions and ECTS credits, a
result, a Bitstring status entry), signed by a did:key Ed25519 key with
``eddsa-rdfc-2022`` and again with ``eddsa-jcs-2022``. For each:

1. bound: ``cryptography`` Ed25519 verifications per second of a 64-byte
   message (the size of the data a Data Integrity proof signs), ONE core;
2. ``verify_open_badge`` per second (form, proof, issuer binding, validity,
   1EdTech's JSON Schema), and ``verify_data_integrity`` alone;
3. where one verification's time goes: for RDFC, JSON-LD expansion to RDF
   (pyld, contexts cached) and RDFC-1.0 canonicalization of the document and of
   the proof configuration; for JCS, RFC 8785; then SHA-256, the signature, and
   the badge's form and validity checks, 1EdTech's JSON Schema (compiled once,
   credentials/schema_fast.py), and the rest.

Prints one line per figure and the ratios. Machines are noisy (BASELINES.md):
read ratios. Usage: ``python bench/bench_data_integrity.py [seconds-per-figure]``.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import rfc8785  # noqa: E402

from bench._timing import rate  # noqa: E402
from credentials import jsonld  # noqa: E402
from credentials.data_integrity import sign_data_integrity, verify_data_integrity  # noqa: E402
from credentials.multikey import multibase_from_public_key, resolve_did_verification_method  # noqa: E402
from credentials.open_badges import (  # noqa: E402
    check_open_badge_credential,
    open_badge_schema_problems,
    verify_open_badge,
)

NOW = 1_767_225_600


def badge(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:5b2a8f0e-0c4e-4d8a-9b61-0f4a1d2e3c45",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Smart Contracts",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Università di Prova", "url": "https://uni.example",
                   "address": {"type": ["Address"], "addressCountry": "Italy", "addressCountryCode": "IT"}},
        "validFrom": "2025-09-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://uni.example/achievements/smart-contracts",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": "Introduction to Smart Contracts",
                "description": "Write, test and deploy a Solidity contract; explain gas costs and common attacks.",
                "criteria": {"narrative": "Pass the project assessment (a tested contract) and the written exam."},
                "creditsAvailable": 5,
                "fieldOfStudy": "Computer science",
                "humanCode": "INF-SC-01",
                "inLanguage": "en",
                "alignment": [
                    {"type": ["Alignment"], "targetName": "EQF level 6", "targetType": "ext:EQF",
                     "targetUrl": "https://europa.eu/europass/en/description-eight-eqf-levels"},
                    {"type": ["Alignment"], "targetName": "Smart contract development",
                     "targetType": "ceasn:Competency",
                     "targetUrl": "https://uni.example/competencies/smart-contracts"},
                ],
                "resultDescription": [
                    {"id": "urn:uuid:7a0e6c1d-2f3b-4c5d-8e9f-0a1b2c3d4e5f", "type": ["ResultDescription"],
                     "name": "Final grade", "resultType": "LetterGrade",
                     "allowedValue": ["A", "B", "C", "D", "E", "F"], "requiredValue": "E"},
                ],
            },
            "result": [{"type": ["Result"], "resultDescription": "urn:uuid:7a0e6c1d-2f3b-4c5d-8e9f-0a1b2c3d4e5f",
                        "value": "A"}],
        },
        "credentialStatus": {
            "id": "https://uni.example/status/1#88123", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": "88123",
            "statusListCredential": "https://uni.example/status/1",
        },
    }


def per_call(action: Callable[[], object], seconds: float) -> float:
    """Mean seconds per call."""
    return 1.0 / rate(action, seconds)


def ed25519_bound(seconds: float) -> float:
    key = ed25519.Ed25519PrivateKey.generate()
    public, data = key.public_key(), b"x" * 64
    signature = key.sign(data)
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(500):
            public.verify(signature, data)
        count += 500
    return count / elapsed


def breakdown(signed: dict[str, Any], seconds: float) -> dict[str, float]:
    """Seconds per verification spent in each stage (measured stage by stage)."""
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    proof = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    config = {**proof, "@context": signed["@context"]}
    parts: dict[str, float] = {}
    if signed["proof"]["cryptosuite"].endswith("rdfc-2022"):
        options = {"documentLoader": jsonld.DEFAULT_CONTEXT_LOADER,
                   "contextResolver": jsonld.DEFAULT_CONTEXT_LOADER.new_resolver(),
                   "base": None, "processingMode": "json-ld-1.1", "produceGeneralizedRdf": False,
                   "extractAllScripts": False}
        datasets = [jsonld._SafeProcessor().to_rdf(dict(d), options) for d in (unsecured, config)]
        parts["JSON-LD to RDF (document + proof)"] = sum(
            per_call(lambda d=d: jsonld._SafeProcessor().to_rdf(dict(d), options), seconds)
            for d in (unsecured, config))
        parts["RDFC-1.0 (document + proof)"] = sum(
            per_call(lambda s=s: jsonld._BoundedRdfc10().main(s, {"format": "application/n-quads"}), seconds)
            for s in datasets)
        canonical = [jsonld.canonical_nquads(d).encode() for d in (unsecured, config)]
    else:
        parts["RFC 8785 JCS (document + proof)"] = sum(
            per_call(lambda d=d: rfc8785.dumps(d), seconds) for d in (unsecured, config))
        canonical = [rfc8785.dumps(d) for d in (unsecured, config)]
    parts["SHA-256 (document + proof)"] = sum(
        per_call(lambda c=c: hashlib.sha256(c).digest(), seconds) for c in canonical)
    parts["Ed25519 verify"] = 1.0 / ed25519_bound(seconds)
    info = check_open_badge_credential(signed, now=NOW)
    parts["badge form + validity (our checks)"] = per_call(
        lambda: check_open_badge_credential(signed, now=NOW), seconds)
    parts["1EdTech JSON Schema (compiled)"] = per_call(lambda: open_badge_schema_problems(info), seconds)
    return parts


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
    key = ed25519.Ed25519PrivateKey.generate()
    msid = multibase_from_public_key(key.public_key())
    issuer = f"did:key:{msid}"
    document = badge(issuer)
    print(f"credential: OpenBadgeCredential, {len(rfc8785.dumps(document))} bytes of JSON, did:key Ed25519 issuer")
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        signed = sign_data_integrity(document, key, f"{issuer}#{msid}", "2025-09-01T10:00:00Z", cryptosuite=suite)
        bounds, badges, proofs = [], [], []
        for _ in range(3):
            bounds.append(ed25519_bound(seconds))
            badges.append(rate(lambda signed=signed: verify_open_badge(
                signed, resolve_verification_method=resolve_did_verification_method, now=NOW), seconds))
            proofs.append(rate(lambda signed=signed: verify_data_integrity(signed), seconds))
        bound, whole, proof_only = (statistics.median(v) for v in (bounds, badges, proofs))
        print(f"== {suite}")
        print(f"bare Ed25519 verify (cryptography, ONE core, same run): {bound:,.0f}/s")
        print(f"verify_open_badge: {whole:,.1f}/s  "
              f"(ratio to bare Ed25519: {whole / bound:.5f}, 1 in {bound / whole:,.0f})")
        print(f"verify_data_integrity alone: {proof_only:,.1f}/s  (ratio {proof_only / bound:.5f})")
        print(f"format line: Open Badge 3.0, Data Integrity {suite}: {whole:,.1f} verifications/s; "
              f"ratio {whole / bound:.5f} of a bare Ed25519 verify")
        parts = breakdown(signed, seconds / 3)
        total = 1.0 / whole
        for name, spent in parts.items():
            print(f"  {name:>36}: {spent * 1e3:8.3f} ms  {100 * spent / total:5.1f} %")
        rest = total - sum(parts.values())
        if rest >= 0:
            label = "rest (did:key, bounds, safe-mode walk)"
            print(f"  {label:>36}: {rest * 1e3:8.3f} ms  {100 * rest / total:5.1f} %")
        else:  # the stages are timed one by one, the whole separately: on a busy machine they disagree
            print(f"  (stages add up to {100 * sum(parts.values()) / total:.0f} % of the whole: "
                  "the machine was busier then)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
