"""Helpers for the wallet tests: a settable clock, an issuer that signs real
micro-credentials, and a client that fills in CSRF tokens and one-time form ids
the way a browser would (by reading the page)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt_vc import issue_sd_jwt_vc

NOW = 1_780_000_000
PASSWORD = "correct horse battery"

CLAIMS = {
    "learner": {"given_name": "Ana", "family_name": "Silva", "birth_date": "2001-03-09", "student_id": "S-204"},
    "title": "Data Protection Law in Practice",
    "issuer_country": ["PT"],
    "awarding_body": [{"name": "Universidade Exemplo", "id": "https://uni.example", "country": "PT"}],
    "issued_on": "2026-05-01",
    "learning_outcomes": ["Apply the GDPR to research data", "Draft a data protection impact assessment",
                          "Advise on international transfers"],
    "ects": 4,
    "eqf_level": 7,
    "qf_ehea_cycle": "second",
    "assessment_type": "Oral examination",
    "participation": "online",
    "quality_assurance": "Internal QA, accredited by A3ES",
}

_INPUT = re.compile(r'<input type="hidden" name="(csrf_token|form_id)" value="([^"]*)"')


@dataclass
class Clock:
    now: int = NOW

    def __call__(self) -> float:
        return float(self.now)


@dataclass(frozen=True)
class Issuer:
    key: PrivateKey
    did: str
    kid: str

    def issue(self, holder_jwk, claims=None, **extra) -> str:
        claims = dict(CLAIMS if claims is None else claims)
        return issue_sd_jwt_vc(
            vct=extra.pop("vct", MICRO_CREDENTIAL_VCT), claims=claims, frame=disclosure_frame(claims),
            issuer_key=self.key, issuer=self.did, kid=self.kid, iat=extra.pop("iat", NOW - 3600),
            holder_jwk=holder_jwk, **extra,
        ).serialization


#: What the trust check answers for an accredited issuer's unrevoked credential.
TRUSTED_CHECKS = [{"check": "issuer_trust", "status": "passed", "detail": "accredited"},
                  {"check": "revocation", "status": "passed", "detail": "not revoked"}]


@dataclass
class WalletClient:
    """The Flask test client, plus what a browser does with forms."""

    client: object
    last_page: str = ""
    username: str = ""
    account_id: int | None = None
    extra: dict = field(default_factory=dict)

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        if response.mimetype == "text/html":
            self.last_page = response.get_data(as_text=True)
        return response

    def form_tokens(self, page: str | None = None) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, value in _INPUT.findall(page if page is not None else self.last_page):
            found.setdefault(name, html.unescape(value))
        return found

    def submit(self, page_url: str, action: str, data: dict | None = None, **kwargs):
        """GET ``page_url`` (for its tokens) then POST ``data`` to ``action``."""
        self.get(page_url)
        return self.post(action, data, **kwargs)

    def post(self, action: str, data: dict | None = None, **kwargs):
        payload = {**self.form_tokens(), **(data or {})}
        response = self.client.post(action, data=payload, **kwargs)
        if response.mimetype == "text/html":
            self.last_page = response.get_data(as_text=True)
        return response

    def signup(self, username: str = "ana", password: str = PASSWORD):
        response = self.submit("/auth/signup", "/auth/signup",
                               {"username": username, "password": password, "password_again": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.username = username
        return response

    def holder_jwk(self, app) -> dict:
        from wallet.db import DB_FILE, open_database

        db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
        try:
            row = db.execute(
                "SELECT public_jwk FROM holder_keys JOIN accounts ON accounts.id = holder_keys.account_id "
                "WHERE accounts.username = ? ORDER BY holder_keys.id DESC LIMIT 1", [self.username]
            ).fetchone()
        finally:
            db.close()
        return json.loads(row[0])

    def add(self, credential: str):
        return self.submit("/credentials/add", "/credentials/add", {"credential": credential})

    def recheck(self, app, credential_id: int, checks: list[dict] | BaseException):
        """Check ``credential_id`` again (its page's button), the trust check answering ``checks`` or raising it."""

        def trust_check(raw, fmt, now):
            if isinstance(checks, BaseException):
                raise checks
            return checks

        app.config["TRUST_CHECK"] = trust_check
        return self.submit(f"/credentials/{credential_id}", f"/credentials/{credential_id}/recheck")


def sign_up_in_browser(page, base: str, username: str = "ana", password: str = PASSWORD) -> None:
    """Sign up with a password on the wallet at ``base`` in a Playwright ``page``; it ends on "add a credential"."""
    page.goto(f"{base}/auth/signup")
    page.fill("form[action='/auth/signup'] input[name=username]", username)
    page.fill("form[action='/auth/signup'] input[name=password]", password)
    page.fill("form[action='/auth/signup'] input[name=password_again]", password)
    page.click("form[action='/auth/signup'] button[type=submit]")
    page.wait_for_url("**/credentials/add")


def db_rows(app, sql: str, params=()):
    from wallet.db import DB_FILE, open_database

    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        return db.execute(sql, list(params)).fetchall()
    finally:
        db.close()
