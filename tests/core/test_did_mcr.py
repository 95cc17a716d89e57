"""did:mcr in the pure core (credentials.did_mcr): DID syntax, the DID document from the registry's records,
the key valid at the issuance anchor's block (or now), and the issuer_trust rule for an accreditation revoked
for cause after the credential was anchored. Plain-function resolvers; against the chain:
tests/ledger/test_did_registry.py and tests/verifier/test_did_mcr_issuer.py."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from credentials.did_mcr import (
    KEY_TYPE_ED25519,
    KEY_TYPE_P256,
    DidRecord,
    McrDid,
    MethodRecord,
    did_document,
    key_at,
    key_id_of,
)
from credentials.errors import InvalidDid
from credentials.jose import PrivateKey
from credentials.merkle import IssuanceProof, MerkleTree, credential_leaf
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import issue_sd_jwt_vc
from credentials.status_list import sign_status_list_token
from credentials.verification import FAILED, PASSED, Policy, TrustAnswer, TrustLink
from credentials.verification_keys import KeyResolver
from tests.core.test_issuance_anchor import BLOCK, BLOCK_TIME, CHAIN_ID, ISSUER_ACCOUNT, REGISTRY, Ledger
from tests.core.test_verification import AUDIENCE, CLAIMS, INDEX, LIST_URI, NOW, ROOT, TAO, World

DID = f"did:mcr:{CHAIN_ID}:{'0a' * 16}"
HEAD = 100  # the block the verifier has read


def _method(key: PrivateKey, start: int, until: int | None = None, revoked: int | None = None) -> MethodRecord:
    public = key.public_key()
    key_type = KEY_TYPE_P256 if public.alg == "ES256" else KEY_TYPE_ED25519
    return MethodRecord(key_id_of(public), key_type, public.raw_bytes(), start, until, revoked, ISSUER_ACCOUNT)


def _kid(key: PrivateKey) -> str:
    return f"{DID}#{key.public_key().thumbprint()}"


def _record(*methods: MethodRecord, head: int = HEAD) -> DidRecord:
    return DidRecord(DID, ISSUER_ACCOUNT, 1, methods, head)


# ------------------------------------------------------------------ syntax


@pytest.mark.parametrize("text", [DID, f"did:mcr:1:{'ff' * 16}", f"{DID}#frag"])
def test_did_mcr_parses(text):
    parsed = McrDid(text)
    assert parsed.text == text.split("#")[0]
    assert parsed.identifier == bytes.fromhex(text.split(":")[3][:32])


@pytest.mark.parametrize("text", ["did:key:z6Mk", "did:mcr:31337", f"did:mcr:0:{'ab' * 16}", f"did:mcr:01:{'ab' * 16}",
                                  f"did:mcr:31337:{'AB' * 16}", f"did:mcr:31337:{'ab' * 15}", f"did:mcr:x:{'ab' * 16}",
                                  f"did:mcr:{2**64}:{'ab' * 16}", f"did:mcr:31337:{'ab' * 16}:x", "", "did:mcr:"])
def test_malformed_did_mcr_is_refused(text):
    with pytest.raises(InvalidDid):
        McrDid(text)


# ------------------------------------------------------------ which key


def test_the_key_valid_now_and_at_an_anchor_block():
    old, new = PrivateKey.generate("ES256"), PrivateKey.generate("EdDSA")
    record = _record(_method(old, 10, until=50), _method(new, 50))
    assert key_at(record, _kid(new)) == new.public_key()
    assert key_at(record, "#" + new.public_key().thumbprint()) == new.public_key()
    assert key_at(record, _kid(old), 49) == old.public_key()
    assert key_at(record, None) == new.public_key()  # one key valid now
    with pytest.raises(InvalidDid, match="replaced at block 50 .key rotation.; a credential without an issuance"):
        key_at(record, _kid(old))
    with pytest.raises(InvalidDid, match="replaced at block 50 .*anchored at block 50"):
        key_at(record, _kid(old), 50)
    with pytest.raises(InvalidDid, match="valid only from block 50; this credential was anchored at block 49"):
        key_at(record, _kid(new), 49)


def test_a_revoked_key_keeps_what_was_anchored_before_and_nothing_after():
    key = PrivateKey.generate()
    record = _record(_method(key, 10, until=60, revoked=60))
    assert key_at(record, _kid(key), 59) == key.public_key()
    with pytest.raises(InvalidDid, match="revoked at block 60; this credential was anchored at block 60"):
        key_at(record, _kid(key), 60)
    with pytest.raises(InvalidDid, match="revoked at block 60; a credential without an issuance anchor"):
        key_at(record, _kid(key))


@pytest.mark.parametrize("kid, reason", [
    (f"did:mcr:1:{'0a' * 16}#x", "is not a key of"), ("did:key:z6Mk#z6Mk", "is not a key of"),
    (f"{DID}#", "is not a key of"), (f"{DID}#nope", "has no key"), (7, "not a string"),
])
def test_kids_that_name_no_key_of_the_did(kid, reason):
    record = _record(_method(PrivateKey.generate(), 10))
    with pytest.raises(InvalidDid, match=reason):
        key_at(record, kid)


def test_no_kid_needs_exactly_one_valid_key_and_a_future_anchor_is_refused():
    record = _record(_method(PrivateKey.generate(), 10), _method(PrivateKey.generate(), 20))
    with pytest.raises(InvalidDid, match="has 2 keys valid at block 100; expected exactly one"):
        key_at(record, None)
    key = PrivateKey.generate()
    with pytest.raises(InvalidDid, match="anchored at block 101, which this verifier has not confirmed"):
        key_at(_record(_method(key, 10)), _kid(key), HEAD + 1)
    for bad in (True, -1, "42", 4.2):
        with pytest.raises(InvalidDid, match="expected the issuance anchor's block"):
            key_at(_record(_method(key, 10)), _kid(key), bad)


def test_a_key_under_a_thumbprint_not_its_own_is_unusable_and_not_in_the_document():
    key, other = PrivateKey.generate(), PrivateKey.generate()
    forged = replace(_method(key, 10), key_id=key_id_of(other.public_key()))
    with pytest.raises(InvalidDid, match="thumbprint that is not its own"):
        key_at(_record(forged), _kid(other))
    broken = replace(_method(key, 10), public_key=b"\x02" + b"\xff" * 32)
    with pytest.raises(InvalidDid, match="cannot be used"):
        key_at(_record(broken), None)
    assert did_document(_record(forged, broken))["verificationMethod"] == []


def test_the_document_lists_every_key_and_only_the_valid_ones_as_assertion_methods():
    old, new, revoked = PrivateKey.generate(), PrivateKey.generate(), PrivateKey.generate("EdDSA")
    document = did_document(_record(_method(old, 10, until=50), _method(new, 50), _method(revoked, 20, 30, 30)))
    assert document["id"] == DID
    assert [m["id"] for m in document["verificationMethod"]] == [_kid(old), _kid(new), _kid(revoked)]
    assert document["assertionMethod"] == document["authentication"] == [_kid(new)]
    first, _, third = document["verificationMethod"]
    assert (first["validFromBlock"], first["validUntilBlock"]) == (10, 50)
    assert "revoked" not in first
    assert third["revoked"] is True
    assert third["revokedAtBlock"] == 30
    assert third["publicKeyJwk"] == revoked.public_key().to_jwk()
    assert all(m["type"] == "JsonWebKey2020" and m["controller"] == DID for m in document["verificationMethod"])


# ------------------------------------------------- the whole verification


class McrWorld(World):
    """World's issuer as a did:mcr whose records are ``self.record``; keys resolved through KeyResolver."""

    def __init__(self):
        super().__init__()
        self.issuer = DID
        self.record = _record(_method(self.issuer_key, 10))
        self.revoked_at: int | None = None
        self.sign_list()

    def sign_list(self, *, anchor: bool = True):
        if getattr(self, "record", None) is None:
            return super().sign_list(anchor=anchor)
        self.token = sign_status_list_token(self.status_list, self.issuer_key, uri=LIST_URI, iat=NOW - 10,
                                            kid=_kid(self.issuer_key))
        if anchor:
            self.anchored = hashlib.sha256(self.token.encode()).digest()

    def credential(self, claims=CLAIMS, **overrides):
        arguments = {"vct": MICRO_CREDENTIAL_VCT, "claims": claims, "frame": disclosure_frame(claims),
                     "issuer_key": self.issuer_key, "issuer": self.issuer, "kid": _kid(self.issuer_key),
                     "iat": NOW - 100, "holder_jwk": self.holder_key.public_key().to_jwk(),
                     "status": {"status_list": {"idx": INDEX, "uri": LIST_URI}}}
        return issue_sd_jwt_vc(**{**arguments, **overrides}).serialization

    def trust(self, did, vct, at_time):
        chain = (TrustLink(did, "Univerzita Příklad", "issuer"), TrustLink(TAO, "Agency", "tao"),
                 TrustLink(ROOT, "Root", "root"))
        if self.revoked_at is not None:
            return TrustAnswer(False, f"the accreditation of {did} was revoked", chain, "CZ", TAO, None, 12,
                               self.revoked_at)
        return super().trust(did, vct, at_time)

    def verify(self, presentation, policy=None, **kwargs):
        keys = KeyResolver(did_records=lambda did: self.record if did == DID else _unknown(did))
        return super().verify(presentation, policy=policy, keys=keys, **kwargs)

    def rotate(self, at: int) -> PrivateKey:
        old = self.issuer_key
        first = replace(self.record.methods[-1], valid_until_block=at)
        self.issuer_key = PrivateKey.generate("ES256")
        self.record = replace(self.record, methods=(*self.record.methods[:-1], first, _method(self.issuer_key, at)))
        self.sign_list()
        return old


