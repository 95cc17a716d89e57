"""The pages in English, Italian, German and French (issue 15 §2; infra/i18n.py, Flask-Babel).

The catalogue tests extract every string the pages use exactly as ``make i18n``
does (babel.cfg) and fail on any string missing from a catalogue, left
untranslated or fuzzy, whose placeholders differ, or whose compiled ``.mo`` is
older than its ``.po``. The app tests ask each app for its pages in each
language: by ``Accept-Language``, by the switcher (``?lang=`` then the
cookie), and a hostile ``lang`` falls back to English; JSON stays English.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from infra.i18n import SUPPORTED, TRANSLATIONS, dates_in_text, format_day, format_number, format_when

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code in SUPPORTED if code != "en"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}
PASSWORD = "correct horse battery"
HOSTILE_LANGS = ("", "xx", "../../etc/passwd", "de\r\nSet-Cookie: evil=1", "<script>", "e" * 5000, "DE", "it-IT",
                 "en-US")


def _extracted() -> dict[str | tuple[str, ...], None]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str | tuple[str, ...], None] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found[message if isinstance(message, str) else tuple(message)] = None
    return found


@pytest.fixture(scope="module")
def extracted() -> dict:
    messages = _extracted()
    assert len(messages) > 300, "babel.cfg found too few strings: the extraction itself is broken"
    return messages


def _catalogue(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_string_is_translated_in_the_catalogue(extracted, language):
    catalogue = _catalogue(language)
    missing, untranslated, fuzzy = [], [], []
    for msgid in extracted:
        entry = catalogue.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        if entry is None:
            missing.append(msgid)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            untranslated.append(msgid)
        if entry.fuzzy:
            fuzzy.append(msgid)
    assert not missing, f"not in {language}/messages.po (run make i18n, then translate): {missing}"
    assert not untranslated, f"untranslated in {language}/messages.po: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}/messages.po: {fuzzy}"
    assert not catalogue.fuzzy, f"{language}/messages.po is marked fuzzy as a whole"


def test_the_template_holds_exactly_the_strings_the_pages_use(extracted):
    """messages.pot, the template a translator of a new language starts from, is what `make i18n` extracts now.

    Found by a newcomer: it lacked a string of the issuer's pages and kept two sentences the sources had reworded.
    """
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle)
                    if message.id}
    strings = {msgid if isinstance(msgid, str) else msgid[0] for msgid in extracted}
    assert sorted(strings - template) == [], "not in messages.pot: run make i18n"
    assert sorted(template - strings) == [], "in messages.pot, no longer in the sources: run make i18n"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    problems = [(message.id, [str(error) for error in errors]) for message, errors in _catalogue(language).check()]
    assert not problems, problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_says_what_the_po_says(language):
    """The apps load the committed .mo: it must hold every translation of the .po (make i18n compiles it)."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in _catalogue(language):
        if not entry.id or not all(entry.string if isinstance(entry.string, tuple) else (entry.string,)):
            continue  # untranslated: the test above names it
        if isinstance(entry.id, tuple):
            if compiled.ngettext(entry.id[0], entry.id[1], 1) != entry.string[0]:
                stale.append(entry.id)
        elif compiled.gettext(entry.id) != entry.string:
            stale.append(entry.id)
    assert not stale, f"{language}/messages.mo is older than its .po (run make i18n): {stale[:5]}"


# ---------------------------------------------------------------- dates and numbers


@pytest.mark.parametrize(("language", "moment", "day", "number"), [
    ("en", "28 Nov 2026, 06:07:16 UTC", "1 March 2026", "1,234.5"),
    ("it", "28 nov 2026, 06:07:16 UTC", "1 marzo 2026", "1.234,5"),
    ("de", "28.11.2026, 06:07:16 UTC", "1. März 2026", "1.234,5"),
    ("fr", "28 nov. 2026, 06:07:16 UTC", "1 mars 2026", "1\u202f234,5"),
])
def test_dates_and_numbers_are_written_in_the_pages_language(issuer_app, language, moment, day, number):
    with issuer_app.test_request_context(f"/?lang={language}"):
        assert format_when(1795846036) == moment
        assert format_when("2026-11-28 06:07:16") == moment
        assert format_day("2026-03-01") == day
        assert format_number(1234.5) == number
        assert format_number(5) == "5"


