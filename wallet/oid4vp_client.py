"""OpenID for Verifiable Presentations 1.0, wallet side: read a request, match DCQL, answer.

From OpenID4VP 1.0:

- §5 Authorization Request, by value (``client_id``, ``response_type=vp_token``,
  ``response_mode``, ``response_uri``, ``nonce``, ``state``, ``dcql_query``)
  or by reference (``client_id`` + ``request_uri``, fetched with GET, a Request
  Object JWT ``typ: oauth-authz-req+jwt``; its ``client_id`` must equal the
  URI's).
- §5.9 Client Identifier Prefixes supported: ``redirect_uri:`` (the value is
  the response URI itself; the request must not be signed) and
  ``decentralized_identifier:`` with a ``did:key`` / ``did:jwk`` (the request
  must be signed by a key of that DID). Others are refused.
- §6 DCQL: ``credentials`` (``id``, ``format``, ``meta.vct_values``, ``claims``
  with ``path`` arrays of names, indices and ``null`` for "every element"),
  ``claim_sets``; ``credential_sets`` are treated as "every query required".
- §8.2 ``direct_post``: POST ``vp_token`` (JSON object: query id → array of
  presentations) and ``state`` form-encoded to ``response_uri``; an answer
  may carry ``redirect_uri``. The KB-JWT's ``aud`` is the Client Identifier and
  its ``nonce`` the request's (§B.3.6 / SD-JWT VC).

The client identifier is checked before the ``request_uri`` is fetched (an
unsigned request by reference must come from the ``redirect_uri`` client's
own host), and every request goes through the strict fetcher
(:mod:`infra.fetch`). The wallet refuses a request that is malformed, expired,
asks for nothing, or whose ``response_uri`` is on another host than the client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload
from urllib.parse import parse_qs, urlencode, urlsplit

from credentials.dids import Did
from credentials.errors import InvalidInput, InvalidPresentationRequest, VerificationError
from credentials.jose import UnverifiedJws, b64url_decode, json_loads_object
from credentials.sd_jwt import ClaimPath, HolderSdJwt
from credentials.sd_jwt_vc import ACCEPTED_TYPS, resolve_did_issuer_key
from infra.errors import FetchError, FetchRefused, RemoteUnreachable
from wallet.transport import Client

__all__ = [
    "REQUEST_OBJECT_TYP",
    "PREFIX_REDIRECT_URI",
    "PREFIX_DID",
    "PresentationRequest",
    "CredentialQuery",
    "parse_request",
    "match_paths",
    "send_response",
    "send_refusal",
]

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
PREFIX_REDIRECT_URI = "redirect_uri:"
PREFIX_DID = "decentralized_identifier:"
_SCHEMES = ("openid4vp", "eudi-openid4vp", "haip")
MAX_CLAIMS_PER_QUERY = 64
_DID_METHODS = ("key", "jwk")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CredentialQuery:
    """One DCQL credential query (SD-JWT VC only)."""

    id: str
    vct_values: tuple[str, ...] | None
    claim_paths: tuple[tuple[str | int | None, ...], ...]


@dataclass(frozen=True)
class PresentationRequest:
    """A checked request: who asks (``client_id``, its host), for what, where to answer."""

    client_id: str
    client_host: str
    client_name: str | None
    response_uri: str
    nonce: str
    state: str | None
    queries: tuple[CredentialQuery, ...]
    expires_at: int | None

    def to_json(self) -> str:
        return json.dumps({
            "client_id": self.client_id, "client_host": self.client_host, "client_name": self.client_name,
            "response_uri": self.response_uri, "nonce": self.nonce, "state": self.state, "expires_at": self.expires_at,
            "queries": [{"id": q.id, "vct_values": q.vct_values, "claim_paths": q.claim_paths} for q in self.queries],
        })

    @classmethod
    def from_json(cls, text: str) -> PresentationRequest:
        data = json.loads(text)
        queries = tuple(
            CredentialQuery(q["id"], tuple(q["vct_values"]) if q["vct_values"] is not None else None,
                            tuple(tuple(p) for p in q["claim_paths"]))
            for q in data.pop("queries")
        )
        return cls(queries=queries, **data)


@overload
def _text(params: Mapping[str, Any], name: str, *, required: Literal[True] = True) -> str: ...
@overload
def _text(params: Mapping[str, Any], name: str, *, required: bool) -> str | None: ...
def _text(params: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise InvalidPresentationRequest(f"the presentation request has no valid {name!r}")
    return value


def _unsigned_request_object(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or parts[2]:
        raise InvalidPresentationRequest("expected an unsigned request object (alg none) for a redirect_uri client")
    header = json_loads_object(b64url_decode(parts[0]), what="request object header")
    if header.get("alg") != "none":
        raise InvalidPresentationRequest("a redirect_uri client's request object must not be signed")
    return json_loads_object(b64url_decode(parts[1]), what="request object")


def _signed_request_object(token: str, client_id: str) -> dict[str, Any]:
    did = client_id.removeprefix(PREFIX_DID)
    try:
        jws = UnverifiedJws.parse(token, what="request object")
        jws.check_typ((REQUEST_OBJECT_TYP,), what="request object")
        kid = jws.header.get("kid")
        key = resolve_did_issuer_key(did, kid if isinstance(kid, str) else None)
        jws.verify_with(key, what="request object")
    except VerificationError as exc:
        raise InvalidPresentationRequest(f"the request object's signature does not check out: {exc.reason}") from exc
    except InvalidInput as exc:
        raise InvalidPresentationRequest(f"the request object is not signed by the DID that asks: {exc}") from exc
    return jws.payload


def _fetch_request_object(request_uri: str, client_id: str, client: Client) -> dict[str, Any]:
    response = client.request("GET", request_uri, what="request_uri",
                              headers={"Accept": "application/oauth-authz-req+jwt, application/jwt"})
    if response.status >= 500:
        raise RemoteUnreachable(f"the verifier's request_uri failed (HTTP {response.status}); try again later",
                                status=response.status)
    if response.status != 200:
        raise InvalidPresentationRequest(f"the verifier's request_uri answered HTTP {response.status}; "
                                         "the request may have expired")
    body = response.body.decode("utf-8", "replace").strip()
    if client_id.startswith(PREFIX_DID):
        return _signed_request_object(body, client_id)
    return _unsigned_request_object(body)


def _paths(query: Mapping[str, Any]) -> tuple[tuple[str | int | None, ...], ...]:
    claims = query.get("claims")
    if claims is None:
        return ()
    if not isinstance(claims, list) or not claims or len(claims) > MAX_CLAIMS_PER_QUERY:
        raise InvalidPresentationRequest("a DCQL credential query's claims must be a non-empty list")
    paths = []
    for claim in claims:
        path = claim.get("path") if isinstance(claim, Mapping) else None
        if not isinstance(path, list) or not path or not all(
            p is None or (isinstance(p, (str, int)) and not isinstance(p, bool)) for p in path
        ):
            raise InvalidPresentationRequest("each DCQL claim needs a path: a list of names, indices or null")
        paths.append(tuple(path))
    claim_sets = query.get("claim_sets")
    if claim_sets is not None:
        ids = {c.get("id"): tuple(c["path"]) for c in claims if isinstance(c, Mapping) and "id" in c}
        if not isinstance(claim_sets, list) or not claim_sets or not isinstance(claim_sets[0], list):
            raise InvalidPresentationRequest("DCQL claim_sets must be a non-empty list of lists of claim ids")
        try:
            return tuple(ids[i] for i in claim_sets[0])  # the verifier's preferred option
        except (KeyError, TypeError) as exc:
            raise InvalidPresentationRequest("a DCQL claim set names a claim id that is not defined") from exc
    return tuple(paths)


def _queries(dcql: Any) -> tuple[CredentialQuery, ...]:
    if isinstance(dcql, str):
        dcql = json_loads_object(dcql, what="dcql_query")
    credentials = dcql.get("credentials") if isinstance(dcql, Mapping) else None
    if not isinstance(credentials, list) or not credentials:
        raise InvalidPresentationRequest("the request asks for no credential (empty or missing DCQL query)")
    queries = []
    for query in credentials[:8]:
        if not isinstance(query, Mapping) or not isinstance(query.get("id"), str) or not query["id"]:
            raise InvalidPresentationRequest("each DCQL credential query needs an id")
        if query.get("format") not in ACCEPTED_TYPS:
            raise InvalidPresentationRequest(f"the request asks for format {query.get('format')!r}; "
                                             "this wallet presents dc+sd-jwt")
        meta = query.get("meta")
        vcts = meta.get("vct_values") if isinstance(meta, Mapping) else None
        if vcts is not None and (not isinstance(vcts, list) or not all(isinstance(v, str) for v in vcts)):
            raise InvalidPresentationRequest("DCQL meta.vct_values must be a list of strings")
        queries.append(CredentialQuery(query["id"], tuple(vcts) if vcts is not None else None, _paths(query)))
    return tuple(queries)


def _client_host(client_id: str, request_uri: str | None, client: Client) -> str:
    """Check the Client Identifier (§5.9) before anything is fetched; the host the answer may go to.

    ``redirect_uri:`` — the rest is the verifier's response URI (https, by the
    fetch rules); an unsigned request by reference must come from that host.
    ``decentralized_identifier:`` — a ``did:key`` or ``did:jwk`` (resolved
    without network); the request must come signed, by reference, and its
    host is the one answers go to. Any other prefix is refused.
    """
    prefix, _, original = client_id.partition(":")
    if f"{prefix}:" == PREFIX_REDIRECT_URI:
        host = client.fetcher.check_url(original, what="verifier's redirect_uri client identifier").host
        if request_uri is not None and client.fetcher.check_url(request_uri, what="request_uri").host != host:
            raise InvalidPresentationRequest(
                f"the request_uri is on another host than the verifier's {host!r}; refused")
        return host
    if f"{prefix}:" == PREFIX_DID:
        did = Did.parse(original)
        if did.method not in _DID_METHODS or did.fragment is not None:
            raise InvalidPresentationRequest(f"the verifier's DID must be a did:key or did:jwk, found did:{did.method}")
        if request_uri is None:
            raise InvalidPresentationRequest("a request from a DID client must come signed, by request_uri")
        return client.fetcher.check_url(request_uri, what="request_uri").host
    raise InvalidPresentationRequest(
        f"unsupported client identifier {client_id[:60]!r}; "
        "expected a redirect_uri: or decentralized_identifier: prefix"
    )


def parse_request(text: str, client: Client, *, now: int) -> PresentationRequest:
    """Read and check an ``openid4vp://`` request (fetching ``request_uri`` if given)."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in _SCHEMES:
        raise InvalidPresentationRequest(f"expected an openid4vp:// request, found {text[:40]!r}")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    client_id = _text(query, "client_id")
    request_uri = query.get("request_uri")
    host = _client_host(client_id, request_uri, client)  # before any request is sent
    if request_uri is not None:
        if query.get("request_uri_method", "get") != "get":
            raise InvalidPresentationRequest("request_uri_method post is not supported; expected get")
        params = _fetch_request_object(request_uri, client_id, client)
        if params.get("client_id") != client_id:
            raise InvalidPresentationRequest("the request object's client_id differs from the one in the link")
    else:
        params = dict(query)
    if _text(params, "response_type") != "vp_token":
        raise InvalidPresentationRequest(f"expected response_type vp_token, found {params.get('response_type')!r}")
    if params.get("response_mode") != "direct_post":
        raise InvalidPresentationRequest(f"expected response_mode direct_post, found {params.get('response_mode')!r}")
    expires_at = params.get("exp")
    if expires_at is not None:
        if not isinstance(expires_at, int) or isinstance(expires_at, bool):
            raise InvalidPresentationRequest("the request's exp must be a number of seconds")
        if expires_at <= now:
            raise InvalidPresentationRequest("this presentation request has expired; ask the verifier for a new code")
    response_uri = _text(params, "response_uri")
    response_host = client.fetcher.check_url(response_uri, what="response_uri").host
    if client_id.startswith(PREFIX_REDIRECT_URI) and client_id.removeprefix(PREFIX_REDIRECT_URI) != response_uri:
        raise InvalidPresentationRequest("the response_uri differs from the redirect_uri client's own URI")
    if response_host != host:
        raise InvalidPresentationRequest(
            f"the answer would go to {response_host!r}, another host than the verifier's {host!r}; refused")
    metadata = params.get("client_metadata")
    name = metadata.get("client_name") if isinstance(metadata, Mapping) else None
    return PresentationRequest(
        client_id=client_id, client_host=host, client_name=name[:100] if isinstance(name, str) else None,
        response_uri=response_uri, nonce=_text(params, "nonce"), state=_text(params, "state", required=False),
        queries=_queries(params.get("dcql_query")), expires_at=expires_at,
    )


