"""What the learner reads about shares and credentials (issue 15 §1.8, §1.9): a used code says when it
was used (never a countdown still running), the history keeps each share's status apart from its title and
dates it, the detail page says "Verified" once, the account page's Export and Restore sit apart."""

from __future__ import annotations

import json
import re

from wallet_helpers import NOW, TRUSTED_CHECKS, db_rows

TITLE = json.dumps(["title"])
USED_AT = NOW + 42  # 2026-05-28 20:27:22 UTC (NOW is 1_780_000_000 = 20:26:40)


def _link_share(client, credential_id: int) -> tuple[str, str]:
    client.get(f"/credentials/{credential_id}/share")
    client.post(f"/credentials/{credential_id}/share/preview", {"claim": [TITLE]})
    created = client.post(f"/credentials/{credential_id}/share", {"claim": [TITLE]})
    assert created.status_code == 302
    share_path = created.headers["Location"]
    link = db_rows(client.client.application, "SELECT qr_text FROM shares")[0][0]
    return share_path, link.removeprefix("http://127.0.0.1:5001")


def test_a_used_code_says_when_it_was_used_instead_of_counting_down(app, held, clock):
    client, credential_id = held
    share_path, token_path = _link_share(client, credential_id)
    clock.now = USED_AT
    assert client.client.get(token_path).status_code == 200
    page = client.get(share_path).get_data(as_text=True)
    assert 'id="countdown"' not in page
    assert "Used at 20:27 UTC by a verifier" in page
    state = client.get(f"{share_path}/state")
    assert state.status_code == 200
    assert state.json == {"state": "used", "text": "Used at 20:27 UTC by a verifier"}


def test_a_live_code_s_state_says_live(app, held):
    client, credential_id = held
    share_path, _ = _link_share(client, credential_id)
    assert client.get(f"{share_path}/state").json["state"] == "live"
    assert client.get("/shares/nope/state").status_code == 404


def test_the_history_keeps_status_apart_from_title_and_dates_each_share(app, held, clock):
    client, credential_id = held
    _, token_path = _link_share(client, credential_id)
    clock.now = USED_AT
    client.client.get(token_path)
    page = client.get("/shares").get_data(as_text=True)
    card = page[page.index('<li class="card share">'):]
    title = re.search(r'<span class="title">([^<]*)</span>', card).group(1)
    assert title == "Data Protection Law in Practice"
    assert re.search(r'<span class="badge state state-used">used</span>', card)
    assert "Made 28 May 2026, 20:26 UTC" in card
    assert "used 28 May 2026, 20:27 UTC" in card


def test_the_detail_page_says_verified_once(app, held):
    client, credential_id = held
    client.recheck(app, credential_id, TRUSTED_CHECKS)
    page = client.get(f"/credentials/{credential_id}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    assert not re.search(r"Verified\s+Verified", text), "the badge and its explanation both say Verified"
    assert "trusted issuer, not revoked" in text


def test_export_and_restore_are_two_buttons_kept_apart(held):
    client, _ = held
    page = client.get("/auth/account").get_data(as_text=True)
    assert re.search(r'<p class="actions"><a class="button" href="/backup/export">', page)


def test_the_checks_write_unix_times_as_dates(app, held):
    client, credential_id = held
    client.recheck(app, credential_id, [
        {"check": "validity_period", "status": "passed", "detail": "issued at 1780000000, no expiry"},
        {"check": "revocation", "status": "passed", "detail": "not revoked"}])
    page = client.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "1780000000" not in page
    assert "28 May 2026" in page
