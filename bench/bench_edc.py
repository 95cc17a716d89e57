"""Benchmark: verifying a 0.5 MB sealed Europass EDC against the bare signature checks of the same run (issue 12 §7).

What it measures, in one process, on one core:

1. bound: what a verifier cannot avoid — the seal's own signature over the 0.5 MB
   signing input (SHA-256 of it included) plus the certificate signatures of the
   chain, done with ``cryptography`` directly;
2. ``credentials.europass.verify_sealed_edc`` on the same document: parsing both
   JSON levels, bomb limits, certificate parsing, the chain walk, the ELM checks;
3. where the time goes: each stage of (2) timed on its own.

Two seals of the same ELM document: the real RS256 seal of
``tests/vectors/europass-edc/edc-mc-signed.jsonld`` (RSA 2048 seal certificate,
RSA 3072 / 2048 CAs) and an ES256 seal by the test PKI of ``tests/x509_pki.py``.
Prints rates and the ratio verify / bound. Machines are noisy: read ratios.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

from bench._timing import rate  # noqa: E402
from credentials import jades  # noqa: E402
from credentials._json import json_loads  # noqa: E402
from credentials._json_limits import check_json_limits  # noqa: E402
from credentials.europass import EDC_JSON_LIMITS, _check_elm, _parse_seal, parse_trust_anchors, verify_sealed_edc  # noqa: E402  # noqa: E402
from credentials.x509_trust import TrustAnchors, validate_seal_chain  # noqa: E402
from tests.x509_pki import NOW, SIGNED_AT, make_pki  # noqa: E402

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "europass-edc"
SECONDS = 2.0


def stages(sealed: bytes, anchors: TrustAnchors) -> dict[str, Callable[[], object]]:
    """Each stage of verify_sealed_edc as its own callable, on the same input."""
    seal = _parse_seal(sealed)
    parts = jades._split(seal)
    alg, signing_time = jades._check_headers(parts)
    certificate, pool, _ = jades._certificates(parts)

    def payload_stage() -> None:
        document = json_loads(parts.payload, what="payload")
        check_json_limits(document, EDC_JSON_LIMITS, what="payload")
        _check_elm(document)

    return {
        "outer JSON parse + limits": lambda: _parse_seal(sealed),
        "split + headers": lambda: jades._check_headers(jades._split(seal)),
        "certificate parsing": lambda: jades._certificates(parts),
        "seal signature (SHA-256 of the input + verify)": lambda: jades._verify_signature(parts, alg, certificate),
        "chain walk to the anchor": lambda: validate_seal_chain(certificate, pool, anchors, at=signing_time),
        "ELM payload parse + limits + checks": payload_stage,
    }


def bound_of(sealed: bytes, anchors: TrustAnchors) -> Callable[[], None]:
    """The signature checks alone: the seal's, then each certificate's by its issuer (cryptography directly)."""
    parts = jades._split(_parse_seal(sealed))
    certificate, pool, _ = jades._certificates(parts)
    signing_input = parts.protected_b64.encode("ascii") + b"." + parts.payload_segment
    links: list[tuple[x509.Certificate, x509.Certificate]] = []
    current, candidates = certificate, pool + list(anchors.certificates)
    while current.issuer != current.subject:
        issuer = next(c for c in candidates if c.subject == current.issuer)
        links.append((current, issuer))
        current = issuer
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        half = len(parts.signature) // 2
        signature = encode_dss_signature(int.from_bytes(parts.signature[:half], "big"),
                                         int.from_bytes(parts.signature[half:], "big"))

        def verify_seal() -> None:
            key.verify(signature, signing_input, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, rsa.RSAPublicKey)

        def verify_seal() -> None:
            key.verify(parts.signature, signing_input, padding.PKCS1v15(), hashes.SHA256())

    def verify_all() -> None:
        verify_seal()
        for subject, issuer in links:
            subject.verify_directly_issued_by(issuer)

    verify_all()
    return verify_all


def run(label: str, sealed: bytes, anchors: TrustAnchors, now: int) -> None:
    result = verify_sealed_edc(sealed, trust_anchors=anchors, now=now)
    print(f"\n{label}: {len(sealed) / 1e6:.2f} MB, {result.alg}, chain {len(result.chain)} certificates")
    bound = rate(bound_of(sealed, anchors), SECONDS)
    full = rate(lambda: verify_sealed_edc(sealed, trust_anchors=anchors, now=now), SECONDS)
    print(f"  bound (signature checks only)   {bound:8.1f} /s")
    print(f"  verify_sealed_edc               {full:8.1f} /s   ratio {full / bound:.2f} of the bound")
    print(f"format line: Europass EDC, JAdES {result.alg} seal ({label}): {full:,.1f} verifications/s; "
          f"ratio {full / bound:.2f} of its signature checks")
    timings = {name: 1e3 / rate(work, SECONDS / 2) for name, work in stages(sealed, anchors).items()}
    total = sum(timings.values())
    for name, ms in timings.items():
        print(f"    {name:48s} {ms:7.3f} ms  {100 * ms / total:5.1f} %")


def main() -> None:
    real = (VECTORS / "edc-mc-signed.jsonld").read_bytes()
    halcom = parse_trust_anchors((VECTORS / "halcom-root-ca.pem").read_bytes())
    expected = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
    run("real EDC seal (RS256)", real, halcom, expected["now"])

    pki = make_pki("ec")
    payload = json.loads(real)["payload"].encode("utf-8")
    resealed = jades.seal_jades(payload, pki.seal_key, pki.chain, signing_time=SIGNED_AT).encode("utf-8")
    run("same ELM document, ES256 test seal", resealed, parse_trust_anchors(pki.anchors_pem), NOW)


if __name__ == "__main__":
    main()
