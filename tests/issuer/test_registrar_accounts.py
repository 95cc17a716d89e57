"""Registrar accounts (issue 15, §5): staff sign-in with roles, sessions, CSRF, rate-limited sign-in, audit log.

Before: the registrar's pages answered loopback clients only, with no account;
nobody could tell who revoked what, or why.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from _issuer_support import NOW, make_csv, make_row
from argon2 import PasswordHasher
from click.testing import CliRunner

from issuer.batch import parse_csv
from issuer.staff import LOCAL_ACTOR, StaffBook
from issuer.web import create_app

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
PASSWORD = "correct horse battery staple"
#: Cheap Argon2id parameters for the tests' own accounts (the CLI uses RFC 9106's).
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def app(home, data_dir, anchor):
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                       "CLOCK": lambda: NOW, "STAFF_SIGNIN_RATE_LIMIT": "5/300"})


@pytest.fixture
def book(home) -> StaffBook:
    return StaffBook.of_home(home.path, CHEAP)


@pytest.fixture
def batch(service, defaults):
    return service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2), make_row(3)]), defaults), now=NOW)


def csrf(client, path: str, **kwargs) -> str:
    html = client.get(path, **kwargs).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD, **kwargs):
    token = csrf(client, "/registrar/sign-in", **kwargs)
    return client.post("/registrar/sign-in", data={"csrf_token": token, "username": username, "password": password,
                                                   "next": "/registrar/"}, **kwargs)


def revoke(client, credential_id: str, reason: str, **kwargs):
    token = csrf(client, f"/registrar/credentials/{credential_id}/revoke", **kwargs)
    return client.post(f"/registrar/credentials/{credential_id}/revoke",
                       data={"csrf_token": token, "reason": reason}, **kwargs)


def test_without_accounts_the_pages_stay_on_this_machine_and_say_so(app):
    client = app.test_client()
    remote = client.get("/registrar/", environ_base=REMOTE)
    assert remote.status_code == 403
    assert "microcred issuer staff add" in unescape(remote.get_data(as_text=True))
    local = client.get("/registrar/")
    assert local.status_code == 200
    assert "answer this machine only" in unescape(local.get_data(as_text=True))


def test_with_an_account_everyone_signs_in_even_on_this_machine(app, book):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    page = client.get("/registrar/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/registrar/sign-in")
    wrong = sign_in(client, "ada", "not the password at all")
    assert wrong.status_code == 401
    assert client.get("/registrar/").status_code == 302
    unknown = sign_in(client, "nobody")
    assert unknown.status_code == 401
    right = sign_in(client, "ada")
    assert right.status_code == 302
    assert right.headers["Location"] == "/registrar/"
    html = unescape(client.get("/registrar/").get_data(as_text=True))
    assert "Signed in as ada (registrar)" in html


def test_signed_in_staff_are_served_on_a_network(app, book):
    book.add("ada", "viewer", PASSWORD, now=NOW)
    client = app.test_client()
    assert sign_in(client, "ada", environ_base=REMOTE).status_code == 302
    assert client.get("/registrar/", environ_base=REMOTE).status_code == 200


def test_sign_in_needs_the_forms_csrf_token(app, book):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    forged = client.post("/registrar/sign-in", data={"username": "ada", "password": PASSWORD})
    assert forged.status_code == 400
    assert client.get("/registrar/").status_code == 302


def test_a_viewer_sees_but_cannot_revoke(app, book, batch, service):
    book.add("bea", "viewer", PASSWORD, now=NOW)
    client = app.test_client()
    sign_in(client, "bea")
    target = batch.issued[0].credential_id
    assert client.get("/registrar/").status_code == 200
    assert client.get(f"/registrar/credentials/{target}/revoke").status_code == 403
    token = csrf(client, "/registrar/")
    refused = client.post(f"/registrar/credentials/{target}/revoke", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403
    assert service.archive.credential(target).status == "valid"
    assert client.get("/registrar/bulk/").status_code == 403


def test_a_revocation_is_in_the_audit_log_with_who_when_and_why(app, book, batch, service):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    sign_in(client, "ada")
    target = batch.issued[0].credential_id
    done = revoke(client, target, "diploma mill: assessment never took place")
    assert done.status_code == 302
    assert service.archive.credential(target).status == "revoked"
    (entry,) = book.audit()
    assert (entry.actor, entry.action, entry.subject, entry.at) == ("ada", "revoked", target, NOW)
    assert entry.reason == "diploma mill: assessment never took place"
    assert service.archive.status_changes(target)[-1].reason == "diploma mill: assessment never took place"
    section = re.search(r'<section id="audit-log">.*?</section>',
                        unescape(client.get("/registrar/").get_data(as_text=True)), re.S).group(0)
    assert "ada" in section
    assert "diploma mill" in section
    assert target in section


def test_a_revocation_without_a_reason_changes_nothing(app, book, batch, service):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    sign_in(client, "ada")
    target = batch.issued[0].credential_id
    refused = revoke(client, target, "   ")
    assert refused.status_code == 400
    assert "give a reason" in refused.get_data(as_text=True)
    assert service.archive.credential(target).status == "valid"
    assert book.audit() == []


def test_before_accounts_the_audit_log_names_this_machine(app, book, batch):
    client = app.test_client()
    revoke(client, batch.issued[1].credential_id, "requested by the learner")
    (entry,) = book.audit()
    assert entry.actor == LOCAL_ACTOR


def test_a_bulk_change_is_in_the_audit_log(app, book, batch, service):
    import base64

    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    sign_in(client, "ada")
    ids = [issued.credential_id for issued in batch.issued[:2]]
    text = "credential_id,reason\n" + "".join(f"{i},revoked\n" for i in ids)
    token = csrf(client, "/registrar/bulk/")
    preview = client.post("/registrar/bulk/", data={"csrf_token": token, "csv_text": text})
    digest = re.search(r'name="digest" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "digest": digest, "name": "pasted.csv",
            "csv_b64": base64.b64encode(text.encode()).decode()}
    assert client.post("/registrar/bulk/confirm", data=form).status_code == 400  # no reason
    assert service.archive.credential(ids[0]).status == "valid"
    done = client.post("/registrar/bulk/confirm", data={**form, "reason": "exam board decision 2026/14"})
    assert done.status_code == 302
    (entry,) = book.audit()
    assert (entry.actor, entry.count, entry.reason) == ("ada", 2, "exam board decision 2026/14")
    assert "pasted.csv" in entry.subject


def test_removing_an_account_ends_its_sessions(app, book):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    book.add("cy", "viewer", PASSWORD, now=NOW)
    client = app.test_client()
    sign_in(client, "cy")
    assert client.get("/registrar/").status_code == 200
    book.remove("cy")
    assert client.get("/registrar/").status_code == 302


def test_a_session_ends_after_its_hours(home, data_dir, anchor, book):
    clock = {"now": NOW}
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: clock["now"], "STAFF_SESSION_HOURS": 1})
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    sign_in(client, "ada")
    clock["now"] = NOW + 3599
    assert client.get("/registrar/").status_code == 200
    clock["now"] = NOW + 3601
    assert client.get("/registrar/").status_code == 302


def test_sign_in_attempts_are_limited_per_client(app, book):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, "ada", "wrong guess number x").status_code == 401
    limited = sign_in(client, "ada")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    other = app.test_client()
    assert sign_in(other, "ada", environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 302


def test_sign_in_goes_back_only_to_registrar_pages(app, book):
    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    token = csrf(client, "/registrar/sign-in")
    for target in ("https://evil.example/", "//evil.example/registrar/", "/registrar/\\evil", "/status/x"):
        answer = client.post("/registrar/sign-in", data={"csrf_token": token, "username": "ada",
                                                         "password": PASSWORD, "next": target})
        assert answer.headers["Location"] == "/registrar/"
        token = csrf(client, "/registrar/sign-in")


def test_staff_cli_adds_lists_and_removes_accounts(home, data_dir):
    from issuer.cli import issuer

    runner = CliRunner()
    added = runner.invoke(issuer, ["--issuer", "uni", "staff", "add", "dora", "--role", "registrar"],
                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(issuer, ["--issuer", "uni", "staff", "list"])
    assert "dora" in listed.output
    assert "registrar" in listed.output
    assert StaffBook.of_home(home.path).check_password("dora", PASSWORD) is not None
    short = runner.invoke(issuer, ["--issuer", "uni", "staff", "add", "eve", "--role", "viewer"],
                          input="short\nshort\n")
    assert short.exit_code != 0
    assert "at least" in short.output or "12 to" in short.output
    assert runner.invoke(issuer, ["--issuer", "uni", "staff", "remove", "dora"]).exit_code == 0
    assert StaffBook.of_home(home.path).members() == []
    missing = runner.invoke(issuer, ["--issuer", "uni", "staff", "remove", "dora"])
    assert missing.exit_code != 0
    assert "no staff account named" in missing.output


def test_staff_cli_through_microcred_takes_the_issuer_named_by_option_or_environment(home, data_dir,
                                                                                      monkeypatch):
    """`microcred issuer --issuer uni staff …` (and MICROCRED_ISSUER) name the issuer when there are several.

    Before: the staff commands read the name from the outermost command's context, which
    `microcred` leaves empty, so with two issuers they always answered "expected --issuer NAME".
    """
    from issuer.identity import create_issuer
    from microcred.cli import main

    create_issuer(data_dir, "other", legal_name="Autre Université", country="FR")
    runner = CliRunner()
    added = runner.invoke(main, ["issuer", "--issuer", "uni", "staff", "add", "dora", "--role", "viewer"],
                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert [member.username for member in StaffBook.of_home(home.path).members()] == ["dora"]
    monkeypatch.setenv("MICROCRED_ISSUER", "uni")
    listed = runner.invoke(main, ["issuer", "staff", "list"])
    assert listed.exit_code == 0, listed.output
    assert "dora" in listed.output


def test_the_sign_in_form_and_signed_in_pages_survive_hostile_input(app, book, batch):
    from tests.hostile import crawl_forms, crawl_routes

    book.add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    findings = crawl_forms(client, ["/registrar/sign-in"])
    sign_in(client, "ada")
    findings += crawl_routes(app, client)
    findings += crawl_forms(client, ["/registrar/", f"/registrar/credentials/{batch.issued[0].credential_id}/revoke"])
    assert not findings, "\n".join(map(str, findings))


def test_a_revocation_on_the_command_line_is_in_the_audit_log_too(home, data_dir, service, defaults):
    from issuer.cli import issuer

    batch = service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2)]), defaults), now=NOW)
    target = batch.issued[0].credential_id
    answer = CliRunner().invoke(issuer, ["--issuer", "uni", "revoke", target, "--reason", "plagiarism, board 7/26"])
    assert answer.exit_code == 3, answer.output  # saved, not anchored: the ledger of these tests is down
    (entry,) = StaffBook.of_home(home.path).audit()
    assert entry.actor.startswith("command line (")
    assert (entry.action, entry.subject, entry.reason) == ("revoked", target, "plagiarism, board 7/26")
