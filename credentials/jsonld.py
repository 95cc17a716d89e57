"""JSON-LD without the network: vendored contexts, bounds, safe expansion and RDFC-1.0.

Implements what W3C Data Integrity needs from JSON-LD:

- JSON-LD 1.1 (W3C Recommendation, 16 July 2020) expansion and *Deserialize
  JSON-LD to RDF* (§8 of the API), by pyld, with a document loader that
  answers only from the contexts vendored in ``credentials/contexts/``
  (see its ``SOURCE.md``): any other context URL fails the ``format`` check
  and nothing is ever fetched.
- "Safe mode" as Data Integrity 1.0 §4.? (*Verify Proof*: "the JSON-LD
  document … MUST be processed in safe mode") asks for it: a property that
  the contexts do not define (which JSON-LD would silently drop, leaving it
  unsigned) and a relative ``@id`` / ``@type`` (which RDF would drop) fail
  ``format`` instead.
- RDF Dataset Canonicalization RDFC-1.0 (W3C Recommendation, 21 May 2024),
  by pyld's ``URDNA2015`` (the algorithm RDFC-1.0 standardised) with a work
  bound (RDFC-1.0 §6 "Security considerations": poison graphs): at most
  :data:`MAX_PERMUTED_NODES` blank nodes permuted together and
  :data:`MAX_DEEP_ITERATIONS` N-degree hashes per document.
- Bounds on the JSON itself before any of this runs: :data:`MAX_DOCUMENT_BYTES`
  (2 MB), :data:`MAX_DEPTH`, :data:`MAX_VALUES`, :data:`MAX_STRING_LENGTH`.

pyld builds a requests-backed default document loader when it is imported.
The core imports it with ``requests`` and ``aiohttp`` hidden, so pyld falls
back to its loader that refuses every URL, then installs the offline loader
as pyld's default too; every call also passes its own loader and its own
context cache, so a context one loader knows is never served through another.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from credentials._json import json_loads
from credentials._json_limits import JsonLimits, within_limits
from credentials.errors import FormatError, InvalidInput


def _import_pyld_offline() -> Any:
    hidden = {name: sys.modules.get(name) for name in ("requests", "aiohttp")}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" raise ImportError
    try:
        from pyld import jsonld as pyld_jsonld  # here, with requests/aiohttp hidden: pyld must never fetch
    finally:
        for name, module in hidden.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    return pyld_jsonld


_pyld = _import_pyld_offline()

from cachetools import LRUCache  # noqa: E402  (pyld's own dependency)
from pyld import context_resolver as _pyld_context_resolver  # noqa: E402
from pyld.canon import URDNA2015  # noqa: E402
from pyld.context_resolver import ContextResolver  # noqa: E402

_jcs_context_key = _pyld_context_resolver.canonicalize


def _context_key(context: dict[str, Any]) -> bytes:
    """pyld's cache key for an inline (type- or property-scoped) context: its JSON with sorted member names.

    pyld keys them by RFC 8785 JCS computed in pure Python at every use, a sixth of an RDFC verification;
    this is one text per content too (finer than JCS: ``1`` and ``1.0`` are two keys, a cache miss at
    worst), in C. Anything json cannot write takes pyld's own key."""
    try:
        return json.dumps(context, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        return bytes(_jcs_context_key(context))


_pyld_context_resolver.canonicalize = _context_key  # the only name pyld's ContextResolver keys with

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_DEPTH",
    "MAX_VALUES",
    "MAX_STRING_LENGTH",
    "MAX_PERMUTED_NODES",
    "MAX_PERMUTATIONS",
    "MAX_DEEP_ITERATIONS",
    "CONTEXT_FILES",
    "ContextLoader",
    "DEFAULT_CONTEXT_LOADER",
    "check_bounds",
    "check_contexts_known",
    "parse_json_document",
    "canonical_nquads",
    "canonicalize_nquads",
]

#: A JSON-LD document (credential) larger than this is refused unparsed (bytes).
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
#: Deepest nesting of arrays and objects accepted.
MAX_DEPTH = 48
#: Most JSON values (objects, arrays, strings, numbers…) in one document.
MAX_VALUES = 200_000
#: Longest string (or member name) accepted, in characters.
MAX_STRING_LENGTH = 1_500_000
#: Most blank nodes RDFC-1.0 may have to permute together (7! = 5,040 orders).
MAX_PERMUTED_NODES = 7
#: Most orders of blank nodes RDFC-1.0 may try in all, for one document (each group of k costs k!).
MAX_PERMUTATIONS = 20_000
#: Most "Hash N-Degree Quads" runs for one document.
MAX_DEEP_ITERATIONS = 2_000

