"""An Open Badge whose ``credentialStatus`` is a 1EdTech revocation list, through POST /api/v1/verify against the
real Anvil, the list served by a local server (issue 12, item 1 "Status"; 1EdTech Revocation List Status Method 1.0).
Regression: such a badge failed ``revocation`` with "has type '1EdTechRevocationList'; this verifier reads
BitstringStatusListEntry and StatusList2021Entry"."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from credentials.jwt_vc import sign_vc_jwt
from credentials.verification_types import OB3_TYPE
from tests.verifier.imported_world import Holder, JwtIssuer, badge
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def verify(client, token):
    response = client.post("/api/v1/verify", data=token, content_type="text/plain")
    assert response.status_code != 500
    answer = response.get_json()
    assert "checks" in answer, (response.status_code, answer)
    return answer, next(c for c in answer["checks"] if c["check"] == "revocation")


def listed_badge(issuer: JwtIssuer, list_url: str, credential_id: str) -> str:
    document = badge(issuer.did, Holder().did, valid_from=int(time.time()) - 600)
    document["id"] = credential_id
    document["credentialStatus"] = {"id": list_url, "type": "1EdTechRevocationList"}
    return sign_vc_jwt(document, issuer.key, kid=issuer.kid)


def revocation_list(url: str, issuer: str, *revoked: dict) -> str:
    return json.dumps({"id": url, "issuer": issuer, "revokedCredentials": list(revoked)})


def test_a_badge_on_a_1edtech_revocation_list(imported_client, accredit_any, ledger, status_server):
    issuer = JwtIssuer()
    account = accredit_any(issuer.did, [OB3_TYPE])
    tag = issuer.did[-10:]
    kept, revoked = f"urn:uuid:kept-{tag}", f"urn:uuid:revoked-{tag}"
    url = status_server.serve(f"/api/revocations/{tag}", revocation_list(
        status_server.base + f"/api/revocations/{tag}", issuer.did,
        {"id": revoked, "revocationReason": "Issued in error."}, {"id": kept, "revoked": False}),
        content_type="application/json")

    answer, check = verify(imported_client, listed_badge(issuer, url, kept))
    assert answer["verified"] is True, answer["checks"]
    assert check["status"] == "passed"
    assert "not anchored on chain" in check["detail"]
    assert answer["status"]["uri"] == url

    answer, check = verify(imported_client, listed_badge(issuer, url, revoked))
    assert answer["verified"] is False
    assert (check["status"], check["detail"].split(" (")[0]) == ("failed", "revoked by the issuer: Issued in error.")

    anchored_path = f"/api/revocations/a-{tag}"
    text = revocation_list(status_server.base + anchored_path, issuer.did)
    anchored_url = status_server.serve(anchored_path, text, content_type="application/json")
    from ledger.status import StatusRegistryClient

    block = StatusRegistryClient(ledger.chain, ledger.status.contract, account=account).anchor(
        issuer.did, f"a-{tag}", hashlib.sha256(text.encode()).digest(), 1, None).block_number
    token = listed_badge(issuer, anchored_url, kept)
    wait_for(lambda: "anchored at block" in verify(imported_client, token)[1]["detail"], within=10,
             what="the anchor to be seen")
    answer, check = verify(imported_client, token)
    assert answer["verified"] is True, answer["checks"]
    assert f"anchored at block {block}" in check["detail"]


def test_a_revocation_list_that_cannot_be_read_or_fetched(imported_client, accredit_any, status_server):
    issuer = JwtIssuer()
    accredit_any(issuer.did, [OB3_TYPE])
    tag = issuer.did[-10:]
    page = status_server.serve(f"/api/revocations/html-{tag}", "<html>Server error</html>", content_type="text/html")
    answer, check = verify(imported_client, listed_badge(issuer, page, f"urn:uuid:{tag}"))
    assert check["status"] == "failed"
    assert check["detail"].startswith(f"the revocation list html-{tag} is not usable")

    gone = status_server.base + f"/api/revocations/gone-{tag}"  # nothing served there: 404
    response = imported_client.post("/api/v1/verify", data=listed_badge(issuer, gone, f"urn:uuid:{tag}"),
                                    content_type="text/plain")
    assert response.status_code == 503
    check = next(c for c in response.get_json()["checks"] if c["check"] == "revocation")
    assert check["status"] == "unavailable"
    assert check["detail"].startswith(f"the revocation list {gone} cannot be fetched")