def test_a_number_is_written_the_same_whatever_form_it_comes_in_and_per_language(issuer_app):
    from decimal import Decimal

    for language, expected in (("de", ["2,5", "4", "10", "-0", "1.234.567,125", "0,3", "12,5"]),
                               ("en", ["2.5", "4", "10", "-0", "1,234,567.125", "0.3", "12.5"]),
                               ("de", ["2,5", "4", "10", "-0", "1.234.567,125", "0,3", "12,5"])):
        with issuer_app.test_request_context(f"/?lang={language}"):
            assert [format_number(v) for v in (Decimal("2.50"), Decimal("4.0"), Decimal("1E+1"), Decimal("-0"),
                                               Decimal("1234567.125"), 0.1 + 0.2, "12.5")] == expected


def test_a_number_longer_than_the_locale_can_round_is_shown_as_it_is(issuer_app):
    from decimal import Decimal

    with issuer_app.test_request_context("/?lang=de"):
        assert format_number("1" * 60) == "1" * 60
        assert format_number(Decimal("1" * 60)) == "1" * 60
        assert format_number("0." + "1" * 50) == "0,111"


def test_unix_times_in_a_check_detail_become_dates(issuer_app):
    with issuer_app.test_request_context("/?lang=it"):
        assert (dates_in_text("issued at 1795846036, valid until 1795849636; index 126233 of list 7")
                == "issued at 28 nov 2026, 06:07:16 UTC, valid until 28 nov 2026, 07:07:16 UTC; index 126233 of list 7")
        assert dates_in_text("block 1795846036") == "block 1795846036"


def test_what_is_not_a_date_or_number_is_shown_as_it_is(issuer_app):
    with issuer_app.test_request_context("/?lang=de"):
        assert format_when("not a date") == "not a date"
        assert format_when(10**30) == str(10**30)
        assert format_number("NaN") == "NaN"
        assert format_number("abc") == "abc"
        assert format_when(None) == ""


# ---------------------------------------------------------------- the apps


@pytest.fixture
def issuer_app(tmp_path, monkeypatch):
    from issuer.identity import create_issuer
    from issuer.web import create_app

    data_dir = tmp_path / "var"
    data_dir.mkdir()
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")  # nothing listens: no ledger
    create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT")
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "ANCHOR_RETRY_SECONDS": 0})


@pytest.fixture
def verifier_app(tmp_path):
    from verifier import create_app, service_of

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "verifier"), "VERIFIER_RATE_LIMIT": "off"})
    yield app
    service_of(app).close()


@pytest.fixture
def wallet_app(tmp_path):
    from wallet import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "wallet"), "ARGON2_TIME_COST": 1,
                       "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
                       "PUBLIC_URL": "http://127.0.0.1:5001", "CHAIN_CHECKS": False})


#: A page of each app and a sentence of it in each language.
VERIFIER_INDEX = {"en": "Check a micro-credential", "it": "Verifica una microcredenziale",
                  "de": "Ein Microcredential prüfen", "fr": "Vérifier une microcertification"}
WALLET_SIGNIN = {"en": "New here?", "it": "Nuovo qui?", "de": "Neu hier?", "fr": "Nouveau ici ?"}
ISSUER_NOT_FOUND = {"en": "Not found", "it": "Non trovato", "de": "Nicht gefunden", "fr": "Introuvable"}


