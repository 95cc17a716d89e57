"""An attacker's crawl of a Flask app: every route, every form, hostile values, never a 500.

Used by ``tests/*/test_hostile_inputs.py`` against each service's real app (on
the real Anvil where the service needs one). What it does:

1. every rule of ``app.url_map`` is requested with each of its methods, path
   variables filled with hostile strings, with no body, a form body, a JSON
   body and raw bytes that are not UTF-8;
2. every ``<form>`` on the pages it can reach is submitted with its hidden
   fields kept (CSRF tokens, one-time ids) and each visible field, in turn,
   set to every hostile value.

An answer passes when its status is below 500 and its body shows no Python
traceback, exception class or server path. A client error may be any 4xx:
this checks robustness, the precise reasons are checked by the feature tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

__all__ = ["HOSTILE", "Finding", "crawl_routes", "crawl_forms", "forms_of"]

#: Values an attacker tries in any field or path segment.
HOSTILE: tuple[str, ...] = (
    "",
    " ",
    "a" * 70_000,                                  # larger than most limits
    "\x00",
    "line\r\nSet-Cookie: evil=1",                  # header injection
    "%00%0d%0a",
    "../../../../etc/passwd",
    "//evil.example/",
    "/\t/evil.example",
    "https://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:1/é",
    "openid4vp://?request_uri=http%3A%2F%2F10.0.0.1%2Fr&client_id=x",
    "openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A1%2F",
    "1e400",
    "-1",
    "99999999999999999999999999999999999999",
    "NaN",
    "[]",
    "{\"a\":" * 2_000 + "1" + "}" * 2_000,         # deep nesting
    "\u202egnp.exe",
    "é\ud7ff\ufffd🙂",
    "<script>alert(1)</script>",
    "eyJhbGciOiJub25lIn0.e30.~",
    "~~~~",
    "a~b~c~",
)

#: Parameter names the protocols here use (OpenID4VCI, OpenID4VP, the verify API, the forms).
_PARAMETERS = ("presentation", "nonce", "audience", "grant_type", "pre-authorized_code", "tx_code", "proof",
               "proofs", "credential_configuration_id", "format", "vp_token", "state", "response", "id_token",
               "presentation_submission", "error", "request", "request_uri", "client_id", "text", "next",
               "username", "password", "q", "page")

_TRACE_SIGNS = re.compile(r"Traceback \(most recent call last\)|File \"/|site-packages|"
                          r"\b(?:KeyError|TypeError|AttributeError|UnicodeEncodeError|OverflowError)\b")


@dataclass(frozen=True)
class Finding:
    """One answer that broke the rules."""

    method: str
    url: str
    what: str
    status: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.method} {self.url[:120]} ({self.what}) → {self.status}: {self.excerpt[:200]!r}"


@dataclass
class _Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = _Form(attributes.get("action", ""), attributes.get("method", "get").lower())
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "textarea", "select", "button"):
            name = attributes.get("name")
            if not name:
                return
            self._current.fields.setdefault(name, attributes.get("value", ""))
            if attributes.get("type") == "hidden":
                self._current.hidden.add(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(page: str, page_url: str) -> list[_Form]:
    """The forms of an HTML page, their actions made absolute paths."""
    parser = _FormParser()
    parser.feed(page)
    for form in parser.forms:
        form.action = urlsplit(urljoin(page_url, form.action or page_url)).path or page_url
    return parser.forms


def _check(answer, method: str, url: str, what: str) -> Finding | None:
    body = answer.get_data(as_text=True) if answer.status_code >= 400 or answer.mimetype != "image/png" else ""
    if answer.status_code >= 500 and answer.status_code != 503:
        return Finding(method, url, what, answer.status_code, body)
    if _TRACE_SIGNS.search(body):
        return Finding(method, url, what, answer.status_code, _TRACE_SIGNS.search(body).group(0) + " … " + body)
    return None


def _path_values(rule) -> Iterator[dict[str, str]]:
    names = sorted(rule.arguments)
    if not names:
        yield {}
        return
    for value in HOSTILE:
        if value and len(value) < 5_000 and "/" not in value:
            yield dict.fromkeys(names, value)
    yield dict.fromkeys(names, "1")


def _build(rule, values: dict[str, str]) -> str | None:
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", value.replace("\\", "\\\\"), url)
    return url


def crawl_routes(app, client, *, skip: Iterable[str] = ()) -> list[Finding]:
    """Request every route with hostile path values and bodies; return what broke the rules."""
    findings: list[Finding] = []
    skipped = tuple(skip)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith(skipped):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for values in _path_values(rule):
                url = _build(rule, values)
                bodies = [("no body", {})] if method == "GET" else [
                    ("no body", {}),
                    ("form", {"data": {"presentation": HOSTILE[10], "text": HOSTILE[13], "next": HOSTILE[8]}}),
                    ("json", {"json": {"presentation": "1e400", "nonce": ["x"], "audience": {"a": 1}}}),
                    ("json number", {"data": b'{"presentation": 1e400}', "content_type": "application/json"}),
                    ("not utf-8", {"data": b"\xff\xfe\x00~\x80", "content_type": "text/plain"}),
                    ("deep json", {"data": HOSTILE[18].encode(), "content_type": "application/json"}),
                ]
                if method != "GET":
                    for value in HOSTILE:
                        every = dict.fromkeys(_PARAMETERS, value)
                        bearer = {"Authorization": "Bearer " + re.sub(r"[\r\n]", "", value[:2000])}
                        bodies += [(f"form {value[:20]!r}", {"data": every, "headers": bearer}),
                                   (f"json {value[:20]!r}", {"json": every, "headers": bearer})]
                for what, kwargs in bodies:
                    answer = client.open(url, method=method, **kwargs)
                    if (finding := _check(answer, method, url, what)) is not None:
                        findings.append(finding)
    return findings


def crawl_forms(client, start_pages: Iterable[str], *, skip_actions: Iterable[str] = ()) -> list[Finding]:
    """Submit every form found on ``start_pages`` with each visible field set to each hostile value.

    Hidden fields keep the values of a fresh copy of the page (a browser would),
    so CSRF and one-time tokens pass and the hostile value reaches the view.
    """
    findings: list[Finding] = []
    skipped = tuple(skip_actions)
    for page_url in start_pages:
        first = client.get(page_url)
        if (finding := _check(first, "GET", page_url, "page")) is not None:
            findings.append(finding)
            continue
        if first.mimetype != "text/html":
            continue
        for index, form in enumerate(forms_of(first.get_data(as_text=True), page_url)):
            if form.action.startswith(skipped):
                continue
            for name in [n for n in form.fields if n not in form.hidden] or [None]:
                for value in HOSTILE:
                    fresh = client.get(page_url)
                    forms = forms_of(fresh.get_data(as_text=True), page_url)
                    current = forms[index] if index < len(forms) else form
                    data = dict(current.fields)
                    if name is not None:
                        data[name] = value
                    if current.method == "post":
                        answer = client.post(current.action, data=data)
                    else:
                        answer = client.get(current.action, query_string=data)
                    if (finding := _check(answer, current.method.upper(), current.action, f"{name}={value[:30]!r}")):
                        findings.append(finding)
    return findings
