"""The verifier's fast paths give what the one-by-one paths give (issue 16: speed, never a weaker check).

- :func:`credentials.sd_jwt.common.decoded_disclosures` decodes a presentation's disclosures together; for
  any text :meth:`Disclosure.parse` refuses, or that :func:`json_loads` reads only on its slower path, it
  answers None and the caller decodes them one by one, which says what is wrong: so every refusal keeps
  its reason, and what it accepts has the same salt, name, value and digest (RFC 9901 §4.2, §4.2.3).
- The rule that a registered claim holds no selectively disclosable parts (RFC 9901 §9.7) is judged while
  unpacking, not by walking the value again: the same claim is named.
"""

from __future__ import annotations

import binascii
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import DisclosureError
from credentials.jose import b64url_encode
from credentials.sd_jwt.common import HASH_ALGORITHMS, Disclosure, decoded_disclosures, digest_of
from credentials.sd_jwt.verifier import unpack_disclosures
from credentials.sd_jwt_vc import NEVER_DISCLOSABLE


def _b64(raw: bytes) -> str:
    return b64url_encode(raw)


def _reference(encoded: list[str], sd_alg: str) -> list[tuple[str, Disclosure]] | str:
    """The one-by-one path: each parsed and digested, or the first refusal's reason."""
    if len(set(encoded)) != len(encoded):
        return "the same disclosure is included more than once"
    try:
        parsed = [Disclosure.parse(text) for text in encoded]  # each parsed before its digest, as the unpacker does
    except DisclosureError as exc:
        return exc.reason
    return [(digest_of(text, sd_alg), disclosure) for text, disclosure in zip(encoded, parsed, strict=True)]


def _same(found: list[tuple[str, Disclosure]], expected: list[tuple[str, Disclosure]]) -> None:
    assert [(digest, d.encoded, d.salt, d.name, d.value) for digest, d in found] == [
        (digest, d.encoded, d.salt, d.name, d.value) for digest, d in expected]
    for _, disclosure in found:
        assert type(disclosure) is Disclosure


PLAIN = [_b64(b'["salt-one","title","Intro"]'), _b64(b'["s2","ects",5]'), _b64(b'["s3",["a",{"b":null}]]'),
         _b64('["s4","name","Università ✓"]'.encode()), _b64(b'["s5","x",1.5e3]'), _b64(b'["s6","empty",{}]')]


@pytest.mark.parametrize("sd_alg", sorted(HASH_ALGORITHMS))
def test_plain_disclosures_decode_together_to_the_same_values_and_digests(sd_alg):
    for count in range(len(PLAIN) + 1):
        found = decoded_disclosures(PLAIN[:count], HASH_ALGORITHMS[sd_alg])
        assert found is not None
        expected = _reference(PLAIN[:count], sd_alg)
        assert not isinstance(expected, str)
        _same(found, expected)


_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _noncanonical(raw: bytes) -> str:
    """``raw`` in base64url whose last character has an unused bit set: it decodes to the same bytes."""
    text = _b64(raw)
    assert len(text) % 4 in (2, 3)
    return text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) + 1]


NOT_PLAIN = {
    "given twice": [PLAIN[0], PLAIN[1], PLAIN[0]],
    "one character over a group": [PLAIN[0], PLAIN[1] + "A"],
    "non-canonical trailing bits": [PLAIN[0], _noncanonical(b'["s","n",123]'), PLAIN[1]],
    "non-canonical trailing bits, three over": [_noncanonical(b'["s","n",1234]'), PLAIN[1]],
    "standard alphabet": [PLAIN[0], PLAIN[1].replace("_", "/").replace("-", "+") + "+/+/"],
    "padding": [PLAIN[0] + "=" * (-len(PLAIN[0]) % 4), PLAIN[1]],
    "not ASCII": [PLAIN[0], PLAIN[1] + "é"],
    "a space": [PLAIN[0], PLAIN[1][:4] + " " + PLAIN[1][4:]],
    "BOM": [_b64(b'\xef\xbb\xbf["s","n",1]')],
    "whitespace around": [_b64(b' ["s","n",1] ')],
    "extra data": [_b64(b'["s","n",1]x')],
    "duplicate member": [_b64(b'["s","n",{"a":1,"a":2}]')],
    "NaN": [_b64(b'["s","n",NaN]')],
    "not UTF-8": [_b64(b'["s","n","\xff"]')],
    "not an array": [_b64(b'{"s":1}')],
    "one element": [_b64(b'["s"]')],
    "four elements": [_b64(b'["s","n",1,2]')],
    "salt not a string": [_b64(b'[1,"n",1]')],
    "name not a string": [_b64(b'["s",1,1]')],
    "reserved name _sd": [_b64(b'["s","_sd",1]')],
    "reserved name ...": [_b64(b'["s","...",1]')],
    "reserved name _sd_alg": [_b64(b'["s","_sd_alg",1]')],
    "numbers that run on into the next": [_b64(b"123"), _b64(b"456")],  # read together: 123456
    "a value that ends in the next": [_b64(b'["s","n",'), _b64(b'1]xx')],
}