#: Context URL → file in ``credentials/contexts/`` (see SOURCE.md there).
CONTEXT_FILES: Mapping[str, str] = {
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-3.0.0.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-v3p0-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-v3p0-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context.json": "clr-v2p0-2.0.0.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-v2p0-2.0.1.json",
}

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
_SHOWN = 80


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


@cache
def _vendored(url: str) -> Any:
    text = resources.files("credentials").joinpath("contexts", CONTEXT_FILES[url]).read_text("utf-8")
    return json_loads(text, what=f"the vendored context {url}")


class _UnknownContext(Exception):
    """Raised by the loader inside pyld; turned into a FormatError by :func:`canonical_nquads`."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


class _Refused(Exception):
    """Safe mode or the work bound refused the document; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ContextLoader:
    """A pyld document loader that answers only from known contexts, never the network.

    ``extra`` adds contexts by URL (tests, or a deployment's own vetted
    contexts); the vendored ones cannot be replaced. Each loader keeps its own
    cache of processed contexts (``new_resolver`` gives pyld one per operation).
    """

    def __init__(self, extra: Mapping[str, Mapping[str, Any]] | None = None):
        extra = dict(extra or {})
        clash = sorted(set(extra) & set(CONTEXT_FILES))
        if clash:
            raise InvalidInput(f"the context {clash[0]} is vendored and cannot be replaced")
        self._extra = extra
        # Processed contexts, shared by this loader's operations only; pyld also keeps inline contexts
        # here, so it is bounded (an LRU). Not locked: a rare race fails the document closed (format).
        self._processed: LRUCache[str, Any] = LRUCache(maxsize=256)

    def new_resolver(self) -> Any:
        """A pyld ContextResolver for one operation, sharing this loader's processed contexts."""
        return ContextResolver(self._processed, self)

    def knows(self, url: str) -> bool:
        return url in CONTEXT_FILES or url in self._extra

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        if url in CONTEXT_FILES:
            document = copy.deepcopy(_vendored(url))
        elif url in self._extra:
            document = copy.deepcopy(self._extra[url])
        else:
            raise _UnknownContext(url)
        # tag "static": the context never changes, so pyld may keep it processed (as jsonld.js does)
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document,
                "tag": "static"}


DEFAULT_CONTEXT_LOADER = ContextLoader()
_pyld.set_document_loader(DEFAULT_CONTEXT_LOADER)


def _within_bounds(value: Any) -> bool:
    """The quick walk of :func:`credentials._json_limits.within_limits` with this module's bounds."""
    return within_limits(value, JsonLimits(MAX_DEPTH, MAX_VALUES, MAX_STRING_LENGTH))


