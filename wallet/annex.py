"""The one Annex I view of a stored credential, whatever its format, and what pages show of it.

A stored credential passed its checks on import (or was kept as unverified,
and says so); here it is only read back. :func:`view_of` picks the core's
mapper (:mod:`credentials.annex_view`) for the stored format:

=====================  ======================================================
``dc+sd-jwt``          the vct's mapper (:func:`credentials.credential_types.sd_jwt_vc_type`:
                       microcred, EUDI learning); another vct: microcred's claim names
``jwt_vc``             an Open Badge 3.0 / CLR 2.0 secured as JWT: :func:`annex_from_ob3`;
                       another W3C VC: :func:`annex_from_w3c_vc`
``ldp_vc``             Open Badge 3.0 / CLR 2.0 with a Data Integrity proof: :func:`annex_from_ob3`
``europass-edc``       the sealed ELM document: :func:`annex_from_elm`
``unsigned``           an OB 3.0 or ELM document without a proof, kept as unverified
=====================  ======================================================

Views are cached per process by the credential's SHA-256 and format (an EDC
runs to 0.5 MB; the list page must not parse it on every visit): up to
:data:`VIEW_CACHE_SIZE` views made from :data:`VIEW_CACHE_CHARS` characters,
so that a wallet of a thousand credentials is parsed once, not on every visit.
A view is remembered only under the SHA-256 of the text it was made from;
:func:`known_view` answers from the cache alone, so the list page reads the
raw text of only the credentials it has not seen. :func:`languages_in`
lists the languages a view's multilingual values come in, for the page's
language switch; :func:`page_languages` reads the page's choice (``?lang=``,
default English).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from flask import has_request_context

from credentials.annex_elm import annex_from_elm
from credentials.annex_mappers import annex_from_microcred
from credentials.annex_ob3 import annex_from_ob3
from credentials.annex_view import (
    ANNEX_LABELS,
    AnnexView,
    AwardingBody,
    Sourced,
    ViewBuilder,
    is_language_map,
)
from credentials.credential_types import sd_jwt_vc_type
from credentials.errors import InvalidInput
from credentials.jose import IMPORTED_FORMAT_ALGS, UnverifiedJws
from credentials.open_badges import OPEN_BADGE_TYPES
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import NEVER_DISCLOSABLE
from infra.i18n import content_languages, format_day, gettext

__all__ = [
    "FORMAT_SD_JWT_VC", "FORMAT_JWT_VC", "FORMAT_LDP_VC", "FORMAT_EDC", "FORMAT_UNSIGNED", "FORMAT_NAMES",
    "ELEMENTS", "W3C_SKIPPED", "annex_from_w3c_vc", "annex_for_document", "annex_for_sd_jwt", "view_of", "known_view",
    "forget_views", "VIEW_CACHE_SIZE", "languages_in",
    "page_languages", "Line", "lines_of",
]

FORMAT_SD_JWT_VC = "dc+sd-jwt"
FORMAT_JWT_VC = "jwt_vc"
FORMAT_LDP_VC = "ldp_vc"
FORMAT_EDC = "europass-edc"
FORMAT_UNSIGNED = "unsigned"
#: What a card calls each view kind.
FORMAT_NAMES = {
    "microcred": "microcred micro-credential", "eudi-learning": "EUDI learning credential", "ob3": "Open Badge 3.0",
    "clr": "Comprehensive Learner Record 2.0", "elm": "Europass digital credential", "vc": "W3C verifiable credential",
    "sd-jwt-vc": "SD-JWT VC",
}
#: The Annex I elements a page shows, in order (More details last, apart).
ELEMENTS = tuple(name for name in ANNEX_LABELS if name != "more_details")
#: Members never listed under More details for a generic W3C VC.
W3C_SKIPPED = frozenset({"@context", "type", "proof"})
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?$")
#: Views remembered per process, at most this many (a microcred's view holds ~5 KB: ~20 MB)…
VIEW_CACHE_SIZE = 4096
#: …and made from at most this many characters of raw text in all (a view grows with its document: 0.5 MB EDCs).
VIEW_CACHE_CHARS = 64_000_000


def _w3c_issuer(b: ViewBuilder) -> tuple[AwardingBody, ...]:
    if isinstance(b.get(["issuer"]), str):
        taken = b.take(["issuer"], "Issuer")
        return (AwardingBody(taken),) if taken else ()
    name = b.take(["issuer", "name"]) or b.take(["issuer", "id"])
    return (AwardingBody(name, b.take(["issuer", "id"])),) if name else ()


def annex_from_w3c_vc(credential: Mapping[str, Any]) -> AnnexView:
    """A W3C VC of a type no mapper knows: name, issuer, date, microcred's claim names in the subject;
    the rest in More details."""
    b = ViewBuilder(credential, skip_keys=W3C_SKIPPED)
    subject = ["credentialSubject"]
    return AnnexView(
        kind="vc",
        learner=tuple(s for s in (b.take([*subject, "id"], "Identifier"),) if s),
        title=b.take(["name"]) or b.take([*subject, "title"]) or b.take([*subject, "name"]),
        awarding_bodies=_w3c_issuer(b),
        issued_on=b.take(["validFrom"]) or b.take(["issuanceDate"]),
        learning_outcomes=b.take_each([*subject, "learning_outcomes"]),
        ects=b.take([*subject, "ects"]),
        eqf_level=b.take([*subject, "eqf_level"]),
        further_information=tuple(s for s in (b.take(["description"], "Description"),) if s),
        more_details=b.more_details(),
    )


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    if isinstance(value, str):
        return {value}
    return {t for t in value if isinstance(t, str)} if isinstance(value, list) else set()


def annex_for_document(document: Mapping[str, Any]) -> AnnexView:
    """The view of a W3C-shaped JSON credential: OB 3.0 / CLR, ELM, or a generic VC."""
    types = _types(document)
    if types & OPEN_BADGE_TYPES:
        return annex_from_ob3(document)
    if "EuropeanDigitalCredential" in types:
        return annex_from_elm(document)
    return annex_from_w3c_vc(document)


def annex_for_sd_jwt(raw: str) -> AnnexView:
    holder = HolderSdJwt.parse(raw)
    claims = {k: v for k, v in holder.all_claims.items() if k not in NEVER_DISCLOSABLE and k != "_sd_alg"}
    vct = holder.all_claims.get("vct")
    known = sd_jwt_vc_type(vct) if isinstance(vct, str) else None
    return known.annex_view(claims) if known else replace(annex_from_microcred(claims), kind="sd-jwt-vc")


def _jwt_document(raw: str) -> dict[str, Any]:
    payload = UnverifiedJws.parse(raw, what="JWT VC", allowed_algs=IMPORTED_FORMAT_ALGS).payload
    credential = payload.get("vc")
    return credential if isinstance(credential, dict) else payload


def _edc_document(raw: str) -> dict[str, Any]:
    seal = json.loads(raw)
    payload = seal.get("payload") if isinstance(seal, dict) else None
    document = json.loads(payload) if isinstance(payload, str) else None
    if not isinstance(document, dict):
        raise InvalidInput("the stored EDC holds no ELM document")
    return document


def _parsed_view(fmt: str, raw: str) -> AnnexView:
    if fmt == FORMAT_SD_JWT_VC:
        return annex_for_sd_jwt(raw)
    if fmt == FORMAT_JWT_VC:
        return annex_for_document(_jwt_document(raw))
    if fmt == FORMAT_EDC:
        return annex_from_elm(_edc_document(raw))
    if fmt in (FORMAT_LDP_VC, FORMAT_UNSIGNED):
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise InvalidInput("the stored credential is not a JSON object")
        return annex_for_document(document)
    raise InvalidInput(f"the wallet stores no credentials of format {fmt!r}")


#: (raw_sha256, format) -> (the view, or None for a text no parser reads; the raw text's length), least recently
#: used first; _held counts the lengths.
_views: OrderedDict[tuple[str, str], tuple[AnnexView | None, int]] = OrderedDict()
_views_lock = threading.Lock()
_held = [0]
_MISSING = object()


def _stored_title(row: Mapping[str, Any]) -> AnnexView:
    return AnnexView(kind="stored", title=Sourced(row.get("title") or "Credential", "", "Title"))


def known_view(row: Mapping[str, Any]) -> AnnexView | None:
    """The view of ``row`` (``format``, ``raw_sha256``, ``title``) if this process has made it, else None."""
    key = (row["raw_sha256"], row["format"])
    with _views_lock:
        found = _views.get(key, _MISSING)
        if found is not _MISSING:
            _views.move_to_end(key)
    if not isinstance(found, tuple):
        return None
    return found[0] if found[0] is not None else _stored_title(row)


def view_of(row: Mapping[str, Any]) -> AnnexView:
    """The Annex I view of a stored credential row (``format``, ``raw``, ``raw_sha256``).

    A row the wallet can no longer read (a format from an older version) shows its stored title only.
    """
    known = known_view(row)
    if known is not None:
        return known
    raw, fmt = row["raw"], row["format"]
    try:
        view: AnnexView | None = _parsed_view(fmt, raw)
    except (InvalidInput, ValueError):  # InvalidInput from the core's parsers, ValueError from json
        view = None
    if hashlib.sha256(raw.encode("utf-8")).hexdigest() == row["raw_sha256"]:  # else: not under another text's name
        _remember((row["raw_sha256"], fmt), view, len(raw))
    return view if view is not None else _stored_title(row)


def _remember(key: tuple[str, str], view: AnnexView | None, size: int) -> None:
    with _views_lock:
        if key in _views:
            _held[0] -= _views[key][1]
        _views[key] = (view, size)
        _views.move_to_end(key)
        _held[0] += size
        while len(_views) > VIEW_CACHE_SIZE or (_held[0] > VIEW_CACHE_CHARS and len(_views) > 1):
            _held[0] -= _views.popitem(last=False)[1][1]


def forget_views() -> None:
    """Empty this process's cache of views (tests)."""
    with _views_lock:
        _views.clear()
        _held[0] = 0


