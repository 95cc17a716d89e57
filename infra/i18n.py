"""The pages in English, Italian, German and French (Flask-Babel over GNU gettext catalogues).

:func:`init_i18n` (called by :func:`infra.web.init_foundation` for the three
apps) sets up Flask-Babel with the one catalogue the apps share,
``infra/translations/<lang>/LC_MESSAGES/messages.po`` (compiled to ``.mo``
by ``make i18n``; extracted with ``babel.cfg``). Templates say ``{{ _('Text') }}``;
Python says :func:`gettext` / :func:`lazy_gettext`.

The page's language (:func:`select_locale`), first match wins:

1. ``?lang=`` on any page, when it is one of :data:`SUPPORTED` (then kept in
   the ``lang`` cookie, one year, ``SameSite=Lax``, and by the app's
   :meth:`I18n.remember` hook: the wallet stores it on the signed-in account);
2. the ``lang`` cookie;
3. the app's :meth:`I18n.remember` hook's stored choice (the signed-in wallet account's);
4. ``Accept-Language`` (RFC 9110 §12.5.4), matched on the primary tag;
5. English.

Anything else (a hostile ``lang`` value, an unknown cookie) is ignored, never
an error. JSON answers are untouched: only pages and their messages are translated.

Every page carries :func:`language_links` (the switcher partial
``shared/language_switcher.html``): plain links, no script, so they work
under the strict Content-Security-Policy. Dates and numbers print in the
page's locale through the filters ``datetime``, ``date`` and ``number``
(Babel, CLDR formats; times in UTC, said so). Language maps inside
credentials (ELM, Open Badges 3.0) are shown in :func:`content_languages`
order: the page's language where the credential has it, else English.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import (  # type: ignore[import-untyped]  # ships no type information
    Babel,
    get_locale,
    get_translations,
    gettext,
    lazy_gettext,
    ngettext,
)
from jinja2 import ChoiceLoader, FileSystemLoader

__all__ = ["SUPPORTED", "DEFAULT", "COOKIE", "LANGUAGE_NAMES", "TRANSLATIONS", "I18n", "init_i18n", "i18n_of",
           "select_locale", "browser_language", "current_language", "content_languages", "language_links",
           "format_when", "format_day", "format_number", "dates_in_text", "translate", "N_", "gettext", "lazy_gettext",
           "ngettext"]

#: The languages of the pages, English first (the default and the catalogues' source language).
SUPPORTED = ("en", "it", "de", "fr")
DEFAULT = "en"
#: Each language's name in itself, as the switcher shows it.
LANGUAGE_NAMES = {"en": "English", "it": "Italiano", "de": "Deutsch", "fr": "Français"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_EXTENSION = "microcred_i18n"
#: Where a page keeps its catalogue once looked up: Flask-Babel's own lookup walks its context objects on every
#: call (≈ 45 µs), which made the list page of 1,000 credentials spend half its time finding the catalogue.
_G_TRANSLATIONS = "_microcred_translations"
#: A language tag a credential's language map may use (BCP 47's common shapes): for ``?lang=`` of its texts.
_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?$")


class I18n:
    """One app's language settings: the hook that remembers a signed-in person's choice."""

    def __init__(self) -> None:
        self._stored: Callable[[], str | None] = lambda: None
        self._store: Callable[[str], None] = lambda code: None

    def remember(self, stored: Callable[[], str | None], store: Callable[[str], None]) -> None:
        """``stored()``: the signed-in person's language, or None; ``store(code)``: keep a new choice."""
        self._stored, self._store = stored, store


def i18n_of(app: Flask) -> I18n:
    return app.extensions[_EXTENSION]


def _supported(value: Any) -> str | None:
    return value if isinstance(value, str) and value in SUPPORTED else None


