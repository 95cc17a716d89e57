"""POST /api/v1/verify against a real Anvil: one test per check, the bad input of issue 6, HTTP codes."""

from __future__ import annotations

import json
import time

import pytest

from credentials.errors import CHECKS
from credentials.jose import PrivateKey, b64url_decode, b64url_encode, sign_jws
from tests.verifier.conftest import AUDIENCE, CLAIMS

pytestmark = pytest.mark.integration


def post(client, presentation, **extra):
    return client.post("/api/v1/verify", json={"presentation": presentation, **extra})


def statuses(answer):
    return {c["check"]: c["status"] for c in answer["checks"]}


def test_a_good_presentation_is_verified(client, make_issuer):
    issuer = make_issuer()
    response = post(client, issuer.present(nonce="n-42"), nonce="n-42", audience=AUDIENCE)
    answer = response.get_json()
    assert response.status_code == 200, answer
    assert answer["verified"] is True
    assert answer["format"] == "dc+sd-jwt"
    assert statuses(answer) == {**dict.fromkeys(CHECKS, "passed"), "issuance_anchor": "skipped"}
    assert answer["issuer"]["id"] == issuer.did
    assert answer["issuer"]["name"] == "Università di Prova"
    assert answer["issuer"]["country"] == "IT"
    assert answer["issuer"]["accredited_by"].startswith("did:web:tao-")
    assert answer["claims"]["title"] == CLAIMS["title"]
    assert answer["claims"]["ects"] == 5
    assert "learner" not in answer["claims"]
    assert answer["status"]["uri"] == issuer.uri
    assert answer["status"]["index"] == 1234
    assert isinstance(answer["status"]["anchored_block"], int)


def test_raw_bodies_are_accepted(client, make_issuer):
    issuer = make_issuer()
    for content_type in ("text/plain", "application/dc+sd-jwt"):
        response = client.post("/api/v1/verify", data=issuer.present(), content_type=content_type)
        assert response.status_code == 200
        assert response.get_json()["verified"] is True


def test_revocation_anchored_on_chain_is_honoured_within_a_second(client, make_issuer):
    issuer = make_issuer()
    credential = issuer.credential(idx=777)
    assert post(client, issuer.present(credential)).get_json()["verified"] is True
    issuer.status_list.set(777, 1)
    issuer.publish()
    time.sleep(1.0)  # the contract: every verification starting > 1 s after the block honours it
    answer = post(client, issuer.present(credential)).get_json()
    assert statuses(answer)["revocation"] == "failed"
    assert answer["verified"] is False
    assert "index 777" in next(c for c in answer["checks"] if c["check"] == "revocation")["detail"]


def test_status_list_whose_hash_differs_from_the_anchor(client, make_issuer):
    issuer = make_issuer()
    issuer.status_list.set(99, 1)
    issuer.publish(anchor=False)  # the server now shows a list that is not the anchored one
    answer = post(client, issuer.present(issuer.credential(idx=5))).get_json()
    assert statuses(answer)["revocation"] == "failed"
    assert "anchored" in next(c for c in answer["checks"] if c["check"] == "revocation")["detail"]


def test_status_index_beyond_the_list(client, make_issuer):
    issuer = make_issuer()
    answer = post(client, issuer.present(issuer.credential(idx=10_000_000))).get_json()
    assert statuses(answer)["revocation"] == "failed"
    assert answer["verified"] is False


def test_list_read_from_the_chain_when_the_status_server_is_down(client, make_issuer, status_server):
    issuer = make_issuer()
    credential = issuer.credential(idx=31)
    status_server.routes.pop(f"/status/{issuer.list_id}")
    answer = post(client, issuer.present(credential)).get_json()
    assert answer["verified"] is True
    assert "carried on chain" in next(c for c in answer["checks"] if c["check"] == "revocation")["detail"]


def test_status_unreachable_and_not_carried_is_503(client, make_issuer, status_server):
    issuer = make_issuer(publish=False)
    issuer.publish(serve=False, carry=False)
    response = post(client, issuer.present())
    answer = response.get_json()
    assert response.status_code == 503
    assert answer["verified"] is False
    assert statuses(answer)["revocation"] == "unavailable"
    assert len(answer["checks"]) == len(CHECKS)


def test_a_redirecting_status_server_is_not_followed(client, make_issuer, status_server):
    issuer = make_issuer(publish=False)
    issuer.publish(carry=False)
    status_server.serve(f"/status/{issuer.list_id}", b"", status=302, headers={"Location": "http://127.0.0.1:9/x"})
    response = post(client, issuer.present())
    assert response.status_code == 503
    detail = next(c for c in response.get_json()["checks"] if c["check"] == "revocation")["detail"]
    assert "redirect" in detail


def test_issuer_not_accredited(client, make_issuer):
    issuer = make_issuer(accredit=False)
    answer = post(client, issuer.present()).get_json()
    assert statuses(answer)["issuer_trust"] == "failed"
    assert answer["verified"] is False


def test_replayed_presentation_is_refused(client, make_issuer):
    issuer = make_issuer()
    presentation = issuer.present()
    assert post(client, presentation).get_json()["verified"] is True
    answer = post(client, presentation).get_json()
    assert statuses(answer)["replay"] == "failed"
    assert answer["verified"] is False


