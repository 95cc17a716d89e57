"""The JOSE layer: keys, strict base64url and JSON, the algorithm allow-list,
and interoperability with jwcrypto (an independent implementation)."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from credentials.errors import FormatError, InvalidInput, InvalidKey, SignatureError
from credentials.jose import (
    PrivateKey,
    PublicKey,
    UnverifiedJws,
    b64url_decode,
    b64url_encode,
    json_dumps,
    json_loads_object,
    sign_jws,
    verify_jws,
)

ALGS = ["ES256", "EdDSA"]


@pytest.mark.parametrize("alg", ALGS)
def test_our_signatures_verify_in_jwcrypto(alg):
    key = PrivateKey.generate(alg)
    token = sign_jws({"hello": "world"}, key, header={"typ": "JWT"})
    jws = jwcrypto_jws.JWS()
    jws.deserialize(token)
    jws.verify(jwcrypto_jwk.JWK(**key.public_key().to_jwk()))
    assert jws.payload == b'{"hello":"world"}'


@pytest.mark.parametrize("alg, curve", [("ES256", "P-256"), ("EdDSA", "Ed25519")])
def test_jwcrypto_signatures_verify_here(alg, curve):
    kty = "EC" if alg == "ES256" else "OKP"
    their_key = jwcrypto_jwk.JWK.generate(kty=kty, crv=curve)
    token = jwcrypto_jws.JWS(b'{"a":1}')
    token.add_signature(their_key, alg=alg, protected=json_dumps({"alg": alg, "typ": "JWT"}))
    compact = token.serialize(compact=True)
    public = PublicKey.from_jwk(their_key.export_public(as_dict=True))
    assert verify_jws(compact, public, expected_typ=["JWT"]).payload == {"a": 1}
    # Same RFC 7638 thumbprint as jwcrypto computes.
    assert public.thumbprint() == their_key.thumbprint()
    # And a private JWK exported by jwcrypto imports here.
    assert PrivateKey.from_jwk(their_key.export_private(as_dict=True)).public_key().jwk == public.jwk


def test_rfc7638_thumbprint_example():
    # RFC 8037 §A.3: the thumbprint of the Ed25519 example key.
    key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    assert key.thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_ed25519_signature_example():
    # RFC 8037 §A.4: the example JWS and its key.
    key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    token = (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert key.verify(f"{header_b64}.{payload_b64}".encode(), b64url_decode(signature_b64))
    assert not key.verify(f"{header_b64}.{payload_b64}x".encode(), b64url_decode(signature_b64))


@pytest.mark.parametrize(
    "text", ["abc=", "ab+c", "ab/c", "a b", "A", "AB==", "AC", "wL==", "ab=c", "abF", "abé", "ab\n", "ab\x00c",
             "ABCD=", "AB.C"],
    ids=["padding", "plus", "slash", "space", "one-char", "padded", "non-canonical", "padded-four",
         "padding-inside", "non-canonical-of-three", "non-ascii", "newline", "nul", "padding-after-four", "dot"],
)
def test_b64url_decode_is_strict(text):
    with pytest.raises(InvalidInput):
        b64url_decode(text)


def _strict_reference(text: str) -> bytes | None:
    """RFC 4648 §5 read as strictly as it can be, independently of the code under test: the URL-safe alphabet
    only, no padding, no left-over characters, unused trailing bits zero (encoding the bytes gives the text)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if any(c not in alphabet for c in text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if base64.urlsafe_b64encode(data).decode().rstrip("=") == text else None


_B64_TEXT = st.text(alphabet=st.sampled_from("AQgw_-+/=. \n\x00é9zZ"), max_size=14) | st.builds(
    lambda raw, cut, junk: (base64.urlsafe_b64encode(raw).decode().rstrip("=")[:cut] + junk),
    st.binary(max_size=40), st.integers(0, 60), st.sampled_from(["", "=", "==", "+", "/", " ", "\n", "A", "é"]))


@settings(max_examples=600, deadline=None)
@given(_B64_TEXT)
def test_b64url_decode_takes_exactly_the_canonical_unpadded_texts(text):
    # binascii is called outside strict mode (issue 16): what it would skip must still make the text refused.
    expected = _strict_reference(text)
    if expected is None:
        with pytest.raises(InvalidInput):
            b64url_decode(text)
    else:
        assert b64url_decode(text) == expected


def test_b64url_decode_refuses_what_lenient_base64_would_skip():
    # Ten characters, eight of them base64url: the lenient decoder skips the other two (length 10 is a length
    # base64url text may have, so only the count of decoded bytes can tell).
    assert binascii.a2b_base64(b"QUJD\n\nREVG==") == b"ABCDEF"
    for text in ("QUJD\n\nREVG", "QUJD  REVG", "QU..JDREVG", "QUJDREVG==", "QUJD++REVG", "QUJD//REVG", "QUJD=\x00REVG"):
        with pytest.raises(InvalidInput):
            b64url_decode(text)


def test_duplicate_json_members_are_rejected():
    with pytest.raises(InvalidInput, match="duplicate"):
        json_loads_object('{"a": 1, "a": 2}', what="x")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        json_loads_object('{"a": NaN}', what="x")
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        json_loads_object("[1]", what="x")


@pytest.mark.parametrize(
    "jwk, message",
    [
        ({"kty": "oct", "k": "c2VjcmV0"}, "unsupported key type"),
        ({"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}, "unsupported key type"),
        ({"kty": "RSA", "n": "a", "e": "AQAB"}, "not base64url"),
        ({"kty": "EC", "crv": "P-256", "x": b64url_encode(b"\x01" * 32)}, "'y' is missing"),
        ({"kty": "EC", "crv": "P-256", "x": b64url_encode(b"\x01" * 32), "y": b64url_encode(b"\x01" * 32)},
         "not on the P-256 curve"),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" * 31)}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "***"}, "not base64url"),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" * 32), "alg": "ES256"}, "declares alg"),
        ("not a dict", "JSON object"),
    ],
    ids=["hmac", "p384", "rsa", "missing-y", "off-curve", "short-ed25519", "bad-b64", "alg-mismatch", "not-object"],
)
def test_bad_jwks_are_rejected(jwk, message):
    with pytest.raises(InvalidKey, match=message):
        PublicKey.from_jwk(jwk)


