"""Issue 10 A1: time claims that are not whole seconds from 1970 to 9999 fail their check, never crash.

``1e400`` parses to ``inf`` and ``int(inf)`` raised OverflowError (HTTP 500 at
every endpoint that verifies). Each hostile value is written into the JSON
text and signed with the real key, so only the time check can refuse it.
"""

from __future__ import annotations

import hashlib
import math

import pytest

from credentials.dids import verification_method_id
from credentials.errors import HolderBindingError, RevocationError, ValidityPeriodError
from credentials.jwt_vc import sign_vc_jwt, verify_jwt_vc
from credentials.numeric_date import LATEST_NUMERIC_DATE, numeric_date
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt.verifier import check_time_claims
from credentials.sd_jwt_vc import verify_sd_jwt_vc
from credentials.status_list import StatusList, sign_status_list_token, verify_status_list_token
from credentials.verification import FAILED, PASSED, SKIPPED, Policy
from tests.core.test_verification import AUDIENCE, DISCLOSE, LIST_URI, NOW, ROOT, World
from tests.forging import forge_issuer_claim, forge_kb_claim, resign_payload, with_member

#: JSON literals that are not a NumericDate microcred accepts.
HOSTILE = ["1e400", "-1e400", "1.5", "-1", "253402300800", "1e20", "100000000000000000000000000000", "true",
           '"1780000000"', "null", "[1780000000]"]


@pytest.fixture
def world():
    return World()


def statuses(result):
    return {c.check: c.status for c in result.checks}


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", HOSTILE)
def test_hostile_credential_time_fails_validity_period(world, name, literal):
    credential = forge_issuer_claim(world.credential(), world.issuer_key, name, literal)
    result = world.verify(world.present(credential))
    assert result.check("validity_period").status == FAILED, statuses(result)
    assert name in result.check("validity_period").detail
    assert "1970" in result.check("validity_period").detail
    assert result.check("signature").status == PASSED
    assert result.verified is False
    if name == "iat":
        assert result.check("issuer_trust").status == FAILED
        assert "iat" in result.check("issuer_trust").detail


def test_integral_float_times_are_accepted_as_whole_seconds(world):
    credential = forge_issuer_claim(world.credential(), world.issuer_key, "iat", f"{NOW - 100}.0")
    credential = forge_issuer_claim(credential, world.issuer_key, "exp", "2e9")
    result = world.verify(world.present(credential))
    assert result.verified, statuses(result)
    assert result.check("issuer_trust").status == PASSED


def test_trust_resolver_gets_an_int_iat(world):
    seen = []
    trust = world.trust
    world.trust = lambda did, vct, at: seen.append(at) or trust(did, vct, at)
    credential = forge_issuer_claim(world.credential(), world.issuer_key, "iat", f"{NOW - 100}.0")
    world.verify(world.present(credential))
    assert seen == [NOW - 100]
    assert type(seen[0]) is int


@pytest.mark.parametrize("literal", HOSTILE)
def test_hostile_kb_jwt_iat_fails_holder_binding(world, literal):
    presentation = forge_kb_claim(world.present(), world.holder_key, "iat", literal)
    result = world.verify(presentation)
    assert result.check("holder_binding").status == FAILED, statuses(result)
    assert "iat" in result.check("holder_binding").detail
    assert result.check("replay").status == SKIPPED
    assert result.verified is False


def test_wallet_side_verify_raises_validity_period_not_overflow(world):
    credential = forge_issuer_claim(world.credential(), world.issuer_key, "exp", "1e400")
    with pytest.raises(ValidityPeriodError, match="exp"):
        verify_sd_jwt_vc(credential, now=NOW, key_binding=None)
    presentation = forge_kb_claim(world.present(), world.holder_key, "iat", "-1e400")
    from credentials.sd_jwt.key_binding import KeyBindingPolicy

    with pytest.raises(HolderBindingError, match="iat"):
        verify_sd_jwt_vc(presentation, now=NOW, key_binding=KeyBindingPolicy(audience=AUDIENCE))


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1.5, -1, LATEST_NUMERIC_DATE + 1, True, "1", None])
def test_numeric_date_refuses_what_is_not_whole_seconds_1970_to_9999(value):
    with pytest.raises(ValidityPeriodError, match="1970"):
        numeric_date(value, "the 'exp' claim", ValidityPeriodError)
    with pytest.raises(ValidityPeriodError):
        check_time_claims({"exp": value}, now=NOW)