def _unknown(did):
    raise InvalidDid(f"{did} is not registered")


def _anchored(world, ledger, credential):
    tree = MerkleTree([credential_leaf(credential), credential_leaf(world.credential())])
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 2)
    proof = IssuanceProof.of(tree, 0, chain_id=CHAIN_ID, registry=REGISTRY).to_json()
    holder = replace(HolderSdJwt.parse(credential), issuance_proof=proof)
    return holder.present_with_key_binding([("title",)], world.holder_key, audience=AUDIENCE, nonce="n-1",
                                           iat=NOW - 5)


def _verify(world, presentation, ledger=None):
    return world.verify(presentation, policy=Policy(frozenset({ROOT})), nonce="n-1", audience=AUDIENCE,
                        issuance=ledger)


def test_rotation_keeps_credentials_anchored_before_it_and_new_ones_sign_with_the_new_key():
    world, ledger = McrWorld(), Ledger()
    old_credential = world.credential()
    world.rotate(at=BLOCK + 1)  # anchored at BLOCK, rotated one block later
    result = _verify(world, _anchored(world, ledger, old_credential), ledger)
    assert result.verified, result.checks
    assert result.check("issuance_anchor").status == PASSED
    result = _verify(world, world.present(old_credential))  # the same credential without its anchor
    assert result.check("signature").status == FAILED
    assert f"replaced at block {BLOCK + 1}" in result.check("signature").detail
    assert _verify(world, world.present()).verified  # a new credential, new key, status list by the new key


