"""Data Integrity interoperability with an independent implementation, both ways.

The other side is Digital Bazaar's JavaScript stack (npm ``@digitalbazaar/vc`` 7.3,
``data-integrity`` 2.5 and the ``eddsa-rdfc-2022`` / ``eddsa-jcs-2022`` /
``ecdsa-rdfc-2019`` cryptosuites, pinned in package.json), run by
``tests/interop/data_integrity.mjs`` with an offline loader that knows only
microcred's vendored contexts and did:key. Their Open Badges verify in
microcred; ours verify in theirs; a badge of ours changed after signing does
not verify in theirs either.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credentials.data_integrity import sign_data_integrity
from credentials.errors import SignatureError
from credentials.jsonld import CONTEXT_FILES
from credentials.multikey import multibase_from_public_key, resolve_did_verification_method
from credentials.open_badges import verify_open_badge

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "data_integrity.mjs"
NOW = 1_767_225_600
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019"]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@digitalbazaar" / "vc").exists(),
    reason="node and the npm devDependencies (make test runs npm ci) are needed",
)


def _contexts() -> dict[str, Any]:
    folder = ROOT / "credentials" / "contexts"
    return {url: json.loads((folder / name).read_text(encoding="utf-8")) for url, name in CONTEXT_FILES.items()}


def _node(mode: str, request: dict[str, Any]) -> Any:
    result = subprocess.run(["node", str(SCRIPT), mode], input=json.dumps({**request, "contexts": _contexts()}),
                            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def _badge() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:3f1c2a9e-4d1b-4e36-8a0f-6a1f0b9c2d11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Blockchain basics",
        "issuer": {"id": "did:example:replaced", "type": ["Profile"], "name": "Università di Prova"},
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
                "creditsAvailable": 3,
            },
        },
    }


@pytest.mark.parametrize("suite", SUITES)
def test_their_badges_verify_in_microcred(suite: str) -> None:
    signed = _node("issue", {"credential": _badge(), "cryptosuite": suite, "created": "2025-09-01T10:00:00Z"})
    badge = verify_open_badge(signed, resolve_verification_method=resolve_did_verification_method, now=NOW)
    assert badge.proofs[0].cryptosuite == suite
    assert badge.issuer_id == signed["issuer"]["id"]
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    with pytest.raises(SignatureError):
        verify_open_badge(tampered, resolve_verification_method=resolve_did_verification_method, now=NOW)


@pytest.mark.parametrize("suite", SUITES)
def test_our_badges_verify_in_theirs(suite: str) -> None:
    private: Any = (ed25519.Ed25519PrivateKey.generate() if suite.startswith("eddsa")
                    else ec.generate_private_key(ec.SECP256R1()))
    msid = multibase_from_public_key(private.public_key())
    document = _badge()
    document["issuer"]["id"] = f"did:key:{msid}"
    signed = sign_data_integrity(document, private, f"did:key:{msid}#{msid}", "2025-09-01T10:00:00Z", cryptosuite=suite)
    assert _node("verify", {"credential": signed, "cryptosuite": suite}) == {"verified": True, "errors": []}
    tampered = copy.deepcopy(signed)
    tampered["name"] = "Blockchain expert"
    answer = _node("verify", {"credential": tampered, "cryptosuite": suite})
    assert answer["verified"] is False
