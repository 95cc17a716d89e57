"""The wallet's default badge check on a real chain: issuer trust and revocation
through ledger.view.LedgerView, opened from the deployment in the data dir."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from ledger.config import LedgerSettings

pytestmark = pytest.mark.integration

ROW = {
    "learner": {"given_name": "Ana", "family_name": "Silva", "birth_date": "2001-03-09", "student_id": "S-1"},
    "title": "Data Protection Law in Practice",
    "learning_outcomes": ["Apply the GDPR to research data"],
    "ects": 4, "eqf_level": 7, "qf_ehea_cycle": "second",
    "assessment_type": "Oral examination", "participation": "online", "quality_assurance": "Internal QA",
}


@pytest.fixture
def anchored_issuer(tmp_path, ledger_env, chain, root_account, accredit_via_tao):
    """An issuer with a did:key identity, accredited via a TAO, anchoring with its controller key."""
    from issuer.archive import Archive
    from issuer.identity import create_issuer
    from issuer.ledger_link import LedgerStatusAnchor
    from issuer.service import IssuerService
    from ledger.keys import fund_if_devnet

    home = create_issuer(tmp_path / "issuers-root", "uni", legal_name="Universidade Exemplo", country="PT")
    accredit_via_tao(home.identity.did, home.identity.controller_address, legal_name="Universidade Exemplo",
                     country="PT", vcts=[MICRO_CREDENTIAL_VCT], valid_from=1)
    fund_if_devnet(chain, root_account, home.identity.controller_address)
    service = IssuerService(home.identity, Archive(home.archive_path), home.signing_key(),
                            anchor=LedgerStatusAnchor(home))
    yield service
    service.archive.close()


def test_default_badge_checks_trust_and_revocation_on_the_chain(anchored_issuer, ledger_data_dir):
    from credentials.jose import json_dumps
    from issuer.batch import BatchDefaults, parse_json
    from wallet.checking import ledger_trust_check

    service = anchored_issuer
    holder = PrivateKey.generate().public_key().to_jwk()
    now = int(time.time())  # accredited from 1970: other tests move the shared chain's clock ahead
    defaults = BatchDefaults(issuer_country="PT", awarding_body=service.identity.awarding_body(),
                             issued_on="2026-06-30")
    result = service.issue_batch(parse_json(json_dumps([{**ROW, "holder_jwk": holder}]), defaults), now=now)
    assert all(outcome.anchored for outcome in result.anchors)
    issued = result.issued[0]

    def fetch(uri: str) -> str:
        return service.status_list_token(uri.rsplit("/", 1)[1])

    check = ledger_trust_check(replace(LedgerSettings.from_env(), data_dir=ledger_data_dir), fetch)
    try:
        _not_revoked_then_revoked(service, issued, check, now)
    finally:
        check.close()  # its ledger view's watcher stops with the test
    assert not check.view.watching


def _not_revoked_then_revoked(service, issued, check, now):
    from wallet.checking import badge_for

    answer = check(issued.sd_jwt, "dc+sd-jwt", now)
    checks = {c["check"]: c for c in answer["checks"]}
    assert checks["issuer_trust"]["status"] == "passed", checks
    assert checks["revocation"]["status"] == "passed", checks
    assert answer["issuer"]["name"] == "Universidade Exemplo"  # the legal name on the TrustRegistry
    assert badge_for(issued.sd_jwt, "dc+sd-jwt", now=now, trust_check=check).issuer_name == "Universidade Exemplo"

    change = service.set_status([issued.credential_id], "revoked", now=now)
    assert all(outcome.anchored for outcome in change.anchors)
    checks = {c["check"]: c for c in check(issued.sd_jwt, "dc+sd-jwt", now)["checks"]}
    assert checks["revocation"]["status"] == "failed"
    assert "revoked" in checks["revocation"]["detail"]


def test_default_badge_cannot_check_without_a_chain(tmp_path):
    from credentials.errors import MicrocredError
    from wallet.checking import ledger_trust_check

    (tmp_path / "deployment.json").write_text("{}", encoding="utf-8")
    check = ledger_trust_check(LedgerSettings(tmp_path, "http://127.0.0.1:9", 0), lambda uri: "")
    with pytest.raises((MicrocredError, OSError)):
        check("eyJ.eyJ.sig~", "dc+sd-jwt", 0)
    check.close()
    with pytest.raises(ConnectionError, match="stopped"):  # closed: no view is opened again
        check("eyJ.eyJ.sig~", "dc+sd-jwt", 0)
    assert check.view is None


def test_wallet_uses_the_chain_check_when_a_deployment_exists(tmp_path):
    from wallet import create_app

    (tmp_path / "deployment.json").write_text("{}", encoding="utf-8")
    with_chain = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)})
    assert with_chain.config["TRUST_CHECK"] is not None
    without = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "other")})
    assert without.config["TRUST_CHECK"] is None
