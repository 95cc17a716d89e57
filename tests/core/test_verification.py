"""The verifier core (credentials.verification): every check by name, with plain-function resolvers.

The chain-backed resolvers are exercised against a real Anvil in tests/verifier/.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.errors import CHECKS
from credentials.jose import PrivateKey, b64url_decode, b64url_encode, sign_jws
from credentials.jwt_vc import sign_vc_jwt
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import issue_sd_jwt_vc
from credentials.status_list import StatusList, sign_status_list_token
from credentials.verification import (
    FAILED,
    PASSED,
    SKIPPED,
    UNAVAILABLE,
    Policy,
    StatusEvidence,
    StatusListMemo,
    TrustAnswer,
    TrustLink,
    Unavailable,
    kb_jwt_id,
    status_list_id,
    verify_presentation,
)
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS

NOW = 1_780_000_000
ROOT = "did:web:root.example"
TAO = "did:web:tao.example"
AUDIENCE = "https://employer.example"
LIST_URI = "https://uni.example/status/list-7"
INDEX = 4211
CLAIMS = MICRO_CREDENTIAL_CLAIMS
DISCLOSE = [("title",), ("ects",), ("eqf_level",), ("learning_outcomes", 0)]


class World:
    """An issuer, a holder, a status list and resolvers answering from plain dicts."""

    def __init__(self):
        self.issuer_key = PrivateKey.generate("ES256")
        self.issuer = did_key_from_public_key(self.issuer_key.public_key())
        self.holder_key = PrivateKey.generate("ES256")
        self.status_list = StatusList.new()
        self.accredited = True
        self.trust_down = False
        self.status_down = False
        self.fetchable = True
        self.seen: set[str] = set()
        self.sign_list()

    def sign_list(self, *, anchor: bool = True):
        self.token = sign_status_list_token(self.status_list, self.issuer_key, uri=LIST_URI, iat=NOW - 10,
                                            kid=verification_method_id(self.issuer))
        if anchor:
            self.anchored = hashlib.sha256(self.token.encode()).digest()

    def credential(self, claims=CLAIMS, **overrides) -> str:
        arguments = {"vct": MICRO_CREDENTIAL_VCT, "claims": claims, "frame": disclosure_frame(claims),
                     "issuer_key": self.issuer_key, "issuer": self.issuer, "kid": verification_method_id(self.issuer),
                     "iat": NOW - 100, "holder_jwk": self.holder_key.public_key().to_jwk(),
                     "status": {"status_list": {"idx": INDEX, "uri": LIST_URI}}}
        arguments.update(overrides)
        return issue_sd_jwt_vc(**arguments).serialization

    def present(self, credential=None, paths=DISCLOSE, **kb) -> str:
        kb = {"audience": AUDIENCE, "nonce": "n-1", "iat": NOW - 5, **kb}
        return HolderSdJwt.parse(credential or self.credential()).present_with_key_binding(paths, self.holder_key, **kb)

    def trust(self, did, vct, at_time):
        if self.trust_down:
            raise ConnectionError("the node did not answer")
        chain = (TrustLink(did, "Univerzita Příklad", "issuer"), TrustLink(TAO, "Agency", "tao"),
                 TrustLink(ROOT, "Root", "root"))
        if not self.accredited:
            return TrustAnswer(False, f"{did} was revoked at {at_time}")
        return TrustAnswer(True, "accredited", chain, "CZ", TAO, None, 12)

    def status(self, did, uri):
        if self.status_down:
            return Unavailable("the node did not answer")
        return StatusEvidence(self.anchored, 41, 3, self.token if self.fetchable else None,
                              None if self.fetchable else "connection refused",
                              self.token.encode("ascii"), 3, NOW - 1)  # the anchor carries the token itself

    def replay(self, kb_id, expires_at):
        first = kb_id not in self.seen
        self.seen.add(kb_id)
        return first

    def verify(self, presentation, policy=None, **kwargs):
        return verify_presentation(presentation, policy=policy or Policy(frozenset({ROOT})), trust=self.trust,
                                   status=self.status, replay=self.replay, now=NOW, **kwargs)


@pytest.fixture
def world():
    return World()


def statuses(result):
    return {c.check: c.status for c in result.checks}


def test_everything_passes_and_serializes_as_the_api_says(world):
    result = world.verify(world.present(), nonce="n-1", audience=AUDIENCE)
    # issuance_anchor: no proof presented and none required (tests/core/test_issuance_anchor.py)
    assert statuses(result) == {**dict.fromkeys(CHECKS, PASSED), "issuance_anchor": SKIPPED}
    answer = result.to_json()
    assert answer["verified"] is True
    assert answer["format"] == "dc+sd-jwt"
    assert [c["check"] for c in answer["checks"]] == list(CHECKS)
    assert set(answer["checks"][0]) == {"check", "status", "detail"}
    assert answer["issuer"] == {"id": world.issuer, "name": "Univerzita Příklad", "country": "CZ", "accredited_by": TAO}
    assert answer["claims"] == {"title": CLAIMS["title"], "ects": 4, "eqf_level": 7,
                                "learning_outcomes": [CLAIMS["learning_outcomes"][0]]}
    assert answer["status"] == {"uri": LIST_URI, "index": INDEX, "anchored_block": 41, "state": "valid",
                                "list_signed_at": NOW - 10}
    json.dumps(answer)


def test_revoked_bit_fails_revocation_only(world):
    world.status_list.set(INDEX, 1)
    world.sign_list()
    result = world.verify(world.present())
    assert result.check("revocation").status == FAILED
    assert "revoked" in result.check("revocation").detail
    assert result.verified is False
    assert not result.undecided
    assert [c for c, s in statuses(result).items() if s != PASSED] == ["revocation", "issuance_anchor"]
    # what a page needs to say "Revoked by <issuer>, as of <day>" (issue 15)
    assert result.status["state"] == "revoked"
    assert result.status["list_signed_at"] == NOW - 10


def test_status_list_whose_hash_differs_from_the_anchor(world):
    world.status_list.set(INDEX, 1)
    world.sign_list(anchor=False)  # the issuer's server shows a list that was never anchored
    result = world.verify(world.present())
    assert result.check("revocation").status == FAILED
    assert "anchored" in result.check("revocation").detail


def test_list_read_from_the_chain_when_the_server_is_down(world):
    world.fetchable = False
    assert world.verify(world.present()).check("revocation").status == PASSED
    world.status_list.set(INDEX, 1)
    world.sign_list()
    result = world.verify(world.present())
    assert result.check("revocation").status == FAILED
    assert "carried on chain" in result.check("revocation").detail


def test_status_index_beyond_the_list(world):
    result = world.verify(world.present(world.credential(status={"status_list": {"idx": 10**7, "uri": LIST_URI}})))
    assert result.check("revocation").status == FAILED
    assert "outside" in result.check("revocation").detail


def test_chain_down_is_unavailable_and_undecided(world):
    world.trust_down = world.status_down = True
    result = world.verify(world.present())
    assert result.check("issuer_trust").status == UNAVAILABLE
    assert result.check("revocation").status == UNAVAILABLE
    assert result.verified is False
    assert result.undecided is True


def test_stale_status_is_unavailable(world):
    policy = Policy(frozenset({ROOT}), max_status_age=0)
    assert world.verify(world.present(), policy).check("revocation").status == UNAVAILABLE


def test_untrusted_issuer_and_untrusted_root(world):
    world.accredited = False
    assert world.verify(world.present()).check("issuer_trust").status == FAILED
    world.accredited = True
    result = world.verify(world.present(), Policy(frozenset({"did:web:other-root.example"})))
    assert result.check("issuer_trust").status == FAILED
    assert "does not trust" in result.check("issuer_trust").detail


def test_replay_is_refused_the_second_time(world):
    presentation = world.present()
    assert world.verify(presentation).verified
    result = world.verify(presentation)
    assert result.check("replay").status == FAILED
    assert not result.verified


def test_wrong_nonce_and_audience_fail_holder_binding_and_skip_replay(world):
    result = world.verify(world.present(), nonce="other")
    assert result.check("holder_binding").status == FAILED
    assert result.check("replay").status == SKIPPED
    assert world.verify(world.present(), audience="https://else.example").check("holder_binding").status == FAILED


def test_missing_kb_jwt_fails_when_required_and_is_skipped_otherwise(world):
    plain = HolderSdJwt.parse(world.credential()).present(DISCLOSE)
    assert world.verify(plain).check("holder_binding").status == FAILED
    relaxed = world.verify(plain, Policy(frozenset({ROOT}), holder_binding_required=False))
    assert relaxed.verified
    assert relaxed.check("holder_binding").status == SKIPPED


def test_old_kb_jwt_fails(world):
    assert world.verify(world.present(iat=NOW - 3600)).check("holder_binding").status == FAILED


def test_expired_credential_fails_validity_but_other_checks_still_report(world):
    result = world.verify(world.present(world.credential(exp=NOW - 3600)))
    assert result.check("validity_period").status == FAILED
    assert result.check("issuer_trust").status == PASSED
    assert result.check("revocation").status == PASSED


def test_tampered_disclosure_fails_disclosures_and_shows_no_claims(world):
    presentation = world.present()
    parts = presentation.split("~")
    bad = b64url_encode(json.dumps(["salt", "ects", 59]).encode())
    tampered = "~".join([parts[0], bad, *parts[2:]])
    result = world.verify(tampered)
    assert result.check("disclosures").status == FAILED
    assert result.check("schema").status == SKIPPED
    assert result.claims == {}
    assert result.check("holder_binding").status == FAILED  # sd_hash no longer matches


def test_schema_violation_is_reported(world):
    payload_claims = dict(CLAIMS)
    payload_claims["ects"] = 75
    credential = issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims=payload_claims, frame={"_sd": ["ects"]},
                                 issuer_key=world.issuer_key, issuer=world.issuer,
                                 kid=verification_method_id(world.issuer), iat=NOW - 100,
                                 holder_jwk=world.holder_key.public_key().to_jwk(),
                                 status={"status_list": {"idx": INDEX, "uri": LIST_URI}}).serialization
    result = world.verify(world.present(credential, paths=[("ects",)]))
    assert result.check("schema").status == FAILED
    assert "ects" in result.check("schema").detail


@pytest.mark.parametrize("header", [{"alg": "none"}, {"alg": "HS256"}])
def test_alg_none_and_hmac_fail_signature(world, header):
    good = world.present().split("~")
    head, payload, _ = good[0].split(".")
    forged_head = b64url_encode(json.dumps({**header, "typ": "dc+sd-jwt"}).encode())
    forged = "~".join([f"{forged_head}.{payload}.{b64url_encode(b'x' * 32)}", *good[1:]])
    result = world.verify(forged)
    assert result.check("signature").status == FAILED
    assert "only" in result.check("signature").detail
    assert result.check("format").status == PASSED
    assert all(c.status == SKIPPED for c in result.checks[2:])
    assert not result.claims


def test_key_in_its_own_header_fails_signature(world):
    attacker = PrivateKey.generate("ES256")
    payload = json.loads(b64url_decode(world.credential().split("~")[0].split(".")[1]))
    token = sign_jws(payload, attacker, header={"typ": "dc+sd-jwt", "jwk": attacker.public_key().to_jwk()})
    result = world.verify(token + "~")
    assert result.check("signature").status == FAILED
    assert "own header" in result.check("signature").detail


def test_signature_by_another_key_fails(world):
    impostor = World()
    credential = impostor.credential(issuer=world.issuer, kid=verification_method_id(world.issuer))
    result = world.verify(impostor.present(credential))
    assert result.check("signature").status == FAILED


@pytest.mark.parametrize("text", ["", "   ", "not a presentation", "a.b.c", "~~~", "e30.e30.~", "x" * 300_000])
def test_malformed_input_fails_format_and_never_raises(world, text):
    result = world.verify(text)
    assert result.verified is False
    assert result.check("format").status == FAILED or result.check("signature").status == FAILED


def test_unaccepted_vct(world):
    credential = world.credential(vct="urn:other:type")
    assert world.verify(world.present(credential)).check("format").status == FAILED


def test_jwt_vc_without_anchored_status(world):
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                  "type": ["VerifiableCredential", MICRO_CREDENTIAL_VCT],
                  "issuer": world.issuer, "validFrom": "2026-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:learner", "title": "T"}}
    token = sign_vc_jwt(credential, world.issuer_key, kid=verification_method_id(world.issuer))
    result = world.verify(token, Policy(frozenset({ROOT}), status_required=False))
    assert result.format == "vc+jwt"
    assert result.verified
    assert result.check("holder_binding").status == SKIPPED
    assert world.verify(token).check("revocation").status == SKIPPED  # an imported format offers no status
    strict = Policy(frozenset({ROOT}), imported_status_required=True)
    assert world.verify(token, strict).check("revocation").status == FAILED


def test_status_list_memo_rechecks_expiry(world):
    memo = StatusListMemo(size=1)
    token = sign_status_list_token(world.status_list, world.issuer_key, uri=LIST_URI, iat=NOW - 10, exp=NOW + 5,
                                   kid=verification_method_id(world.issuer))
    world.token, world.anchored = token, hashlib.sha256(token.encode()).digest()
    assert world.verify(world.present(), memo=memo).check("revocation").status == PASSED
    later = verify_presentation(world.present(iat=NOW + 5), policy=Policy(frozenset({ROOT})), trust=world.trust,
                                status=lambda d, u: StatusEvidence(world.anchored, 41, 3, token, checked_at=NOW + 9),
                                replay=world.replay, now=NOW + 10, memo=memo)
    assert later.check("revocation").status == FAILED
    assert "expired" in later.check("revocation").detail


def test_helpers():
    assert status_list_id("https://uni.example/status/abc") == "abc"
    assert status_list_id("https://uni.example/status/abc/") == "abc"
    assert kb_jwt_id("a.b.c") == hashlib.sha256(b"a.b").hexdigest()  # the signing input, not the signature


def test_the_split_modules_are_reexported_by_credentials_verification() -> None:
    import credentials.status_check as status_check
    import credentials.verification as verification
    import credentials.verification_model as model

    for name in verification.__all__:
        assert hasattr(verification, name), name
    for name in set(model.__all__) & set(verification.__all__):
        assert getattr(verification, name) is getattr(model, name), name
    assert verification.StatusListMemo is status_check.StatusListMemo
    assert verification.status_list_id("https://lists.example/status/a-1") == "a-1"
