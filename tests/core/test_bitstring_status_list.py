"""W3C Bitstring Status List v1.0: the spec's examples, round trips, and refusals."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.bitstring_status_list import (
    MIN_BITSTRING_LENGTH,
    PURPOSE_REVOCATION,
    PURPOSE_SUSPENSION,
    Bitstring,
    BitstringStatusListEntry,
    build_status_list_credential,
    entry_status,
    parse_status_list_credential,
    read_credential_status,
    status_at,
)
from credentials.errors import FormatError, InvalidStatusList, RevocationError
from credentials.jose import b64url_encode

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "bitstring-status-list"
VECTOR_FILES = sorted(VECTORS.glob("*.json"))
LIST_URL = "https://example.com/credentials/status/3"
VALID_FROM = 1_617_632_860  # 2021-04-05T14:27:40Z


def _load(name: str):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


# --- the spec's examples, one parametrised test -------------------------------------


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_spec_example(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    types = document["type"]
    if "BitstringStatusListCredential" in types:
        parsed = parse_status_list_credential(document)
        assert parsed.bitstring.length == MIN_BITSTRING_LENGTH
        assert not any(parsed.bitstring.to_bytes())  # the example list has nothing revoked
        assert parsed.status_purposes == (PURPOSE_REVOCATION,)
        assert (parsed.id, parsed.issuer, parsed.subject_id) == (
            LIST_URL, "did:example:12345", "https://example.com/status/3#list",
        )
        assert status_at(document["credentialSubject"], 94567) is False
        ours = build_status_list_credential(
            parsed.bitstring, id=LIST_URL, issuer=parsed.issuer, valid_from=VALID_FROM
        )
        assert ours["validFrom"] == document["validFrom"]
        assert {k: v for k, v in ours.items() if k != "credentialSubject"} == {
            k: v for k, v in document.items() if k != "credentialSubject"
        }
        assert parse_status_list_credential(ours).bitstring == parsed.bitstring
    elif document["credentialStatus"] and _purposes(document) <= {"revocation", "suspension"}:
        entries = read_credential_status(document)
        assert entries == (
            BitstringStatusListEntry("revocation", 94567, LIST_URL, LIST_URL + "#94567"),
            BitstringStatusListEntry(
                "suspension", 23452, "https://example.com/credentials/status/4",
                "https://example.com/credentials/status/4#23452",
            ),
        )
        status_list = parse_status_list_credential(_load("example-bitstring-status-list-credential.json"))
        assert entry_status(entries[0], status_list) is False
        with pytest.raises(RevocationError, match="points at"):
            entry_status(entries[1], status_list)
    else:
        with pytest.raises(FormatError, match="message and other purposes are not supported"):
            read_credential_status(document)


def _purposes(document) -> set[str]:
    status = document["credentialStatus"]
    return {entry["statusPurpose"] for entry in (status if isinstance(status, list) else [status])}


# --- the bitstring ------------------------------------------------------------------


def test_index_zero_is_the_left_most_bit():
    bitstring = Bitstring.new()
    bitstring.set(0, True)
    bitstring.set(10, True)
    assert bitstring.to_bytes()[:2] == bytes([0b1000_0000, 0b0010_0000])
    assert bitstring.get(0)
    assert bitstring.get(10)
    assert not bitstring.get(7)
    bitstring.set(0, False)
    assert bitstring.to_bytes()[0] == 0


def test_encoded_list_is_multibase_gzip():
    bitstring = Bitstring.new()
    encoded = bitstring.encode()
    assert encoded.startswith("uH4sI")  # 'u' + base64url of the GZIP magic 1f 8b 08
    assert Bitstring.decode(encoded) == bitstring
    assert len(encoded) < 200  # 16 KB of zeros compresses to a few dozen bytes
    assert repr(bitstring) == "Bitstring(length=131072)"
    assert bitstring != "a string"


def test_other_gzip_writers_decode_too():
    data = bytearray(MIN_BITSTRING_LENGTH // 8)
    data[11_818] = 0b0000_0001  # index 94551 (11818 * 8 + 7)
    encoded = "u" + b64url_encode(gzip.compress(bytes(data), mtime=1_700_000_000))
    assert Bitstring.decode(encoded).get(94_551) is True


@settings(max_examples=25, deadline=None)
@given(indices=st.sets(st.integers(min_value=0, max_value=MIN_BITSTRING_LENGTH - 1), max_size=200))
def test_set_get_encode_decode_round_trip(indices):
    bitstring = Bitstring.new()
    for index in indices:
        bitstring.set(index, True)
    decoded = Bitstring.decode(bitstring.encode())
    assert decoded == bitstring
    assert {i for i in indices if decoded.get(i)} == indices
    data = decoded.to_bytes()
    assert sum(bin(b).count("1") for b in data) == len(indices)


def test_new_enforces_the_minimum():
    with pytest.raises(InvalidStatusList, match="at least 131072 entries"):
        Bitstring.new(1024)
    assert Bitstring.new(12, minimum=1).length == 16
    with pytest.raises(InvalidStatusList, match="at least one byte"):
        Bitstring(b"")


@pytest.mark.parametrize("index", [-1, MIN_BITSTRING_LENGTH, True, "3"])
def test_index_outside_is_refused(index):
    with pytest.raises(InvalidStatusList, match="outside the bitstring"):
        Bitstring.new().get(index)


def test_set_takes_a_bool():
    with pytest.raises(InvalidStatusList, match="True or False"):
        Bitstring.new().set(1, 1)  # type: ignore[arg-type]


def _u(raw: bytes) -> str:
    return "u" + b64url_encode(raw)


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (7, "must be a string, found int"),
        ("zH4sI", r"prefix 'u'\), found prefix 'z'"),
        ("", "found prefix ''"),
        ("uH4sI==", "not base64url"),
        (_u(b"not gzip"), "not valid compressed data"),
        (_u(zlib.compress(bytes(16_384))), "not valid compressed data"),
        (_u(gzip.compress(bytes(16_384))[:-6]), "truncated"),
        (_u(gzip.compress(bytes(16_384)) + b"\x00\x01"), "2 bytes after"),
        (_u(gzip.compress(bytes(1024))), "holds 8192 entries; at least 131072"),
        (_u(gzip.compress(bytes(17 * 1024 * 1024))), "inflates past the limit"),
    ],
    ids=["not-string", "base58", "empty", "padded", "not-gzip", "zlib-not-gzip", "truncated", "trailing", "too-short",
         "bomb"],
)
def test_malformed_encoded_list_is_refused(encoded, message):
    with pytest.raises(InvalidStatusList, match=message):
        Bitstring.decode(encoded)


# --- building and parsing the list credential ----------------------------------------


def test_build_then_parse_with_suspension_and_valid_until():
    bitstring = Bitstring.new()
    bitstring.set(23_452, True)
    credential = build_status_list_credential(
        bitstring, id="https://issuer.example/status/4", issuer="did:key:z6Mk",
        valid_from=VALID_FROM, status_purpose=PURPOSE_SUSPENSION, valid_until=VALID_FROM + 86_400,
    )
    assert credential["validUntil"] == "2021-04-06T14:27:40Z"
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    parsed = parse_status_list_credential(credential)
    assert parsed.status_purposes == (PURPOSE_SUSPENSION,)
    assert parsed.valid_until == "2021-04-06T14:27:40Z"
    entry = BitstringStatusListEntry(PURPOSE_SUSPENSION, 23_452, "https://issuer.example/status/4")
    assert entry_status(entry, parsed) is True
    wrong_purpose = BitstringStatusListEntry(PURPOSE_REVOCATION, 23_452, "https://issuer.example/status/4")
    with pytest.raises(RevocationError, match="serves suspension, but the credential's entry is for revocation"):
        entry_status(wrong_purpose, parsed)
    outside = BitstringStatusListEntry(PURPOSE_SUSPENSION, MIN_BITSTRING_LENGTH, "https://issuer.example/status/4")
    with pytest.raises(RevocationError, match="outside the bitstring") as caught:
        entry_status(outside, parsed)
    assert caught.value.check == "revocation"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "not a url"}, "id must be a URL"),
        ({"issuer": ""}, "issuer must be a URL or DID"),
        ({"status_purpose": "message"}, "message and other purposes are not supported"),
        ({"valid_until": VALID_FROM}, "validUntil must be after validFrom"),
        ({"valid_from": "2021-04-05"}, "integer epoch seconds"),
        ({"bitstring": Bitstring.new(8, minimum=1)}, "holds 8 entries"),
    ],
)
def test_build_refuses_bad_arguments(kwargs, message):
    arguments = {"bitstring": Bitstring.new(), "id": LIST_URL, "issuer": "did:example:12345", "valid_from": VALID_FROM}
    with pytest.raises(InvalidStatusList, match=message):
        build_status_list_credential(**{**arguments, **kwargs})


def _credential(**changes):
    credential = _load("example-bitstring-status-list-credential.json")
    subject_changes = changes.pop("subject", {})
    credential["credentialSubject"] = {**credential["credentialSubject"], **subject_changes}
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not None}


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ([], "must be a JSON object"),
        (_credential(**{"@context": ["https://www.w3.org/2018/credentials/v1"]}), "'@context' to start with"),
        (_credential(type=["VerifiableCredential"]), "'type' to include"),
        (_credential(type="BitstringStatusListCredential"), "'type' to include"),
        (_credential(issuer=None), "'issuer' to be a URL"),
        (_credential(issuer={"name": "x"}), "'issuer' to be a URL"),
        (_credential(credentialSubject=[{}]), "one 'credentialSubject' object"),
        (_credential(subject={"type": "StatusList2021"}), "credentialSubject type"),
        (_credential(subject={"statusPurpose": "message"}), "not supported"),
        (_credential(subject={"statusPurpose": []}), "names no statusPurpose"),
        (_credential(subject={"statusPurpose": [{"revocation": True}]}), "not supported"),  # unhashable: no TypeError
        (_credential(subject={"statusPurpose": [["revocation"]]}), "not supported"),
        (_credential(subject={"ttl": -5}), "'ttl' must be a non-negative integer"),
        (_credential(subject={"encodedList": None}), "'encodedList' must be a string"),
        (_credential(validFrom=20210405), "'validFrom' must be a string"),
    ],
)
def test_parse_refuses_malformed_list_credentials(credential, message):
    with pytest.raises(InvalidStatusList, match=message):
        parse_status_list_credential(credential)


def test_parse_accepts_issuer_object_ttl_and_several_purposes():
    parsed = parse_status_list_credential(
        _credential(issuer={"id": "did:example:12345"},
                    subject={"statusPurpose": ["revocation", "suspension"], "ttl": 500})
    )
    assert (parsed.issuer, parsed.status_purposes, parsed.ttl) == (
        "did:example:12345", ("revocation", "suspension"), 500)


def test_status_at_reads_a_subject():
    bitstring = Bitstring.new()
    bitstring.set(42, True)
    subject = {"type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": bitstring.encode()}
    assert status_at(subject, 42) is True
    assert status_at(subject, 43) is False
    with pytest.raises(InvalidStatusList, match="JSON object"):
        status_at([subject], 42)  # type: ignore[arg-type]


# --- reading credentialStatus strictly ------------------------------------------------

ENTRY = {
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": LIST_URL,
}


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (None, "no 'credentialStatus'"),
        ([], "list is empty"),
        (["x"], r"credentialStatus\[0\] to be an object"),
        ({**ENTRY, "type": "StatusList2021Entry"}, "type 'BitstringStatusListEntry'"),
        ({**ENTRY, "statusPurpose": "refresh"}, "found 'refresh'"),
        ({**ENTRY, "statusPurpose": {"revocation": True}}, "statusPurpose must be"),  # unhashable: no TypeError
        ({**ENTRY, "statusPurpose": ["revocation"]}, "statusPurpose must be"),
        ({**ENTRY, "statusListIndex": 94567}, "base-10 string"),
        ({**ENTRY, "statusListIndex": "-1"}, "base-10 string"),
        ({**ENTRY, "statusListIndex": "0x10"}, "base-10 string"),
        ({**ENTRY, "statusListIndex": "007"}, "base-10 string"),
        ({**ENTRY, "statusListIndex": " 7"}, "base-10 string"),
        ({**ENTRY, "statusListIndex": "9" * 20}, "base-10 string"),
        ({**ENTRY, "statusListCredential": "status/3"}, "statusListCredential to be a URL"),
        ({**ENTRY, "statusListCredential": 3}, "statusListCredential to be a URL"),
        ({**ENTRY, "statusListCredential": "https://[::1"}, "statusListCredential to be a URL"),
        ({**ENTRY, "statusSize": 2}, "statusSize 1"),
        ({**ENTRY, "statusSize": True}, "statusSize 1"),
        ({**ENTRY, "id": LIST_URL}, "other than the status list URL"),
        ({**ENTRY, "id": 5}, "other than the status list URL"),
    ],
)
def test_read_credential_status_is_strict(status, message):
    with pytest.raises(FormatError, match=message):
        read_credential_status({"credentialStatus": status} if status is not None else {})


def test_read_credential_status_single_object_and_size_one():
    (entry,) = read_credential_status({"credentialStatus": {**ENTRY, "statusSize": 1, "statusListIndex": "0"}})
    assert entry == BitstringStatusListEntry("revocation", 0, LIST_URL)
    with pytest.raises(FormatError):
        read_credential_status(["not", "a", "credential"])  # type: ignore[arg-type]