def test_expired_credential(client, make_issuer):
    issuer = make_issuer()
    now = int(time.time())
    answer = post(client, issuer.present(issuer.credential(iat=now - 1800, exp=now - 600))).get_json()
    assert statuses(answer)["validity_period"] == "failed"
    assert statuses(answer)["issuer_trust"] == "passed"


def test_wrong_nonce_audience_and_old_kb_jwt(client, make_issuer):
    issuer = make_issuer()
    assert statuses(post(client, issuer.present(nonce="a"), nonce="b").get_json())["holder_binding"] == "failed"
    answer = post(client, issuer.present(), audience="https://someone-else.example").get_json()
    assert statuses(answer)["holder_binding"] == "failed"
    old = issuer.present(iat=int(time.time()) - 3600)
    assert statuses(post(client, old).get_json())["holder_binding"] == "failed"


def test_tampered_disclosure(client, make_issuer):
    issuer = make_issuer()
    parts = issuer.present().split("~")
    parts[1] = b64url_encode(json.dumps(["salt", "ects", 59]).encode())
    answer = post(client, "~".join(parts)).get_json()
    assert statuses(answer)["disclosures"] == "failed"
    assert answer["claims"] == {}


def _forged(presentation: str, header: dict, signature: bytes = b"\0" * 32) -> str:
    parts = presentation.split("~")
    _, payload, _ = parts[0].split(".")
    head = b64url_encode(json.dumps(header).encode())
    return "~".join([f"{head}.{payload}.{b64url_encode(signature)}", *parts[1:]])


@pytest.mark.parametrize("header", [{"alg": "none", "typ": "dc+sd-jwt"}, {"alg": "HS256", "typ": "dc+sd-jwt"}],
                         ids=["alg-none", "hmac"])
def test_alg_none_and_hmac(client, make_issuer, header):
    issuer = make_issuer()
    response = post(client, _forged(issuer.present(), header))
    answer = response.get_json()
    assert response.status_code == 200
    assert statuses(answer)["signature"] == "failed"
    assert answer["verified"] is False


def test_key_in_its_own_header(client, make_issuer):
    issuer = make_issuer()
    attacker = PrivateKey.generate("ES256")
    payload = json.loads(b64url_decode(issuer.credential().split("~")[0].split(".")[1]))
    token = sign_jws(payload, attacker, header={"typ": "dc+sd-jwt", "jwk": attacker.public_key().to_jwk()})
    answer = post(client, token + "~").get_json()
    assert statuses(answer)["signature"] == "failed"
    assert "own header" in next(c for c in answer["checks"] if c["check"] == "signature")["detail"]


def test_schema_violation(client, make_issuer):
    from credentials.dids import verification_method_id
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from credentials.sd_jwt_vc import issue_sd_jwt_vc

    issuer = make_issuer()
    credential = issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims={"ects": 90, "eqf_level": 6},
                                 frame={"_sd": ["ects", "eqf_level"]}, issuer_key=issuer.key, issuer=issuer.did,
                                 kid=verification_method_id(issuer.did), iat=int(time.time()) - 60,
                                 holder_jwk=issuer.holder.public_key().to_jwk(),
                                 status={"status_list": {"idx": 3, "uri": issuer.uri}}).serialization
    answer = post(client, issuer.present(credential, paths=[("ects",)])).get_json()
    assert statuses(answer)["schema"] == "failed"


@pytest.mark.parametrize("body,content_type", [
    (b"{not json", "application/json"),
    (b'{"presentation": 1}', "application/json"),
    (b'{"presentation": "x", "extra": 1}', "application/json"),
    (b"[]", "application/json"),
    (b"", "text/plain"),
    (b"\xff\xfe", "text/plain"),
    (b"abc", "application/xml"),
    (b"garbage~", "text/plain"),
    (b"a.b.c", "text/plain"),
], ids=["bad-json", "not-string", "unknown-member", "not-object", "empty", "not-utf8", "content-type",
        "garbage-sd-jwt", "garbage-jwt"])
def test_malformed_input_is_400_with_a_reason(client, body, content_type):
    response = client.post("/api/v1/verify", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_oversized_body_is_413(client):
    """Whole credentials may fill 2 MB (a Europass EDC is about 0.5 MB); an SD-JWT VC stays within 64 KB."""
    response = client.post("/api/v1/verify", data="x" * (2 * 1024 * 1024 + 1), content_type="text/plain")
    assert response.status_code == 413
    assert "limit" in response.get_json()["error"]
    sd_jwt = client.post("/api/v1/verify", data="x~" * (32 * 1024 + 1), content_type="text/plain")
    assert sd_jwt.status_code == 413
    assert "limit" in sd_jwt.get_json()["error"]
    whole = client.post("/api/v1/verify", data="x" * (64 * 1024 + 1), content_type="text/plain")
    assert whole.status_code == 400  # read, and refused by the format check


def test_wrong_method_is_not_500(client):
    assert client.get("/api/v1/verify").status_code == 405
