"""The demo's verifier access PKI (microcred.demo_access): a demo access CA and the access certificate of
"Demo Employer GmbH" for the demo host, which the demo verifier signs its OpenID4VP requests with (x509_hash)
and the demo wallet validates (MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS)."""

from __future__ import annotations

import time

from cryptography import x509

from credentials.x509_trust import TrustAnchors, dns_names, validate_access_chain
from microcred.demo_access import ACCESS_CA_NAME, ensure_access_pki


def _leaf(pki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.chain_path.read_bytes())


def test_the_demo_access_pki_certifies_the_demo_employer_for_the_demo_host(tmp_path):
    now = int(time.time())
    pki, made = ensure_access_pki(tmp_path, "127.0.0.1", now=now)
    assert made
    leaf = _leaf(pki)
    path = validate_access_chain(leaf, [], TrustAnchors.from_pem(pki.anchors_path.read_bytes()), at=now)
    assert path[-1].trust_anchor
    assert f"CN={ACCESS_CA_NAME}" in path[-1].subject
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == "Demo Employer GmbH"
    assert dns_names(leaf) == ("127.0.0.1",)
    assert pki.key_path.stat().st_mode & 0o077 == 0
    assert pki.verifier_env()["MICROCRED_VERIFIER_CLIENT_ID_PREFIX"] == "x509_hash"
    assert pki.wallet_env() == {"MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS": str(pki.anchors_path)}

    again, made_again = ensure_access_pki(tmp_path, "127.0.0.1", now=now)
    assert not made_again
    assert _leaf(again) == leaf

    anchor = pki.anchors_path.read_bytes()
    moved, made_moved = ensure_access_pki(tmp_path, "192.168.1.20", now=now)
    assert made_moved
    assert dns_names(_leaf(moved)) == ("192.168.1.20",)
    assert moved.anchors_path.read_bytes() == anchor  # the CA the wallet trusts is kept


def test_the_demo_verifier_names_itself_by_the_certificate_hash(tmp_path, monkeypatch):
    from verifier import create_app
    from verifier.openid4vp import identity_of
    from verifier.openid4vp.identity import certificate_hash

    pki, _ = ensure_access_pki(tmp_path / "var", "127.0.0.1", now=int(time.time()))
    for name, value in pki.verifier_env().items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var")})
    identity = identity_of(app)
    assert identity.client_id("http://127.0.0.1:5030/openid4vp/response") == \
        f"x509_hash:{certificate_hash(_leaf(pki))}"
    assert identity.organisation == "Demo Employer GmbH"
