"""The demo's credentials from elsewhere (issue 12, "Done means"): the sealed Europass EDC and the Open Badge that
``microcred demo`` writes to ``var/demo-imports/`` import into the demo learner's wallet over HTTP, sit beside her
four microcred credentials with the one ECTS total, and, shared whole, verify at the verifier's API.

Everything runs as ``microcred demo`` runs it (:func:`microcred.demo.start_system`: gunicorn processes, Anvil, the
demo's seal PKI and its trust anchors given to the wallet and the verifier); only the browser is replaced by HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.system._faults_support import FormSession, checks_of, verify_over_http
from tests.system._faults_wallet import db_rows

pytestmark = pytest.mark.integration

TITLES = {"edc": "Sustainable Tourism Management", "badge": "Teamwork in International Projects"}


def _files(data_dir: Path) -> dict[str, Path]:
    from microcred.demo_imports import BADGE_FILE, EDC_FILE, IMPORTS_DIR

    return {"edc": data_dir / IMPORTS_DIR / EDC_FILE, "badge": data_dir / IMPORTS_DIR / BADGE_FILE}


@pytest.fixture(scope="module")
def learner(running_system) -> FormSession:
    from microcred.system import LEARNER

    session = FormSession(running_system.wallet_url)
    response = session.submit("/auth/signin", "/auth/signin",
                              {"username": LEARNER["username"], "password": LEARNER["password"]})
    assert response.status_code == 302, response.text[:500]
    return session


@pytest.fixture(scope="module")
def imported(running_system, learner) -> dict[str, int]:
    """Both demo files uploaded through the wallet's Add page: their credential ids."""
    ids = {}
    for kind, path in _files(running_system.system.data_dir).items():
        learner.get("/credentials/add")
        response = learner.post("/credentials/add", files={"file": (path.name, path.read_bytes(),
                                                                    "application/json")})
        assert response.status_code == 302, (kind, learner.last_page[:3000])
        ids[kind] = int(response.headers["Location"].rsplit("/", 1)[1])
    return ids


def test_the_demo_writes_both_files_bound_to_the_learners_holder_key(running_system):
    from credentials.dids import did_key_from_public_key
    from credentials.jose import PublicKey
    from microcred.system import LEARNER
    from wallet.db import DB_FILE

    data_dir = running_system.system.data_dir
    jwk = json.loads(db_rows(data_dir / DB_FILE, "SELECT holder_keys.public_jwk FROM holder_keys JOIN accounts "
                                                 "ON accounts.id = holder_keys.account_id WHERE username = ? "
                                                 "ORDER BY holder_keys.id DESC LIMIT 1",
                             [LEARNER["username"]])[0][0])
    files = _files(data_dir)
    sealed = json.loads(files["edc"].read_text(encoding="utf-8"))
    assert json.loads(sealed["payload"])["cnf"]["jwk"] == jwk
    badge = json.loads(files["badge"].read_text(encoding="utf-8"))
    assert badge["credentialSubject"]["id"] == did_key_from_public_key(PublicKey.from_jwk(jwk))


def test_a_second_run_keeps_the_pki_and_the_files(running_system):
    import time

    from microcred.demo_imports import ensure_pki
    from microcred.system import issue_to_learner

    data_dir = running_system.system.data_dir
    before = {kind: path.read_bytes() for kind, path in _files(data_dir).items()}
    pki, made = ensure_pki(data_dir, now=int(time.time()))
    assert not made
    issue_to_learner(data_dir, running_system.system.learner_account, None, say=lambda line: None)
    assert {kind: path.read_bytes() for kind, path in _files(data_dir).items()} == before
    assert pki.seal_issuer_id == "x509:org:VATPT-500000000"


def test_both_import_verified_beside_the_microcred_credentials_with_one_ects_total(running_system, learner,
                                                                                   imported):
    from wallet.db import DB_FILE

    rows = dict(db_rows(running_system.system.data_dir / DB_FILE,
                        f"SELECT id, format || ':' || verified FROM credentials WHERE id IN "
                        f"({imported['edc']}, {imported['badge']})"))
    assert rows == {imported["edc"]: "europass-edc:1", imported["badge"]: "ldp_vc:1"}
    learner.get("/credentials")
    listing = learner.last_page
    for text in (*TITLES.values(), "Europass digital credential", "Open Badge 3.0", "Universidade de Exemplo do Porto",
                 "Applied Machine Learning for Public Health"):
        assert text in listing, text
    assert "25 ECTS</strong> from 6 valid credentials" in listing  # 6 + 4 + 5 + 3 (microcred) + 5 (EDC) + 2 (badge)


@pytest.mark.parametrize("kind,vp_format", [("edc", "ldp_vp"), ("badge", "ldp_vp")])
def test_each_shared_whole_verifies_at_the_verifiers_api(running_system, learner, imported, kind, vp_format):
    import requests

    from wallet.db import DB_FILE

    credential_id = imported[kind]
    learner.get(f"/credentials/{credential_id}/share")
    assert "shared whole" in learner.last_page
    response = learner.post(f"/credentials/{credential_id}/share/whole")
    assert response.status_code == 302, learner.last_page[:2000]
    share_id = response.headers["Location"].rsplit("/", 1)[1]
    qr_text, audience = db_rows(running_system.system.data_dir / DB_FILE,
                                "SELECT qr_text, audience FROM shares WHERE id = ?", [share_id])[0]
    fetched = requests.get(qr_text, timeout=30)  # the one-time link the QR code carries
    assert fetched.status_code == 200
    status, answer = verify_over_http(running_system.verifier_url, fetched.text)
    checks = checks_of(answer)
    assert status == 200, answer
    assert answer["format"] == vp_format
    assert answer["verified"] is True, {name: (c["status"], c.get("detail")) for name, c in checks.items()}
    assert checks["issuer_trust"]["status"] == "passed"
    assert checks["holder_binding"]["status"] == "passed"
    assert audience.endswith(share_id)
