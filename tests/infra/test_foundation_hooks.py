"""The foundation's per-request work made cheaper (issue 16 §2, budget 100 µs; bench/http_overhead.py measures it)
keeps every header and every check: the security headers are added once to every answer at the WSGI level (a
view's own kept, error pages and redirects included), the Host verdict remembered per host never lets a foreign
host through nor refuses a trusted one, and ``?lang=`` still sets the language cookie while a request without a
query is left alone."""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask, abort, redirect

from infra.i18n import COOKIE
from infra.web import init_foundation, security_headers


@pytest.fixture
def app(tmp_path):
    from verifier.settings import SETTINGS

    app = Flask("hooks")
    web = init_foundation(app, SETTINGS, {"TESTING": True, "DATA_DIR": str(tmp_path)}, scripts=False)
    web.answer_hosts("http://verifier.example")

    @app.get("/plain")
    def plain():
        return "plain"

    @app.get("/own")
    def own():
        return "own", 200, {"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "SAMEORIGIN"}

    @app.get("/missing")
    def missing():
        abort(404)

    @app.get("/moved")
    def moved():
        return redirect("/plain")

    @app.get("/boom")
    def boom():
        raise RuntimeError("an internal failure")

    return app


@pytest.mark.parametrize("path, status", [("/plain", 200), ("/missing", 404), ("/moved", 302), ("/boom", 500),
                                          ("/healthz", 200), ("/nowhere", 404)])
def test_every_answer_carries_each_security_header_exactly_once(app, path, status):
    app.testing = False  # a 500 is answered, not raised into the test
    response = app.test_client().get(path, headers={"Host": "verifier.example"})
    assert response.status_code == status
    counts = Counter(name.lower() for name, _ in response.headers.items())
    for name, value in security_headers(scripts=False):
        assert counts[name.lower()] == 1, (path, name)
        assert response.headers[name] == value


def test_a_views_own_security_header_is_kept_and_not_doubled(app):
    response = app.test_client().get("/own", headers={"Host": "verifier.example"})
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_remembered_host_verdicts_never_cross_from_one_host_to_another(app):
    client = app.test_client()
    for _ in range(3):
        assert client.get("/plain", headers={"Host": "verifier.example"}).status_code == 200
        assert client.get("/plain", headers={"Host": "evil.example"}).status_code == 400
        assert client.get("/plain", headers={"Host": "verifier.example.evil.example"}).status_code == 400
    # More distinct hosts than the memo holds: each still judged, the trusted one still answered.
    answers = {client.get("/plain", headers={"Host": f"h{i}.evil.example"}).status_code for i in range(600)}
    assert answers == {400}
    assert client.get("/plain", headers={"Host": "verifier.example"}).status_code == 200


def test_the_language_cookie_is_set_by_lang_and_left_alone_without_a_query(app):
    client = app.test_client()
    chosen = client.get("/plain?lang=it", headers={"Host": "verifier.example"})
    assert f"{COOKIE}=it" in chosen.headers.get("Set-Cookie", "")
    assert "Set-Cookie" not in client.get("/plain", headers={"Host": "verifier.example"}).headers
    assert "Set-Cookie" not in client.get("/plain?other=1", headers={"Host": "verifier.example"}).headers