def test_a_credential_anchored_after_the_rotation_with_the_old_key_fails_signature():
    world, ledger = McrWorld(), Ledger()
    old_key = world.rotate(at=BLOCK)  # the anchor's block is the rotation's: the old key had ended
    forged = world.credential(issuer_key=old_key, kid=_kid(old_key))
    result = _verify(world, _anchored(world, ledger, forged), ledger)
    assert result.check("signature").status == FAILED
    assert f"replaced at block {BLOCK} (key rotation); this credential was anchored at block {BLOCK}" in \
        result.check("signature").detail


def test_revocation_keeps_only_what_was_anchored_before_it():
    world, ledger = McrWorld(), Ledger()
    credential, signing_key = world.credential(), world.issuer_key
    world.issuer_key = PrivateKey.generate()  # the issuer's new key signs its status lists from now on
    world.sign_list()
    for revoked_at, verified in ((BLOCK + 1, True), (BLOCK, False)):
        world.record = _record(_method(signing_key, 10, until=revoked_at, revoked=revoked_at),
                               _method(world.issuer_key, revoked_at))
        result = _verify(world, _anchored(world, ledger, credential), ledger)
        assert result.verified is verified, result.checks
        if not verified:
            assert f"was revoked at block {revoked_at}" in result.check("signature").detail


