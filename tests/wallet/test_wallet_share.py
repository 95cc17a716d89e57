"""Share: choices, preview, QR (inline or one-time link), countdown data, history, withdrawal."""

from __future__ import annotations

import json
import re

import pytest
from wallet_helpers import NOW, db_rows

from credentials.errors import HolderBindingError
from credentials.sd_jwt import KeyBindingPolicy
from credentials.sd_jwt_vc import verify_sd_jwt_vc

OUTCOME_2 = json.dumps(["learning_outcomes", 1], separators=(",", ":"))
TITLE = json.dumps(["title"])
ECTS = json.dumps(["ects"])


def _share(client, credential_id, keys):
    client.get(f"/credentials/{credential_id}/share")
    preview = client.post(f"/credentials/{credential_id}/share/preview", {"claim": keys})
    assert preview.status_code == 200, client.last_page
    return client.post(f"/credentials/{credential_id}/share", {"claim": keys})


def _verify(presentation, audience, now=NOW):
    return verify_sd_jwt_vc(presentation, now=now, key_binding=KeyBindingPolicy(audience=audience))


def test_choose_lists_each_claim_with_minimal_defaults(held):
    client, credential_id = held
    client.get(f"/credentials/{credential_id}/share")
    page = client.last_page
    checked = set(re.findall(r'value="([^"]+)" checked', page))
    boxes = re.findall(r'name="claim" value="([^"]+)"', page)
    assert len([b for b in boxes if "learning_outcomes" in b]) == 3  # each outcome on its own
    assert any("given_name" in b for b in boxes)
    decoded = {json.loads(v.replace("&#34;", '"'))[0] for v in checked}
    assert decoded == {"learner", "title", "awarding_body", "issued_on", "ects", "eqf_level"}  # the learner's name


def test_preview_shows_exactly_the_choice(held):
    client, credential_id = held
    client.get(f"/credentials/{credential_id}/share")
    client.post(f"/credentials/{credential_id}/share/preview", {"claim": [TITLE, OUTCOME_2]})
    page = client.last_page
    assert "Draft a data protection impact assessment" in page
    assert "Apply the GDPR" not in page
    assert "Silva" not in page
    assert "Workload" not in page


def test_link_share_serves_once_and_verifies_with_exactly_the_chosen_claims(app, held):
    client, credential_id = held
    created = _share(client, credential_id, [TITLE, ECTS, OUTCOME_2])
    assert created.status_code == 302
    client.get(created.headers["Location"])
    assert "<svg" in client.last_page
    assert f'data-expires-at="{NOW + 300}"' in client.last_page
    mode, qr_text, audience = db_rows(app, "SELECT mode, qr_text, audience FROM shares")[0]
    assert mode == "link"
    assert qr_text.startswith("http://127.0.0.1:5001/p/")
    token_path = qr_text.removeprefix("http://127.0.0.1:5001")
    fetched = client.client.get(token_path)
    assert fetched.status_code == 200
    assert fetched.mimetype == "application/dc+sd-jwt"
    verified = _verify(fetched.get_data(as_text=True), audience)
    assert verified.disclosed == {
        "title": "Data Protection Law in Practice",
        "ects": 4,
        "learning_outcomes": ["Draft a data protection impact assessment"],
    }
    assert verified.key_binding.nonce
    assert verified.key_binding.issued_at == NOW
    again = client.client.get(token_path)  # one time only; the verifier learns it was used, and when (issue 15)
    assert again.status_code == 410
    assert again.get_data(as_text=True).startswith("used 2026-")
    client.get("/shares")
    assert "used" in client.last_page