def _sourced(view: AnnexView) -> list[Sourced]:
    found: list[Sourced] = []
    for item in fields(view):
        value = getattr(view, item.name)
        for entry in value if isinstance(value, tuple) else (value,):
            parts = (entry.name, entry.id, entry.country) if isinstance(entry, AwardingBody) else (entry,)
            found.extend(p for p in parts if isinstance(p, Sourced))
    return found


def languages_in(view: AnnexView) -> list[str]:
    """The language tags of the view's multilingual values, sorted."""
    tags = {tag for s in _sourced(view) if is_language_map(s.value) for tag in s.value}
    return sorted(tag for tag in tags if _LANGUAGE.match(tag))


def page_languages(requested: str | None) -> tuple[str, ...]:
    """The page's language order: ``?lang=`` when it is a language tag, then the page's language, then English."""
    return content_languages(requested if isinstance(requested, str) and _LANGUAGE.match(requested) else None)


class Line:
    """One line a page shows: label, text in the page language, the other languages, source path."""

    def __init__(self, label: str, value: Sourced, languages: Sequence[str]):
        self.label = label or value.label
        self.text = value.text(languages)
        self.path = value.path
        self.others = [(tag, value.value[tag] if isinstance(value.value[tag], str) else "; ".join(value.value[tag]))
                       for tag in sorted(value.value)] if is_language_map(value.value) and len(value.value) > 1 else []


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T\d{2}:\d{2})")


