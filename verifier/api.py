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

Served beside Flask (issue 16): :class:`DirectVerify` answers an ordinary
``POST /api/v1/verify`` (a ``Content-Length`` within the cap, no query) at the
WSGI level, inside the host check and the security headers, with the same
rate limit, the same :func:`answer_verify` and the same JSON bytes as the
Flask view below, without Flask's per-request contexts, hooks and response
objects. Anything else, and any error it raises (a 429, a store that cannot be
reached, a bug), is handed to the Flask app, whose error handlers answer it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header

from credentials.errors import FormatError, InvalidInput, RateLimited
from credentials.jose import json_dumps, json_loads
from credentials.presentation_codec import STACK_MEMBER, stack_presentations
from credentials.stack import MAX_STACK_PRESENTATIONS, StackResult
from credentials.verification_model import FAILED, VerificationResult
from infra.serving import start_worker_tasks
from verifier.context import current_service, service_of
from verifier.service import VerifierService

__all__ = ["bp", "RAW_CONTENT_TYPES", "http_status_of", "stack_http_status", "count_members", "is_sd_jwt",
           "answer_verify", "DirectVerify", "CappedChunkedBodies", "VERIFY_PATH", "HANDED_OVER"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RAW_CONTENT_TYPES = ("text/plain", "application/dc+sd-jwt", "application/vc+sd-jwt", "application/jwt",
                     "application/vc+jwt", "application/vp+jwt", "application/ld+json", "application/vc+ld+json",
                     "application/vp+ld+json")
JSON_MEMBERS = ("presentation", STACK_MEMBER, "nonce", "audience")
VERIFY_PATH = "/api/v1/verify"
#: The longest expected nonce or audience a request may give: they are short identifiers (a URL, a client id),
#: and a check's detail names the expected audience.
MAX_EXPECTED_LENGTH = 2048


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


def _read_request(mimetype: str, raw: bytes) -> tuple[str | list[Any], str | None, str | None]:
    """(the presentation, or a stack's list of presentations as sent; expected nonce; expected audience)."""
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
            if isinstance(body.get(name), str) and len(body[name]) > MAX_EXPECTED_LENGTH:
                raise InvalidInput(f"'{name}' is {len(body[name])} characters long; at most "
                                   f"{MAX_EXPECTED_LENGTH} are accepted")
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
    _count_members(current_service(), request.remote_addr, members, answered=answered)


def _count_members(service: VerifierService, client: str | None, members: Sequence[object], *,
                   answered: bool = False) -> None:
    for _ in members[1:]:
        try:
            service.limit("verify", client)
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
    """What :class:`DirectVerify` hands over (no ``Content-Length``, a query string…); the same answer."""
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413 before this returns
    answer, code = answer_verify(current_service(), request.mimetype, raw, request.remote_addr,
                                 current_app.config["VERIFIER_MAX_BODY"])
    return jsonify(answer), code


def answer_verify(service: VerifierService, mimetype: str, raw: bytes, client: str | None,
                  limit: int) -> tuple[dict[str, Any], int]:
    """(the JSON answer, the HTTP status) to a request body of ``mimetype`` from ``client`` (counted once
    already); ``limit``: ``VERIFIER_MAX_BODY``, the size of one SD-JWT VC presentation."""
    members: tuple[str, ...] | None = None  # a stack's presentations
    try:
        sent, nonce, audience = _read_request(mimetype, raw)
        if isinstance(sent, list):
            if len(sent) > MAX_STACK_PRESENTATIONS:
                return {"error": f"the stack holds {len(sent)} presentations, more than "
                                 f"{MAX_STACK_PRESENTATIONS}"}, 413
            members = stack_presentations(sent)
    except (InvalidInput, FormatError) as exc:
        return {"error": exc.reason if isinstance(exc, FormatError) else str(exc)}, 400
    for index, member in enumerate(members or (sent,)):
        too_large = _oversized(str(member), limit)
        if too_large:
            return {"error": f"{STACK_MEMBER}[{index}]: {too_large}" if members else too_large}, 413
    result: VerificationResult | StackResult
    if members is not None:
        _count_members(service, client, members)  # before the work: a stack costs one verification per member
        result = service.verify_stack(members, nonce=nonce, audience=audience)
    else:
        result = service.verify_text(str(sent), nonce=nonce, audience=audience)
        if isinstance(result, StackResult):  # a link led to a stack: counted now, limiting the next requests
            _count_members(service, client, result.results, answered=True)
    if isinstance(result, StackResult):
        answer = result.to_json()
        code, error = stack_http_status(result)
        if error:
            answer["error"] = error
        return answer, code
    answer = result.to_json()
    code = http_status_of(result)
    if code == 400:
        answer["error"] = result.check("format").detail
    return answer, code


# ---------------------------------------------------------------- the WSGI-level path

#: The ``environ`` key of a request :class:`DirectVerify` handed to the Flask app (rate limit counted already),
#: and the exception it raised, if any.
HANDED_OVER = "microcred.verify.raised"


def _raise_handed_over() -> None:
    """The app's first ``before_request`` hook: an error of :class:`DirectVerify` is raised again here, so the
    app's error handlers answer it (429 with ``Retry-After``, 503, a logged 500) before any other hook runs
    (the rate limit counted this request already)."""
    raised = request.environ.get(HANDED_OVER)
    if raised is not None:
        raise raised


def _json_encoder(app: Flask) -> Callable[[Any], str]:
    """The encoding of Flask's ``jsonify`` on ``app`` (its provider's ``sort_keys`` / ``ensure_ascii``, compact,
    its ``default``), built once. It keeps the encoder's circular-reference check: without it (2-3 us less on
    a verification's answer) a cycle in an answer, a bug, crashes the worker inside the C encoder instead of
    being the app's logged 500 (tests/verifier/test_direct_verify.py)."""
    provider: Any = app.json
    return json.JSONEncoder(sort_keys=provider.sort_keys, ensure_ascii=provider.ensure_ascii, separators=(",", ":"),
                            default=provider.default).encode


def _read_body(stream: Any, length: int) -> bytes:
    """``length`` bytes of ``stream``, fewer only if it ends first (a read may return less than asked)."""
    chunks, left = [], length
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _CappedStream(io.RawIOBase):
    """A request body of unknown length (chunked) that raises 413 past ``cap`` bytes instead of ending there.

    werkzeug reads such a body through a stream limited to ``MAX_CONTENT_LENGTH`` that simply stops at the cap,
    so a longer body was cut short and its first ``cap`` bytes verified (or parsed as a form). Here, once
    ``cap`` bytes were read, one more byte is looked for: if the body goes on, RequestEntityTooLarge.
    """

    def __init__(self, stream: Any, cap: int):
        super().__init__()
        self._stream = stream
        self._cap = cap
        self._seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._cap - self._seen)) if self._seen < self._cap else b""
        self._seen += len(data)
        if self._seen >= self._cap and self._stream.read(1):  # at the cap: does the body go on?
            raise RequestEntityTooLarge(f"the request body is larger than {self._cap} bytes")
        buffer[:len(data)] = data
        return len(data)


