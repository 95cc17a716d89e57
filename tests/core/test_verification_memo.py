"""A credential shown again (credentials.verification_memo): the memo spares parsing and the issuer signature of
the same bytes under the same key, and nothing else — every check runs on every presentation (issue 16)."""

from __future__ import annotations

from credentials.dids import verification_method_id
from credentials.errors import CHECKS
from credentials.jose import PrivateKey, b64url_decode, b64url_encode, sign_jws
from credentials.sd_jwt import HolderSdJwt
from credentials.verification import FAILED, PASSED, SKIPPED
from credentials.verification_memo import MAX_KEPT_LENGTH, IssuerJwtMemo
from tests.core.test_verification import AUDIENCE, DISCLOSE, INDEX, NOW, World, statuses

ALL_PASSED = {**dict.fromkeys(CHECKS, PASSED), "issuance_anchor": SKIPPED}


def _shown(world: World, memo: IssuerJwtMemo, credential: str, nonce: str, **kwargs):
    return world.verify(world.present(credential, nonce=nonce), jwt_memo=memo, nonce=nonce, audience=AUDIENCE,
                        **kwargs)


def _remembered(world: World, memo: IssuerJwtMemo, credential: str) -> None:
    """Show ``credential`` twice (an entry is made at the second success) and check that it is now kept."""
    kept = len(memo)
    for nonce in ("n-remember-1", "n-remember-2"):
        assert _shown(world, memo, credential, nonce).verified
    assert len(memo) == kept + 1


def test_a_credential_shown_once_is_not_kept_and_one_shown_twice_is():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    assert _shown(world, memo, credential, "n-1").verified
    assert len(memo) == 0
    assert _shown(world, memo, credential, "n-2").verified
    assert len(memo) == 1
    assert _shown(world, memo, world.credential(), "n-3").verified  # another credential, once
    assert len(memo) == 1


def test_the_list_of_credentials_seen_once_is_bounded():
    world, memo = World(), IssuerJwtMemo(size=2)
    first = world.credential()
    assert _shown(world, memo, first, "n-0").verified
    for number in range(1, 4):  # three more, once each: the first's sighting is forgotten
        assert _shown(world, memo, world.credential(iat=NOW - 100 - number), f"n-{number}").verified
    assert _shown(world, memo, first, "n-4").verified
    assert len(memo) == 0


def test_a_credential_shown_again_passes_every_check_again():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    first = _shown(world, memo, credential, "n-1")
    second = _shown(world, memo, credential, "n-2")
    third = _shown(world, memo, credential, "n-3")  # served by the memo
    assert statuses(first) == ALL_PASSED
    assert statuses(second) == ALL_PASSED
    assert statuses(third) == ALL_PASSED
    assert len(memo) == 1


def test_revocation_and_trust_are_read_again_for_a_credential_shown_again():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    world.status_list.set(INDEX, 1)
    world.sign_list()
    assert statuses(_shown(world, memo, credential, "n-2"))["revocation"] == FAILED
    world.status_list.set(INDEX, 0)
    world.sign_list()
    world.accredited = False
    assert statuses(_shown(world, memo, credential, "n-3"))["issuer_trust"] == FAILED


def test_the_same_presentation_twice_is_a_replay_with_the_memo_warm():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    presentation = world.present(credential, nonce="n-1")
    assert world.verify(presentation, jwt_memo=memo, nonce="n-1").verified
    assert statuses(world.verify(presentation, jwt_memo=memo, nonce="n-1"))["replay"] == FAILED


def test_a_key_binding_jwt_by_another_key_fails_though_the_issuer_jwt_is_remembered():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    thief = PrivateKey.generate("ES256")
    stolen = HolderSdJwt.parse(credential).present_with_key_binding(DISCLOSE, thief, audience=AUDIENCE,
                                                                     nonce="n-2", iat=NOW - 5)
    assert statuses(world.verify(stolen, jwt_memo=memo, nonce="n-2"))["holder_binding"] == FAILED


