"""Consistency check for the SD-JWT vector files (RFC 9901 and SD-JWT VC folders).

Not a pytest test: run it by hand after editing a vector file::

    .venv/bin/python tests/vectors/check_vectors.py

It uses only the standard library (hashlib, base64, json) and checks, for every
``*.json`` in ``tests/vectors/rfc9901/`` and ``tests/vectors/sd-jwt-vc/``:

- every ``digest`` is base64url(SHA-256(ASCII of ``encoded``)), RFC 9901 §4.2.3;
- every ``encoded`` decodes to ``[salt, name, value]`` (or ``[salt, value]`` when
  ``name`` is null), RFC 9901 §4.2.1/§4.2.2;
- every listed Disclosure's digest occurs in the Issuer-signed JWT payload or in
  another listed Disclosure (recursive disclosures), and every Disclosure in
  ``sd_jwt``/``presentation`` is listed;
- ``presentation`` carries the same Issuer-signed JWT as ``sd_jwt``;
- the KB-JWT payload (if any) has the ``kb`` values and an ``sd_hash`` over the
  presentation without its KB-JWT, RFC 9901 §4.3.1.

Signatures are not checked here (that needs a JOSE library; the pytest suite does it).
Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

__all__ = ["check_file", "main"]

HERE = Path(__file__).resolve().parent
FOLDERS = ("rfc9901", "sd-jwt-vc")
DIGESTS_FILE = "disclosure_digests.json"


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(encoded: str) -> str:
    raw = hashlib.sha256(encoded.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _check_disclosure(item: dict, where: str) -> list[str]:
    problems = []
    encoded = item["encoded"]
    if "digest" in item and _digest(encoded) != item["digest"]:
        problems.append(f"{where}: digest expected {item['digest']}, computed {_digest(encoded)}")
    if "salt" not in item:
        return problems
    decoded = json.loads(_b64url_decode(encoded).decode("utf-8"))
    expected = [item["salt"], item["value"]] if item.get("name") is None else [item["salt"], item["name"], item["value"]]
    if decoded != expected:
        problems.append(f"{where}: decodes to {decoded!r}, file says {expected!r}")
    return problems


def _jwt_payload(jwt: str) -> dict:
    return json.loads(_b64url_decode(jwt.split(".")[1]).decode("utf-8"))


def _split(serialization: str) -> tuple[str, list[str], str]:
    parts = serialization.split("~")
    return parts[0], parts[1:-1], parts[-1]


def check_file(path: Path) -> list[str]:
    """Return the problems found in one vector file (empty when it is consistent)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    name = path.name
    if path.name == DIGESTS_FILE:
        problems = []
        for index, item in enumerate(data):
            problems += _check_disclosure(item, f"{name}[{index}]")
        return problems
    problems = []
    listed = data.get("disclosures", [])
    for index, item in enumerate(listed):
        problems += _check_disclosure(item, f"{name} disclosures[{index}]")
    encoded_listed = {item["encoded"] for item in listed}
    issuer_jwt, issued, kb_jwt = _split(data["sd_jwt"])
    if kb_jwt:
        problems.append(f"{name}: sd_jwt must end with '~', found a KB-JWT")
    haystack = json.dumps(_jwt_payload(issuer_jwt)) + "".join(
        _b64url_decode(e).decode("utf-8") for e in encoded_listed
    )
    for item in listed:
        if item.get("digest") and item["digest"] not in haystack:
            problems.append(f"{name}: digest {item['digest']} is not in the Issuer-signed JWT or any Disclosure")
    for encoded in issued:
        if listed and encoded not in encoded_listed:
            problems.append(f"{name}: sd_jwt Disclosure {encoded[:24]}... is not listed")
    presentation = data.get("presentation")
    if presentation:
        p_jwt, p_disclosures, p_kb = _split(presentation)
        if p_jwt != issuer_jwt:
            problems.append(f"{name}: presentation has another Issuer-signed JWT than sd_jwt")
        for encoded in p_disclosures:
            if encoded not in issued:
                problems.append(f"{name}: presented Disclosure {encoded[:24]}... is not in sd_jwt")
        kb = data.get("kb")
        if kb and not p_kb:
            problems.append(f"{name}: 'kb' given but the presentation has no KB-JWT")
        if p_kb:
            payload = _jwt_payload(p_kb)
            for key, value in (kb or {}).items():
                if payload.get(key) != value:
                    problems.append(f"{name}: KB-JWT {key} is {payload.get(key)!r}, file says {value!r}")
            expected_hash = _digest(presentation[: presentation.rindex("~") + 1])
            if payload.get("sd_hash") != expected_hash:
                problems.append(f"{name}: KB-JWT sd_hash {payload.get('sd_hash')} != computed {expected_hash}")
    return problems


def main() -> int:
    files = sorted(p for folder in FOLDERS for p in (HERE / folder).glob("*.json"))
    problems = []
    for path in files:
        problems += check_file(path)
    for problem in problems:
        print("FAIL", problem)
    print(f"{len(files)} files checked, {len(problems)} problems")
    return 1 if problems or not files else 0


if __name__ == "__main__":
    sys.exit(main())