def shown_day(text: str) -> str:
    """An ISO 8601 date or date-time as the page's language writes the day (:func:`infra.i18n.format_day`, as the
    wallet's other dates); outside a request its ISO day; any other text as it is."""
    if not _ISO_DAY.match(text):
        return text
    return format_day(text) if has_request_context() else text[:10]


def _shown(element: str, line: Line) -> Line:
    """A line as a page shows it: the date of issuing as a day, an EQF level in words (not its level URI)."""
    if element == "issued_on":
        line.text = shown_day(line.text)
    elif element == "eqf_level" and re.fullmatch(r"[1-8]", line.text):
        level = line.text
        line.label = ""
        line.text = gettext("EQF level %(level)s", level=level) if has_request_context() else f"EQF level {level}"
    return line


def lines_of(view: AnnexView, languages: Sequence[str]) -> list[tuple[str, str, list[Line]]]:
    """``(element, label, lines)`` for each Annex I element the view has, in order (:func:`_shown`)."""
    found = []
    for element in ELEMENTS:
        value = getattr(view, element)
        entries = value if isinstance(value, tuple) else (value,) if value is not None else ()
        lines: list[Line] = []
        for entry in entries:
            if isinstance(entry, AwardingBody):
                lines.append(Line("", entry.name, languages))
                lines.extend(Line(label, part, languages) for label, part in (("Identifier", entry.id),
                                                                               ("Country", entry.country)) if part)
            else:
                lines.append(Line(entry.label if entry.label != entry.path else "", entry, languages))
        if lines:
            found.append((element, ANNEX_LABELS[element], [_shown(element, line) for line in lines]))
    return found
