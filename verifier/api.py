"""``POST /api/v1/verify`` (ARCHITECTURE.md "Verifier HTTP API" ⚑).

Request: JSON ``{"presentation": "<string>" | {…}, "nonce": "<optional>",
"audience": "<optional>"}`` (an object: a JSON credential or presentation,
e.g. an Open Badge with a Data Integrity proof or a sealed Europass EDC), or
the raw presentation as ``text/plain`` / ``application/dc+sd-jwt`` /
``application/json`` and the other types of :data:`RAW_CONTENT_TYPES`. Answer:
the result JSON of :meth:`credentials.verification_model.VerificationResult.to_json`.

A stack (⚑ extension, issue 13): ``{"presentations": [<string> | {…}, …],
"nonce", "audience"}`` with 1 to 16 presentations → ``{"verified", "results":
[<one answer as above per presentation>], "summary": {…}}``
(:class:`credentials.stack.StackResult`); every presentation must be bound to
the same nonce and audience (the given ones, else the first's). A
``presentation`` that is a link to a stack is answered the same way. HTTP
status over all results: 400 when a member's ``format`` failed (``error``
names it), else 503 when nothing failed but a check could not be completed,
else 200; 413 beyond 16 members or for an SD-JWT VC member over the limit; a
member that is neither text nor an object is 400 with a precise reason. A
stack counts as one verification per member against the client's rate limit.

Size: a body of up to ``VERIFIER_MAX_IMPORTED_BODY`` (2 MB) is read, for
whole credentials; an SD-JWT VC presentation larger than ``VERIFIER_MAX_BODY``
(64 KB) is refused (413) once read, as before.

HTTP: 200 with a decision; 400 malformed input (the body says why; when the
presentation itself is malformed it still lists the checks, ``format``
failed); 413 too large; 503 when a required check is ``unavailable`` and none
failed (the body still lists the checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from credentials.errors import FormatError, InvalidInput, RateLimited
from credentials.jose import json_dumps, json_loads
from credentials.presentation_codec import STACK_MEMBER, stack_presentations
from credentials.stack import MAX_STACK_PRESENTATIONS, StackResult
from credentials.verification_model import FAILED, VerificationResult
from verifier.context import current_service

__all__ = ["bp", "RAW_CONTENT_TYPES", "http_status_of", "stack_http_status", "count_members", "is_sd_jwt"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RAW_CONTENT_TYPES = ("text/plain", "application/dc+sd-jwt", "application/vc+sd-jwt", "application/jwt",
                     "application/vc+jwt", "application/vp+jwt", "application/ld+json", "application/vc+ld+json",
                     "application/vp+ld+json")
JSON_MEMBERS = ("presentation", STACK_MEMBER, "nonce", "audience")


def http_status_of(result) -> int:
    if result.undecided:
        return 503
    if result.check("format").status == FAILED:
        return 400
    return 200


def stack_http_status(stack: StackResult) -> tuple[int, str | None]:
    """Today's rules over every member: (400, why) when a member's format failed, 503 when the stack is
    undecided, else 200."""
    for index, result in enumerate(stack.results):
        if result.check("format").status == FAILED:
            return 400, f"{STACK_MEMBER}[{index}]: {result.check('format').detail}"
    return (503 if stack.undecided else 200), None


def is_sd_jwt(text: str) -> bool:
    """An SD-JWT (VC) presentation, as :func:`credentials.verification.verify_presentation` routes it."""
    return "~" in text and not text.lstrip().startswith("{")


def _read_request() -> tuple[str | list[Any], str | None, str | None]:
    """(the presentation, or a stack's list of presentations as sent; expected nonce; expected audience)."""
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
        for name in ("nonce", "audience"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise InvalidInput(f"'{name}' must be a string, found {type(body[name]).__name__}")
        if STACK_MEMBER in body:
            if "presentation" in body:
                raise InvalidInput(f"send either 'presentation' (one) or '{STACK_MEMBER}' (a stack), not both")
            entries = body[STACK_MEMBER]
            if not isinstance(entries, list):
                raise InvalidInput(f"'{STACK_MEMBER}' must be a list of presentations, found {type(entries).__name__}")
            return entries, body.get("nonce"), body.get("audience")
        presentation = body.get("presentation")
        if isinstance(presentation, dict) and presentation:
            presentation = json_dumps(presentation)  # a JSON credential or presentation, given as an object
        if presentation is not None and not isinstance(presentation, str):
            raise InvalidInput(f"'presentation' must be a string, found {type(presentation).__name__}")
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


def count_members(members: Sequence[object], *, answered: bool = False) -> None:
    """Count every member of a stack but the first (the request itself counted one) against the client's
    verification limit; ``answered``: the work is done, so going over the limit holds back the next request."""
    service = current_service()
    for _ in members[1:]:
        try:
            service.limit("verify", request.remote_addr)
        except RateLimited:
            if not answered:
                raise
            return


def _oversized(presentation: str, limit: int) -> str | None:
    size = len(presentation.encode("utf-8", "replace"))
    if is_sd_jwt(presentation) and size > limit:
        return f"the SD-JWT VC presentation is {size} bytes, over the limit of {limit}"
    return None


@bp.post("/verify")
def verify():
    members: tuple[str, ...] | None = None  # a stack's presentations
    try:
        sent, nonce, audience = _read_request()
        if isinstance(sent, list):
            if len(sent) > MAX_STACK_PRESENTATIONS:
                return jsonify({"error": f"the stack holds {len(sent)} presentations, more than "
                                         f"{MAX_STACK_PRESENTATIONS}"}), 413
            members = stack_presentations(sent)
    except (InvalidInput, FormatError) as exc:
        return jsonify({"error": exc.reason if isinstance(exc, FormatError) else str(exc)}), 400
    limit = current_app.config["VERIFIER_MAX_BODY"]
    for index, member in enumerate(members or (sent,)):
        too_large = _oversized(str(member), limit)
        if too_large:
            return jsonify({"error": f"{STACK_MEMBER}[{index}]: {too_large}" if members else too_large}), 413
    service = current_service()
    result: VerificationResult | StackResult
    if members is not None:
        count_members(members)  # before the work: a stack costs one verification per member
        result = service.verify_stack(members, nonce=nonce, audience=audience)
    else:
        result = service.verify_text(str(sent), nonce=nonce, audience=audience)
        if isinstance(result, StackResult):  # a link led to a stack: counted now, limiting the next requests
            count_members(result.results, answered=True)
    if isinstance(result, StackResult):
        answer = result.to_json()
        code, error = stack_http_status(result)
        if error:
            answer["error"] = error
        return jsonify(answer), code
    answer = result.to_json()
    code = http_status_of(result)
    if code == 400:
        answer["error"] = result.check("format").detail
    return jsonify(answer), code
