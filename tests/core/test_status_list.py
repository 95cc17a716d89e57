"""IETF Token Status List: the draft's vectors, round trips, the JWT, and every refusal."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import FormatError, InvalidStatusList, RevocationError
from credentials.jose import PrivateKey, UnverifiedJws, b64url_decode, b64url_encode, json_dumps, sign_jws
from credentials.status_list import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    MIN_STATUS_LIST_ENTRIES,
    STATUS_APPLICATION_SPECIFIC,
    STATUS_INVALID,
    STATUS_LIST_TOKEN_TYP,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    StatusReference,
    referenced_status,
    sign_status_list_token,
    verify_status_list_token,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "token-status-list"
LIST_VECTORS = sorted(p for p in VECTORS.glob("*.json") if "status_list" in json.loads(p.read_text()))
URI = "https://issuer.example/statuslists/1"
NOW = 1_700_000_000
KEY = PrivateKey.generate("ES256")


# --- the draft's vectors ------------------------------------------------------------


@pytest.mark.parametrize("path", LIST_VECTORS, ids=lambda p: p.stem)
def test_draft_status_list_vector(path):
    vector = json.loads(path.read_text(encoding="utf-8"))
    status_list = StatusList.from_json(vector["status_list"])
    assert status_list.bits == vector["status_list"]["bits"]
    if "statuses" in vector:
        expected = vector["statuses"]
        assert [status_list.get(i) for i in range(len(expected))] == expected
        assert status_list.to_bytes().hex() == vector["byte_array_hex"]
        compressed = b64url_decode(vector["status_list"]["lst"])
        assert compressed.hex() == vector["compressed_hex"]
    else:
        assert status_list.size == vector["size"]
        expected = {int(index): value for index, value in vector["set"].items()}
        assert {i: status_list.get(i) for i in expected} == expected
        data = status_list.to_bytes()
        nonzero = {i for i in range(status_list.size) if data[i * status_list.bits // 8]}
        found = {i: status_list.get(i) for i in nonzero if status_list.get(i)}
        assert found == expected
    # our own encoding of the same statuses decodes to the same list
    assert StatusList.from_json(status_list.to_json()) == status_list


def test_draft_jwt_example_payload_signs_and_verifies():
    example = json.loads((VECTORS / "s5-1-status-list-token-jwt.json").read_text(encoding="utf-8"))
    payload, header = example["payload"], example["header"]
    status_list = StatusList.from_json(payload["status_list"])
    token = sign_status_list_token(
        status_list, KEY, uri=payload["sub"], iat=payload["iat"], kid=header["kid"],
        exp=payload["exp"], ttl=payload["ttl"],
    )
    jws = UnverifiedJws.parse(token)
    assert jws.header == header
    assert {k: v for k, v in jws.payload.items() if k != "status_list"} == {
        k: v for k, v in payload.items() if k != "status_list"
    }
    verified = verify_status_list_token(token, KEY.public_key(), expected_uri=payload["sub"], now=payload["iat"])
    assert (verified.uri, verified.iat, verified.exp, verified.ttl) == (
        payload["sub"], payload["iat"], payload["exp"], payload["ttl"],
    )
    assert [verified.status(i) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    # and the draft's own header+payload, signed verbatim, verifies too
    verbatim = sign_jws(payload, KEY, header={k: v for k, v in header.items() if k != "alg"})
    verified = verify_status_list_token(verbatim, KEY.public_key(), expected_uri=payload["sub"], now=payload["iat"])
    assert verified.header["kid"] == "12"


# --- the list itself ----------------------------------------------------------------


def test_status_type_values():
    assert (STATUS_VALID, STATUS_INVALID, STATUS_SUSPENDED, STATUS_APPLICATION_SPECIFIC) == (0, 1, 2, 3)


def test_new_list_has_the_herd_privacy_minimum_and_is_all_valid():
    status_list = StatusList.new()
    assert status_list.size == MIN_STATUS_LIST_ENTRIES == 131_072
    assert len(status_list.to_bytes()) == 16_384
    assert status_list.get(0) == status_list.get(131_071) == STATUS_VALID
    with pytest.raises(InvalidStatusList, match="at least 131072 entries"):
        StatusList.new(1000)
    assert StatusList.new(10, 2, minimum=1).size == 12  # rounded up to whole bytes


def test_index_zero_is_the_least_significant_bits_of_byte_zero():
    one = StatusList.new(8, 1, minimum=1)
    one.set(0, STATUS_INVALID)
    assert one.to_bytes() == b"\x01"
    four = StatusList.new(4, 4, minimum=1)
    four.set(1, 0xA)
    assert four.to_bytes() == b"\xa0\x00"


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_set_replaces_only_its_own_bits(bits):
    status_list = StatusList.new(64, bits, minimum=1)
    top = (1 << bits) - 1
    for index in range(64):
        status_list.set(index, top)
    status_list.set(5, 0)
    assert [status_list.get(i) for i in range(64)] == [0 if i == 5 else top for i in range(64)]


@pytest.mark.parametrize("index", [-1, 16, True, 1.0, "1"])
def test_index_outside_the_list_is_refused(index):
    status_list = StatusList.from_json({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    with pytest.raises(InvalidStatusList, match="outside the status list of 16 entries"):
        status_list.get(index)
    with pytest.raises(InvalidStatusList):
        status_list.set(index, 1)


@pytest.mark.parametrize(("bits", "value"), [(1, 2), (2, 4), (4, 16), (8, 256), (1, -1), (1, True)])
def test_value_must_fit_the_bits(bits, value):
    with pytest.raises(InvalidStatusList, match="does not fit"):
        StatusList.new(8, bits, minimum=1).set(0, value)


def test_to_json_carries_aggregation_uri():
    status_list = StatusList.new(8, minimum=1, aggregation_uri="https://issuer.example/aggregation")
    obj = status_list.to_json()
    assert obj["aggregation_uri"] == "https://issuer.example/aggregation"
    assert StatusList.from_json(obj) == status_list
    assert StatusList.from_json({**obj, "extension": True}) == status_list
    assert status_list != StatusList.new(8, minimum=1)
    assert status_list != "a string"
    assert repr(status_list) == "StatusList(bits=1, size=8)"


@settings(max_examples=30, deadline=None)
@given(
    bits=st.sampled_from([1, 2, 4, 8]),
    data=st.data(),
)
def test_set_get_encode_decode_round_trip(bits, data):
    size = data.draw(st.integers(min_value=1, max_value=4096), label="size")
    status_list = StatusList.new(size, bits, minimum=1)
    chosen = data.draw(
        st.dictionaries(st.integers(0, status_list.size - 1), st.integers(0, (1 << bits) - 1), max_size=64),
        label="statuses",
    )
    for index, value in chosen.items():
        status_list.set(index, value)
    decoded = StatusList.from_json(json.loads(json_dumps(status_list.to_json())))
    assert decoded == status_list
    for index in range(status_list.size):
        assert decoded.get(index) == chosen.get(index, STATUS_VALID)


# --- refusing malformed lists ---------------------------------------------------------


def _lst(raw: bytes) -> str:
    return b64url_encode(raw)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1], "must be a JSON object"),
        ({"lst": "eNrbuRgAAhcBXQ"}, "'bits' must be one of"),
        ({"bits": 3, "lst": "eNrbuRgAAhcBXQ"}, "found 3"),
        ({"bits": True, "lst": "eNrbuRgAAhcBXQ"}, "found True"),
        ({"bits": "1", "lst": "eNrbuRgAAhcBXQ"}, "found '1'"),
        ({"bits": 1}, "'lst' must be a base64url string, found NoneType"),
        ({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}, "not base64url"),
        ({"bits": 1, "lst": "eNrb+RgAAhcBXQ"}, "not base64url"),
        ({"bits": 1, "lst": _lst(b"not zlib at all")}, "not valid compressed data"),
        ({"bits": 1, "lst": _lst(zlib.compress(b"\x01\x02")[:-3])}, "truncated"),
        ({"bits": 1, "lst": _lst(zlib.compress(b"\x01\x02") + b"junk")}, "4 bytes after"),
        ({"bits": 1, "lst": _lst(zlib.compress(b""))}, "at least one byte"),
        ({"bits": 1, "lst": _lst(zlib.compress(b"\x00", 9, -15))}, "not valid compressed data"),
        ({"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": 7}, "'aggregation_uri' must be a string"),
    ],
    ids=[
        "not-object", "no-bits", "bits-3", "bits-bool", "bits-string", "no-lst", "padded", "std-alphabet",
        "not-zlib", "truncated", "trailing", "empty", "raw-deflate", "aggregation-uri-type",
    ],
)
def test_malformed_status_list_is_refused(obj, message):
    with pytest.raises(InvalidStatusList, match=message):
        StatusList.from_json(obj)


def test_decompression_bomb_is_refused():
    bomb = {"bits": 1, "lst": _lst(zlib.compress(bytes(DEFAULT_MAX_DECOMPRESSED_BYTES + 1), 9))}
    assert len(bomb["lst"]) < 40_000
    with pytest.raises(InvalidStatusList, match="inflates past the limit of 16777216 bytes"):
        StatusList.from_json(bomb)
    small = {"bits": 1, "lst": _lst(zlib.compress(bytes(2048), 9))}
    with pytest.raises(InvalidStatusList, match="limit of 1024"):
        StatusList.from_json(small, max_decompressed_bytes=1024)
    assert StatusList.from_json(small, max_decompressed_bytes=2048).size == 16_384


def test_new_refuses_bad_arguments():
    with pytest.raises(InvalidStatusList, match="'bits'"):
        StatusList.new(8, 3, minimum=1)
    with pytest.raises(InvalidStatusList, match="at least 1 entries"):
        StatusList.new(0, minimum=0)
    with pytest.raises(InvalidStatusList, match="'aggregation_uri'"):
        StatusList(b"\x00", 1, aggregation_uri=b"x")  # type: ignore[arg-type]


# --- signing and verifying the Status List Token --------------------------------------


def _token(**overrides):
    status_list = StatusList.new()
    status_list.set(88_123, STATUS_INVALID)
    kwargs = {"uri": URI, "iat": NOW - 10, "kid": "did:key:z#z", "exp": NOW + 3600, "ttl": 600, **overrides}
    return sign_status_list_token(status_list, KEY, **kwargs)


def test_sign_and_verify_round_trip():
    verified = verify_status_list_token(_token(), KEY.public_key(), expected_uri=URI, now=NOW)
    assert verified.status(88_123) == STATUS_INVALID
    assert verified.status(88_124) == STATUS_VALID
    assert verified.header["typ"] == STATUS_LIST_TOKEN_TYP
    assert verified.header["kid"] == "did:key:z#z"
    minimal = sign_status_list_token(StatusList.new(), KEY, uri=URI, iat=NOW, kid="k")
    verified = verify_status_list_token(minimal, KEY.public_key(), expected_uri=URI, now=NOW + 10**9)
    assert (verified.exp, verified.ttl) == (None, None)
    assert "exp" not in UnverifiedJws.parse(minimal).payload


def test_index_outside_the_verified_list_fails_revocation():
    verified = verify_status_list_token(_token(), KEY.public_key(), expected_uri=URI, now=NOW)
    with pytest.raises(RevocationError, match="outside the status list of 131072 entries"):
        verified.status(131_072)


def _resigned(payload_changes=(), header_changes=(), key=KEY):
    jws = UnverifiedJws.parse(_token())
    payload = {**jws.payload, **dict(payload_changes)}
    header = {**jws.header, **dict(header_changes)}
    header.pop("alg")
    for name in [k for k, v in payload.items() if v is None]:
        payload.pop(name)
    return sign_jws(payload, key, header=header)


def _with_alg_none(token: str) -> str:
    header, payload, _ = token.split(".")
    new_header = b64url_encode(json_dumps({**json.loads(b64url_decode(header)), "alg": "none"}).encode())
    return f"{new_header}.{payload}."


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not a jwt", r"malformed: the status list token must have 3"),
        (_resigned(header_changes={"typ": "JWT"}), r"malformed: .*typ 'JWT'; expected 'statuslist\+jwt'"),
        (_resigned(header_changes={"typ": None}), r"malformed: .*typ None"),
        (_with_alg_none(_token()), r"algorithm 'none'"),
        (_resigned(key=PrivateKey.generate("ES256")), r"signature does not match"),
        (_resigned(key=PrivateKey.generate("EdDSA")), r"signed with EdDSA but the key is for ES256"),
        (_resigned({"sub": "https://issuer.example/statuslists/2"}),
         r"is for .*/2', but the credential points at .*/1'"),
        (_resigned({"sub": None}), r"malformed: 'sub' must be the list's URI"),
        (_resigned({"iat": None}), r"malformed: 'iat' is missing"),
        (_resigned({"iat": "yesterday"}), r"malformed: 'iat' must be a whole number of seconds"),
        (_resigned({"exp": NOW}), r"expired at 1700000000; it is now 1700000000"),
        (_resigned({"exp": 1.5}), r"malformed: 'exp'"),
        (_resigned({"ttl": 0}), r"malformed: 'ttl' must be a positive integer"),
        (_resigned({"status_list": None}), r"malformed: its status_list: a status list must be a JSON object"),
        (_resigned({"status_list": {"bits": 1, "lst": "%%"}}), r"malformed: its status_list: 'lst'"),
    ],
    ids=[
        "not-jwt", "typ-jwt", "typ-missing", "alg-none", "wrong-key", "wrong-alg", "other-uri", "no-sub",
        "no-iat", "iat-string", "expired", "exp-float", "ttl-zero", "no-status-list", "bad-lst",
    ],
)
def test_bad_status_list_token_fails_revocation(token, message):
    with pytest.raises(RevocationError, match=message) as caught:
        verify_status_list_token(token, KEY.public_key(), expected_uri=URI, now=NOW)
    assert caught.value.check == "revocation"


@settings(max_examples=25, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_byte_is_refused(position, bit):
    token = _token()
    raw = bytearray(token.encode())
    index = position % len(raw)
    raw[index] ^= 1 << bit
    try:
        tampered = raw.decode()
    except UnicodeDecodeError:
        return
    if tampered == token:  # pragma: no cover - a flip always changes the byte
        return
    with pytest.raises(RevocationError):
        verify_status_list_token(tampered, KEY.public_key(), expected_uri=URI, now=NOW)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"uri": ""}, "URI as 'sub'"),
        ({"iat": -1}, "'iat'"),
        ({"exp": NOW - 20}, "'exp' must be an integer after iat"),
        ({"ttl": 0}, "'ttl' must be a positive integer"),
    ],
)
def test_signing_refuses_bad_claims(kwargs, message):
    with pytest.raises(InvalidStatusList, match=message):
        _token(**kwargs)


# --- the credential's status reference ------------------------------------------------


def test_referenced_status_reads_idx_and_uri():
    payload = {"status": {"status_list": {"idx": 88_123, "uri": URI}}}
    assert referenced_status(payload) == StatusReference(uri=URI, idx=88_123)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "expected a 'status' object"),
        ({"status": []}, "expected a 'status' object"),
        ({"status": {"other": {}}}, "'status.status_list' to be an object"),
        ({"status": {"status_list": {"uri": URI}}}, "idx' to be a non-negative integer, found None"),
        ({"status": {"status_list": {"idx": -1, "uri": URI}}}, "found -1"),
        ({"status": {"status_list": {"idx": "7", "uri": URI}}}, "found '7'"),
        ({"status": {"status_list": {"idx": True, "uri": URI}}}, "found True"),
        ({"status": {"status_list": {"idx": 7.0, "uri": URI}}}, "found 7.0"),
        ({"status": {"status_list": {"idx": 7}}}, "uri' to be a string"),
        ({"status": {"status_list": {"idx": 7, "uri": "ftp://x/y"}}}, "http\\(s\\) URL"),
        ({"status": {"status_list": {"idx": 7, "uri": "https:///nohost"}}}, "http\\(s\\) URL"),
        ({"status": {"status_list": {"idx": 7, "uri": URI + "#frag"}}}, "without fragment"),
        ({"status": {"status_list": {"idx": 7, "uri": "https://[::1"}}}, "not a URL"),
    ],
)
def test_referenced_status_is_strict(payload, message):
    with pytest.raises(FormatError, match=message):
        referenced_status(payload)


def test_referenced_status_needs_a_mapping():
    with pytest.raises(FormatError):
        referenced_status(["not", "a", "payload"])  # type: ignore[arg-type]
