"""Fixtures for the wallet: an app on a temporary data dir with a settable clock,
a browser-like client, an issuer, a signed-in learner holding a credential."""

from __future__ import annotations

from pathlib import Path

import pytest
from wallet_helpers import Clock, Issuer, WalletClient

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jose import PrivateKey


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    return Issuer(key, did, verification_method_id(did))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, clock: Clock):
    from wallet import create_app

    return create_app({
        "TESTING": True,
        "DATA_DIR": str(tmp_path / "var"),
        "CLOCK": clock,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024,
        "ARGON2_PARALLELISM": 1,
        "SESSION_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://127.0.0.1:5001",
    })


@pytest.fixture
def client(app) -> WalletClient:
    return WalletClient(app.test_client())


@pytest.fixture
def signed_in(app, client) -> WalletClient:
    client.signup()
    return client


@pytest.fixture
def held(app, signed_in, issuer):
    """A signed-in learner holding one micro-credential; returns (client, credential id)."""
    response = signed_in.add(issuer.issue(signed_in.holder_jwk(app)))
    assert response.status_code == 302, signed_in.last_page
    credential_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return signed_in, credential_id