def test_a_key_binding_jwt_with_a_broken_signature_fails_though_the_issuer_jwt_is_remembered():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    presentation = world.present(credential, nonce="n-2")
    head, signature = presentation.rsplit(".", 1)
    broken = bytearray(b64url_decode(signature))
    broken[5] ^= 1
    tampered = f"{head}.{b64url_encode(bytes(broken))}"
    assert statuses(world.verify(tampered, jwt_memo=memo, nonce="n-2"))["holder_binding"] == FAILED


def test_a_remembered_signature_counts_only_for_the_key_it_was_verified_with():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    other = PrivateKey.generate("ES256").public_key()  # the issuer's key now, e.g. after a rotation
    result = _shown(world, memo, credential, "n-2", resolve_issuer_key=lambda iss, kid: other)
    assert statuses(result)["signature"] == FAILED


def test_an_issuer_jwt_signed_by_another_key_is_verified_not_served_from_the_memo():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    forger = World()
    forger.holder_key = world.holder_key
    forged = forger.credential(issuer=world.issuer, kid=verification_method_id(world.issuer))  # same claims, same iss
    assert statuses(_shown(world, memo, forged, "n-2"))["signature"] == FAILED
    assert len(memo) == 1


def test_a_failed_signature_is_not_remembered():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    other = PrivateKey.generate("ES256").public_key()
    assert statuses(_shown(world, memo, credential, "n-1", resolve_issuer_key=lambda iss, kid: other))[
        "signature"] == FAILED
    assert len(memo) == 0
    assert _shown(world, memo, credential, "n-2").verified


def test_the_memo_is_bounded():
    world, memo = World(), IssuerJwtMemo(size=2)
    for number in range(4):
        credential = world.credential(iat=NOW - 100 - number)
        for showing in range(2):
            assert _shown(world, memo, credential, f"n-{number}-{showing}").verified
    assert len(memo) == 2


def test_disclosures_remembered_give_the_same_claims_and_other_subsets_still_check():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    first = _shown(world, memo, credential, "n-1")
    _shown(world, memo, credential, "n-2")  # kept from here
    again = _shown(world, memo, credential, "n-3")
    fewer = world.verify(world.present(credential, paths=[("title",)], nonce="n-4"), jwt_memo=memo, nonce="n-4")
    assert again.claims == first.claims
    assert set(fewer.claims) == {"title"}
    assert fewer.verified


def test_disclosures_are_kept_only_for_a_kept_jwt():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    issuer_jwt = credential.split("~")[0]
    assert _shown(world, memo, credential, "n-1").verified
    assert memo.parse(issuer_jwt).disclosures is None  # shown once: not kept, nor its disclosures decoded
    assert _shown(world, memo, credential, "n-2").verified
    kept = memo.parse(issuer_jwt).disclosures
    assert kept is not None
    assert sorted(kept) == sorted(world.present(credential, nonce="n-3").split("~")[1:-1])


def test_a_foreign_disclosure_fails_with_the_credential_remembered():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    foreign = world.credential().split("~")[1]  # a disclosure of another credential of the same issuer
    jwt, *rest = world.present(credential, nonce="n-2").split("~")
    result = world.verify("~".join([jwt, foreign, *rest]), jwt_memo=memo, nonce="n-2")
    assert statuses(result)["disclosures"] == FAILED


def test_a_long_issuer_jwt_is_never_kept():
    """Anybody can sign 256 KB JWTs with a key of their own: the memo keeps none longer than MAX_KEPT_LENGTH."""
    key = PrivateKey.generate("ES256")
    memo = IssuerJwtMemo()
    long_jwt = sign_jws({"iss": "did:example:x", "pad": "x" * MAX_KEPT_LENGTH}, key)
    short_jwt = sign_jws({"iss": "did:example:x"}, key)
    for _ in range(3):
        memo.verify(memo.parse(long_jwt), key.public_key())
    assert len(memo) == 0
    for _ in range(2):
        memo.verify(memo.parse(short_jwt), key.public_key())
    assert len(memo) == 1