@pytest.mark.parametrize("case", sorted(NOT_PLAIN))
def test_anything_not_plain_is_left_to_the_one_by_one_path(case):
    encoded = NOT_PLAIN[case]
    assert decoded_disclosures(encoded, HASH_ALGORITHMS["sha-256"]) is None


@pytest.mark.parametrize("case", sorted(NOT_PLAIN))
def test_unpacking_refuses_what_is_not_plain_with_the_one_by_one_reason(case):
    encoded = NOT_PLAIN[case]
    payload = {"_sd": sorted(digest_of(text) for text in encoded if text.isascii())}
    expected = _reference(encoded, "sha-256")
    if not isinstance(expected, str):  # valid, only not plain (whitespace around the JSON): it unpacks
        claims, used = unpack_disclosures(payload, encoded)
        assert claims == {d.name: d.value for _, d in expected}
        assert len(used) == len(encoded)
        return
    with pytest.raises(DisclosureError) as caught:
        unpack_disclosures(payload, encoded)
    assert caught.value.reason == expected


def test_disclosures_side_by_side_without_fill_are_each_read_alone():
    encoded = [_b64(b'["s1","a",1]'), _b64(b'["s2","b",[12]]'), _b64(b'["s3",{"cd":3}]')]  # 12, 15, 15 bytes
    assert all(len(text) % 4 == 0 for text in encoded)
    found = decoded_disclosures(encoded, HASH_ALGORITHMS["sha-256"])
    expected = _reference(encoded, "sha-256")
    assert found is not None
    assert not isinstance(expected, str)
    _same(found, expected)


def test_a_forbidden_character_in_each_of_four_disclosures_is_still_found():
    # Four deleted characters shift the whole text by a group: the decoded length gives it away.
    encoded = [PLAIN[0] + "+", PLAIN[1] + "/", PLAIN[2] + "=", PLAIN[3] + "+"]
    assert decoded_disclosures(encoded, HASH_ALGORITHMS["sha-256"]) is None


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(alphabet=string.ascii_letters + string.digits + "-_+/= é", max_size=24),
                      min_size=1, max_size=4),
       inner=st.lists(st.binary(max_size=24), max_size=3))
def test_any_text_decodes_together_only_as_one_by_one_decoding_reads_it(texts, inner):
    encoded = texts + [binascii.b2a_base64(raw, newline=False).decode().rstrip("=").translate(
        str.maketrans("+/", "-_")) for raw in inner]
    encoded = [text for text in encoded if text]
    expected = _reference(encoded, "sha-256")
    found = decoded_disclosures(encoded, HASH_ALGORITHMS["sha-256"])
    if isinstance(expected, str):
        assert found is None
    elif found is not None:
        _same(found, expected)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                                    lambda inner: st.lists(inner, max_size=3)
                                    | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6),
                       min_size=1, max_size=4),
       salts=st.lists(st.text(max_size=6), min_size=4, max_size=4))
def test_any_json_disclosure_decodes_together_to_what_parse_gives(values, salts):
    from credentials._json import json_dumps
    encoded = [_b64(json_dumps([salts[i], f"c{i}", value]).encode()) for i, value in enumerate(values)]
    expected = _reference(encoded, "sha-256")
    found = decoded_disclosures(encoded, HASH_ALGORITHMS["sha-256"])
    assert found is not None
    assert not isinstance(expected, str)
    _same(found, expected)


def _disclosure(name: str, value: object) -> str:
    return _b64(f'["salt-{name}","{name}",{value}]'.encode())


