"""Tokens with hostile JSON text, signed with a real key, for tests of what verifiers must refuse.

``json_dumps`` refuses what an attacker writes by hand (``1e400``, a UTF-16
payload, a BOM), so these helpers edit the JSON *text* and sign the result
(RFC 7515 compact JWS) with the key the test holds: the signature is valid, so
only the check under test can refuse the token.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from credentials.jose import PrivateKey, b64url_decode, b64url_encode

__all__ = ["sign_raw", "with_member", "resign_payload", "forge_issuer_claim", "forge_kb_claim", "P256_ORDER",
           "malleate_es256"]

#: The order n of the P-256 group: (r, s) and (r, n - s) are both valid ECDSA signatures.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

_PLACEHOLDER = "\u0000forged\u0000"


def sign_raw(header: bytes, payload: bytes, key: PrivateKey) -> str:
    """A compact JWS over exactly these header and payload bytes."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def with_member(text: str, name: str, literal: str) -> str:
    """The JSON object ``text`` with member ``name`` set to the raw JSON ``literal`` (e.g. ``1e400``)."""
    obj = json.loads(text)
    obj[name] = _PLACEHOLDER
    encoded = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return encoded.replace(json.dumps(_PLACEHOLDER, ensure_ascii=False), literal)


def resign_payload(jwt: str, key: PrivateKey, edit: Callable[[str], str]) -> str:
    """``jwt`` with its payload text passed through ``edit`` and signed again with ``key``."""
    head, payload, _ = jwt.split(".")
    new_payload = b64url_encode(edit(b64url_decode(payload).decode("utf-8")).encode("utf-8"))
    signing_input = f"{head}.{new_payload}"
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def forge_issuer_claim(serialization: str, key: PrivateKey, name: str, literal: str) -> str:
    """An issued SD-JWT whose issuer-signed JWT has ``name`` set to ``literal``, re-signed by ``key``."""
    jwt, rest = serialization.split("~", 1)
    return resign_payload(jwt, key, lambda text: with_member(text, name, literal)) + "~" + rest


def forge_kb_claim(presentation: str, holder_key: PrivateKey, name: str, literal: str) -> str:
    """An SD-JWT+KB whose KB-JWT has ``name`` set to ``literal``, re-signed by the holder."""
    without_kb, kb_jwt = presentation.rsplit("~", 1)
    return without_kb + "~" + resign_payload(kb_jwt, holder_key, lambda text: with_member(text, name, literal))


def malleate_es256(jwt: str) -> str:
    """The same ES256 JWS with ``s`` replaced by ``n - s``: still a valid signature (ECDSA malleability)."""
    head, payload, signature = jwt.split(".")
    raw = b64url_decode(signature)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return f"{head}.{payload}.{b64url_encode(r + (P256_ORDER - s).to_bytes(32, 'big'))}"
