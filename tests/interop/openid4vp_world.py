"""What the OpenID4VP interop tests share: an access-certificate PKI for verifiers, private JWKs for
the node side, and the independent implementation's two roles as processes.

The other side is ``@openid4vc/openid4vp`` (OpenWallet Foundation, npm, pinned in package.json) with
``@sd-jwt/sd-jwt-vc`` for SD-JWT VC and panva's ``jose`` for JWS/JWE:

- :class:`NodeVerifier` runs ``tests/interop/openid4vp_verifier.mjs``: it serves its signed request
  object (``x509_hash`` or ``x509_san_dns``, ``direct_post.jwt``) and its response endpoint on a free
  127.0.0.1 port, and reports what it made of the answer;
- :func:`node_wallet` runs ``tests/interop/openid4vp_wallet.mjs``: it resolves a request (fetching
  ``request_uri``, checking the JAR's x5c chain with node's X509Certificate) and answers it with a
  presentation made by ``@sd-jwt``, encrypted with ``jose``.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk as jwcrypto_jwk

from tests.x509_pki import INTERMEDIATE, ROOT, Pki, make_pki, name, pem, spec

ROOT_DIR = Path(__file__).resolve().parents[2]
VERIFIER_SCRIPT = ROOT_DIR / "tests" / "interop" / "openid4vp_verifier.mjs"
WALLET_SCRIPT = ROOT_DIR / "tests" / "interop" / "openid4vp_wallet.mjs"
VECTORS = ROOT_DIR / "tests" / "vectors"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT_DIR / "node_modules" / "@openid4vc" / "openid4vp").exists(),
    reason="node and the npm devDependencies (make test runs npm ci) are needed",
)

ORGANISATION = "Interop Verifier GmbH"
CA_NAME = "Interop Access CA"
#: What the interop requests ask for (the verifier form's defaults).
ASKED = ("title", "ects", "eqf_level")

ACCESS_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                             encipher_only=False, decipher_only=False)


def access_pki(organisation: str, dns_name: str = "localhost", *, ca_name: str = "Interop Access CA") -> Pki:
    """Root CA → intermediate ``ca_name`` → a verifier's access certificate (O = ``organisation``, DNS SAN)."""
    leaf = spec(INTERMEDIATE, subject=name(dns_name, organization=organisation, country="DE"), ca=False,
                path_length=None, key_usage=ACCESS_USAGE,
                extra=((x509.SubjectAlternativeName([x509.DNSName(dns_name)]), False),))
    return make_pki("ec", root=spec(ROOT, subject=name(f"{ca_name} Root", organization="Interop Trust")),
                    intermediate=spec(INTERMEDIATE, subject=name(ca_name, organization="Interop Trust")), seal=leaf)


def x5c_of(pki: Pki) -> list[str]:
    """The ``x5c`` header of a request signed by ``pki``'s leaf: leaf, intermediate; never the root."""
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in pki.chain]


def private_jwk(key: Any) -> dict[str, str]:
    """A cryptography private key (or a :class:`credentials.jose.PrivateKey`) as a private JWK."""
    return json.loads(jwcrypto_jwk.JWK.from_pyca(getattr(key, "_key", key)).export_private())


