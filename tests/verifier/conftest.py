"""Fixtures for the verifier tests: a did:key issuer accredited on the real Anvil, its
status lists anchored there and served by a small loopback HTTP server, and the app.

``status_server``   a threaded HTTP server on 127.0.0.1 serving ``routes`` (path → (status,
                    content type, body, extra headers)); stopped at the end of the module.
``make_issuer``     factory: a did:key issuer accredited (root → TAO → issuer) for the
                    micro-credential type, with one status list anchored (carried on chain).
``app`` / ``client`` the verifier app on the session deployment, loopback http allowed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import issue_sd_jwt_vc
from credentials.status_list import StatusList, sign_status_list_token

CLAIMS = {
    "learner": {"given_name": "Giulia", "family_name": "Rossi", "birth_date": "1999-04-02", "student_id": "S-77"},
    "title": "Introduction to Smart Contracts",
    "issuer_country": ["IT"],
    "awarding_body": [{"name": "Università di Prova", "id": "https://uni.example", "country": "IT"}],
    "issued_on": "2026-03-01",
    "learning_outcomes": ["Write and test a Solidity contract", "Explain gas costs"],
    "ects": 5,
    "eqf_level": 6,
    "qf_ehea_cycle": "first",
    "assessment_type": "Project",
    "participation": "blended",
    "quality_assurance": "ANVUR accredited programme",
    "grade": "28/30",
}
SHOWN = [("title",), ("ects",), ("eqf_level",), ("learning_outcomes", 0), ("grade",), ("issued_on",)]
AUDIENCE = "https://employer.example"


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        status, content_type, body, headers = self.routes.get(self.path, (404, "text/plain", b"not found", {}))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        return


@dataclass
class StatusServer:
    server: ThreadingHTTPServer
    routes: dict

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, path: str, body: bytes | str, *, status: int = 200,
              content_type: str = "application/statuslist+jwt", headers: dict | None = None) -> str:
        self.routes[path] = (status, content_type, body.encode() if isinstance(body, str) else body, headers or {})
        return self.base + path


@pytest.fixture(scope="module")
def status_server():
    routes: dict = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StatusServer(server, routes)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class AnchoringIssuer:
    """A did:key issuer with a controller account and one status list it anchors."""

    key: PrivateKey
    did: str
    account: object
    ledger: object
    server: StatusServer
    list_id: str
    status_list: StatusList = field(default_factory=StatusList.new)
    version: int = 0
    holder: PrivateKey = field(default_factory=lambda: PrivateKey.generate("ES256"))

    @property
    def uri(self) -> str:
        return f"{self.server.base}/status/{self.list_id}"

    def sign_list(self) -> str:
        return sign_status_list_token(self.status_list, self.key, uri=self.uri, iat=int(time.time()) - 5,
                                      kid=verification_method_id(self.did))

    def publish(self, *, serve: bool = True, anchor: bool = True, carry: bool = True) -> str:
        """Sign the list, serve it, and anchor its hash (with the list carried on chain)."""
        token = self.sign_list()
        if serve:
            self.server.serve(f"/status/{self.list_id}", token)
        if anchor:
            from ledger.status import StatusRegistryClient

            self.version += 1
            client = StatusRegistryClient(self.ledger.chain, self.ledger.status.contract, account=self.account)
            client.anchor(self.did, self.list_id, hashlib.sha256(token.encode()).digest(), self.version,
                          token.encode("ascii") if carry else None)
        return token

    def credential(self, *, idx: int = 1234, claims=CLAIMS, **overrides) -> str:
        frame = overrides.pop("frame", None) or disclosure_frame(claims)
        arguments = {"vct": MICRO_CREDENTIAL_VCT, "claims": claims, "frame": frame,
                     "issuer_key": self.key, "issuer": self.did, "kid": verification_method_id(self.did),
                     "iat": int(time.time()) - 60, "holder_jwk": self.holder.public_key().to_jwk(),
                     "status": {"status_list": {"idx": idx, "uri": self.uri}}}
        arguments.update(overrides)
        return issue_sd_jwt_vc(**arguments).serialization

    def present(self, credential: str | None = None, *, paths=SHOWN, nonce: str | None = None,
                audience: str = AUDIENCE, iat: int | None = None) -> str:
        return HolderSdJwt.parse(credential or self.credential()).present_with_key_binding(
            paths, self.holder, audience=audience, nonce=nonce or PrivateKey.generate().public_key().thumbprint(),
            iat=iat or int(time.time()))


def accredit_did_key_issuer(ledger, new_account, unique_did, *,
                            accredit: bool = True) -> tuple[PrivateKey, str, object]:
    from ledger.artifacts import Role

    start = min(ledger.chain.block_timestamp(), int(time.time())) - 3600
    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    account = new_account()
    if accredit:
        tao, tao_account = unique_did("tao"), new_account()
        ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=[MICRO_CREDENTIAL_VCT],
                              legal_name="Agenzia di Accreditamento", country="IT", valid_from=start,
                              valid_until=None, controller=tao_account.address)
        ledger.trust.accredit(tao, did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT],
                              legal_name="Università di Prova", country="IT", valid_from=start, valid_until=None,
                              controller=account.address, account=tao_account)
    return key, did, account


@pytest.fixture
def make_issuer(ledger, new_account, unique_did, status_server):
    counter = iter(range(1, 10_000))

    def make(*, accredit: bool = True, publish: bool = True) -> AnchoringIssuer:
        key, did, account = accredit_did_key_issuer(ledger, new_account, unique_did, accredit=accredit)
        issuer = AnchoringIssuer(key, did, account, ledger, status_server, f"list-{next(counter)}-{did[-8:]}")
        if publish and accredit:
            issuer.publish()
        return issuer

    return make


@pytest.fixture
def app(ledger_data_dir, anvil):
    from verifier import create_app, service_of

    app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url,
                      "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                      "VERIFIER_POLL_INTERVAL": 0.05, "VERIFIER_FETCH_TIMEOUT": 1.0,
                      # Every test's app shares the session data dir's store and the client 127.0.0.1:
                      # limits would count across tests. They are tested in test_rate_limits.py.
                      "VERIFIER_RATE_LIMIT": "off", "VERIFIER_OPENID4VP_RATE_LIMIT": "off"})
    yield app
    service_of(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


# --- whole credentials (issue 12): any issuer identifier accredited, X.509 anchors, a did:web server over TLS ---


@pytest.fixture
def accredit_any(ledger, new_account, unique_did):
    """Factory: accredit an issuer identifier (any DID, or ``x509:org:…``) for ``types`` under a fresh TAO.

    Returns the controller account of the entry (it may anchor the issuer's status lists).
    """
    from ledger.artifacts import Role

    def make(identifier: str, types, *, name: str = "Università di Prova", start: int | None = None):
        start = start or min(ledger.chain.block_timestamp(), int(time.time())) - 3600
        tao, tao_account = unique_did("tao"), new_account()
        ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=list(types),
                              legal_name="Agenzia di Accreditamento", country="IT", valid_from=start,
                              valid_until=None, controller=tao_account.address)
        account = new_account()
        ledger.trust.accredit(tao, identifier, role=Role.ISSUER, vcts=list(types), legal_name=name, country="IT",
                              valid_from=start, valid_until=None, controller=account.address, account=tao_account)
        return account

    return make


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from microcred.tls import ensure_certificate

    return ensure_certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")


@pytest.fixture(scope="module")
def did_server(tls_files):
    """An HTTPS server on 127.0.0.1 (a certificate made for the test) serving did:web documents."""
    import ssl

    routes: dict = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StatusServer(server, routes)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def seal_pki(tmp_path):
    """A seal PKI whose organisation identifier is new for each test (the ledger is shared by the session)."""
    from tests.x509_pki import SEAL, make_pki, name, spec

    org_id = f"VATIT-{time.time_ns() % 10**11:011d}"
    pki = make_pki("ec", seal=spec(SEAL, subject=name("Università di Prova e-seal", organization="Università di Prova",
                                                      org_id=org_id)))
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(pki.anchors_pem)
    return pki, f"x509:org:{org_id}", anchors


@pytest.fixture
def imported_app(ledger_data_dir, anvil, seal_pki, tls_files):
    """The verifier app with the seal PKI's root as X.509 anchor and the test TLS certificate trusted."""
    from verifier import create_app, service_of

    app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url,
                      "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                      "VERIFIER_POLL_INTERVAL": 0.05, "VERIFIER_FETCH_TIMEOUT": 1.0,
                      "X509_TRUST_ANCHORS": str(seal_pki[2]), "FETCH_CA_FILE": str(tls_files[0]),
                      "VERIFIER_RATE_LIMIT": "off", "VERIFIER_OPENID4VP_RATE_LIMIT": "off"})
    yield app
    service_of(app).close()


@pytest.fixture
def imported_client(imported_app):
    return imported_app.test_client()