def match_paths(query: CredentialQuery, vct: str, holder: HolderSdJwt) -> list[ClaimPath] | None:
    """The claim paths answering ``query`` from this credential, or None if it cannot.

    A path that names an object or array asks for all of it (OpenID4VP 1.0
    §7.1), so the disclosable claims inside it are included too.
    """
    if query.vct_values is not None and vct not in query.vct_values:
        return None
    disclosable = set(holder.paths)
    found: list[ClaimPath] = []
    for pattern in query.claim_paths:
        expanded = _expand(holder.all_claims, pattern, ())
        if not expanded:
            return None
        for path in expanded:
            if any(path[:n] in disclosable for n in range(1, len(path) + 1)):
                found.append(path)
            found.extend(p for p in holder.paths if len(p) > len(path) and p[:len(path)] == path)
    return list(dict.fromkeys(found))


def _expand(node: Any, pattern: Sequence[str | int | None], prefix: ClaimPath) -> list[ClaimPath]:
    if not pattern:
        return [prefix]
    step, rest = pattern[0], pattern[1:]
    if step is None:
        if not isinstance(node, list):
            return []
        return [p for i, item in enumerate(node) for p in _expand(item, rest, prefix + (i,))]
    if isinstance(step, int):
        return _expand(node[step], rest, prefix + (step,)) if isinstance(node, list) and 0 <= step < len(node) else []
    return _expand(node[step], rest, prefix + (step,)) if isinstance(node, dict) and step in node else []