@pytest.mark.parametrize("holding", [
    {"cnf": {"jwk": {"_sd": []}}, "status": {"status_list": {"_sd": []}}},
    {"status": [{"...": "not-a-known-digest"}], "cnf": {"jwk": {"kty": "EC"}}},
    {"vct": "x", "status": {"a": [[{"b": {"_sd": ["d"]}}]]}, "iss": "i"},
])
def test_the_first_registered_claim_by_name_with_disclosable_parts_is_named(holding):
    names = sorted(name for name, value in holding.items() if "_sd" in repr(value) or "..." in repr(value))
    with pytest.raises(DisclosureError) as caught:
        unpack_disclosures(holding, [], never_disclosable=NEVER_DISCLOSABLE)
    assert caught.value.reason == (f"the registered claim {names[0]!r} has selectively disclosable parts; "
                                   "it must be wholly in the clear in the issuer-signed payload")


def test_disclosable_parts_of_other_claims_are_not_counted_against_registered_ones():
    encoded = [_disclosure("inner", 1)]
    payload = {"cnf": {"jwk": {"kty": "EC"}}, "learner": {"_sd": [digest_of(encoded[0])]}, "status": [1, {"a": 2}]}
    claims, used = unpack_disclosures(payload, encoded, never_disclosable=NEVER_DISCLOSABLE)
    assert claims == {"cnf": {"jwk": {"kty": "EC"}}, "learner": {"inner": 1}, "status": [1, {"a": 2}]}
    assert [d.name for d in used] == ["inner"]


@pytest.mark.parametrize(("typ", "expected", "accepted"), [
    ("kb+jwt", ("kb+jwt",), True),
    ("KB+JWT", ("kb+jwt",), True),
    ("application/kb+jwt", ("kb+jwt",), True),
    ("application/kb+jwt", ("application/kb+jwt",), False),  # found as it is, but compared without the prefix
    ("Application/kb+jwt", ("Application/kb+jwt",), False),
    ("dc+sd-jwt", ("vc+sd-jwt", "dc+sd-jwt"), True),
    ("kb+jwt", ("dc+sd-jwt",), False),
    (["kb+jwt"], ("kb+jwt",), False),
])
def test_a_typ_found_as_it_is_is_judged_as_the_normalised_comparison_judges_it(typ, expected, accepted):
    from credentials.errors import FormatError
    from credentials.jose import PrivateKey, UnverifiedJws, sign_jws
    jws = UnverifiedJws.parse(sign_jws({"a": 1}, PrivateKey.generate("ES256"), header={"typ": typ}))
    if accepted:
        jws.check_typ(expected)
    else:
        with pytest.raises(FormatError):
            jws.check_typ(expected)


def test_a_key_binding_policy_is_the_frozen_value_it_was():
    import dataclasses

    from credentials.sd_jwt.key_binding import DEFAULT_KB_MAX_AGE, DEFAULT_LEEWAY, KeyBindingPolicy
    policy = KeyBindingPolicy(False, "https://v.example", "n", 10, 5)
    assert (policy.required, policy.audience, policy.nonce, policy.max_age, policy.leeway) == (
        False, "https://v.example", "n", 10, 5)
    assert KeyBindingPolicy() == KeyBindingPolicy(required=True, audience=None, nonce=None,
                                                  max_age=DEFAULT_KB_MAX_AGE, leeway=DEFAULT_LEEWAY)
    assert dataclasses.replace(policy, nonce="m") == KeyBindingPolicy(False, "https://v.example", "m", 10, 5)
    assert hash(policy) == hash(KeyBindingPolicy(False, "https://v.example", "n", 10, 5))
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.nonce = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        KeyBindingPolicy(unknown=1)  # type: ignore[call-arg]


@pytest.mark.parametrize("payload", [
    b'{"a":1}', b' {"a":1} ', b'\xef\xbb\xbf{"a":1}', b'{"a":1,"a":2}', b'[1]', b'"a"', b'{"a":NaN}',
    b'{"a":1}x', b'{"a":"\xff"}', b'{"a":{"b":[1,{"c":null}]}}', b'{}',
])
def test_a_jws_payload_is_read_or_refused_as_json_loads_object_reads_it(payload):
    from credentials.errors import FormatError, InvalidInput
    from credentials.jose import UnverifiedJws, json_loads_object
    header = _b64(b'{"alg":"ES256"}')
    token = f"{header}.{_b64(payload)}.{_b64(bytes(64))}"
    try:
        expected = json_loads_object(payload, what="JWT payload")
    except InvalidInput as exc:
        with pytest.raises(FormatError) as caught:
            UnverifiedJws.parse(token)
        assert caught.value.reason == f"the JWT is malformed: {exc}"
    else:
        assert UnverifiedJws.parse(token).payload == expected
