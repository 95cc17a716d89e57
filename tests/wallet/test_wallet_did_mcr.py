"""A did:mcr issuer end to end on the real Anvil: `issuer init --did-method mcr` registers the DID with the issuer's
controller account, the issuer signs with kid <did>#<thumbprint>, the wallet imports its credential (the key read
from the DidRegistry) and its badge checks trust, signature and revocation on the chain; after `rotate-key` the
issuer signs with the new key, and the old key's unanchored credential no longer passes the wallet's check."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from credentials.errors import SignatureError
from credentials.jose import PrivateKey, json_dumps
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from ledger.config import LedgerSettings
from tests.wallet.test_wallet_chain_checks import ROW

pytestmark = pytest.mark.integration


@pytest.fixture
def mcr_home(tmp_path, ledger_env, accredit_via_tao):
    from issuer.did_keys import register_did
    from issuer.identity import create_issuer

    home = create_issuer(tmp_path / "issuers-root", "mcr-uni", legal_name="Universidade Exemplo", country="PT",
                         did_method="mcr", register_did=register_did)
    accredit_via_tao(home.identity.did, home.identity.controller_address, legal_name="Universidade Exemplo",
                     country="PT", vcts=[MICRO_CREDENTIAL_VCT], valid_from=1)
    return home


def _service(home):
    from issuer.archive import Archive
    from issuer.ledger_link import LedgerStatusAnchor
    from issuer.service import IssuerService

    return IssuerService(home.identity, Archive(home.archive_path), home.signing_key(),
                         anchor=LedgerStatusAnchor(home))


def _issue(service, now):
    """One credential of a new batch, and its issuance proof (the batch's root anchored by the issuer's account)."""
    from issuer.batch import BatchDefaults, parse_json

    holder = PrivateKey.generate().public_key().to_jwk()
    defaults = BatchDefaults(issuer_country="PT", awarding_body=service.identity.awarding_body(),
                             issued_on="2026-06-30")
    result = service.issue_batch(parse_json(json_dumps([{**ROW, "holder_jwk": holder}]), defaults), now=now)
    assert all(outcome.anchored for outcome in result.anchors)
    issued = result.issued[0]
    return issued.sd_jwt, service.issuance_proofs([issued.credential_id]).get(issued.credential_id)


def _checks(check, sd_jwt, now):
    return {c["check"]: c for c in check(sd_jwt, "dc+sd-jwt", now)["checks"]}


def test_a_did_mcr_issuer_through_the_wallet_before_and_after_a_key_rotation(mcr_home, ledger_data_dir):
    from issuer.did_keys import resign_status_lists, rotate_signing_key
    from issuer.identity import load_issuer
    from wallet.checking import BADGE_VERIFIED, badge_for, ledger_trust_check
    from wallet.importing import check_credential

    identity = mcr_home.identity
    assert identity.did.startswith("did:mcr:")
    assert identity.kid.startswith(identity.did + "#")
    now = int(time.time())
    service = _service(mcr_home)
    old_sd_jwt, old_proof = _issue(service, now)
    assert old_proof is not None
    service.archive.close()

    check = ledger_trust_check(replace(LedgerSettings.from_env(), data_dir=ledger_data_dir),
                               lambda uri: _service_token(mcr_home, uri))
    try:
        with pytest.raises(SignatureError):  # the offline resolver knows no did:mcr
            check_credential(old_sd_jwt, [], now=now)
        key = check.issuer_key(identity.did, identity.kid)
        assert key == mcr_home.signing_key().public_key()
        checks = _checks(check, old_sd_jwt, now)
        assert {checks[c]["status"] for c in ("signature", "issuer_trust", "revocation")} == {"passed"}, checks

        _, new_kid, block = rotate_signing_key(mcr_home)
        rotated = load_issuer(mcr_home.path.parent.parent, "mcr-uni")
        assert rotated.identity.kid == new_kid
        service = _service(rotated)
        signed, outcomes = resign_status_lists(service, now=now)  # verifiers check lists with the key valid now
        assert signed >= 1
        assert all(outcome.anchored for outcome in outcomes)
        new_sd_jwt, _ = _issue(service, now)
        service.archive.close()
        checks = _checks(check, new_sd_jwt, now)
        assert {checks[c]["status"] for c in ("signature", "issuer_trust", "revocation")} == {"passed"}, checks
        checks = _checks(check, old_sd_jwt, now)
        assert checks["signature"]["status"] == "failed"
        assert f"replaced at block {block} (key rotation)" in checks["signature"]["detail"]
        # kept with its issuance proof, the old credential is dated before the rotation: imported and valid
        bundle = json_dumps({"credential": old_sd_jwt, "issuance_proof": old_proof})
        holder_keys = [_holder_key_record(old_sd_jwt)]
        with pytest.raises(SignatureError, match="replaced at block"):
            check_credential(old_sd_jwt, holder_keys, now=now, issuer_keys=check.issuer_keys)
        checked = check_credential(bundle, holder_keys, now=now, issuer_keys=check.issuer_keys)
        assert checked.issuance_proof == old_proof
        badge = badge_for(checked.raw, checked.format, now=now, trust_check=check, issuance_proof=old_proof)
        assert badge.state == BADGE_VERIFIED, badge
    finally:
        check.close()


def _service_token(home, uri):
    from issuer.identity import load_issuer

    service = _service(load_issuer(home.path.parent.parent, home.identity.name))
    try:
        return service.status_list_token(uri.rsplit("/", 1)[1])
    finally:
        service.archive.close()



def _holder_key_record(sd_jwt):
    """The wallet's record of the holder key the credential names (cnf.jwk), as an account holds it."""
    from credentials.jose import PublicKey, UnverifiedJws
    from wallet.holding import HolderKeyRecord

    key = PublicKey.from_jwk(UnverifiedJws.parse(sd_jwt.split("~")[0]).payload["cnf"]["jwk"])
    return HolderKeyRecord(1, 1, key.thumbprint(), key, b"")
