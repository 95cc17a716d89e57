"""An Open Badge 3.0 secured as a JWT (ES256 and RS256) through the verifier core vs the raw signature check of
the same run.

The credential: an OpenBadgeCredential (VCDM 2.0, about 2 KB: issuer profile, an
achievement with criteria, ECTS and EQF alignments) with a
``BitstringStatusListEntry``, secured as ``vc+jwt`` by a did:key issuer — P-256
(ES256) or RSA 2048 (RS256). For each algorithm:

1. bound: ``PublicKey.verify`` of the token's signing input per second (the
   JOSE signature alone, key already parsed), ONE core;
2. ``verify_jwt_vc`` per second (parse, form, issuer key from the did:key,
   signature, validity period);
3. ``credentials.verification.verify_presentation`` per second: every named
   check — the above, the Open Badge form and 1EdTech's JSON Schema, issuer
   trust (an in-memory answer), the Bitstring status list (a ``vc+jwt`` list
   of 131,072 entries whose SHA-256 matches an in-memory anchor; verified once,
   then kept by the core's list memo, as the service keeps it) and the Annex I view.

Prints one line per figure, the ratios to the bound, and where one core
verification's time goes (each stage measured on its own). Machines are noisy
(BASELINES.md): read ratios. Usage: ``python bench/bench_imported.py [seconds-per-figure]``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._timing import rate  # noqa: E402
from credentials.annex_ob3 import annex_from_ob3  # noqa: E402
from credentials.bitstring_status_list import Bitstring, build_status_list_credential  # noqa: E402
from credentials.dids import did_key_from_public_key, verification_method_id  # noqa: E402
from credentials.jose import PrivateKey, PublicKey, UnverifiedJws, b64url_encode, json_dumps, sign_jws  # noqa: E402
from credentials.jwt_vc import verify_jwt_vc  # noqa: E402
from credentials.open_badges import check_open_badge_credential, open_badge_schema_problems  # noqa: E402
from credentials.sd_jwt_vc import resolve_did_issuer_key  # noqa: E402
from credentials.verification import (  # noqa: E402
    Policy,
    StatusEvidence,
    TrustAnswer,
    TrustLink,
    W3cListMemo,
    verify_presentation,
)
from credentials.verification_types import OB3_TYPE  # noqa: E402

NOW = 1_767_225_600
ROOT_DID = "did:web:root.example"
LIST_URL = "https://uni.example/status/bitstring/list-1"


def badge(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:5b2a8f0e-0c4e-4d8a-9b61-0f4a1d2e3c45",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Smart Contracts",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Università di Prova",
                   "address": {"type": ["Address"], "addressCountryCode": "IT"}},
        "validFrom": "2025-09-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner", "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://uni.example/achievements/smart-contracts", "type": ["Achievement"],
                "achievementType": "MicroCredential", "name": "Introduction to Smart Contracts",
                "description": "Write, test and deploy a Solidity contract; explain gas costs and common attacks.",
                "criteria": {"narrative": "Pass the project assessment (a tested contract) and the written exam."},
                "creditsAvailable": 5,
                "alignment": [
                    {"type": ["Alignment"], "targetName": "ECTS", "targetFramework": "ECTS",
                     "targetUrl": "http://data.europa.eu/snb/education-credit/6fcec5c5af"},
                    {"type": ["Alignment"], "targetName": "EQF level 6", "targetFramework": "EQF", "targetCode": "6",
                     "targetUrl": "http://data.europa.eu/snb/eqf/6"},
                ],
            },
            "result": [{"type": ["Result"], "value": "A"}],
        },
        "credentialStatus": {"id": f"{LIST_URL}#88123", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": "88123",
                             "statusListCredential": LIST_URL},
    }


def rsa_jws(payload: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    """RS256 compact JWS (microcred itself never signs with RSA; foreign issuers do)."""
    head = b64url_encode(json_dumps({"alg": "RS256", "typ": "vc+jwt", "kid": kid}).encode())
    signing_input = head + "." + b64url_encode(json_dumps(payload).encode())
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))


def issuer(alg: str) -> tuple[str, Callable[[dict[str, Any]], str]]:
    """(did, sign) for an ES256 or RS256 did:key issuer."""
    if alg == "ES256":
        key = PrivateKey.generate("ES256")
        did = did_key_from_public_key(key.public_key())
        kid = verification_method_id(did)
        return did, lambda payload: sign_jws(payload, key, header={"kid": kid, "typ": "vc+jwt"})
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    did = did_key_from_public_key(PublicKey.from_cryptography(private.public_key(), alg="RS256"))
    return did, lambda payload: rsa_jws(payload, private, verification_method_id(did))


def run(alg: str, seconds: float) -> None:
    did, sign = issuer(alg)
    token = sign(badge(did))
    listed = sign(build_status_list_credential(Bitstring.new(), id=LIST_URL, issuer=did, valid_from=NOW - 3600))
    anchored = hashlib.sha256(listed.encode()).digest()
    chain = (TrustLink(did, "Università di Prova", "issuer"), TrustLink(ROOT_DID, "Root", "root"))
    policy = Policy(frozenset({ROOT_DID}))
    memo = W3cListMemo()

    def core() -> None:
        result = verify_presentation(
            token, policy=policy, trust=lambda d, t, at: TrustAnswer(t == OB3_TYPE, "accredited", chain, "IT"),
            status=lambda d, u: StatusEvidence(None), replay=lambda i, e: True, now=NOW,
            lists=lambda d, u: StatusEvidence(anchored, 41, 1, listed, checked_at=NOW), list_memo=memo)
        if not result.verified:
            raise SystemExit(f"the benchmark credential did not verify: {[(c.check, c.status) for c in result.checks]}")

    jws = UnverifiedJws.parse(token, what="JWT VC", allowed_algs={"ES256", "EdDSA", "RS256", "PS256"})
    key = resolve_did_issuer_key(did, None)
    bound = rate(lambda: key.verify(jws.signing_input, jws.signature, alg=alg), seconds)
    module = rate(lambda: verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW), seconds)
    full = rate(core, seconds)
    print(f"{alg}: token {len(token)} B, raw signature verify {bound:9.0f}/s (one core)")
    print(f"{alg}: verify_jwt_vc               {module:9.0f}/s  ratio {module / bound:5.2f} of the raw verify")
    print(f"{alg}: verify_presentation (core)  {full:9.0f}/s  ratio {full / bound:5.2f} of the raw verify")
    print(f"format line: VC-JOSE, Open Badge 3.0 as vc+jwt {alg} (verifier core): {full:,.0f} verifications/s; "
          f"ratio {full / bound:.2f} of its raw signature check")
    credential = verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW).credential
    form = 1 / rate(lambda: check_open_badge_credential(credential, now=NOW), seconds)
    info = check_open_badge_credential(credential, now=NOW)
    schema = 1 / rate(lambda: open_badge_schema_problems(info), seconds)
    view = 1 / rate(lambda: annex_from_ob3(credential), seconds)
    total = 1 / full
    print(f"{alg}: where one core verification's {total * 1e6:.0f} µs go: verify_jwt_vc {1e6 / module:.0f} µs, "
          f"Open Badge form (contexts, shape) {form * 1e6:.0f} µs, 1EdTech JSON Schema {schema * 1e6:.0f} µs, "
          f"Annex I view {view * 1e6:.0f} µs, the rest (trust, status, checks) "
          f"{max(0.0, total - 1 / module - form - schema - view) * 1e6:.0f} µs")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    for alg in ("ES256", "RS256"):
        run(alg, seconds)


if __name__ == "__main__":
    main()