def send_response(client: Client, request: PresentationRequest, vp_token: Mapping[str, list[str]]) -> str | None:
    """POST the answer (direct_post); return the verifier's ``redirect_uri`` if it gave one."""
    form = {"vp_token": json.dumps(dict(vp_token), separators=(",", ":"))}
    if request.state is not None:
        form["state"] = request.state
    response = client.request(
        "POST", request.response_uri, what="verifier", body=urlencode(form).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    if response.status >= 400:
        failed = "failed to take" if response.status >= 500 else "refused"
        raise FetchError.of_status(f"the verifier {failed} the answer (HTTP {response.status})", response.status)
    try:
        answer = json.loads(response.body) if response.body.strip() else None
    except ValueError:
        answer = None
    redirect = answer.get("redirect_uri") if isinstance(answer, Mapping) else None
    if redirect is None:
        return None
    try:  # the answer was delivered either way: a redirect the wallet would not follow is dropped, not an error
        return client.check(redirect, "redirect_uri")
    except FetchRefused as exc:
        _log.info("not following the verifier's redirect_uri: %s", exc)
        return None


def send_refusal(client: Client, request: PresentationRequest) -> None:
    """Tell the verifier the learner declined (``access_denied``); best effort."""
    form = {"error": "access_denied", "error_description": "the holder declined"}
    if request.state is not None:
        form["state"] = request.state
    client.request("POST", request.response_uri, what="verifier", body=urlencode(form).encode("ascii"),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})