def test_numeric_date_keeps_the_edges():
    assert numeric_date(0, "t", ValidityPeriodError) == 0
    assert numeric_date(LATEST_NUMERIC_DATE, "t", ValidityPeriodError) == LATEST_NUMERIC_DATE
    assert type(numeric_date(1.78e9, "t", ValidityPeriodError)) is int
    with pytest.raises(ValidityPeriodError, match="digits"):
        numeric_date(10**5000, "t", ValidityPeriodError)  # no ValueError from printing it


# --- JWT VC ---------------------------------------------------------------------------------

def _vc(world, **members):
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "issuer": world.issuer, "credentialSubject": {"id": "did:example:learner"}, **members}
    return sign_vc_jwt(credential, world.issuer_key, kid=verification_method_id(world.issuer))


def _resolve(world):
    return lambda iss, kid: world.issuer_key.public_key()


@pytest.mark.parametrize("name", ["nbf", "exp", "iat"])
@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1.5", "-1", "1e20"])
def test_jwt_vc_hostile_numeric_dates_fail_validity_period_after_the_signature(world, name, literal):
    token = resign_payload(_vc(world), world.issuer_key, lambda text: with_member(text, name, literal))
    with pytest.raises(ValidityPeriodError, match=name):
        verify_jwt_vc(token, resolve_issuer_key=_resolve(world), now=NOW)
    result = world.verify(token, Policy(frozenset({ROOT}), status_required=False))
    assert result.check("validity_period").status == FAILED
    assert result.check("signature").status == PASSED


def test_jwt_vc_hostile_time_with_a_bad_signature_fails_signature(world):
    token = resign_payload(_vc(world), world.issuer_key, lambda text: with_member(text, "exp", "1e400"))
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    result = world.verify(forged, Policy(frozenset({ROOT}), status_required=False))
    assert result.check("signature").status == FAILED


@pytest.mark.parametrize("member,value", [("validFrom", "0001-01-01T00:00:00+14:00"),
                                          ("validFrom", "1969-12-31T23:59:59Z"),
                                          ("validUntil", "9999-12-31T23:59:59-14:00")])
def test_jwt_vc_dates_outside_1970_to_9999_fail_validity_period(world, member, value):
    with pytest.raises(ValidityPeriodError, match=member):
        verify_jwt_vc(_vc(world, **{member: value}), resolve_issuer_key=_resolve(world), now=NOW)


# --- status list tokens ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["iat", "exp"])
@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1.5", "1e20", "253402300800"])
def test_status_list_token_hostile_times_fail_revocation(world, name, literal):
    token = sign_status_list_token(StatusList.new(), world.issuer_key, uri=LIST_URI, iat=NOW - 10,
                                   kid=verification_method_id(world.issuer))
    forged = resign_payload(token, world.issuer_key, lambda text: with_member(text, name, literal))
    with pytest.raises(RevocationError, match=name):
        verify_status_list_token(forged, world.issuer_key.public_key(), expected_uri=LIST_URI, now=NOW)
    world.token, world.anchored = forged, hashlib.sha256(forged.encode()).digest()
    result = world.verify(world.present())
    assert result.check("revocation").status == FAILED
    assert name in result.check("revocation").detail


def test_holder_presenting_a_credential_with_hostile_times_still_works_for_the_holder(world):
    """The holder's own tooling parses such a credential; only verification refuses it."""
    credential = forge_issuer_claim(world.credential(), world.issuer_key, "exp", "1e400")
    presentation = HolderSdJwt.parse(credential).present_with_key_binding(
        DISCLOSE, world.holder_key, audience=AUDIENCE, nonce="n", iat=NOW)
    assert world.verify(presentation).check("validity_period").status == FAILED


@pytest.mark.parametrize("valid_until", [10**20, -5])
def test_bitstring_status_list_times_outside_1970_to_9999_are_refused_when_issuing(valid_until):
    from credentials.bitstring_status_list import Bitstring, build_status_list_credential
    from credentials.errors import InvalidStatusList

    with pytest.raises(InvalidStatusList):
        build_status_list_credential(Bitstring.new(), id="https://uni.example/bsl/1", issuer="did:web:uni.example",
                                     valid_from=NOW, valid_until=valid_until)
    with pytest.raises(InvalidStatusList, match="1970"):
        build_status_list_credential(Bitstring.new(), id="https://uni.example/bsl/1", issuer="did:web:uni.example",
                                     valid_from=10**20)


@pytest.mark.parametrize("name,value", [("exp", 10**20), ("nbf", -1), ("iat", 1.5), ("exp", True)])
def test_the_issuer_refuses_times_outside_1970_to_9999(world, name, value):
    from credentials.errors import InvalidInput

    with pytest.raises(InvalidInput, match=name):
        world.credential(**{name: value})
