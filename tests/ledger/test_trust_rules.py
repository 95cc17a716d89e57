"""Unit tests of ledger.trust_rules: a revocation or suspension anywhere up the chain overrides the answer at iat."""

from __future__ import annotations

from dataclasses import replace

from ledger.artifacts import Role, Standing
from ledger.trust import AccreditationLink, AccreditationLookup
from ledger.trust_rules import trust_answer, withdrawal_reason

VCT = "urn:microcred:vct:micro-credential:1"
MAY_2026 = 1_778_000_000  # 2026-05-05 16:53 UTC


def _link(did: str, role: Role, by: str | None, **changes) -> AccreditationLink:
    base = AccreditationLink(did=did, role=role, legal_name=f"Name of {did}", country="IT", accredited_by=by,
                             vcts=(VCT,), max_eqf_level=None, valid_from=0, valid_until=None, suspended_at=None,
                             revoked_at=None, controller="0x" + "11" * 20)
    return replace(base, **changes)


def _chain(issuer: dict | None = None, tao: dict | None = None) -> tuple[AccreditationLink, ...]:
    return (_link("did:web:uni.example", Role.ISSUER, "did:web:tao.example", **(issuer or {})),
            _link("did:web:tao.example", Role.TAO, "did:web:root.example", **(tao or {})),
            _link("did:web:root.example", Role.ROOT, None))


def _lookup(chain, standing=Standing.ACCREDITED) -> AccreditationLookup:
    return AccreditationLookup("did:web:uni.example", VCT, MAY_2026 - 86_400, 7, standing, chain)


def test_an_active_chain_keeps_the_registrys_answer():
    answer = trust_answer(_lookup(_chain()), block=7)
    assert answer.accredited is True
    assert answer.block == 7
    assert [link.did for link in answer.chain] == ["did:web:uni.example", "did:web:tao.example", "did:web:root.example"]
    assert answer.accredited_by == "did:web:tao.example"
    assert answer.country == "IT"


def test_a_revoked_issuer_fails_whatever_the_answer_at_iat():
    answer = trust_answer(_lookup(_chain(issuer={"revoked_at": MAY_2026})))
    assert answer.accredited is False
    assert answer.reason == ("the accreditation of did:web:uni.example (Name of did:web:uni.example) was revoked on "
                             "2026-05-05 16:53 UTC; credentials of a revoked issuer are not trusted")


def test_a_revoked_accreditor_is_named():
    reason = withdrawal_reason(_chain(tao={"revoked_at": MAY_2026}))
    assert reason is not None
    assert reason.startswith("the accreditation of did:web:tao.example ")


def test_revocation_is_reported_before_a_suspension():
    reason = withdrawal_reason(_chain(issuer={"suspended_at": MAY_2026}, tao={"revoked_at": MAY_2026}))
    assert reason is not None
    assert "was revoked" in reason
    assert "did:web:tao.example" in reason


def test_a_suspension_fails_while_it_lasts():
    answer = trust_answer(_lookup(_chain(issuer={"suspended_at": MAY_2026})))
    assert answer.accredited is False
    assert "is suspended since 2026-05-05 16:53 UTC" in answer.reason


def test_expiry_is_not_a_withdrawal():
    chain = _chain(issuer={"valid_until": MAY_2026 - 3600})  # ended after iat: the registry said accredited at iat
    assert withdrawal_reason(chain) is None
    assert trust_answer(_lookup(chain)).accredited is True
    assert trust_answer(_lookup(chain, Standing.EXPIRED)).accredited is False  # issued after the end


def test_an_unknown_issuer_has_no_chain_and_no_withdrawal():
    answer = trust_answer(_lookup((), Standing.UNKNOWN))
    assert answer.accredited is False
    assert "not in the trust registry" in answer.reason
    assert answer.chain == ()


def test_a_revocation_for_cause_carries_its_time_for_anchored_credentials():
    """Issue 14: the core trusts a credential anchored before ``revoked_at``; set only when the registry held the
    issuer accredited at iat and nothing but a revocation withdrew it (the earliest one up the chain)."""
    answer = trust_answer(_lookup(_chain(issuer={"revoked_at": MAY_2026 + 5}, tao={"revoked_at": MAY_2026})))
    assert (answer.accredited, answer.revoked_at) == (False, MAY_2026)
    suspended = trust_answer(_lookup(_chain(issuer={"revoked_at": MAY_2026}, tao={"suspended_at": MAY_2026})))
    assert suspended.revoked_at is None
    expired = trust_answer(_lookup(_chain(issuer={"revoked_at": MAY_2026}), Standing.EXPIRED))
    assert expired.revoked_at is None
    assert trust_answer(_lookup(_chain())).revoked_at is None
