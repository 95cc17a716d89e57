"""Read and check an OpenID4VP 1.0 authorization request, wallet side.

- §5: by value (the link's parameters; only a ``redirect_uri:`` client may send
  it so) or by reference (``client_id`` + ``request_uri``, fetched ONCE with GET:
  the verifier serves it once; ``request_uri_method=post`` is not used). The
  request object's ``client_id`` must equal the link's; ``iss`` is ignored;
  ``aud``, when present, must be ``https://self-issued.me/v2`` (§5.8, static
  discovery); ``exp`` must lie ahead (and not further than a day), ``iat`` and
  ``nbf`` not in the future.
- Who asks: :mod:`wallet.oid4vp.verifier_id` (§5.9.3 prefixes, HAIP x509_hash).
- ``response_type=vp_token``; ``response_mode`` ``direct_post`` or
  ``direct_post.jwt`` (§8.2, §8.3); ``response_uri`` on the host the client
  identifier allows; no ``redirect_uri`` beside it (§8.2).
- ``nonce`` (required) and ``state`` of URL-safe characters (§5.2).
- ``dcql_query`` parsed by :class:`credentials.dcql.DcqlQuery` (§6).
- ``direct_post.jwt``: the verifier's encryption key from ``client_metadata.jwks``
  (§8.3: ``use`` absent or ``enc``, ``alg`` ECDH-ES, a ``kid``; this wallet needs
  P-256, as HAIP) and ``enc`` from ``encrypted_response_enc_values_supported``
  (default A128GCM; A128GCM preferred, A256GCM also).
- ``transaction_data`` (§8.4): not supported, so such a request is refused
  (the wallet MUST return an error).

Refusals found once the verifier is authenticated (transaction data, an
unusable encryption key, a query the wallet cannot read, ``redirect_uri``
beside ``response_uri``) are kept on the request as :attr:`PresentationRequest.refusal`
so the view can also tell the verifier (``error=invalid_request``); anything
wrong before that raises :class:`InvalidPresentationRequest` and nothing is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from credentials.dcql import DcqlQuery
from credentials.errors import InvalidInput, InvalidPresentationRequest
from credentials.jose import PublicKey, json_loads_object
from credentials.x509_trust import TrustAnchors
from infra.errors import RemoteUnreachable
from wallet.oid4vp.verifier_id import (
    PREFIX_DID,
    PREFIX_REDIRECT_URI,
    VerifierIdentity,
    authenticate,
    check_before_fetch,
    read_request_object,
)
from wallet.transport import Client

__all__ = [
    "MODE_DIRECT_POST",
    "MODE_DIRECT_POST_JWT",
    "SELF_ISSUED_AUDIENCE",
    "ENC_VALUES",
    "EncryptionKey",
    "PresentationRequest",
    "parse_request",
]

MODE_DIRECT_POST = "direct_post"
MODE_DIRECT_POST_JWT = "direct_post.jwt"
SELF_ISSUED_AUDIENCE = "https://self-issued.me/v2"
#: Content encryption this wallet can use, in its order of preference (HAIP: A128GCM must be supported).
#: In order of preference: HAIP 1.0 §5 — a wallet that supports both SHOULD use A256GCM.
ENC_VALUES = ("A256GCM", "A128GCM")
_SCHEMES = ("openid4vp", "haip-vp", "eudi-openid4vp", "haip")  # haip-vp: HAIP 1.0 final; haip: its drafts
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]{1,512}")
_MAX_SKEW = 60
_MAX_LIFETIME = 24 * 3600
_MAX_PURPOSE = 300


@dataclass(frozen=True)
class EncryptionKey:
    """The verifier's key to encrypt the answer to (a public P-256 JWK with its kid) and the ``enc`` chosen."""

    jwk: dict[str, str]
    kid: str
    enc: str


@dataclass(frozen=True)
class PresentationRequest:
    """A checked request: who asks, why, for what, where and how to answer."""

    client_id: str
    verifier: VerifierIdentity
    response_uri: str
    response_mode: str
    nonce: str
    state: str | None
    dcql: dict[str, Any]  # DcqlQuery.to_json(); empty when the query could not be read (see refusal)
    expires_at: int | None
    client_name: str | None = None  # display only, never trusted
    purpose: str | None = None
    encryption: EncryptionKey | None = None
    refusal: str | None = field(default=None)  # why the wallet will not answer; also told to the verifier

    @property
    def client_host(self) -> str:
        return self.verifier.host

    @property
    def query(self) -> DcqlQuery:
        return DcqlQuery.parse(self.dcql)

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["verifier"] = self.verifier.to_json()
        data["encryption"] = None if self.encryption is None else vars(self.encryption)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> PresentationRequest:
        data = json.loads(text)
        data["verifier"] = VerifierIdentity.from_json(data["verifier"])
        data["encryption"] = None if data["encryption"] is None else EncryptionKey(**data["encryption"])
        return cls(**data)


