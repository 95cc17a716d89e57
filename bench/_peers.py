"""Two independent SD-JWT libraries timed on the same kind of credential, for the benchmarks' peer lines (issue 16).

* OWF ``sd-jwt`` (PyPI ``sd-jwt``, the OpenWallet Foundation's reference implementation of RFC 9901,
  on jwcrypto);
* ``openvc-core`` (PyPI, ``openvc.proof.sd_jwt.SdJwtVcProofSuite``; top-level disclosures only, so the
  credential's nested and array members are made top-level claims of their own, the same count).

Both are optional (``pip install -e '.[bench]'``, as ``make bench`` does): a missing one prints
"not installed" instead of a figure. Their verification covers what each library checks (issuer
signature, disclosures, KB-JWT with ``aud`` / ``nonce`` / ``sd_hash``), not trust, status, replay or
schema, which microcred's line includes. Rates per second, one process, ``bench._timing.rate``.
"""

from __future__ import annotations

import itertools
from typing import Any

from bench._timing import rate

AUDIENCE = "https://employer.example"
ISSUER = "https://uni.example"


def _flat(claims: dict[str, Any]) -> dict[str, Any]:
    """Every member of a nested object and every array element as a top-level claim (openvc discloses no deeper)."""
    flat: dict[str, Any] = {}
    for name, value in claims.items():
        if isinstance(value, dict):
            flat.update({f"{name}_{k}": v for k, v in value.items()})
        elif isinstance(value, list) and len(value) > 1:
            flat.update({f"{name}_{i}": v for i, v in enumerate(value)})
        else:
            flat[name] = value
    return flat


def owf_verify_rate(claims: dict[str, Any], shown: list[str], seconds: float) -> float | str:
    """OWF sd-jwt: presentations (``shown`` top-level claims disclosed, KB-JWT) verified per second."""
    try:
        from jwcrypto.jwk import JWK
        from sd_jwt.common import SDObj
        from sd_jwt.holder import SDJWTHolder
        from sd_jwt.issuer import SDJWTIssuer
        from sd_jwt.verifier import SDJWTVerifier
    except ImportError:
        return "not installed"
    issuer_key, holder_key = JWK.generate(kty="EC", crv="P-256"), JWK.generate(kty="EC", crv="P-256")
    user = {"iss": ISSUER, "iat": 1_790_000_000, **{SDObj(k): v for k, v in claims.items()}}
    issued = SDJWTIssuer(user, issuer_key, holder_key, sign_alg="ES256").sd_jwt_issuance
    nonces = itertools.count()
    presentations = []
    for _ in range(64):
        holder = SDJWTHolder(issued)
        holder.create_presentation(dict.fromkeys(shown, True), f"n{len(presentations)}", AUDIENCE, holder_key, "ES256")
        presentations.append((holder.sd_jwt_presentation, f"n{len(presentations)}"))

    def verify() -> None:
        presentation, nonce = presentations[next(nonces) % len(presentations)]
        SDJWTVerifier(presentation, lambda iss, header: issuer_key, AUDIENCE, nonce).get_verified_payload()

    return rate(verify, seconds)


def owf_issue_rate(claims: dict[str, Any], seconds: float) -> float | str:
    """OWF sd-jwt: SD-JWTs issued per second, every member, nested member and array element disclosable."""
    try:
        from jwcrypto.jwk import JWK
        from sd_jwt.common import SDObj
        from sd_jwt.issuer import SDJWTIssuer
    except ImportError:
        return "not installed"

    def disclosable(value: Any) -> Any:
        if isinstance(value, dict):
            return {SDObj(k): disclosable(v) for k, v in value.items()}
        if isinstance(value, list):
            return [SDObj(disclosable(v)) for v in value]
        return value

    issuer_key, holder_key = JWK.generate(kty="EC", crv="P-256"), JWK.generate(kty="EC", crv="P-256")
    user = {"iss": ISSUER, "iat": 1_790_000_000, **disclosable(claims)}
    return rate(lambda: SDJWTIssuer(user, issuer_key, holder_key, sign_alg="ES256").sd_jwt_issuance, seconds)


def _openvc() -> tuple[Any, Any, Any] | str:
    try:
        from openvc.keys import P256SigningKey
        from openvc.proof.sd_jwt import SdJwtVcProofSuite
    except ImportError:
        return "not installed"
    return SdJwtVcProofSuite(), P256SigningKey.generate("issuer-key"), P256SigningKey.generate("holder-key")


def _jwk(key: Any) -> dict[str, Any]:
    return dict(key.public_jwk())


def openvc_verify_rate(claims: dict[str, Any], shown: list[str], vct: str, seconds: float) -> float | str:
    """openvc-core: presentations (``shown`` claims disclosed, KB-JWT) verified per second."""
    made = _openvc()
    if isinstance(made, str):
        return made
    suite, issuer, holder = made
    flat = _flat(claims)
    issued = suite.issue({"iss": ISSUER, **flat}, signing_key=issuer, disclosable=list(flat), vct=vct,
                         holder_jwk=_jwk(holder))
    jwt, *disclosures = [part for part in issued.split("~") if part]
    kept = [d for d in disclosures if _disclosed_name(d) in shown]
    partial = jwt + "~" + "".join(d + "~" for d in kept)
    presentations = [(suite.create_presentation(partial, holder_key=holder, audience=AUDIENCE, nonce=f"n{i}"),
                      f"n{i}") for i in range(64)]
    issuer_jwk, nonces = _jwk(issuer), itertools.count()

    def verify() -> None:
        presentation, nonce = presentations[next(nonces) % len(presentations)]
        suite.verify(presentation, public_key_jwk=issuer_jwk, audience=AUDIENCE, nonce=nonce,
                     require_key_binding=True, expected_vct=vct)

    return rate(verify, seconds)


def openvc_issue_rate(claims: dict[str, Any], vct: str, seconds: float) -> float | str:
    """openvc-core: SD-JWT VCs issued per second, every (flattened) claim disclosable."""
    made = _openvc()
    if isinstance(made, str):
        return made
    suite, issuer, holder = made
    flat, holder_jwk = _flat(claims), _jwk(holder)
    return rate(lambda: suite.issue({"iss": ISSUER, **flat}, signing_key=issuer, disclosable=list(flat), vct=vct,
                                    holder_jwk=holder_jwk), seconds)


def _disclosed_name(disclosure: str) -> str:
    import base64
    import json

    return str(json.loads(base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4)))[1])


def peer_line(label: str, figure: float | str, bound: float, unit: str) -> str:
    """One printed line: the rate and its ratio to ``bound``, or why there is none."""
    if isinstance(figure, str) or bound <= 0:
        return f"peer {label}: {figure}"
    return f"peer {label}: {figure:,.0f} {unit}/s; ratio to bound {figure / bound:.2f}"


__all__ = ["owf_verify_rate", "owf_issue_rate", "openvc_verify_rate",
           "openvc_issue_rate", "peer_line"]
