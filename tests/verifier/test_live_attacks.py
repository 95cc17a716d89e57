"""What an attack run against the live verifier (round 4) still got through, reproduced against the real app.

Each test failed on the code before its fix:

- an OpenID4VP answer whose ``vp_token`` held links: the verifier fetched each one (up to 16 per answer, for one
  count against the client's limit) and verified what came back, as if the learner's wallet had sent it;
- an OpenID4VP answer with several presentations counted once against the verification limit (a stack posted
  to the API counts each member);
- a 24 KB PNG declaring 20,000 x 10,000 pixels posted as a photo was a 500 (Pillow's decompression bomb error),
  and one just under Pillow's own limit was decoded whole before its size was looked at;
- on a verifier without X.509 anchors, any JSON object with ``payload`` and ``signatures`` members passed
  ``format`` (detail: "credential") and was a 200 decision instead of a 400 naming what is malformed;
- served over https (``--certfile``, or a proxy's ``X-Forwarded-Proto: https`` with trusted proxies), no answer
  carried ``Strict-Transport-Security``, so a browser would try plain http again next time (SSL stripping);
- a body sent chunked (no ``Content-Length``) past the 2 MB cap was cut at the cap and the first 2,097,152 bytes
  verified ("the JWT is 2097152 bytes") instead of a 413; a form the same way (werkzeug stops reading a stream at
  the cap without looking further);
- a compressed body (``Content-Encoding: gzip``, a "gzip bomb" among them) was read as it came: "the request
  body is not UTF-8", instead of saying that compressed bodies are not accepted (415);
- a wallet's answer posted as JSON (not the form OpenID4VP's ``direct_post`` sends) was refused as "unknown,
  used or expired state", sending its author to look for the wrong mistake;
- a forged issuer signature was reported as "the issuer signature signature does not match the key";
- an IPv6 client got a fresh rate limit from each of its addresses: one host holds a whole /64 (2^64
  addresses) and may use a new one per request; and an IPv4 client seen as ``::ffff:a.b.c.d`` (a dual-stack
  socket) had a count apart from its plain IPv4 one;
- an expected ``audience`` of 1 MB was accepted and echoed whole in the ``holder_binding`` detail (a 1 MB
  answer for any presentation): nonce and audience are short identifiers, refused past 2,048 characters.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import socket
import struct
import threading
import zlib
from html import unescape

import pytest

from tests.verifier.openid4vp_wallet import fetch_request, post_answer, request_text, result_url

pytestmark = pytest.mark.integration


def _new_request(client, **fields):
    created = client.post("/openid4vp/new", data={"claim": ["title"], "response_mode": "direct_post", **fields})
    assert created.status_code == 303
    page = unescape(client.get(created.location).get_data(as_text=True))
    return page, fetch_request(client, request_text(page))


def test_a_link_in_an_openid4vp_answer_is_refused_and_never_fetched(client, make_issuer, status_server):
    issuer = make_issuer()
    page, request = _new_request(client)
    query_id = request["dcql_query"]["credentials"][0]["id"]
    # Behind the link, a presentation that would verify for this very request.
    presentation = issuer.present(paths=[("title",)], nonce=request["nonce"], audience=request["client_id"])
    link = status_server.serve("/behind-a-link", presentation, content_type="application/dc+sd-jwt")

    answered = post_answer(client, request, {query_id: [link]})

    assert answered.status_code == 200
    result = unescape(client.get(result_url(page)).get_data(as_text=True))
    assert re.search(r'id="verdict" data-verified="(\w+)"', result).group(1) == "false"
    assert "never fetched" in result
    assert "Introduction to Smart Contracts" not in result  # what is behind the link was not read


@pytest.fixture
def limited(tmp_path):
    from verifier import create_app, service_of

    made: list = []

    def make(**limits):
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "RPC_URL": "http://127.0.0.1:9",
                          "VERIFIER_TRUSTED_ROOTS": "did:example:root", **limits})
        made.append(app)
        return app.test_client()

    yield make
    for app in made:
        service_of(app).close()


def test_each_presentation_of_an_openid4vp_answer_counts_against_the_verification_limit(limited):
    client = limited(VERIFIER_RATE_LIMIT="3/60")
    _, request = _new_request(client)
    query_id = request["dcql_query"]["credentials"][0]["id"]

    answered = post_answer(client, request, {query_id: ["not-a-presentation~"] * 4})  # 4 verifications, 3 allowed

    assert answered.status_code == 429
    assert "too many verification requests" in answered.get_json()["error"]
    assert "Retry-After" in answered.headers


def _png(width: int, height: int, *, pixels: bytes | None = None) -> bytes:
    """A black-and-white PNG of ``width`` x ``height`` blank pixels (or the compressed ``pixels`` given)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row, packer = b"\0" * (1 + (width + 7) // 8), zlib.compressobj(9)
    data = pixels if pixels is not None else b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


@pytest.mark.parametrize("picture", [_png(20_000, 10_000), _png(12_000, 10_000, pixels=b"not zlib")],
                         ids=["past Pillow's limit", "under it, pixels that cannot be decoded"])
def test_a_photo_declaring_too_many_pixels_is_refused_before_it_is_decoded(limited, picture):
    client = limited()
    assert len(picture) < 30_000

    answer = client.post("/verify/photo", data={"photo": (io.BytesIO(picture), "qr.png")},
                         content_type="multipart/form-data")

    assert answer.status_code == 400
    assert "the photo is too large to scan" in answer.get_data(as_text=True)


@pytest.mark.parametrize("body", [{"payload": 1, "signatures": 2},
                                  {"payload": "e30", "signatures": [{"protected": "e30", "signature": "x"}]},
                                  {"presentation": {"payload": "e30", "protected": "!!", "signature": ""}}])
def test_a_malformed_seal_fails_format_on_a_verifier_without_anchors(limited, body):
    client = limited()

    answer = client.post("/api/v1/verify", json=body)

    assert answer.status_code == 400
    checks = {check["check"]: check for check in answer.get_json()["checks"]}
    assert checks["format"]["status"] == "failed"
    assert "seal" in checks["format"]["detail"]
    assert answer.get_json()["error"] == checks["format"]["detail"]


def test_answers_over_https_tell_browsers_to_keep_to_https(limited):
    client = limited()

    for path in ("/", "/api/v1/verify", "/no-such-page"):
        secure = client.get(path, base_url="https://localhost")
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000", path
        assert "Strict-Transport-Security" not in client.get(path).headers  # plain http: meaningless, not sent
    proxied = limited(TRUSTED_PROXIES=1).get("/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.fixture
def served(tmp_path):
    """The verifier on a real HTTP server (werkzeug's, which reads chunked bodies) on a free loopback port."""
    from werkzeug.serving import make_server

    from verifier import create_app, service_of

    app = create_app({"DATA_DIR": str(tmp_path), "RPC_URL": "http://127.0.0.1:9",
                      "VERIFIER_TRUSTED_ROOTS": "did:example:root", "VERIFIER_RATE_LIMIT": "off"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    service_of(app).close()


def _post_chunked(port: int, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    for start in range(0, len(body), 65536):
        piece = body[start:start + 65536]
        request += b"%x\r\n" % len(piece) + piece + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request + b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            answer += connection.recv(65536)
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), content


def _length(answer: bytes) -> int:
    found = re.search(rb"(?im)^content-length: *(\d+)", answer.partition(b"\r\n\r\n")[0])
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize(("path", "body", "content_type"), [
    ("/api/v1/verify", b"x" * 3_000_000, "text/plain"),
    ("/api/v1/verify", json.dumps({"presentation": {"@context": "x" * 3_000_000}}).encode(), "application/json"),
    ("/verify", b"presentation=" + b"x" * 3_000_000, "application/x-www-form-urlencoded"),
], ids=["api text", "api json", "page form"])
def test_a_chunked_body_past_the_cap_is_413_not_cut_short(served, path, body, content_type):
    status, content = _post_chunked(served, path, body, content_type)

    assert status == 413, content[:300]


def test_a_chunked_body_within_the_cap_is_read_whole(served):
    status, content = _post_chunked(served, "/api/v1/verify", b"x" * 1_500_000, "text/plain")

    assert status == 400
    assert "the JWT is 1500000 bytes" in json.loads(content)["checks"][0]["detail"]


@pytest.mark.parametrize("path", ["/api/v1/verify", "/api/v1/verify?via=flask", "/verify", "/openid4vp/response"])
def test_a_compressed_body_is_refused_saying_so(limited, path):
    client = limited()
    bomb = gzip.compress(b"0" * 10_000_000)  # 10 MB of zeros in ~10 KB

    answer = client.post(path, data=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    assert answer.status_code == 415
    assert "Content-Encoding gzip" in answer.get_data(as_text=True)


def test_an_answer_posted_as_json_is_refused_naming_the_form_it_must_be(limited):
    client = limited()
    _, request = _new_request(client)

    answer = client.post("/openid4vp/response", json={"state": request["state"], "vp_token": {"1": ["x~"]}})

    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_request"
    assert "application/x-www-form-urlencoded" in answer.get_json()["error_description"]
    assert "application/json" in answer.get_json()["error_description"]


def test_a_forged_issuer_signature_is_named_once(limited):
    from credentials.dids import did_key_from_public_key, verification_method_id
    from credentials.jose import PrivateKey
    from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
    from credentials.sd_jwt import HolderSdJwt
    from credentials.sd_jwt_vc import issue_sd_jwt_vc
    from tests.verifier.conftest import CLAIMS

    key, holder = PrivateKey.generate("ES256"), PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    issued = issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims=CLAIMS, frame=disclosure_frame(CLAIMS), issuer_key=key,
                             issuer=did, kid=verification_method_id(did), iat=1_700_000_000,
                             holder_jwk=holder.public_key().to_jwk()).serialization
    jwt, _, rest = issued.partition("~")
    header, payload, signature = jwt.split(".")
    forged = f"{header}.{payload}.{'A' * len(signature)}~{rest}"  # another signature: not the issuer's
    presentation = HolderSdJwt.parse(forged).present_with_key_binding([("title",)], holder, audience="https://e.example",
                                                                       nonce="n-1", iat=1_700_000_000)

    answer = limited().post("/api/v1/verify", data=presentation, content_type="text/plain").get_json()

    signature_check = next(check for check in answer["checks"] if check["check"] == "signature")
    assert signature_check["status"] == "failed"
    assert signature_check["detail"] == "the issuer-signed JWT signature does not match the key"


@pytest.mark.parametrize(("first", "second"), [("2001:db8:1:2::1", "2001:db8:1:2:abcd:ef01:2345:6789"),
                                               ("192.0.2.7", "::ffff:192.0.2.7")])
def test_one_client_s_addresses_share_one_rate_limit(limited, first, second):
    client = limited(VERIFIER_RATE_LIMIT="1/60")

    def verify(address: str) -> int:
        return client.post("/api/v1/verify", data="x~", content_type="text/plain",
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert verify(first) == 400
    assert verify(second) == 429
    assert verify("2001:db8:1:3::1") == 400  # the next /64: another client


@pytest.mark.parametrize("name", ["nonce", "audience"])
def test_an_expected_nonce_or_audience_past_its_limit_is_refused(limited, name):
    client = limited()

    answer = client.post("/api/v1/verify", json={"presentation": "x~", name: "A" * 1_000_000})
    stack = client.post("/api/v1/verify", json={"presentations": ["x~"], name: "A" * 2049})

    for refused in (answer, stack):
        assert refused.status_code == 400
        assert refused.get_json()["error"].startswith(f"'{name}' is ")
        assert "at most 2048" in refused.get_json()["error"]
        assert len(refused.get_data()) < 1000
    within = client.post("/api/v1/verify", json={"presentation": "x~", name: "A" * 2048}).get_json()
    assert within["checks"][0]["check"] == "format"  # read, and the presentation (not the limit) refused
