"""The list page reads each stored credential back through its Annex I view (wallet.annex) once per
process, however many the wallet holds: a second visit parses none again, a row the wallet cannot read
still shows its stored title, and a view is only remembered under the SHA-256 of the text it came from."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from wallet_helpers import CLAIMS, db_rows

import wallet.annex
from wallet.db import DB_FILE, open_database

MANY = 300  # more than the few hundred views the wallet used to remember


def _store(app, username: str, rows: list[tuple[str, str, str]]) -> None:
    """Rows ``(raw, raw_sha256, title)`` stored for ``username`` as an import stores a micro-credential."""
    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        account_id, key_id = db.execute(
            "SELECT accounts.id, holder_keys.id FROM accounts JOIN holder_keys ON holder_keys.account_id = accounts.id "
            "WHERE username = ?", [username]).fetchone()
        with db.atomic():
            for number, (raw, sha, title) in enumerate(rows):
                db.execute(
                    "INSERT INTO credentials (account_id, holder_key_id, format, raw, raw_sha256, issuer, vct, title, "
                    "issuer_name, ects, eqf_level, issued_on, badge, badge_detail, checked_at, imported_at) "
                    "VALUES (?, ?, 'dc+sd-jwt', ?, ?, 'did:key:z', 'urn:x', ?, 'Uni', 4, 7, '2026-05-01', 'unchecked', "
                    "'{}', 0, ?)", [account_id, key_id, raw, sha, title, number])
    finally:
        db.close()


def _sha(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Each SD-JWT VC the wallet parses to build a view, in order."""
    seen: list[str] = []
    parse = wallet.annex.annex_for_sd_jwt

    def counted(raw: str):
        seen.append(raw)
        return parse(raw)

    monkeypatch.setattr(wallet.annex, "annex_for_sd_jwt", counted)
    wallet.annex.forget_views()
    return seen


def _titles(page: str) -> list[str]:
    return re.findall(r'<span class="title">(.*?)</span>', page)


def test_a_second_visit_parses_no_credential_again_however_many_there_are(app, signed_in, issuer, parses):
    jwk = signed_in.holder_jwk(app)
    raws = [issuer.issue(jwk, {**CLAIMS, "title": f"Course {n}"}, iat=1_700_000_000 + n) for n in range(MANY)]
    _store(app, signed_in.username, [(raw, _sha(raw), f"Stored {n}") for n, raw in enumerate(raws)])
    signed_in.get("/credentials")
    first = _titles(signed_in.last_page)
    assert len(parses) == MANY
    assert signed_in.get("/credentials").status_code == 200
    assert len(parses) == MANY  # nothing parsed on the second visit
    assert _titles(signed_in.last_page) == first == [f"Course {n}" for n in reversed(range(MANY))]


def test_an_unreadable_row_shows_its_stored_title_on_every_visit(app, signed_in, parses):
    _store(app, signed_in.username, [("not an SD-JWT", _sha("not an SD-JWT"), "Kept from an older version")])
    for _ in range(2):
        signed_in.get("/credentials")
        assert _titles(signed_in.last_page) == ["Kept from an older version"]


def test_a_view_is_remembered_only_under_the_hash_of_its_own_text(app, client, issuer, parses):
    from wallet_helpers import WalletClient

    client.signup("first")
    other = WalletClient(app.test_client())
    other.signup("second")
    right = issuer.issue(client.holder_jwk(app), {**CLAIMS, "title": "The right course"})
    wrong = issuer.issue(other.holder_jwk(app), {**CLAIMS, "title": "Another course"})
    _store(app, "second", [(wrong, _sha(right), "Another course")])  # a row whose hash is not its text's
    _store(app, "first", [(right, _sha(right), "The right course")])
    other.get("/credentials")
    assert _titles(other.last_page) == ["Another course"]
    client.get("/credentials")
    assert _titles(client.last_page) == ["The right course"]


def test_a_credential_stating_a_sixty_digit_ects_figure_does_not_break_the_page(app, signed_in, parses):
    figure = "1" * 60
    raw = ('{"type": ["VerifiableCredential"], "name": "Long figures", "issuer": "did:example:x", '
           f'"credentialSubject": {{"ects": "{figure}"}}}}')
    _store(app, signed_in.username, [(raw, _sha(raw), "Long figures")])
    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        with db.atomic():
            db.execute("UPDATE credentials SET format = 'ldp_vc', badge = 'verified'")
    finally:
        db.close()
    assert signed_in.get("/credentials").status_code == 200
    assert f"{figure} ECTS" in signed_in.last_page


@pytest.mark.parametrize(("query", "script_root"), [("", ""), ("?lang=de", ""), ("?lang=pt", ""),
                                                     ("?lang=it", "/wallet"), ("?lang=%3Cx%3E", "")])
def test_each_card_links_to_its_page_as_url_for_writes_it(app, signed_in, issuer, query, script_root):
    from flask import url_for

    raws = [issuer.issue(signed_in.holder_jwk(app), {**CLAIMS, "title": f"Course {n}"}, iat=1_700_000_000 + n)
            for n in range(2)]
    _store(app, signed_in.username, [(raw, _sha(raw), f"Stored {n}") for n, raw in enumerate(raws)])
    ids = [row[0] for row in db_rows(app, "SELECT id FROM credentials ORDER BY imported_at DESC, id DESC")]
    page = signed_in.get(f"/credentials{query}", environ_overrides={"SCRIPT_NAME": script_root}).get_data(as_text=True)
    links = re.findall(r'<a class="card-link" href="([^"]*)">', page)
    lang = re.search(r'<html lang="([^"]*)"', page).group(1)
    requested = query.removeprefix("?lang=") if query and "%" not in query else None
    with app.test_request_context(f"/credentials{query}", environ_overrides={"SCRIPT_NAME": script_root}):
        expected = [url_for("credentials.detail", credential_id=credential_id,
                            lang=(requested or lang) if (requested or lang) != "en" else None)
                    for credential_id in ids]
    assert links == [link.replace("&amp;", "&") for link in expected]


def test_views_of_large_documents_are_forgotten_beyond_the_character_budget(app, signed_in, issuer, parses,
                                                                            monkeypatch):
    jwk = signed_in.holder_jwk(app)
    raws = [issuer.issue(jwk, {**CLAIMS, "title": f"Course {n}"}, iat=1_700_000_000 + n) for n in range(3)]
    monkeypatch.setattr(wallet.annex, "VIEW_CACHE_CHARS", len(raws[0]) + len(raws[1]) + 10)  # room for two
    _store(app, signed_in.username, [(raw, _sha(raw), f"Stored {n}") for n, raw in enumerate(raws)])
    signed_in.get("/credentials")
    assert len(parses) == 3
    signed_in.get("/credentials")
    assert len(parses) == 4  # two fit: the oldest of the first visit was forgotten and is parsed again
    assert _titles(signed_in.last_page) == ["Course 2", "Course 1", "Course 0"]
