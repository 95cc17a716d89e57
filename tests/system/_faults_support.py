"""Helpers for the fault tests (tests/system/test_faults.py): issuing through a demo issuer's
own service, presenting, calling the verifier over loopback HTTP, a form-filling HTTP session
for the wallet and registrar pages, and a status list server whose faults the test chooses.

Nothing here mocks a part of microcred: the issuer service, the wallet and the verifier run
as they do in ``microcred demo``; only the status list's web server is ours, so that it can be
slow, lie or be down on cue.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = [
    "AUDIENCE",
    "SHOWN",
    "DemoIssuing",
    "FormSession",
    "StatusListServer",
    "accredit_under_agency",
    "checks_of",
    "present",
    "tamper_signature",
    "tamper_disclosure",
    "verify_over_http",
]

AUDIENCE = "https://employer.example"
#: The claims a learner shows in these tests: title, ECTS and two learning outcomes.
SHOWN = [("title",), ("ects",), ("learning_outcomes", 0), ("learning_outcomes", 1)]
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|form_id|csrf)" value="([^"]*)"')

ROW = {
    "title": "Resilient Distributed Systems", "ects": 5, "eqf_level": 7, "qf_ehea_cycle": "second",
    "learning_outcomes": ["Design services that fail closed", "Measure recovery after a fault",
                          "Explain consistency under partitions"],
    "assessment_type": "Written examination", "participation": "online",
}


def present(sd_jwt: str, holder_key, *, paths=SHOWN, audience: str = AUDIENCE) -> str:
    """A fresh presentation (new nonce, iat now) of ``paths`` with a Key Binding JWT."""
    from credentials.sd_jwt import HolderSdJwt

    return HolderSdJwt.parse(sd_jwt).present_with_key_binding(
        paths, holder_key, audience=audience, nonce=secrets.token_urlsafe(16), iat=int(time.time()))


def tamper_signature(presentation: str) -> str:
    """The presentation with one character of the issuer's signature changed."""
    jwt, rest = presentation.split("~", 1)
    head, signature = jwt.rsplit(".", 1)
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{swapped}{signature[middle + 1:]}~{rest}"


def tamper_disclosure(presentation: str) -> str:
    """The presentation with its first disclosure replaced by one the issuer never signed."""
    from credentials.jose import b64url_encode

    parts = presentation.split("~")
    forged = b64url_encode(json.dumps([secrets.token_urlsafe(12), "ects", 59]).encode())
    return "~".join([parts[0], forged, *parts[2:]])


def verify_over_http(verifier_url: str, presentation: str, *, timeout: float = 30.0) -> tuple[int, dict]:
    """POST /api/v1/verify; the HTTP status and the JSON answer (error bodies included)."""
    body = json.dumps({"presentation": presentation}).encode()
    request = urllib.request.Request(f"{verifier_url.rstrip('/')}/api/v1/verify", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw.decode("utf-8", "replace")[:300]}


def checks_of(answer: dict) -> dict[str, dict]:
    return {item["check"]: item for item in answer.get("checks", [])}


@dataclass
class DemoIssuing:
    """One of the demo's issuers, driven through its own :class:`issuer.service.IssuerService`."""

    data_dir: Path
    name: str
    holder_key: object = None
    #: The anchoring outcomes of the last :meth:`issue`.
    last_anchors: tuple = ()

    def __post_init__(self):
        from credentials.jose import PrivateKey

        if self.holder_key is None:
            self.holder_key = PrivateKey.generate("ES256")

    def _service(self):
        from issuer.archive import Archive
        from issuer.identity import load_issuer
        from issuer.ledger_link import LedgerStatusAnchor
        from issuer.service import IssuerService

        home = load_issuer(self.data_dir, self.name)
        return IssuerService(home.identity, Archive(home.archive_path), home.signing_key(),
                             anchor=LedgerStatusAnchor(home))

    def issue(self, count: int, *, title: str = ROW["title"]) -> list[tuple[str, str]]:
        """``count`` credentials bound to :attr:`holder_key`; (credential id, SD-JWT VC) each."""
        from credentials.jose import json_dumps
        from issuer.batch import BatchDefaults, parse_json

        service = self._service()
        try:
            now = int(time.time())
            identity = service.identity
            rows = [{**ROW, "title": title, "holder_jwk": self.holder_key.public_key().to_jwk(),
                     "quality_assurance": "Internal quality assurance, ESG-compliant",
                     "learner": {"given_name": "Ada", "family_name": "Fault", "birth_date": "2000-01-01",
                                 "student_id": f"F-{n:05d}"}} for n in range(count)]
            defaults = BatchDefaults(issuer_country=identity.country, awarding_body=identity.awarding_body(),
                                     issued_on=datetime.fromtimestamp(now, UTC).date().isoformat())
            result = service.issue_batch(parse_json(json_dumps(rows), defaults), now=now)
            self.last_anchors = result.anchors
            if not all(outcome.anchored for outcome in result.anchors):
                raise RuntimeError(f"expected the new status lists to be anchored, found {result.anchors}")
            return [(item.credential_id, item.sd_jwt) for item in result.issued]
        finally:
            service.archive.close()

    def revoke(self, credential_ids: list[str]):
        service = self._service()
        try:
            return service.set_status(credential_ids, "revoked", now=int(time.time()))
        finally:
            service.archive.close()

    def pending_lists(self) -> list[str]:
        service = self._service()
        try:
            return [record.id for record in service.archive.status_lists() if record.anchor_pending]
        finally:
            service.archive.close()

    def list_token(self, list_id: str) -> str | None:
        service = self._service()
        try:
            return service.status_list_token(list_id)
        finally:
            service.archive.close()

    def list_of(self, credential_id: str) -> str:
        service = self._service()
        try:
            return service.archive.credential(credential_id).list_id
        finally:
            service.archive.close()


