"""The issuer's error pages: the simple page the wallet and the verifier show (infra/web_errors.py), with a way back.

A newcomer who mistyped an address got werkzeug's default sentence ("If you entered the URL manually please check
your spelling…") and no link anywhere: the page now says there is no page at this address, in the page's
language, and links to the issuer's start page. API paths keep their JSON answers.
"""

from __future__ import annotations

import pytest

from issuer.web import create_app


@pytest.fixture
def client(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor})
    return app.test_client()


@pytest.mark.parametrize("path", ["/nope", "/registrar/nope", "/offers/nope", "/%F0%9F%98%80"])
def test_a_missing_page_says_so_and_links_home(client, path):
    answer = client.get(path, headers={"Accept": "text/html"})
    page = answer.get_data(as_text=True)

    assert answer.status_code == 404
    assert "There is no page at this address" in page
    assert "If you entered the URL manually" not in page
    assert '<a class="button" href="/">' in page


def test_the_missing_page_is_in_the_pages_language(client):
    page = client.get("/nope?lang=de").get_data(as_text=True)
    assert 'lang="de"' in page
    assert "Zurück zur Startseite" in page


def test_a_wrong_method_page_links_home_too(client):
    answer = client.post("/", headers={"Accept": "text/html"})
    assert answer.status_code in (400, 405)
    assert '<a class="button" href="/">' in answer.get_data(as_text=True)


def test_api_paths_keep_their_json_errors(client):
    answer = client.get("/status/nope")
    assert answer.status_code == 404
    assert answer.is_json


COMMAND = "<code>microcred issuer staff add NAME --role registrar</code>"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_no_staff_notice_shows_its_command_as_code_not_backticks(client, lang):
    page = client.get(f"/registrar/?lang={lang}").get_data(as_text=True)
    assert COMMAND in page
    assert "`" not in page


def test_the_remote_no_staff_refusal_shows_its_command_as_code(client):
    answer = client.get("/registrar/", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert COMMAND in page
    assert "`" not in page


def test_the_sign_in_page_shows_its_command_as_code(client, home):
    from argon2 import PasswordHasher

    from issuer.staff import StaffBook

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    StaffBook.of_home(home.path, cheap).add("ada", "registrar", "correct horse battery staple", now=1_700_000_000)
    page = client.get("/registrar/sign-in").get_data(as_text=True)
    assert "<code>microcred issuer staff add NAME --role viewer|registrar</code>" in page
    assert "`" not in page


def test_a_backtick_in_what_a_client_sent_stays_escaped_text():
    from issuer.web import code_spans

    shown = str(code_spans("run `x` then <b>`y</b>`"))
    assert shown == "run <code>x</code> then &lt;b&gt;<code>y&lt;/b&gt;</code>"