def _text(params: Mapping[str, Any], name: str, *, required: bool = True, url_safe: bool = False) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise InvalidPresentationRequest(f"the presentation request has no valid {name!r}")
    if url_safe and not _URL_SAFE.fullmatch(value):
        raise InvalidPresentationRequest(f"the request's {name} must be URL-safe characters (A-Z a-z 0-9 . _ ~ -)")
    return value


def _fetch_once(request_uri: str, client: Client) -> str:
    """GET the request object, once (the verifier serves it once; a retry would get a 410)."""
    response = client.request("GET", request_uri, what="request_uri",
                              headers={"Accept": "application/oauth-authz-req+jwt"})
    if response.status >= 500:
        raise RemoteUnreachable(f"the verifier's request_uri failed (HTTP {response.status}); scan its code again",
                                status=response.status)
    if response.status != 200:
        raise InvalidPresentationRequest(f"the verifier's request_uri answered HTTP {response.status}; the request "
                                         "may have expired or been opened already: ask the verifier for a new code")
    return response.body.decode("utf-8", "replace").strip()


def _check_times(params: Mapping[str, Any], now: int, *, signed: bool) -> int | None:
    for name in ("exp", "iat", "nbf"):
        value = params.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidPresentationRequest(f"the request's {name} must be a number of seconds")
    expires_at, issued_at, not_before = params.get("exp"), params.get("iat"), params.get("nbf")
    if expires_at is not None and expires_at <= now:
        raise InvalidPresentationRequest("this presentation request has expired; ask the verifier for a new code")
    if expires_at is not None and expires_at > now + _MAX_LIFETIME:
        raise InvalidPresentationRequest("the request's exp is more than a day ahead; a request is short-lived")
    if signed and expires_at is None:
        raise InvalidPresentationRequest("the signed request object has no exp; a request must say when it expires")
    for name, value in (("iat", issued_at), ("nbf", not_before)):
        if value is not None and value > now + _MAX_SKEW:
            raise InvalidPresentationRequest(f"the request's {name} is in the future; check the verifier's clock")
    aud = params.get("aud")
    if aud is not None and aud != SELF_ISSUED_AUDIENCE:
        raise InvalidPresentationRequest(f"the request object is addressed to {str(aud)[:80]!r}, "
                                         f"not to a wallet ({SELF_ISSUED_AUDIENCE})")
    return expires_at


def _encryption_key(metadata: Any) -> EncryptionKey:
    """§8.3: the verifier's key for ECDH-ES (P-256, with a kid) and the content encryption to use."""
    jwks = metadata.get("jwks") if isinstance(metadata, Mapping) else None
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise InvalidPresentationRequest("the request asks for an encrypted answer but gives no key to encrypt to "
                                         "(client_metadata.jwks)")
    usable = None
    for jwk in keys[:16]:
        if not isinstance(jwk, Mapping) or jwk.get("use", "enc") != "enc" or jwk.get("alg") != "ECDH-ES":
            continue
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or not isinstance(jwk.get("kid"), str) \
                or not jwk["kid"] or len(jwk["kid"]) > 256:
            continue
        try:
            PublicKey.from_jwk({**jwk, "alg": "ES256"})  # the point must be on P-256
        except InvalidInput:
            continue
        usable = {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}, jwk["kid"]
        break
    if usable is None:
        raise InvalidPresentationRequest("the verifier's encryption key is unusable: this wallet encrypts answers "
                                         "with ECDH-ES to a P-256 key that has a kid")
    offered = metadata.get("encrypted_response_enc_values_supported", ["A128GCM"])
    if not isinstance(offered, list) or not offered:
        raise InvalidPresentationRequest("encrypted_response_enc_values_supported must be a non-empty list")
    enc = next((value for value in ENC_VALUES if value in offered), None)
    if enc is None:
        raise InvalidPresentationRequest(f"the verifier accepts answers encrypted with "
                                         f"{', '.join(map(str, offered[:5]))[:120]}; this wallet uses "
                                         f"{' or '.join(ENC_VALUES)}")
    return EncryptionKey(jwk=usable[0], kid=usable[1], enc=enc)


def _purpose(raw_dcql: Any) -> str | None:
    """A purpose the query states (``credential_sets[].purpose`` of earlier drafts), shown as the verifier's words."""
    sets = raw_dcql.get("credential_sets") if isinstance(raw_dcql, Mapping) else None
    found = [s["purpose"].strip() for s in sets or () if isinstance(s, Mapping) and isinstance(s.get("purpose"), str)
             and s["purpose"].strip()] if isinstance(sets, list) else []
    return " · ".join(dict.fromkeys(found))[:_MAX_PURPOSE] or None