def test_private_jwk_must_match_its_public_part():
    a, b = PrivateKey.generate(), PrivateKey.generate()
    mixed = {**a.to_jwk(), "d": b.to_jwk()["d"]}
    with pytest.raises(InvalidKey, match="does not match"):
        PrivateKey.from_jwk(mixed)


def test_unsupported_generation_and_wrapping():
    with pytest.raises(InvalidKey):
        PrivateKey.generate("HS256")
    with pytest.raises(InvalidKey):
        PrivateKey.from_cryptography("nope")
    with pytest.raises(InvalidKey):
        PublicKey.from_cryptography("nope")


@pytest.mark.parametrize("alg", ALGS)
def test_private_jwk_round_trip_and_raw_bytes(alg):
    key = PrivateKey.generate(alg)
    again = PrivateKey.from_jwk(key.to_jwk())
    assert again.public_key().jwk == key.public_key().jwk
    assert len(key.public_key().raw_bytes()) == (33 if alg == "ES256" else 32)


def test_alg_header_must_match_key():
    es, ed = PrivateKey.generate("ES256"), PrivateKey.generate("EdDSA")
    token = sign_jws({"a": 1}, ed, header={"typ": "JWT"})
    with pytest.raises(SignatureError, match="key is for ES256"):
        verify_jws(token, es.public_key(), expected_typ=["JWT"])
    with pytest.raises(InvalidKey):
        sign_jws({"a": 1}, es, header={"alg": "EdDSA"})


def test_signature_wrong_length_is_rejected():
    key = PrivateKey.generate()
    token = sign_jws({"a": 1}, key, header={"typ": "JWT"})
    head, body, _ = token.split(".")
    with pytest.raises(SignatureError):
        verify_jws(f"{head}.{body}.{b64url_encode(b'short')}", key.public_key(), expected_typ=["JWT"])


@pytest.mark.parametrize(
    "token, error, message",
    [
        ("a.b", FormatError, "3 dot-separated parts"),
        ("a.b.c.d", FormatError, "3 dot-separated parts"),
        ("!!.b.c", FormatError, "malformed"),
        (b64url_encode(b"[1]") + ".e30.", FormatError, "JSON object"),
        (b64url_encode(b'{"alg":"ES256","crit":["b64"],"b64":false}') + ".e30.", FormatError, "critical"),
        (b64url_encode(b'{"alg":"ES256","crit":"b64"}') + ".e30.", FormatError, "malformed 'crit'"),
        (b64url_encode(b'{"alg":"none"}') + ".e30.", SignatureError, "'none'"),
        (b64url_encode(b'{"alg":"HS256"}') + ".e30.", SignatureError, "'HS256'"),
        (123, FormatError, "must be text"),
        ("a" * 300_000, FormatError, "over the limit"),
    ],
    ids=["two-parts", "four-parts", "bad-b64", "header-array", "crit-unknown", "crit-malformed", "alg-none", "alg-hmac",
         "not-text", "oversized"],
)
def test_malformed_jws(token, error, message):
    with pytest.raises(error, match=message):
        UnverifiedJws.parse(token)