def test_an_accreditation_revoked_for_cause_keeps_only_credentials_anchored_before_the_revocation():
    world, ledger = McrWorld(), Ledger()
    credential = world.credential()
    world.revoked_at = BLOCK_TIME + 1
    result = _verify(world, _anchored(world, ledger, credential), ledger)
    assert result.verified, result.checks
    assert f"anchored in block {BLOCK}, before the revocation" in result.check("issuer_trust").detail
    world.revoked_at = BLOCK_TIME  # revoked in the anchor's second: not provably before
    result = _verify(world, _anchored(world, ledger, credential), ledger)
    assert result.check("issuer_trust").status == FAILED
    world.revoked_at = BLOCK_TIME + 1
    result = _verify(world, world.present(credential))  # no anchor: today's rule, no credential of the issuer
    assert result.check("issuer_trust").status == FAILED
    assert "was revoked" in result.check("issuer_trust").detail


def test_a_status_list_signed_with_a_revoked_key_fails_revocation():
    world, new_key = McrWorld(), PrivateKey.generate()  # the list was signed with the key now revoked
    world.record = _record(_method(world.issuer_key, 10, until=HEAD, revoked=HEAD), _method(new_key, HEAD))
    result = _verify(world, world.present(world.credential(issuer_key=new_key, kid=_kid(new_key))))
    assert result.check("signature").status == PASSED
    check = result.check("revocation")
    assert check.status == FAILED
    assert "signing key cannot be resolved" in check.detail
    assert "revoked at block" in check.detail


def test_a_suspension_or_a_plain_refusal_is_not_rescued_by_an_anchor():
    world, ledger = McrWorld(), Ledger()
    credential = world.credential()
    world.accredited = False  # not accredited at iat at all: no revoked_at
    result = _verify(world, _anchored(world, ledger, credential), ledger)
    assert result.check("issuer_trust").status == FAILED


def test_a_did_key_issuer_is_unchanged():
    world = World()
    assert world.verify(world.present(), nonce="n-1", audience=AUDIENCE).verified


def test_data_integrity_and_holder_keys_of_a_did_mcr_follow_the_same_rule():
    old, new = PrivateKey.generate("EdDSA"), PrivateKey.generate("ES256")
    record = _record(_method(old, 10, until=50), _method(new, 50))
    keys = KeyResolver(did_records=lambda did: record)
    method = keys.verification_method(_kid(new))
    assert (method.id, method.controller, method.curve) == (_kid(new), DID, "P-256")
    assert keys.verification_method(_kid(old), 49).curve == "Ed25519"
    with pytest.raises(InvalidDid, match="replaced at block 50"):
        keys.verification_method(_kid(old))
    with pytest.raises(InvalidDid, match="must name its key with a fragment"):
        keys.verification_method(DID)
    assert keys.holder_key(DID, _kid(new)) == new.public_key()
    with pytest.raises(InvalidDid, match="does not resolve did:mcr"):
        KeyResolver().issuer_key(DID, _kid(new))