def test_a_head_request_does_not_use_up_the_one_time_link(app, held):
    # A chat app's link preview or a proxy's check sends HEAD first: it must not spend the verifier's one fetch.
    client, credential_id = held
    created = _share(client, credential_id, [TITLE])
    client.get(created.headers["Location"])
    qr_text = db_rows(app, "SELECT qr_text FROM shares")[0][0]
    token_path = qr_text.removeprefix("http://127.0.0.1:5001")
    looked = client.client.head(token_path)
    assert looked.status_code == 200
    assert looked.mimetype == "application/dc+sd-jwt"
    assert looked.headers["Cache-Control"] == "no-store"
    assert db_rows(app, "SELECT fetched_at FROM shares")[0][0] is None
    fetched = client.client.get(token_path)
    assert fetched.status_code == 200
    assert _verify(fetched.get_data(as_text=True), db_rows(app, "SELECT audience FROM shares")[0][0]).disclosed == {
        "title": "Data Protection Law in Practice"}
    assert client.client.head(token_path).status_code == 410  # used now: HEAD says so too
    assert client.client.head("/p/nope").status_code == 404


def test_link_expires(app, held, clock):
    client, credential_id = held
    _share(client, credential_id, [TITLE])
    token_path = db_rows(app, "SELECT qr_text FROM shares")[0][0].removeprefix("http://127.0.0.1:5001")
    clock.now += app.config["SHARE_LIFETIME"]
    gone = client.client.get(token_path)
    assert gone.status_code == 410
    assert gone.get_data(as_text=True).startswith("expired")
    share_id = db_rows(app, "SELECT id FROM shares")[0][0]
    client.get(f"/shares/{share_id}")
    assert "This code is expired" in client.last_page
    assert "<svg" not in client.last_page


def test_withdraw_a_live_link(app, held):
    client, credential_id = held
    _share(client, credential_id, [TITLE])
    share_id, qr_text = db_rows(app, "SELECT id, qr_text FROM shares")[0]
    client.get("/shares")
    assert "Withdraw" in client.last_page
    assert client.post(f"/shares/{share_id}/withdraw").status_code == 302
    gone = client.client.get(qr_text.removeprefix("http://127.0.0.1:5001"))
    assert gone.status_code == 410
    assert gone.get_data(as_text=True).startswith("withdrawn")
    assert db_rows(app, "SELECT presentation FROM shares")[0][0] is None


def test_each_share_has_a_fresh_nonce_and_its_own_audience(app, held):
    client, credential_id = held
    _share(client, credential_id, [TITLE])
    _share(client, credential_id, [TITLE])
    rows = db_rows(app, "SELECT presentation, audience FROM shares")
    nonces = {_verify(p, a).key_binding.nonce for p, a in rows}
    assert len(nonces) == 2
    with pytest.raises(HolderBindingError):
        _verify(rows[0][0], rows[1][1])  # made for another share


def test_small_credential_goes_inline(app, signed_in, issuer):
    credential = issuer.issue(signed_in.holder_jwk(app), {"title": "Tiny"})
    credential_id = int(signed_in.add(credential).headers["Location"].rsplit("/", 1)[1])
    _share(signed_in, credential_id, [TITLE])
    mode, qr_text, audience = db_rows(app, "SELECT mode, qr_text, audience FROM shares")[0]
    assert mode == "inline"
    assert len(qr_text) <= 1200
    assert _verify(qr_text, audience).disclosed == {"title": "Tiny"}


def test_double_submit_of_the_share_form(app, held):
    client, credential_id = held
    client.get(f"/credentials/{credential_id}/share")
    client.post(f"/credentials/{credential_id}/share/preview", {"claim": [TITLE]})
    tokens = client.form_tokens()
    first = client.client.post(f"/credentials/{credential_id}/share", data={**tokens, "claim": [TITLE]})
    second = client.client.post(f"/credentials/{credential_id}/share", data={**tokens, "claim": [TITLE]})
    assert first.status_code == 302
    assert second.status_code == 409
    assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 1


def test_unknown_or_empty_choice_is_refused(app, held):
    client, credential_id = held
    client.get(f"/credentials/{credential_id}/share")
    assert client.post(f"/credentials/{credential_id}/share/preview", {"claim": ['["iss"]']}).status_code == 400
    assert "not part of this credential" in client.last_page
    client.get(f"/credentials/{credential_id}/share")
    assert client.post(f"/credentials/{credential_id}/share/preview", {}).status_code == 400
    assert "at least one" in client.last_page


def test_unknown_link_and_share(client, held):
    signed_in, _ = held
    assert signed_in.client.get("/p/nope").status_code == 404
    assert signed_in.get("/shares/nope").status_code == 404
