"""``POST /api/v1/verify`` (ARCHITECTURE.md "Verifier HTTP API" ⚑).

Request: JSON ``{"presentation": "<string>" | {…}, "nonce": "<optional>",
"audience": "<optional>"}`` (an object: a JSON credential or presentation,
e.g. an Open Badge with a Data Integrity proof or a sealed Europass EDC), or
the raw presentation as ``text/plain`` / ``application/dc+sd-jwt`` /
``application/json`` and the other types of :data:`RAW_CONTENT_TYPES`. Answer:
the result JSON of :meth:`credentials.verification_model.VerificationResult.to_json`.

Size: a body of up to ``VERIFIER_MAX_IMPORTED_BODY`` (2 MB) is read, for
whole credentials; an SD-JWT VC presentation larger than ``VERIFIER_MAX_BODY``
(64 KB) is refused (413) once read, as before.

HTTP: 200 with a decision; 400 malformed input (the body says why; when the
presentation itself is malformed it still lists the checks, ``format``
failed); 413 too large; 503 when a required check is ``unavailable`` and none
failed (the body still lists the checks).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from credentials.errors import InvalidInput
from credentials.jose import json_dumps, json_loads
from credentials.verification_model import FAILED
from verifier.context import current_service

__all__ = ["bp", "RAW_CONTENT_TYPES", "http_status_of", "is_sd_jwt"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RAW_CONTENT_TYPES = ("text/plain", "application/dc+sd-jwt", "application/vc+sd-jwt", "application/jwt",
                     "application/vc+jwt", "application/vp+jwt", "application/ld+json", "application/vc+ld+json",
                     "application/vp+ld+json")
JSON_MEMBERS = ("presentation", "nonce", "audience")


def http_status_of(result) -> int:
    if result.undecided:
        return 503
    if result.check("format").status == FAILED:
        return 400
    return 200


def is_sd_jwt(text: str) -> bool:
    """An SD-JWT (VC) presentation, as :func:`credentials.verification.verify_presentation` routes it."""
    return "~" in text and not text.lstrip().startswith("{")


def _read_request() -> tuple[str, str | None, str | None]:
    mimetype = request.mimetype
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413 before this returns
    if mimetype == "application/json":
        body: Any = json_loads(raw, what="the request body")
        if isinstance(body, dict) and ("@context" in body or {"payload", "signatures"} <= set(body)):
            return raw.decode("utf-8"), None, None  # the credential or presentation itself, sent as JSON
        if not isinstance(body, dict):
            raise InvalidInput("expected a JSON object with a 'presentation' string")
        unknown = sorted(set(body) - set(JSON_MEMBERS))
        if unknown:
            raise InvalidInput(f"unexpected member(s) {', '.join(unknown)}; expected {', '.join(JSON_MEMBERS)}")
        presentation = body.get("presentation")
        if isinstance(presentation, dict) and presentation:
            presentation = json_dumps(presentation)  # a JSON credential or presentation, given as an object
        for name, value in (("presentation", presentation), ("nonce", body.get("nonce")),
                            ("audience", body.get("audience"))):
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"'{name}' must be a string, found {type(value).__name__}")
        if not presentation:
            raise InvalidInput("expected a non-empty 'presentation' string")
        return presentation, body.get("nonce"), body.get("audience")
    if mimetype in RAW_CONTENT_TYPES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the presentation is not UTF-8 text") from None
        if not text.strip():
            raise InvalidInput("the request body is empty; expected a presentation")
        return text, None, None
    raise InvalidInput(f"expected Content-Type application/json, text/plain or application/dc+sd-jwt, "
                       f"found {mimetype or 'none'!r}")


@bp.post("/verify")
def verify():
    try:
        presentation, nonce, audience = _read_request()
    except InvalidInput as exc:
        return jsonify({"error": str(exc)}), 400
    limit = current_app.config["VERIFIER_MAX_BODY"]
    size = len(presentation.encode("utf-8", "replace"))
    if is_sd_jwt(presentation) and size > limit:
        return jsonify({"error": f"the SD-JWT VC presentation is {size} bytes, over the limit of {limit}"}), 413
    result = current_service().verify(presentation, nonce=nonce, audience=audience)
    answer = result.to_json()
    code = http_status_of(result)
    if code == 400:
        answer["error"] = result.check("format").detail
    return jsonify(answer), code
