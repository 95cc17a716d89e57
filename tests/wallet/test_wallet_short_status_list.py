"""Issue 10 B9 in the wallet: its badge runs the verifier core's policy, so a short status list is a problem."""

from __future__ import annotations

from credentials.sd_jwt import HolderSdJwt
from credentials.status_list import StatusList
from credentials.verification import Policy
from tests.core.test_verification import DISCLOSE, LIST_URI, NOW, ROOT, World
from wallet.checking import BADGE_FAILED, BADGE_VERIFIED, badge_for, core_trust_check


def _stored_credential(world: World) -> str:
    issued = world.credential(status={"status_list": {"idx": 3, "uri": LIST_URI}})
    return HolderSdJwt.parse(issued).present(DISCLOSE)


def test_badge_fails_for_a_credential_on_a_list_of_16_entries():
    world = World()
    world.status_list = StatusList(bytes(2), 1)
    world.sign_list()
    check = core_trust_check(Policy(frozenset({ROOT})), world.trust, world.status)
    badge = badge_for(_stored_credential(world), "dc+sd-jwt", now=NOW, trust_check=check)
    assert badge.state == BADGE_FAILED
    assert "herd privacy" in badge.label
    revocation = next(c for c in badge.checks if c["check"] == "revocation")
    assert revocation["status"] == "failed"
    assert "16 entries" in revocation["detail"]


def test_badge_is_verified_for_a_full_size_list():
    world = World()
    check = core_trust_check(Policy(frozenset({ROOT})), world.trust, world.status)
    assert badge_for(_stored_credential(world), "dc+sd-jwt", now=NOW, trust_check=check).state == BADGE_VERIFIED