def chain_files(pki: Pki, directory: Path) -> tuple[Path, Path, Path]:
    """(chain PEM: leaf then intermediate, leaf's private key PEM, anchor PEM) written under ``directory``."""
    chain, key, anchors = directory / "verifier-chain.pem", directory / "verifier-key.pem", directory / "anchors.pem"
    chain.write_bytes(pem(*pki.chain))
    key.write_bytes(pki.seal_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    key.chmod(0o600)
    anchors.write_bytes(pki.anchors_pem)
    return chain, key, anchors


@dataclass
class NodeVerifier:
    """The independent verifier, running: ``ready`` holds its request (``url``, ``client_id``, ``nonce``…)."""

    process: subprocess.Popen
    ready: dict[str, Any]

    @classmethod
    def start(cls, pki: Pki, issuer_jwk: dict[str, str], dcql_query: dict[str, Any], **options: Any) -> NodeVerifier:
        request = {"x5c": x5c_of(pki), "signing_jwk": private_jwk(pki.seal_key), "issuer_jwk": issuer_jwk,
                   "dcql_query": dcql_query, "timeout_ms": 60_000, **options}
        process = subprocess.Popen(["node", str(VERIFIER_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, cwd=ROOT_DIR)
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(request))
        process.stdin.close()
        process.stdin = None  # communicate() must not flush it again
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise AssertionError(f"the node verifier did not start: {process.stderr.read()[-2000:]}")
        return cls(process, json.loads(line))

    def events(self) -> list[dict[str, Any]]:
        """Every event after ``ready``, once it has answered (or timed out) and exited."""
        out, err = self.process.communicate(timeout=90)
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        if not any(e["event"] in ("answer", "timeout") for e in events):
            raise AssertionError(f"the node verifier ended without a verdict: {err[-2000:]}")
        return events

    def answer(self) -> dict[str, Any]:
        found = [e for e in self.events() if e["event"] == "answer"]
        assert found, "the wallet never answered the node verifier"
        return found[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)


def free_port() -> int:
    """A port free on 127.0.0.1 now (for a server whose public URL must be known before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_wallet(mode: str, request: dict[str, Any]) -> subprocess.CompletedProcess:
    """Run the independent wallet once (``resolve`` or ``answer``); its JSON answer is the last stdout line."""
    return subprocess.run(["node", str(WALLET_SCRIPT), mode], input=json.dumps(request), capture_output=True,
                          text=True, timeout=90, cwd=ROOT_DIR, check=False)


def last_json(result: subprocess.CompletedProcess) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def vector(folder: str, file: str) -> Any:
    return json.loads((VECTORS / folder / file).read_text(encoding="utf-8"))


@pytest.fixture
def pki() -> Pki:
    """The interop CA's access certificate for a verifier at 127.0.0.1 (O = :data:`ORGANISATION`)."""
    return access_pki(ORGANISATION, "127.0.0.1", ca_name=CA_NAME)


@pytest.fixture
def our_verifier(tmp_path, ledger_data_dir, anvil, pki):
    """microcred's verifier on a free 127.0.0.1 port, signing its requests with the interop access certificate."""
    from werkzeug.serving import make_server

    from verifier import create_app, service_of

    def start(prefix: str = "x509_hash", *, port: int = 0, **config):
        chain, key, _ = chain_files(pki, tmp_path)
        app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url,
                          "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                          "VERIFIER_RATE_LIMIT": "off", "VERIFIER_OPENID4VP_RATE_LIMIT": "off",
                          "VERIFIER_CLIENT_ID_PREFIX": prefix, "VERIFIER_X509_CHAIN": str(chain),
                          "VERIFIER_X509_KEY": str(key), **config})
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append((app, server))
        return app, f"http://127.0.0.1:{server.server_port}"

    running: list = []
    yield start
    for app, server in running:
        server.shutdown()
        service_of(app).close()


def new_request(base: str, **form):
    """The employer's browser: POST the form, follow to the page; (session, page URL, the QR's link)."""
    session = requests.Session()
    made = session.post(f"{base}/openid4vp/new", data=form or {"claim": list(ASKED)}, allow_redirects=False,
                        timeout=10)
    assert made.status_code == 303, made.text[:500]
    page_url = base + made.headers["Location"] if made.headers["Location"].startswith("/") else made.headers["Location"]
    page = session.get(page_url, timeout=10)
    assert page.status_code == 200
    links = {html.unescape(link) for link in re.findall(r'openid4vp://\?[^"\'<\s]+', page.text)}
    assert len(links) == 1, links
    return session, page_url, links.pop()