def test_the_memo_keeps_jwts_within_a_character_budget():
    """4,096 entries of up to 16 KiB each, parsed, would be hundreds of MB: the kept texts also share a budget of
    characters, oldest first out, so anybody signing many long JWTs with a key of their own cannot grow it."""
    key = PrivateKey.generate("ES256")
    memo = IssuerJwtMemo(size=4096, chars=40_000)
    tokens = [sign_jws({"iss": "did:example:x", "n": number, "pad": "x" * 9_000}, key) for number in range(6)]
    for token in tokens:
        for _ in range(2):
            memo.verify(memo.parse(token), key.public_key())
    assert 0 < memo.chars <= 40_000
    assert len(memo) == memo.chars // len(tokens[0]) < len(tokens)
    assert memo.parse(tokens[-1]) is memo.parse(tokens[-1])  # the newest stays, served from the memo
    assert memo.parse(tokens[0]) is not memo.parse(tokens[0])  # the oldest went


def test_disclosures_shown_for_the_first_time_are_added_and_known_ones_kept_as_they_are():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    issuer_jwt = credential.split("~")[0]
    for nonce in ("n-1", "n-2"):  # kept from the second on, with the one disclosure shown
        assert world.verify(world.present(credential, paths=[("title",)], nonce=nonce), jwt_memo=memo,
                            nonce=nonce).verified
    kept = memo.parse(issuer_jwt).disclosures
    assert kept is not None
    title = dict(kept)
    assert len(title) == 1
    assert _shown(world, memo, credential, "n-3").verified  # DISCLOSE: the title and new ones
    assert sorted(kept) == sorted(world.present(credential, nonce="n-4").split("~")[1:-1])
    assert all(kept[encoded] == entry for encoded, entry in title.items())  # the same (disclosure, digest)
    before = dict(kept)
    assert world.verify(world.present(credential, paths=[("title",)], nonce="n-5"), jwt_memo=memo,
                        nonce="n-5").verified
    assert kept == before


def test_a_kb_jwt_over_other_disclosures_fails_with_the_credential_kept():
    world, memo = World(), IssuerJwtMemo()
    credential = world.credential()
    _remembered(world, memo, credential)
    full = world.present(credential, nonce="n-3")
    jwt, *disclosures, kb_jwt = full.split("~")
    fewer = "~".join([jwt, *disclosures[:-1], kb_jwt])  # the KB-JWT signed over all of them
    result = world.verify(fewer, jwt_memo=memo, nonce="n-3")
    assert statuses(result)["holder_binding"] == FAILED
    assert "sd_hash" in result.check("holder_binding").detail
    assert _shown(world, memo, credential, "n-4").verified


def test_a_key_counts_as_verifying_by_its_members_not_by_which_object_it_is():
    from credentials.jose import PublicKey, UnverifiedJws

    key = PrivateKey.generate("ES256")
    token = sign_jws({"iss": "did:example:x"}, key)
    memo = IssuerJwtMemo()
    seen = memo.parse(token)
    public = key.public_key()
    memo.verify(seen, public)
    jwk = public.to_jwk()
    same_members = PublicKey(alg="ES256", jwk=dict(reversed(list(jwk.items()))), _key=public._key)  # other order
    assert same_members is not public
    assert seen.verified_by(public)
    assert seen.verified_by(same_members)
    assert not seen.verified_by(PrivateKey.generate("ES256").public_key())
    assert not seen.verified_by(PrivateKey.generate("EdDSA").public_key())
    fresh = memo.parse(token)  # not kept yet: its own record, empty until verified
    assert fresh.jws == UnverifiedJws.parse(token)
    assert not fresh.verified_by(public)
