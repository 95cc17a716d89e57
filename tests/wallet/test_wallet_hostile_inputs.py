"""Every wallet route and form, attacked with hostile values by a stranger and by a signed-in
learner: never a 500, never a traceback (the crawl is in ``tests/hostile.py``)."""

from __future__ import annotations

from tests.hostile import crawl_forms, crawl_routes

#: Forms that would end the crawl's own session.
_LEAVES = ("/auth/signout", "/auth/signout-everywhere", "/auth/delete")


def test_every_route_survives_hostile_input_from_a_stranger(app):
    client = app.test_client()
    findings = crawl_routes(app, client)
    assert not findings, "\n".join(map(str, findings))


def test_sign_in_and_sign_up_forms_survive_hostile_input(app):
    findings = crawl_forms(app.test_client(), ["/auth/signin", "/auth/signup"])
    assert not findings, "\n".join(map(str, findings))


def test_every_form_survives_hostile_input_from_a_signed_in_learner(app, held):
    learner, credential_id = held
    pages = ["/credentials", f"/credentials/{credential_id}", f"/credentials/{credential_id}/share",
             "/credentials/add", "/credentials/scan", "/backup/export", "/backup/restore", "/auth/account",
             "/openid4vp/review", "/shares"]
    findings = crawl_forms(learner.client, pages, skip_actions=_LEAVES)
    findings += crawl_routes(app, learner.client, skip=_LEAVES)
    assert not findings, "\n".join(map(str, findings))