def accredit_under_agency(data_dir: Path, home) -> None:
    """Accredit a new issuer under the demo's quality assurance agency, as ``microcred demo`` does."""
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from ledger.artifacts import Role
    from ledger.deployment import open_ledger
    from ledger.keys import default_root_account, fund_if_devnet, load_key_file
    from microcred.system import AGENCY

    agency_account = load_key_file(data_dir / "keys" / "qa-agency.key")
    ledger = open_ledger(None)
    now = ledger.chain.block_timestamp()
    ledger.trust.accredit(AGENCY[0], home.identity.did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name=home.identity.legal_name, country=home.identity.country, valid_from=now - 3600,
                          valid_until=None, controller=home.identity.controller_address, max_eqf_level=8,
                          account=agency_account)
    fund_if_devnet(ledger.chain, default_root_account(ledger.chain, data_dir), home.identity.controller_address)


class FormSession:
    """A cookie-keeping HTTP session that fills hidden form fields (CSRF, one-time ids) from the last page."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        import requests

        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        self.last_page = ""

    def get(self, path: str):
        response = self.http.get(self.base + path, timeout=self.timeout)
        if response.headers.get("Content-Type", "").startswith("text/html"):
            self.last_page = response.text
        return response

    def hidden(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, value in _HIDDEN.findall(self.last_page):
            found.setdefault(name, html.unescape(value))
        return found

    def post(self, path: str, data: dict | None = None, *, files=None, redirects: bool = False):
        response = self.http.post(self.base + path, data={**self.hidden(), **(data or {})}, files=files,
                                  allow_redirects=redirects, timeout=self.timeout)
        if response.headers.get("Content-Type", "").startswith("text/html"):
            self.last_page = response.text
        return response

    def submit(self, page: str, action: str, data: dict | None = None, **kwargs):
        self.get(page)
        return self.post(action, data, **kwargs)


@dataclass
class StatusListServer:
    """A loopback web server for one issuer's status lists, with a fault mode chosen by the test.

    ``mode``: ``"ok"`` serves the issuer's current token; ``"slow"`` answers after
    ``slow_seconds``; ``"lie"`` serves ``lie_token`` (a token whose hash is not the anchored
    one); ``"down"`` is not listening at all (:meth:`go_down` / :meth:`come_back`).
    """

    token_for: object  # (list_id) -> token text or None
    port: int = 0
    mode: str = "ok"
    slow_seconds: float = 4.0
    lie_token: str | None = None
    requests: list = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> StatusListServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                owner.requests.append((owner.mode, self.path))
                list_id = self.path.rstrip("/").rsplit("/", 1)[-1]
                if owner.mode == "slow":
                    time.sleep(owner.slow_seconds)
                token = owner.lie_token if owner.mode == "lie" else owner.token_for(list_id)
                body = (token or "not found").encode()
                self.send_response(200 if token else 404)
                self.send_header("Content-Type", "application/statuslist+jwt" if token else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    return  # the slow case: the client gave up

            def log_message(self, *args):
                return

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="status-list-server", daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def go_down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.mode = "down"

    def come_back(self) -> None:
        self.mode = "ok"
        if self._server is None:
            self.start()

    def stop(self) -> None:
        self.go_down()
