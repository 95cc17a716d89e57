"""The wallet routes this session added (``/auth/confirm``, ``GET /credentials/<id>/delete``,
``POST /credentials/<id>/share/whole``, ``/healthz``): CSRF on the ones that change state, a precise
4xx for bad input, and nothing internal in their answers. (The hostile crawl of
``test_wallet_hostile_inputs.py`` sends every hostile value to them as well.)"""

from __future__ import annotations

from wallet_helpers import PASSWORD, db_rows


def test_confirm_and_whole_share_refuse_a_post_without_the_csrf_token(app, held):
    learner, credential_id = held
    shares_before = db_rows(app, "SELECT COUNT(*) FROM shares")
    forged_confirm = learner.client.post("/auth/confirm", data={"password": PASSWORD, "next": "/backup/export"})
    forged_share = learner.client.post(f"/credentials/{credential_id}/share/whole", data={})
    assert forged_confirm.status_code == 400
    assert forged_share.status_code == 400
    assert db_rows(app, "SELECT COUNT(*) FROM shares") == shares_before


def test_a_credential_that_discloses_single_claims_is_not_shared_whole(app, held):
    learner, credential_id = held
    learner.get(f"/credentials/{credential_id}/share")
    response = learner.post(f"/credentials/{credential_id}/share/whole", {})
    assert response.status_code == 400
    assert "choose them on its share page" in learner.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM shares") == [(0,)]


def test_unknown_credentials_are_404_on_the_new_pages(held):
    learner, credential_id = held
    assert learner.client.get("/credentials/999999/delete").status_code == 404
    learner.get(f"/credentials/{credential_id}/share")  # a page with the form tokens
    assert learner.post("/credentials/999999/share/whole", {}).status_code == 404


def test_health_says_ok_and_nothing_internal(app, tmp_path):
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "ok"
    assert str(tmp_path) not in answer.get_data(as_text=True)