def _page(client, path, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code < 500
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", SUPPORTED)
def test_each_app_answers_in_the_language_the_browser_asks_for(verifier_app, wallet_app, issuer_app, language):
    accept = {"Accept-Language": f"{language};q=0.9, en;q=0.1" if language != "en" else "en"}
    page = _page(verifier_app.test_client(), "/", **accept)
    assert VERIFIER_INDEX[language] in page
    assert f'<html lang="{language}">' in page
    page = _page(wallet_app.test_client(), "/auth/signin", **accept)
    assert WALLET_SIGNIN[language] in page
    assert f'<html lang="{language}">' in page
    page = _page(issuer_app.test_client(), "/no/such/page", **accept)
    assert ISSUER_NOT_FOUND[language] in page


@pytest.mark.parametrize(("header", "language"), [
    ("de-CH, fr;q=0.5", "de"), ("fr-BE,fr;q=0.9,en;q=0.8", "fr"), ("es, it;q=0.4", "it"), ("es, pt", "en"),
    ("*", "en"), ("de;q=0, fr;q=0.1", "fr"), ("it_IT", "it"),
])
def test_a_regional_tag_gets_its_language(verifier_app, header, language):
    assert f'<html lang="{language}">' in _page(verifier_app.test_client(), "/", **{"Accept-Language": header})


def test_the_switcher_sets_the_cookie_that_later_pages_follow(verifier_app):
    client = verifier_app.test_client()
    page = _page(client, "/")
    for code, name in (("it", "Italiano"), ("de", "Deutsch"), ("fr", "Français")):
        assert f'href="/?lang={code}" lang="{code}" hreflang="{code}">{name}</a>' in page
    response = client.get("/?lang=de", headers={"Accept-Language": "fr"})
    assert VERIFIER_INDEX["de"] in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=de;")
    assert "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    assert VERIFIER_INDEX["de"] in _page(client, "/", **{"Accept-Language": "fr"})
    assert '<strong lang="de" aria-current="true">Deutsch</strong>' in _page(client, "/")
    assert {"Accept-Language", "Cookie"} <= set(client.get("/").vary)


def test_the_switcher_keeps_the_other_query_parameters(issuer_app):
    page = _page(issuer_app.test_client(), "/registrar/?q=Rossi&page=2&lang=fr")
    assert 'href="/registrar/?q=Rossi&amp;page=2&amp;lang=it"' in page


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/x", "/a?b#c/", "/\\/evil.example"])
def test_the_switcher_links_stay_on_this_site(verifier_app, path):
    response = verifier_app.test_client().get("/", environ_overrides={"PATH_INFO": path})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    links = re.findall(r'<a href="([^"]*)" lang="[a-z]{2}" hreflang', page)
    assert len(links) == 3
    for link in links:
        assert link.startswith("/")
        assert not link.startswith(("//", "/\\"))
        assert link.count("?") == 1


@pytest.mark.parametrize("hostile", HOSTILE_LANGS)
def test_a_hostile_language_falls_back_and_never_fails(verifier_app, hostile):
    client = verifier_app.test_client()
    response = client.get("/", query_string={"lang": hostile}, headers={"Accept-Language": "x-unknown"})
    assert response.status_code == 200
    assert VERIFIER_INDEX["en"] in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    client.set_cookie("lang", hostile.replace("\r\n", " ")[:3000])
    assert VERIFIER_INDEX["en"] in _page(client, "/")
    assert "<html lang=" in _page(client, "/", **{"Accept-Language": hostile.replace("\r\n", " ")[:3000]})


def test_json_answers_stay_english(verifier_app):
    response = verifier_app.test_client().post("/api/v1/verify?lang=de", json={"presentation": "garbage"},
                                               headers={"Accept-Language": "de"})
    assert 400 <= response.status_code < 500
    body = response.get_json()
    assert set(body) >= {"verified", "checks"} or "error" in body
    text = response.get_data(as_text=True)
    for german in ("Nicht", "nicht", "geprüft"):
        assert german not in text


def test_the_error_page_is_translated(verifier_app):
    response = verifier_app.test_client().post("/verify", data={"presentation": " "}, headers={"Accept-Language": "it"})
    assert response.status_code == 400
    assert "Impossibile verificarlo" in response.get_data(as_text=True)


def _form_post(client, page: str, action: str, data: dict):
    token = re.search(r'name="csrf_token" value="([^"]+)"', _page(client, page)).group(1)
    return client.post(action, data={"csrf_token": token, **data})


def _signup(client, name: str) -> None:
    answer = _form_post(client, "/auth/signup", "/auth/signup",
                        {"username": name, "password": PASSWORD, "password_again": PASSWORD})
    assert answer.status_code == 302


def test_the_wallet_remembers_the_language_of_each_account(wallet_app):
    first = wallet_app.test_client()
    _signup(first, "ana")
    assert "Le mie credenziali" in _page(first, "/credentials?lang=it")
    other_device = wallet_app.test_client()
    answer = _form_post(other_device, "/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})
    assert answer.status_code == 302
    assert "Le mie credenziali" in _page(other_device, "/credentials", **{"Accept-Language": "de"})
    someone_else = wallet_app.test_client()
    _signup(someone_else, "bruno")
    assert "Meine Nachweise" in _page(someone_else, "/credentials", **{"Accept-Language": "de"})


def test_the_scripts_sentences_come_from_the_page_in_its_language(verifier_app, wallet_app):
    """scan.js and poll.js write no English of their own when the page gives its sentences (data-say-*)."""
    page = _page(verifier_app.test_client(), "/?lang=de")
    assert 'data-say-hold="Halten Sie den QR-Code ins Bild."' in page
    assert ('data-say-failed="Die Kamera ließ sich nicht starten: laden Sie stattdessen ein Foto hoch '
            'oder fügen Sie ein."') in page
    client = wallet_app.test_client()
    _signup(client, "carla")
    assert 'data-say-read="Codice letto; apertura in corso…"' in _page(client, "/credentials/scan?lang=it")