class CappedChunkedBodies:
    """WSGI middleware: a request body without ``Content-Length`` (``Transfer-Encoding: chunked``) is read
    through :class:`_CappedStream` at ``cap`` bytes (``caps``: other caps for some paths), so past it the app
    answers 413 as it does for a declared length over the cap."""

    def __init__(self, wsgi_app: Any, cap: int, caps: dict[str, int] | None = None):
        self.wsgi_app = wsgi_app
        self.cap = cap
        self.caps = caps or {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "HTTP_TRANSFER_ENCODING" in environ and not environ.get("CONTENT_LENGTH"):
            cap = self.caps.get(environ.get("PATH_INFO", ""), self.cap)
            environ["wsgi.input"] = _CappedStream(environ["wsgi.input"], cap)
        return self.wsgi_app(environ, start_response)


class DirectVerify:
    """WSGI middleware, innermost (the host check, the security headers and any proxy fix wrap it): answers an
    ordinary ``POST /api/v1/verify`` itself; everything else goes to ``wsgi_app`` (the Flask app)."""

    def __init__(self, app: Flask, wsgi_app: Any):
        self.app = app
        self.wsgi_app = wsgi_app
        self.encode = _json_encoder(app)
        app.before_request_funcs.setdefault(None, []).insert(0, _raise_handed_over)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = self._length(environ)
        if length is None:
            return self.wsgi_app(environ, start_response)
        app = self.app
        if not app.testing:
            start_worker_tasks(app)  # as the app's before_request hook does under any other server
        service = service_of(app)
        client = environ.get("REMOTE_ADDR")
        raw = None
        try:
            service.limit("verify", client)
            raw = _read_body(environ["wsgi.input"], length)
            if len(raw) < length:  # the client went away: the app answers as werkzeug does
                return self._hand_over(environ, start_response, raw, None)
            mimetype = parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower()
            answer, code = answer_verify(service, mimetype, raw, client, app.config["VERIFIER_MAX_BODY"])
            body = f"{self.encode(answer)}\n".encode()
        except Exception as exc:  # every error is answered by the app's handlers, as before
            return self._hand_over(environ, start_response, raw, exc)
        start_response(f"{code} {HTTP_STATUS_CODES[code].upper()}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                        ("Cache-Control", "no-store")])
        return [body]

    def _length(self, environ: dict[str, Any]) -> int | None:
        """The body's length if this request is one to answer here, else None."""
        if (environ.get("PATH_INFO") != VERIFY_PATH or environ.get("REQUEST_METHOD") != "POST"
                or environ.get("QUERY_STRING") or "HTTP_TRANSFER_ENCODING" in environ
                or "HTTP_CONTENT_ENCODING" in environ):  # the app refuses a compressed body, saying so
            return None
        declared = environ.get("CONTENT_LENGTH")
        if not isinstance(declared, str) or not declared.isdigit() or not declared.isascii():
            return None
        length = int(declared)
        cap = self.app.config.get("MAX_CONTENT_LENGTH")
        return None if cap is not None and length > cap else length

    def _hand_over(self, environ: dict[str, Any], start_response: Callable[..., Any], raw: bytes | None,
                   raised: Exception | None) -> Iterable[bytes]:
        handed = {**environ, HANDED_OVER: raised}
        if raw is not None:  # the body was read: the app reads it again from here
            handed["wsgi.input"] = io.BytesIO(raw)
        return self.wsgi_app(handed, start_response)
