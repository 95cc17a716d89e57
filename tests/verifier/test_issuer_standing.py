"""Back-dated credentials (issue 10, B8): revocation for cause is not expiry.

Attack: after an issuer's accreditation was revoked, a *new* credential signed
with an ``iat`` before the revocation still verified, since the registry was
asked "was it accredited at iat?" and ``iat`` is the issuer's own claim.

Rules (until an issuance-anchoring proof exists):

* revoked (the issuer, or any accreditor up its chain): ``issuer_trust`` fails
  for every credential, whatever its ``iat``;
* suspended: fails for every credential while the suspension lasts; once
  reinstated, credentials verify again;
* expired (``valid_until`` passed): credentials issued within the validity
  stay valid, later ones fail.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration


def _chain_seen(client) -> None:
    """What the view's watcher does within a poll interval of a new block (here, at once)."""
    from verifier import service_of

    service_of(client.application).ledger_view().refresh()


def _verify(client, issuer, credential):
    answer = client.post("/api/v1/verify", json={"presentation": issuer.present(credential)}).get_json()
    return answer, {c["check"]: c for c in answer["checks"]}


def test_a_back_dated_credential_of_a_revoked_issuer_is_refused(client, make_issuer, ledger):
    issuer = make_issuer()
    before = int(time.time()) - 600
    answer, _ = _verify(client, issuer, issuer.credential(iat=before))
    assert answer["verified"] is True

    ledger.trust.revoke(issuer.did)
    _chain_seen(client)
    answer, checks = _verify(client, issuer, issuer.credential(iat=before))  # signed after, dated before
    assert answer["verified"] is False
    assert checks["issuer_trust"]["status"] == "failed"
    detail = checks["issuer_trust"]["detail"]
    assert f"the accreditation of {issuer.did}" in detail
    assert "was revoked on 20" in detail
    assert "credentials of a revoked issuer are not trusted" in detail


def test_a_revoked_accreditor_up_the_chain_fails_every_credential(client, make_issuer, ledger):
    issuer = make_issuer()
    tao = ledger.trust.entry(issuer.did).accredited_by
    ledger.trust.revoke(tao)
    _chain_seen(client)
    answer, checks = _verify(client, issuer, issuer.credential(iat=int(time.time()) - 600))
    assert answer["verified"] is False
    assert checks["issuer_trust"]["status"] == "failed"
    assert f"the accreditation of {tao}" in checks["issuer_trust"]["detail"]


def test_a_suspended_issuer_fails_while_suspended_and_verifies_once_reinstated(client, make_issuer, ledger):
    issuer = make_issuer()
    credential = issuer.credential(iat=int(time.time()) - 600)
    ledger.trust.suspend(issuer.did)
    _chain_seen(client)
    answer, checks = _verify(client, issuer, credential)
    assert answer["verified"] is False
    assert checks["issuer_trust"]["status"] == "failed"
    assert "suspended since 20" in checks["issuer_trust"]["detail"]

    ledger.trust.reinstate(issuer.did)
    _chain_seen(client)
    answer, checks = _verify(client, issuer, credential)
    assert answer["verified"] is True, checks


def test_expiry_keeps_credentials_issued_within_the_validity(client, make_issuer, ledger, new_account, unique_did):
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from ledger.artifacts import Role

    issuer = make_issuer(accredit=False)  # accredited below, for a period that has ended (its list is not anchored)
    now = min(ledger.chain.block_timestamp(), int(time.time()))
    tao, tao_account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name="Agency", country="IT", valid_from=now - 7200, valid_until=None,
                          controller=tao_account.address)
    ledger.trust.accredit(tao, issuer.did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT], legal_name="Ended",
                          country="IT", valid_from=now - 3600, valid_until=now - 600, controller=issuer.account.address,
                          account=tao_account)

    _, checks = _verify(client, issuer, issuer.credential(iat=now - 1800))
    assert checks["issuer_trust"]["status"] == "passed", checks["issuer_trust"]
    _, checks = _verify(client, issuer, issuer.credential(iat=now - 300))
    assert checks["issuer_trust"]["status"] == "failed"
    assert "expired" in checks["issuer_trust"]["detail"]
