"""A small OpenID4VP 1.0 verifier for the wallet's tests, spoken to through ``HTTP_TRANSPORT``.

It signs its request object as HAIP asks (JAR ``typ: oauth-authz-req+jwt``,
ES256 by the key of an access certificate whose chain goes in ``x5c``), serves
it once from its ``request_uri`` (then 410, as the real verifier), keeps an
ephemeral P-256 key for encrypted answers and decrypts them with jwcrypto — an
independent JWE implementation — and answers the response URI with a
``redirect_uri``. Every part can be changed to build a hostile request.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwe, jwk

from credentials.jose import PrivateKey, sign_jws
from wallet.oid4vp.verifier_id import x509_hash_of
from wallet.transport import HttpResponse

HOST = "verifier.example"
BASE = f"https://{HOST}"
DONE = f"{BASE}/done?response_code=rc-1"
MICROCRED_VCT = "urn:microcred:vct:micro-credential:1"


def dcql(*claims: str, vct: str = MICROCRED_VCT, **more: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "microcredential", "format": "dc+sd-jwt", "meta": {"vct_values": [vct]}}
    if claims:
        query["claims"] = [{"id": name, "path": [name]} for name in claims]
    query.update(more)
    return {"credentials": [query]}


def der_b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


@dataclass
class TestVerifier:
    """One request; ``pki``: a tests.x509_pki.Pki whose ``seal`` is the access certificate."""

    __test__ = False  # not a test class

    pki: Any
    now: int
    prefix: str = "x509_hash"
    response_mode: str = "direct_post.jwt"
    query: dict[str, Any] = field(default_factory=lambda: dcql("title", "ects"))
    enc_values: list[str] | None = field(default_factory=lambda: ["A128GCM", "A256GCM"])
    payload_changes: dict[str, Any] = field(default_factory=dict)
    header_changes: dict[str, Any] = field(default_factory=dict)
    signer: Any = None  # another private key (cryptography) to sign with
    host: str = HOST
    client_value: str | None = None
    served: int = 0
    posts: list[dict[str, list[str]]] = field(default_factory=list)
    answer: Any = field(default_factory=lambda: {"redirect_uri": DONE})
    answer_status: int = 200  # 400: the verifier refuses every answer (the wallet then records nothing)

    def __post_init__(self) -> None:
        self.enc_key = jwk.JWK.generate(kty="EC", crv="P-256", kid="enc-1")

    @property
    def client_id(self) -> str:
        if self.client_value is not None:
            return f"{self.prefix}:{self.client_value}"
        if self.prefix == "x509_hash":
            return f"x509_hash:{x509_hash_of(self.pki.seal)}"
        if self.prefix == "x509_san_dns":
            return f"x509_san_dns:{self.host}"
        return f"redirect_uri:{BASE}/response"

    @property
    def request_uri(self) -> str:
        return f"{BASE}/request/r-1"

    def link(self) -> str:
        return "openid4vp://?" + urlencode({"client_id": self.client_id, "request_uri": self.request_uri})

    def request_object(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "jwks": {"keys": [{**self.enc_key.export_public(as_dict=True), "use": "enc", "alg": "ECDH-ES"}]},
            "vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}},
        }
        if self.enc_values is not None:
            metadata["encrypted_response_enc_values_supported"] = self.enc_values
        payload = {
            "client_id": self.client_id, "response_type": "vp_token", "response_mode": self.response_mode,
            "response_uri": f"https://{self.host}/response", "nonce": "n-0S6_WzA2Mj", "state": "st-1",
            "dcql_query": self.query, "aud": "https://self-issued.me/v2", "iat": self.now, "exp": self.now + 300,
            "client_metadata": metadata,
        }
        payload.update(self.payload_changes)
        return {k: v for k, v in payload.items() if v is not None}

    def jar(self) -> str:
        header = {"typ": "oauth-authz-req+jwt", "x5c": [der_b64(self.pki.seal), der_b64(self.pki.intermediate)]}
        header.update(self.header_changes)
        key = PrivateKey.from_cryptography(self.signer or self.pki.seal_key)
        return sign_jws(self.request_object(), key, header={k: v for k, v in header.items() if v is not None})

    def transport(self, method: str, url: str, headers: Any, body: bytes | None) -> HttpResponse:
        path = urlsplit(url).path
        if method == "GET" and path == "/request/r-1":
            self.served += 1
            if self.served > 1:
                return HttpResponse(410, {"Content-Type": "text/plain"}, b"this request was already fetched")
            return HttpResponse(200, {"Content-Type": "application/oauth-authz-req+jwt"}, self.jar().encode())
        if method == "POST" and path == "/response":
            self.posts.append(parse_qs((body or b"").decode("utf-8")))
            return HttpResponse(self.answer_status, {"Content-Type": "application/json"},
                                json.dumps(self.answer).encode())
        return HttpResponse(404, {}, b"")

    def decrypted(self, index: int = -1) -> tuple[dict[str, Any], dict[str, Any]]:
        """(JWE protected header, payload) of an encrypted answer, decrypted with the verifier's key."""
        token = jwe.JWE()
        token.deserialize(self.posts[index]["response"][0], key=self.enc_key)
        return json.loads(token.objects["protected"]), json.loads(token.payload)


def access_spec(*dns_names: str, **changes: Any) -> Any:
    """The CertSpec of a verifier's access certificate (O Demo Employer GmbH, DE; dNSName SANs)."""
    from tests.x509_pki import INTERMEDIATE, name, spec

    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    san = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names or (HOST,)])
    return spec(INTERMEDIATE, subject=name(HOST, organization="Demo Employer GmbH", country="DE"), ca=False,
                path_length=None, key_usage=usage, extra=((san, False),), **changes)