def _refusal(params: Mapping[str, Any], response_mode: str) -> tuple[str | None, dict[str, Any], EncryptionKey | None]:
    """What the wallet refuses in an authenticated request (told to the verifier), the query, the key."""
    if params.get("transaction_data") is not None:
        return "transaction_data is not supported by this wallet", {}, None
    if params.get("redirect_uri") is not None:
        return "redirect_uri must not be sent with response_uri (OpenID4VP 1.0 §8.2)", {}, None
    raw = params.get("dcql_query")
    try:
        if raw is None:
            raise InvalidPresentationRequest("the request asks for no credential (no dcql_query)")
        dcql = DcqlQuery.parse(raw).to_json()
        key = _encryption_key(params.get("client_metadata")) if response_mode == MODE_DIRECT_POST_JWT else None
    except InvalidPresentationRequest as exc:
        return str(exc), {}, None
    return None, dcql, key


def parse_request(text: str, client: Client, *, now: int, anchors: TrustAnchors | None = None) -> PresentationRequest:
    """Read and check an ``openid4vp://`` request, fetching its ``request_uri`` once if it has one.

    ``anchors``: the authorities the wallet trusts to certify verifiers (for x509 client identifiers).
    """
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in _SCHEMES:
        raise InvalidPresentationRequest(f"expected an openid4vp:// request, found {text[:40]!r}")
    link = {k: v[0] for k, v in parse_qs(parts.query).items()}
    client_id = _text(link, "client_id") or ""
    request_uri = link.get("request_uri")
    fixed_host = check_before_fetch(client_id, request_uri, client, anchors)  # before anything is sent
    jws = None
    if request_uri is not None:
        if link.get("request_uri_method", "get") != "get":
            raise InvalidPresentationRequest("request_uri_method post is not supported; expected get")
        jws, params = read_request_object(_fetch_once(request_uri, client), client_id)
        if params.get("client_id") != client_id:
            raise InvalidPresentationRequest("the request object's client_id differs from the one in the link")
        if client_id.startswith(f"{PREFIX_DID}:"):
            fixed_host = client.fetcher.check_url(request_uri, what="request_uri").host
    else:
        params = dict(link)
        for name in ("dcql_query", "client_metadata"):
            if isinstance(params.get(name), str):
                try:
                    params[name] = json_loads_object(params[name], what=name)
                except InvalidInput as exc:
                    raise InvalidPresentationRequest(f"the request's {name} is not valid JSON: {exc}") from exc
    if _text(params, "response_type") != "vp_token":
        raise InvalidPresentationRequest(f"expected response_type vp_token, found {params.get('response_type')!r}")
    response_mode = params.get("response_mode")
    if response_mode not in (MODE_DIRECT_POST, MODE_DIRECT_POST_JWT):
        raise InvalidPresentationRequest(f"expected response_mode direct_post.jwt or direct_post, found "
                                         f"{str(response_mode)[:40]!r}")
    expires_at = _check_times(params, now, signed=jws is not None)
    response_uri = _text(params, "response_uri") or ""
    response_host = client.fetcher.check_url(response_uri, what="response_uri").host
    if client_id.startswith(f"{PREFIX_REDIRECT_URI}:") and client_id.removeprefix(f"{PREFIX_REDIRECT_URI}:") \
            != response_uri:
        raise InvalidPresentationRequest("the response_uri differs from the redirect_uri client's own URI")
    if fixed_host is not None and response_host != fixed_host:
        raise InvalidPresentationRequest(
            f"the answer would go to {response_host!r}, another host than the verifier's {fixed_host!r}; refused")
    verifier = authenticate(jws, client_id, anchors=anchors, now=now, response_host=response_host)
    nonce = _text(params, "nonce", url_safe=True) or ""
    state = _text(params, "state", required=False, url_safe=True)
    refusal, dcql, key = _refusal(params, response_mode)
    metadata = params.get("client_metadata")
    stated_name = metadata.get("client_name") if isinstance(metadata, Mapping) else None
    request = PresentationRequest(
        client_id=client_id, verifier=verifier, response_uri=response_uri, response_mode=response_mode,
        nonce=nonce, state=state, dcql=dcql, expires_at=expires_at,
        client_name=stated_name.strip()[:100] or None if isinstance(stated_name, str) else None,
        purpose=_purpose(params.get("dcql_query")), encryption=key,
    )
    return replace(request, refusal=refusal) if refusal else request
