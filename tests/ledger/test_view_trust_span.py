"""The ledger view's trust cache per (DID, type): a fresh credential's new ``iat`` is judged without a chain read.

Every answer served from the span of :func:`ledger.view.standing_span` must be the one the registry gives for that
exact time (``accreditationAt`` at the same block): checked at each time where an entry of the chain starts, ends,
is suspended or revoked, one second either side, and between them, on the real Anvil.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.artifacts import Role, Standing
from ledger.trust import UNLIMITED, AccreditationLink, AccreditationLookup
from ledger.trust_rules import trust_answer
from ledger.view import standing_span

VCT = "urn:microcred:vct:micro-credential:1"


def _no_fetch(uri: str) -> str:
    raise ConnectionError("no status list in these tests")


def _link(did: str, role: Role, by: str | None, **changes) -> AccreditationLink:
    base = AccreditationLink(did=did, role=role, legal_name=did, country="IT", accredited_by=by, vcts=(VCT,),
                             max_eqf_level=None, valid_from=100, valid_until=None, suspended_at=None,
                             revoked_at=None, controller="0x" + "11" * 20)
    return replace(base, **changes)


def _chain(**issuer) -> tuple[AccreditationLink, ...]:
    return (_link("did:web:uni.example", Role.ISSUER, "did:web:tao.example", **issuer),
            _link("did:web:tao.example", Role.TAO, "did:web:root.example", valid_from=50),
            _link("did:web:root.example", Role.ROOT, None, valid_from=10))


def _lookup(at: int, chain) -> AccreditationLookup:
    return AccreditationLookup("did:web:uni.example", VCT, at, 7, Standing.ACCREDITED, chain)


def test_the_span_runs_between_the_nearest_times_of_the_chain():
    chain = _chain(valid_until=1_000, suspended_at=400, revoked_at=700)
    assert standing_span(_lookup(200, chain)) == (100, 400)
    assert standing_span(_lookup(400, chain)) == (400, 700)
    assert standing_span(_lookup(1_000, chain)) == (1_000, UNLIMITED)
    assert standing_span(_lookup(5, chain)) == (0, 10)


@pytest.mark.parametrize("broken", [
    (),  # unknown DID
    _chain()[:2],  # no root at the end
    (_link("did:web:other.example", Role.ISSUER, "did:web:tao.example"),) + _chain()[1:],  # not the asked DID
    (_link("did:web:uni.example", Role.ISSUER, "did:web:elsewhere.example"),) + _chain()[1:],  # a broken link
    _chain()[:1] + (_link("", Role.NONE, None),) + _chain()[2:],  # an accreditor that is gone
])
def test_a_chain_that_is_not_whole_gives_no_span(broken):
    assert standing_span(_lookup(200, broken)) is None


def test_times_outside_the_registrys_range_give_no_span():
    assert standing_span(_lookup(-1, _chain())) is None
    assert standing_span(_lookup(UNLIMITED, _chain())) is None


@pytest.mark.integration
@pytest.mark.parametrize("revoked", [False, True])
def test_new_iats_of_one_accreditation_cost_one_chain_read_and_give_the_registrys_answers(
        ledger, accredit_issuer, monkeypatch, revoked):
    from ledger.view import LedgerView

    issuer = accredit_issuer(valid_for=10_000)
    ledger.trust.suspend(issuer.did, account=issuer.tao_account)
    ledger.trust.reinstate(issuer.did, account=issuer.tao_account)
    if revoked:  # every credential of the issuer now needs an anchor older than the revocation
        ledger.trust.revoke(issuer.did, account=issuer.tao_account)
    view = LedgerView(ledger, _no_fetch, poll_interval=3600, max_lag=3600)
    view.refresh()
    block = view.head_block
    entries = ledger.trust.lookup(issuer.did, VCT, 0, block=block.ref).chain
    moments = sorted({m for link in entries for m in (link.valid_from, link.valid_until, link.revoked_at,
                                                       link.suspended_at) if m is not None})
    assert len(moments) == 4 + revoked, moments
    asked = sorted({max(0, m + d) for m in moments for d in (-1, 0, 1)}
                   | {(a + b) // 2 for a, b in zip(moments, moments[1:], strict=False)})
    expected = {at: trust_answer(ledger.trust.lookup(issuer.did, VCT, at, block=block.ref), block=block.number)
                for at in asked}
    reads = []
    lookup = ledger.trust.lookup
    monkeypatch.setattr(ledger.trust, "lookup", lambda *a, **k: reads.append(a) or lookup(*a, **k))

    answers = {at: view.trust(issuer.did, VCT, at) for at in asked}

    assert answers == expected
    if revoked:  # revoked_at is set only where the registry held the issuer accredited
        assert len({a.revoked_at for a in answers.values()}) == 2
    else:
        assert {a.accredited for a in answers.values()} == {True, False}
    assert len(reads) <= len(moments) + 1  # one read per span at most, not one per time asked
    reads.clear()
    inside = list(range(moments[-2] + 2, moments[-2] + 40))
    assert [view.trust(issuer.did, VCT, at) for at in inside] == [
        trust_answer(lookup(issuer.did, VCT, at, block=block.ref), block=block.number) for at in inside]
    assert len(reads) <= 1  # the span of the last read is kept: at most one read to come back to this one


@pytest.mark.parametrize("changes", [{}, {"valid_until": 1_000}, {"suspended_at": 400}, {"revoked_at": 700},
                                     {"suspended_at": 400, "revoked_at": 700, "valid_until": 1_000}])
def test_an_answer_moved_to_another_time_of_its_span_is_the_one_made_at_that_time(changes):
    """The view answers a new iat of a known span from the span's answer (issue 16: building it again from the
    registry's lookup cost ten times a cached answer); the answer must be the one trust_answer makes there."""
    from ledger.trust_rules import trust_answer_at

    chain = _chain(**changes)
    for asked in (5, 60, 150, 399, 400, 650, 700, 999, 1_000, 5_000):
        lookup = _lookup(asked, chain)
        span = standing_span(lookup)
        answer = trust_answer(lookup, block=7)
        for at in sorted({span[0], (span[0] + asked) // 2, asked, span[1] - 1, min(span[1] - 1, asked + 3)}):
            made_there = trust_answer(replace(lookup, at_time=at), block=7)
            assert trust_answer_at(answer, lookup, at) == made_there, (asked, at)