def test_typ_check_accepts_media_type_prefix_and_case():
    key = PrivateKey.generate()
    token = sign_jws({"a": 1}, key, header={"typ": "application/DC+SD-JWT"})
    assert verify_jws(token, key.public_key(), expected_typ=["dc+sd-jwt"]).typ == "application/DC+SD-JWT"
    with pytest.raises(FormatError, match="expected 'kb\\+jwt'"):
        verify_jws(token, key.public_key(), expected_typ=["kb+jwt"])


def test_a_parsed_header_is_never_shared_between_parses():
    """Headers are decoded once per distinct text (issue 16): each parse still gets a value of its own."""
    key = PrivateKey.generate("ES256")
    token = sign_jws({"a": 1}, key, header={"typ": "JWT", "kid": "k-1"})
    first = UnverifiedJws.parse(token)
    first.header["alg"] = "none"
    first.header["extra"] = 1
    assert UnverifiedJws.parse(token).header == {"alg": "ES256", "typ": "JWT", "kid": "k-1"}
    nested = sign_jws({"a": 1}, key, header={"typ": "JWT", "crit": ["b64"]})
    with pytest.raises(FormatError, match="critical"):
        UnverifiedJws.parse(nested)
    with pytest.raises(FormatError, match="critical"):
        UnverifiedJws.parse(nested)


def test_a_jwk_read_again_is_the_same_key_and_a_bad_one_fails_every_time():
    jwk = PrivateKey.generate("ES256").public_key().to_jwk()
    assert PublicKey.from_jwk(dict(jwk)) is PublicKey.from_jwk({**jwk, "kid": "ignored"})
    assert PublicKey.from_jwk({**jwk, "alg": None}).jwk == jwk
    for bad, reason in (({**jwk, "alg": "EdDSA"}, "declares alg"), ({**jwk, "x": ["a"]}, "'x' is missing"),
                        ({**jwk, "y": jwk["x"][:-1] + "A"}, "P-256 curve|base64url")):
        for _ in range(2):
            with pytest.raises(InvalidKey, match=reason):
                PublicKey.from_jwk(bad)


def test_long_headers_are_not_kept():
    """The decoded-header cache holds short texts only: a client cannot fill it with 1,024 headers of 256 KB."""
    from credentials import jose

    key = PrivateKey.generate("ES256")
    jose._HEADERS.clear()
    UnverifiedJws.parse(sign_jws({"a": 1}, key, header={"typ": "JWT", "pad": "x" * 5000}))
    assert jose._HEADERS == {}
    UnverifiedJws.parse(sign_jws({"a": 1}, key, header={"typ": "JWT"}))
    assert len(jose._HEADERS) == 1


def test_what_an_okp_jwk_carries_beside_its_members_is_not_kept():
    """A did:jwk names its own JWK before any signature is checked: an Ed25519 key with a large 'y' (not one of
    its members) must not make the key cache keep that text: the same key with another 'y' is the same entry."""
    from credentials import jose

    jwk = PrivateKey.generate("EdDSA").public_key().to_jwk()
    first = PublicKey.from_jwk({**jwk, "y": "y" * 100_000})
    entries = jose._jwk_key.cache_info().currsize
    assert PublicKey.from_jwk({**jwk, "y": "z" * 100_000}) is first
    assert jose._jwk_key.cache_info().currsize == entries
    assert first.jwk == jwk


@settings(max_examples=800, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32),
       st.integers(0, 32), st.integers(0, 32), st.booleans(), st.booleans())
def test_an_es256_signature_is_put_in_der_as_encode_dss_signature_puts_it(r, s, r_zeros, s_zeros, r_high, s_high):
    # PublicKey.verify builds the DER from the raw bytes (issue 16); leading zero bytes and high bits are where
    # minimal DER INTEGERs differ, so the cases push them.
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from credentials.jose import _der_signature

    r = bytes(r_zeros) + (bytes([r[0] | 0x80]) if r_high else r[:1]) + r[1:]
    s = bytes(s_zeros) + (bytes([s[0] | 0x80]) if s_high else s[:1]) + s[1:]
    raw = r[:32] + s[:32]
    assert _der_signature(raw) == encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


@pytest.mark.parametrize("alg", ALGS)
def test_a_signature_with_any_byte_changed_does_not_verify(alg):
    key = PrivateKey.generate(alg)
    jws = UnverifiedJws.parse(sign_jws({"a": 1}, key, header={"typ": "JWT"}))
    public = key.public_key()
    assert public.verify(jws.signing_input, jws.signature)
    for i in range(len(jws.signature)):
        changed = bytearray(jws.signature)
        changed[i] ^= 0x01
        assert not public.verify(jws.signing_input, bytes(changed))
    assert not public.verify(jws.signing_input, bytes(64))
    assert not public.verify(jws.signing_input, jws.signature[:-1])
