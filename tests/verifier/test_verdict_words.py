"""What the employer reads (issue 15, §1 items 4, 5, 8, 10), against the real Anvil.

Before: a revoked credential's headline was "Is it still valid (not revoked)?
No: index 126233 of list …"; checks said "issued at 1795846036"; a used,
withdrawn or expired link all said "127.0.0.1 answered HTTP 404"; garbage
pasted gave "Not verified" over eight "Not checked" rows while a photo without
a QR code gave an amber "Cannot check this".
"""

from __future__ import annotations

import io
import re
from html import unescape

import pytest

pytestmark = pytest.mark.integration

EPOCH = re.compile(r"\b1\d{9}\b")


def page_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def verdict_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.search(r'<section class="verdict.*?</section>', html, re.S).group(0))


def test_a_revoked_credential_says_who_revoked_it_and_is_marked_not_valid(client, make_issuer):
    issuer = make_issuer()
    issuer.status_list.set(1234, 1)
    issuer.publish()
    response = client.post("/verify", data={"presentation": issuer.present()})
    html = page_of(response)
    headline = verdict_text(html)
    assert "Revoked by Università di Prova, as of " in headline
    assert "index 1234" not in headline
    assert 'class="verdict verdict-revoked"' in html
    certificate = re.search(r'<section class="certificate[^"]*" id="certificate".*?</section>', html, re.S).group(0)
    assert "certificate-void" in certificate
    assert "Not valid" in certificate


def test_a_suspended_credential_says_so(app):
    from credentials.verification_model import FAILED, PASSED, CheckResult, VerificationResult
    from verifier.pages import verdict_of

    checks = (CheckResult("format", PASSED, "SD-JWT VC"),
              CheckResult("revocation", FAILED, "index 7 of list l-1 (anchored at block 9) is suspended"))
    result = VerificationResult("dc+sd-jwt", checks, issuer={"id": "did:key:z1", "name": "Hochschule Beispiel"},
                                status={"uri": "https://x.example/status/l-1", "index": 7, "state": "suspended",
                                        "list_signed_at": 1_795_846_036})
    with app.test_request_context("/"):
        verdict = verdict_of(result)
    assert verdict["kind"] == "revoked"
    assert verdict["word"] == "Suspended by Hochschule Beispiel, as of 28 November 2026"


def test_checks_show_dates_and_the_json_keeps_the_raw_values(client, make_issuer):
    issuer = make_issuer()
    html = page_of(client.post("/verify", data={"presentation": issuer.present()}))
    checks = re.search(r'<ul class="checks">.*?</ul>', html, re.S).group(0)
    assert not EPOCH.findall(checks), checks
    assert "UTC" in re.search(r'data-check="validity_period".*?</li>', checks, re.S).group(0)
    answer = client.post("/api/v1/verify", json={"presentation": issuer.present()}).get_json()
    validity = next(c for c in answer["checks"] if c["check"] == "validity_period")
    assert EPOCH.search(validity["detail"])


@pytest.mark.parametrize("garbage", ["hello, is this my diploma?", "AAAA.BBBB.CCCC~dd~", "\x00\x01\x02\xff" * 8,
                                     "{\"presentations\": 3}"])
def test_garbage_is_one_plain_not_a_credential_answer(client, garbage):
    response = client.post("/verify", data={"presentation": garbage})
    html = page_of(response)
    assert response.status_code == 400
    assert "This is not a credential" in verdict_text(html)
    assert "Not checked" not in html
    assert "check-skipped" not in html


def test_a_photo_without_a_qr_code_gets_the_same_answer(client):
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 180, 160)).save(picture, format="PNG")
    response = client.post("/verify/photo", data={"photo": (io.BytesIO(picture.getvalue()), "cat.png")},
                           content_type="multipart/form-data")
    html = page_of(response)
    assert response.status_code == 400
    assert "This is not a credential" in verdict_text(html)
    assert "no QR code was found" in verdict_text(html)


@pytest.mark.parametrize(("status", "body", "headline", "words"), [
    (410, "used 2026-11-28T14:02:00Z\n", "This link was already used", "a QR link works once"),
    (410, "withdrawn\n", "This link was withdrawn", "withdrawn by the learner"),
    (410, "expired\n", "This link has expired", "lasts a few minutes"),
    (404, "not found\n", "This link does not lead to a credential", "not known to the wallet"),
])
def test_a_dead_link_says_why(client, status_server, status, body, headline, words):
    link = status_server.serve(f"/p/dead-{status}-{body.split()[0]}", body, status=status, content_type="text/plain")
    html = page_of(client.post("/verify", data={"presentation": link}))
    said = verdict_text(html)
    assert headline in said
    assert words in said
    assert "answered HTTP" not in said
    assert "127.0.0.1" not in said
    api = client.post("/api/v1/verify", data=link, content_type="text/plain").get_json()
    assert words in api["checks"][0]["detail"]


def test_a_used_link_says_when(client, status_server):
    link = status_server.serve("/p/used-when", "used 2026-11-28T14:02:00Z\n", status=410, content_type="text/plain")
    said = verdict_text(page_of(client.post("/verify", data={"presentation": link})))
    assert "14:02" in said