def select_locale() -> str:
    """The page's language: ``?lang=``, the cookie, the account's choice, ``Accept-Language``, English."""
    if not has_request_context():
        return DEFAULT
    chosen = _supported(request.args.get("lang")) or _supported(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    try:
        stored = _supported(i18n_of(current_app)._stored())
    except Exception:  # a store that cannot answer must never cost the page: the next rule decides
        stored = None
    if stored:
        return stored
    return browser_language(request.accept_languages) or DEFAULT


def browser_language(accepted: Iterable[tuple[str, float]]) -> str | None:
    """The first supported language of an ``Accept-Language`` list by quality; a regional tag (de-CH) counts as its
    language."""
    for tag, quality in accepted:  # werkzeug keeps them ordered by quality, highest first
        primary = tag.split("-", 1)[0].split("_", 1)[0].strip().lower()
        if quality > 0 and primary in SUPPORTED:
            return primary
    return None


def current_language() -> str:
    """The language this page is in (one of :data:`SUPPORTED`)."""
    locale = get_locale() if has_request_context() else None
    return _supported(str(locale)) or DEFAULT


def content_languages(requested: str | None = None) -> tuple[str, ...]:
    """The order in which a credential's language maps are read: ``requested`` (a tag), the page's language, English."""
    order = [requested] if isinstance(requested, str) and _TAG.match(requested) else []
    order += [current_language(), DEFAULT]
    return tuple(dict.fromkeys(order))


def language_links() -> list[dict[str, Any]]:
    """The switcher's entries: code, name, the link that switches, whether it is the page's language.

    On a page fetched with GET the link is the same page with ``?lang=``; a page
    that answered a form goes to the app's root instead (fetching it again would repeat nothing).
    """
    here = current_language()
    # The path as this app's own: never "//host" or "/\\host" (another site, to a browser), re-encoded.
    path = quote("/" + request.path.lstrip("/\\"), safe="/:@!$&'()*+,;=-._~")
    entries = []
    for code in SUPPORTED:
        if request.method == "GET":
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", code)]
            href = f"{request.script_root}{path}?{urlencode(args)}"
        else:
            href = f"{request.script_root}/?{urlencode({'lang': code})}"
        entries.append({"code": code, "name": LANGUAGE_NAMES[code], "href": href, "current": code == here})
    return entries


def _remember_choice(response: Response) -> Response:
    """``?lang=`` chose a language: keep it in the cookie and, through the app's hook, on the account.

    A page's language depends on ``Accept-Language`` and the cookie: pages say so (``Vary``, RFC 9110 §12.5.5).
    """
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    if not request.query_string:  # most answers (the API, probes) have no query: nothing to parse (issue 16)
        return response
    chosen = _supported(request.args.get("lang"))
    if chosen is None:
        return response
    if request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax", secure=request.is_secure,
                            httponly=True)
    try:
        i18n = i18n_of(current_app)
        if i18n._stored() != chosen:
            i18n._store(chosen)
    except Exception:  # remembering is a convenience: the cookie holds the choice anyway
        current_app.logger.warning("could not store the language choice", exc_info=True)
    return response


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue (``make i18n`` extracts it) without translating it here.

    For sentences made before a request's language is known (tables, exception
    messages): the page shows them through :func:`translate` (the ``translate`` filter).
    """
    return text


def page_translations() -> Any:
    """The catalogue of the page being made, looked up once per request (the locale is decided once per request)."""
    cached = g.get(_G_TRANSLATIONS)
    if cached is None:
        cached = get_translations()
        setattr(g, _G_TRANSLATIONS, cached)
    return cached


def translate(text: Any) -> str:
    """``text`` in the page's language when the catalogue has it, else as it is; plain text, escaped on the page.

    Unlike ``_()`` in a template, the result is never markup and never %-formatted: safe for any
    message, including ones that quote what a client sent.
    """
    if not isinstance(text, str) or not text or not has_request_context():
        return "" if text is None else str(text)
    return str(page_translations().ugettext(text))


# ---------------------------------------------------------------- dates and numbers


def _moment(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
            return _moment(float(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


#: The CLDR locale each language's dates and numbers are written in: English as in Europe (28 Nov 2026, 14:02).
_FORMAT_LOCALES = {"en": "en_GB", "it": "it_IT", "de": "de_DE", "fr": "fr_FR"}


@lru_cache(maxsize=len(_FORMAT_LOCALES))
def _parsed_locale(language: str) -> Locale:
    return Locale.parse(_FORMAT_LOCALES[language])


def _locale() -> Locale:
    return _parsed_locale(current_language())


def format_when(value: Any, form: str = "medium") -> str:
    """A moment (Unix time, ``datetime``, ISO 8601) as the page's locale writes it, in UTC, saying so.

    What is not a moment is shown as it is (never an error on a page).
    """
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    return f"{format_datetime(moment, form, tzinfo=UTC, locale=_locale())} UTC"


def format_day(value: Any, form: str = "long") -> str:
    """A day (the date part of a moment, or an ISO date) as the page's locale writes it."""
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    return format_date(moment.date(), form, locale=_locale())


#: A Unix time after a time word, as the core's check details write them ("issued at 1795846036").
_UNIX_TIME = re.compile(r"\b(at|until|from|since|before|after|now|iat|exp)( )(1\d{9})\b")


def dates_in_text(text: Any) -> str:
    """``text`` with each Unix time after a time word written as the page's locale writes a moment (UTC)."""
    if not isinstance(text, str):
        return "" if text is None else str(text)
    return _UNIX_TIME.sub(lambda m: f"{m.group(1)} {format_when(int(m.group(3)))}", text)


def format_number(value: Any) -> str:
    """A number (ECTS, counts) with the page's locale's decimal sign and grouping; anything else as it is.

    The number is read from its text (a Decimal's text gives it back exactly), so short ones are written once per
    language and remembered: a list page writes a thousand ECTS figures, mostly the same few.
    """
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    text = str(value)
    if len(text) > _REMEMBERED_NUMBER_CHARS:
        return _written_number(text, _locale())
    return _remembered_number(text, current_language())


_REMEMBERED_NUMBER_CHARS = 40


@lru_cache(maxsize=1024)
def _remembered_number(text: str, language: str) -> str:
    return _written_number(text, _parsed_locale(language))


def _written_number(text: str, locale: Locale) -> str:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    if not number.is_finite():
        return text
    try:
        return format_decimal(number.normalize() if number == number.to_integral() else number, locale=locale)
    except InvalidOperation:  # more digits than the locale's rounding keeps (a 60-digit "ECTS"): shown as it is
        return text


# ---------------------------------------------------------------- setting up an app


def init_i18n(app: Flask) -> I18n:
    """Flask-Babel on ``app`` with the shared catalogue, the filters, the switcher and the choice's cookie."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT, default_timezone="UTC")
    # Flask-Babel's template callables, with the catalogue looked up once per request instead of on every string.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        lambda text: page_translations().ugettext(text),
        lambda singular, plural, n: page_translations().ungettext(singular, plural, n), newstyle=True)
    app.jinja_env.filters.update(datetime=format_when, date=format_day, number=format_number, translate=translate,
                                 dates_in_text=dates_in_text)
    app.jinja_env.globals.update(language_links=language_links, current_language=current_language)
    app.jinja_loader = ChoiceLoader([loader for loader in (app.jinja_loader, FileSystemLoader(_TEMPLATES)) if loader])
    app.after_request(_remember_choice)
    i18n = app.extensions[_EXTENSION] = I18n()
    return i18n
