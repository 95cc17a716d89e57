"""Issue 10 B9: status lists shorter than the policy minimum (131,072 entries by default) fail ``revocation``.

A list of 8 entries tells a verifier (and whoever watches the list) nearly who
is who: an index hides its holder only in a large herd (draft-ietf-oauth-status-list
§12.2 "Herd privacy"; ARCHITECTURE.md: at least 131,072 entries).
"""

from __future__ import annotations

import pytest

from credentials.status_list import MIN_STATUS_LIST_ENTRIES, StatusList
from credentials.verification import FAILED, PASSED, Policy
from tests.core.test_verification import LIST_URI, ROOT, World

INDEX = 3


def _world_with_list(entries: int, bits: int = 1) -> World:
    world = World()
    world.status_list = StatusList(bytes(entries * bits // 8), bits)
    assert world.status_list.size == entries
    world.sign_list()
    return world


def _present(world: World) -> str:
    return world.present(world.credential(status={"status_list": {"idx": INDEX, "uri": LIST_URI}}))


@pytest.mark.parametrize("entries", [8, 16, 131_064])
def test_short_lists_fail_revocation_with_the_reason(entries):
    world = _world_with_list(entries)
    result = world.verify(_present(world))
    revocation = result.check("revocation")
    assert revocation.status == FAILED
    assert not result.verified
    assert f"{entries} entries" in revocation.detail
    assert "131072" in revocation.detail
    assert "herd privacy" in revocation.detail


def test_short_list_carried_on_chain_fails_too():
    world = _world_with_list(16)
    world.fetchable = False
    assert world.verify(_present(world)).check("revocation").status == FAILED


@pytest.mark.parametrize("bits", [1, 2, 8])
def test_lists_of_the_minimum_size_pass_whatever_their_bits(bits):
    world = _world_with_list(MIN_STATUS_LIST_ENTRIES, bits)
    assert world.verify(_present(world)).check("revocation").status == PASSED


def test_a_policy_may_set_another_minimum():
    world = _world_with_list(16)
    policy = Policy(frozenset({ROOT}), min_status_list_entries=16)
    assert world.verify(_present(world), policy).check("revocation").status == PASSED
    assert Policy(frozenset({ROOT})).min_status_list_entries == MIN_STATUS_LIST_ENTRIES == 131_072


def test_a_revoked_entry_in_a_short_list_is_still_refused():
    world = _world_with_list(8)
    world.status_list.set(INDEX, 1)
    world.sign_list()
    assert world.verify(_present(world)).check("revocation").status == FAILED