def check_bounds(value: Any, *, what: str = "the document") -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH`, with more than :data:`MAX_VALUES` values or a longer string."""
    if _within_bounds(value):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise FormatError(f"{what} holds more than {MAX_VALUES} JSON values")
        if isinstance(item, str):
            if len(item) > MAX_STRING_LENGTH:
                raise FormatError(f"{what} holds a string of {len(item)} characters, over {MAX_STRING_LENGTH}")
            continue
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise FormatError(f"{what} is nested deeper than {MAX_DEPTH} levels")
            children = list(item.keys()) + list(item.values()) if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def parse_json_document(data: bytes | str, *, what: str = "the credential") -> dict[str, Any]:
    """Parse a JSON-LD document: size cap first, strict JSON, an object, then :func:`check_bounds`."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_DOCUMENT_BYTES:
        raise FormatError(f"{what} is {size} bytes, over the limit of {MAX_DOCUMENT_BYTES}")
    try:
        value = json_loads(data, what=what)
    except InvalidInput as exc:
        raise FormatError(str(exc)) from None
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be a JSON object, found {type(value).__name__}")
    check_bounds(value, what=what)
    return value


def check_contexts_known(document: Any, *, loader: ContextLoader = DEFAULT_CONTEXT_LOADER) -> None:
    """Fail ``format`` when any ``@context`` URL in the document, at any depth, is one the loader does not know.

    Canonicalization finds these too; this also covers the JCS suites and JWT
    payloads, which never go through JSON-LD.
    """
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "@context":
                    for context in value if isinstance(value, list) else [value]:
                        if isinstance(context, str) and not loader.knows(context):
                            raise FormatError(
                                f"the context {_short(context)!r} is not one microcred knows; "
                                "contexts are never fetched"
                            )
                        if isinstance(context, dict):
                            stack.append(context)
                else:
                    stack.append(value)


def _check_expanded(node: Any) -> None:
    """Safe mode after expansion: every @id and @type an absolute IRI or a blank node."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "@id" and isinstance(value, str) and not _is_node_reference(value):
                    raise _Refused(f"the identifier {_short(value)!r} is not an absolute IRI")
                if key == "@type" and "@value" not in item:
                    for type_ in value if isinstance(value, list) else [value]:
                        if isinstance(type_, str) and not _is_node_reference(type_):
                            raise _Refused(f"the type {_short(type_)!r} is not defined by the document's contexts")
                elif key == "@type" and isinstance(value, str) and value != "@json" and not _ABSOLUTE_IRI.match(value):
                    raise _Refused(f"the datatype {_short(value)!r} is not an absolute IRI")
                if key != "@value":
                    stack.append(value)


def _is_node_reference(value: str) -> bool:
    return value.startswith("_:") or bool(_ABSOLUTE_IRI.match(value))


def _dropped(expanded_property: str | None) -> None:
    raise _Refused(
        f"the property {_short(str(expanded_property))!r} is not defined by the document's contexts "
        "(it would be left out of what the proof signs)"
    )


_JsonLdProcessor: Any = _pyld.JsonLdProcessor


class _SafeProcessor(_JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor in safe mode: dropped terms and relative IRIs are errors."""

    def __init__(self) -> None:
        super().__init__(on_property_dropped=_dropped)

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        _check_expanded(expanded)
        return expanded


class _BoundedRdfc10(URDNA2015):  # type: ignore[misc]
    """RDFC-1.0 (pyld's URDNA2015) that gives up on poison graphs instead of running for ever."""

    def __init__(self) -> None:
        super().__init__()
        self._deep_iterations = 0
        self._permutations = 0

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._deep_iterations += 1
        if self._deep_iterations > MAX_DEEP_ITERATIONS:
            raise _Refused(f"canonicalizing the document needs more than {MAX_DEEP_ITERATIONS} deep iterations")
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        related = super().create_hash_to_related(id_, issuer)
        largest = max((len(nodes) for nodes in related.values()), default=0)
        if largest > MAX_PERMUTED_NODES:
            raise _Refused(
                f"canonicalizing the document would permute {largest} indistinguishable blank nodes "
                f"(at most {MAX_PERMUTED_NODES})"
            )
        self._permutations += sum(math.factorial(len(nodes)) for nodes in related.values())
        if self._permutations > MAX_PERMUTATIONS:
            raise _Refused(f"canonicalizing the document needs more than {MAX_PERMUTATIONS} blank node orderings")
        return related


_T = TypeVar("_T", bound=BaseException)


def _cause_of(exc: BaseException, kind: type[_T]) -> _T | None:
    """The first exception of ``kind`` in the chain of causes of ``exc`` (pyld wraps what a loader raises)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def canonical_nquads(document: Mapping[str, Any], *, loader: ContextLoader = DEFAULT_CONTEXT_LOADER) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document, in safe mode, offline.

    Raises :class:`FormatError` for an unknown context, a term the contexts do
    not define, a relative IRI, invalid JSON-LD, or a graph too costly to
    canonicalize.
    """
    options = {
        "documentLoader": loader,
        "contextResolver": loader.new_resolver(),
        "base": None,  # relative IRIs stay relative, so safe mode sees them (pyld would invent a base)
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
        "extractAllScripts": False,
    }
    try:
        dataset = _SafeProcessor().to_rdf(dict(document), options)
        nquads: str = _BoundedRdfc10().main(dataset, {"format": "application/n-quads"})
    except RecursionError:
        raise FormatError("the JSON-LD document is nested too deeply to process") from None
    except Exception as exc:  # pyld raises JsonLdError, ValueError, TypeError… for bad input
        unknown = _cause_of(exc, _UnknownContext)
        url = unknown.url if unknown is not None else None
        if url is not None:
            raise FormatError(
                f"the context {_short(url)!r} is not one microcred knows; contexts are never fetched"
            ) from None
        refusal = _cause_of(exc, _Refused)
        reason = refusal.reason if refusal is not None else None
        if reason is not None:
            raise FormatError(reason) from None
        raise FormatError(f"the document is not valid JSON-LD ({_pyld_reason(exc)})") from None
    return nquads


def _pyld_reason(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:  # the JSON-LD error code ("protected term redefinition"…), innermost last
        code = getattr(seen, "code", None)
        if isinstance(code, str) and code:
            return code
        seen = seen.__cause__ or seen.__context__
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) else type(exc).__name__
    return _short(text.split("\n", 1)[0])


def canonicalize_nquads(nquads: str) -> str:
    """RDFC-1.0 of a dataset given as N-Quads (the rdf-canon test suite's input), with the same work bound."""
    try:
        dataset = _pyld.JsonLdProcessor.parse_nquads(nquads)
        result: str = _BoundedRdfc10().main(dataset, {"format": "application/n-quads"})
    except _Refused as exc:
        raise FormatError(exc.reason) from None
    except Exception as exc:  # pyld's N-Quads parser raises JsonLdError for bad input
        raise FormatError(f"the N-Quads do not parse ({_pyld_reason(exc)})") from None
    return result
