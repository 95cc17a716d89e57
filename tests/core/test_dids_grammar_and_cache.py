"""credentials.dids: the linear DID grammar accepts exactly DID Core's; a DID's key is decoded once and shared.

The reference is DID Core §3.1 / §3.2 transcribed literally (``*( *idchar ":" ) 1*idchar``, then an
RFC 3986 fragment); the shipped pattern must agree with it on every string, generated or hand-picked.
"""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.dids import (
    Did,
    did_jwk_from_public_key,
    did_key_from_public_key,
    resolve_did_document,
    resolve_public_key,
    verification_method_id,
)
from credentials.errors import InvalidDid
from credentials.jose import PrivateKey, PublicKey

_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
LITERAL_DID_CORE = re.compile(
    r"did:(?P<method>[a-z0-9]+)"
    rf":(?P<msid>(?:{_IDCHAR}*:)*{_IDCHAR}+)"
    r"(?:#(?P<fragment>(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*))?"
)


def literal_parts(text: str) -> tuple[str, str, str | None] | None:
    match = LITERAL_DID_CORE.fullmatch(text)
    if match is None or match["fragment"] == "":
        return None
    return match["method"], match["msid"], match["fragment"]


def shipped_parts(text: str) -> tuple[str, str, str | None] | None:
    try:
        did = Did(text)
    except InvalidDid:
        return None
    return did.method, did.method_specific_id, did.fragment


TRICKY = [
    "did:a:b", "did:a::b", "did:a:b:", "did:a::", "did:a:%41", "did:a:%4", "did:a:%", "did:a:b%41:c",
    "did:a:b%3A", "did:a:b:%3a#", "did:a:b#%41", "did:a:b#%4", "did:a:b#:/?@", "did:a:b##", "did:a:b#c#d",
    "did:a:b:#c", "did:a:%%41", "did:a:b%41%", "did:0:9", "did:A:b", "did:a:b c", "did:a:-._", "did:a:b#",
    "did::b", "did:a", "did:a:b/c", "did:a:b?c", "did:a:é", "did:a:b#é",
]


@pytest.mark.parametrize("text", TRICKY)
def test_hand_picked_strings_parse_as_did_core_says(text: str) -> None:
    assert shipped_parts(text) == literal_parts(text)


ALPHABET = st.sampled_from(list("abAZ09.-_:%#/?@!$&'()*+,;=~ Fx") + ["%41", "%3A", "%zz", "::"])


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(["did:key:", "did:web:", "did:a:", "did:", "did:A:", "did:key"]),
       st.lists(ALPHABET, max_size=24))
def test_generated_strings_parse_as_did_core_says(prefix: str, pieces: list[str]) -> None:
    text = prefix + "".join(pieces)
    assert shipped_parts(text) == literal_parts(text)


def test_a_long_rsa_did_key_url_still_parses() -> None:
    key = PublicKey.from_cryptography(rsa.generate_private_key(public_exponent=65537, key_size=4096).public_key())
    url = verification_method_id(did_key_from_public_key(key))
    assert len(url) > 1400
    assert shipped_parts(url) == literal_parts(url)
    assert resolve_public_key(url).jwk == key.jwk


@pytest.mark.parametrize("make", [did_key_from_public_key, did_jwk_from_public_key])
def test_a_dids_key_is_decoded_once_and_the_document_is_a_fresh_copy(make) -> None:  # type: ignore[no-untyped-def]
    key = PrivateKey.generate("ES256").public_key()
    did = make(key)
    first = resolve_public_key(did)
    assert resolve_public_key(verification_method_id(did)) is first
    assert first.jwk == key.jwk
    document = resolve_did_document(did)
    document["verificationMethod"][0]["publicKeyJwk"]["x"] = "changed"
    assert resolve_did_document(did)["verificationMethod"][0]["publicKeyJwk"]["x"] == key.jwk["x"]
    assert resolve_public_key(did).jwk["x"] == key.jwk["x"]


def test_a_did_that_fails_fails_again_with_the_same_reason() -> None:
    bad = "did:key:z" + "1" * 40  # base58 of zeros: no multicodec key
    reasons = []
    for _ in range(2):
        with pytest.raises(InvalidDid) as caught:
            resolve_public_key(bad)
        reasons.append(str(caught.value))
    assert reasons[0] == reasons[1]
