"""VC-JOSE (``vc+jwt``) interoperability with an independent JOSE implementation, both ways.

The other side is panva's ``jose`` (npm, pinned in package.json), run by
``tests/interop/vc_jose.mjs``. Their Open Badges signed ES256, EdDSA, RS256 and PS256 with a
did:jwk issuer verify in microcred (RSA only because an Open Badge is an imported format); the
Open Badges microcred signs with the function its issuer uses for the Open Badge twins
(``credentials.jwt_vc.sign_vc_jwt``) verify in theirs; a changed token fails on both sides.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from credentials.dids import did_jwk_from_public_key, verification_method_id
from credentials.errors import SignatureError
from credentials.jose import PrivateKey, b64url_decode, b64url_encode
from credentials.jwt_vc import sign_vc_jwt, verify_jwt_vc
from credentials.sd_jwt_vc import resolve_did_issuer_key

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "vc_jose.mjs"
NOW = 1_767_225_600

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "jose").exists(),
    reason="node and the npm devDependencies (make test runs npm ci) are needed",
)


def _node(mode: str, request: dict[str, Any], *, ok: bool = True) -> Any:
    result = subprocess.run(["node", str(SCRIPT), mode], input=json.dumps(request), capture_output=True, text=True,
                            timeout=60, cwd=ROOT, check=False)
    if not ok:
        return result
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def _badge() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:0b8e4b8a-6c55-4a7e-9d1e-2f7d3c9a1b42",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Blockchain basics",
        "validFrom": "2025-09-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://uni.example/achievements/blockchain-basics",
                "type": ["Achievement"],
                "name": "Blockchain basics",
                "description": "Explain consensus and write a smart contract.",
                "criteria": {"narrative": "Pass the written exam."},
            },
        },
    }


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256", "PS256"])
def test_their_vc_jwt_verifies_in_microcred(alg: str) -> None:
    issued = _node("issue", {"alg": alg, "credential": _badge()})
    verified = verify_jwt_vc(issued["token"], resolve_issuer_key=resolve_did_issuer_key, now=NOW)
    assert verified.issuer_id == issued["did"]
    assert verified.alg == alg
    assert verified.credential["name"] == "Blockchain basics"


def test_their_vc_jwt_changed_after_signing_fails_in_microcred() -> None:
    token = _node("issue", {"alg": "ES256", "credential": _badge()})["token"]
    header, payload, signature = token.split(".")
    changed = json.loads(b64url_decode(payload))
    changed["name"] = "Advanced blockchain"
    forged = ".".join([header, b64url_encode(json.dumps(changed).encode("utf-8")), signature])
    with pytest.raises(SignatureError):
        verify_jwt_vc(forged, resolve_issuer_key=resolve_did_issuer_key, now=NOW)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_our_vc_jwt_verifies_in_theirs(alg: str) -> None:
    key = PrivateKey.generate(alg)
    did = did_jwk_from_public_key(key.public_key())
    token = sign_vc_jwt({**_badge(), "issuer": did}, key, kid=verification_method_id(did))
    jwk = key.public_key().to_jwk()
    answer = _node("verify", {"token": token, "jwk": jwk, "typ": "vc+jwt"})
    assert answer["payload"]["issuer"] == did
    assert answer["header"]["alg"] == alg
    header, payload, signature = token.split(".")
    changed = json.loads(b64url_decode(payload))
    changed["name"] = "Advanced blockchain"
    forged = ".".join([header, b64url_encode(json.dumps(changed).encode("utf-8")), signature])
    refused = _node("verify", {"token": forged, "jwk": jwk, "typ": "vc+jwt"}, ok=False)
    assert refused.returncode == 1
    assert "signature" in refused.stderr.lower()
