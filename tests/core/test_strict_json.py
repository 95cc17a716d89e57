"""Issue 10 B11: JSON in JWTs and disclosures is UTF-8 without a byte order mark; anything else is refused.

RFC 7519 §7.2 / RFC 7515 §5.2: the JOSE header and the JWT payload are UTF-8;
RFC 9901 §4.2.1: a disclosure is base64url of the UTF-8 bytes of a JSON array;
RFC 8259 §8.1: JSON exchanged between systems is UTF-8 and "Implementations
MUST NOT add a byte order mark". Python's ``json.loads`` on bytes detects
UTF-16 and UTF-32 and skips a UTF-8 BOM, so before the fix such tokens verified:
two different byte strings could carry the same claims.
"""

from __future__ import annotations

import json

import pytest

from credentials.dids import verification_method_id
from credentials.errors import InvalidInput, RevocationError
from credentials.jose import b64url_encode, json_loads, json_loads_object
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.sd_jwt.common import digest_of
from credentials.sd_jwt.key_binding import add_key_binding
from credentials.status_list import StatusList, sign_status_list_token, verify_status_list_token
from credentials.verification import FAILED, PASSED
from tests.core.test_verification import AUDIENCE, INDEX, LIST_URI, NOW, World
from tests.forging import sign_raw

OBJECT = '{"a":"Möbius","b":1}'
ENCODINGS = {
    "utf-8 with BOM": b"\xef\xbb\xbf" + OBJECT.encode("utf-8"),
    "utf-16": OBJECT.encode("utf-16"),
    "utf-16-le": OBJECT.encode("utf-16-le"),
    "utf-16-be": OBJECT.encode("utf-16-be"),
    "utf-32": OBJECT.encode("utf-32"),
    "utf-32-le": OBJECT.encode("utf-32-le"),
    "latin-1": OBJECT.encode("latin-1"),
    "encoded surrogate": b'{"a":"\xed\xa0\x80"}',
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_json_loads_takes_utf8_only(encoding):
    with pytest.raises(InvalidInput, match="UTF-8"):
        json_loads(ENCODINGS[encoding], what="the payload")
    with pytest.raises(InvalidInput):
        json_loads_object(ENCODINGS[encoding], what="the payload")


def test_json_loads_still_takes_utf8_and_text_and_refuses_duplicates_and_a_bom_in_text():
    assert json_loads(OBJECT.encode("utf-8"), what="x") == {"a": "Möbius", "b": 1}
    assert json_loads(OBJECT, what="x") == {"a": "Möbius", "b": 1}
    assert json_loads(b'"\\ud800"', what="x") == "\ud800"  # an escaped lone surrogate is JSON text
    with pytest.raises(InvalidInput, match="duplicate"):
        json_loads(b'{"a":1,"a":2}', what="x")
    with pytest.raises(InvalidInput, match="byte order mark"):
        json_loads("\ufeff" + OBJECT, what="x")
    with pytest.raises(InvalidInput, match="NaN"):
        json_loads(b'{"a":NaN}', what="x")


@pytest.mark.parametrize(("text", "value"), [
    (' {"a":1} ', {"a": 1}), ('\n[1,2]\t', [1, 2]), ("7", 7), ('"x"', "x"), ("[]", []), ("null", None),
])
def test_json_loads_reads_a_whole_value_with_or_without_whitespace_around_it(text, value):
    assert json_loads(text, what="x") == value
    assert json_loads(text.encode("utf-8"), what="x") == value


@pytest.mark.parametrize("text", ['{"a":1}x', '{"a":1} {"b":2}', "[1,2", "", " ", "[1,]", '{"a":1,}', "01",
                                  '{"a":Infinity}', '[-Infinity]', '{"a":{"a":1,"a":2}}', "[" * 100_000])
def test_json_loads_refuses_extra_data_truncation_constants_nested_duplicates_and_deep_nesting(text):
    with pytest.raises(InvalidInput):
        json_loads(text, what="x")


def _payload(world: World, disclosures=()) -> dict:
    return {"iss": world.issuer, "iat": NOW - 100, "vct": MICRO_CREDENTIAL_VCT,
            "cnf": {"jwk": world.holder_key.public_key().to_jwk()},
            "status": {"status_list": {"idx": INDEX, "uri": LIST_URI}},
            "_sd_alg": "sha-256", "_sd": sorted(digest_of(d) for d in disclosures)}


def _header(world: World) -> dict:
    return {"alg": "ES256", "typ": "dc+sd-jwt", "kid": verification_method_id(world.issuer)}


def _present(world: World, jwt: str, disclosures=()) -> str:
    return add_key_binding("~".join([jwt, *disclosures]) + "~", world.holder_key, audience=AUDIENCE, nonce="n",
                           iat=NOW - 5)


TITLE = ["c2FsdC0x", "title", "Möbius strips"]


def test_hand_built_utf8_presentation_verifies():
    world = World()
    disclosure = b64url_encode(json.dumps(TITLE).encode("utf-8"))
    jwt = sign_raw(json.dumps(_header(world)).encode(), json.dumps(_payload(world, [disclosure])).encode(),
                   world.issuer_key)
    result = world.verify(_present(world, jwt, [disclosure]))
    assert result.verified
    assert result.claims == {"title": "Möbius strips"}


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-8-sig"])
@pytest.mark.parametrize("part", ["header", "payload"])
def test_issuer_jwt_not_in_utf8_fails_format(codec, part):
    world = World()
    header, payload = json.dumps(_header(world)), json.dumps(_payload(world))
    jwt = sign_raw(header.encode(codec if part == "header" else "utf-8"),
                   payload.encode(codec if part == "payload" else "utf-8"), world.issuer_key)
    result = world.verify(_present(world, jwt))
    assert result.check("format").status == FAILED
    assert "UTF-8" in result.check("format").detail
    assert not result.verified


@pytest.mark.parametrize("codec", ["utf-16", "utf-32-be", "utf-8-sig"])
def test_disclosure_not_in_utf8_fails_disclosures(codec):
    world = World()
    disclosure = b64url_encode(json.dumps(TITLE).encode(codec))
    jwt = sign_raw(json.dumps(_header(world)).encode(), json.dumps(_payload(world, [disclosure])).encode(),
                   world.issuer_key)
    result = world.verify(_present(world, jwt, [disclosure]))
    assert result.check("signature").status == PASSED
    assert result.check("disclosures").status == FAILED
    assert "UTF-8" in result.check("disclosures").detail
    assert result.claims == {}


def test_kb_jwt_not_in_utf8_fails_holder_binding():
    world = World()
    presentation = world.present()
    without_kb = presentation.rsplit("~", 1)[0] + "~"
    kb_payload = {"iat": NOW - 5, "aud": AUDIENCE, "nonce": "n-1", "sd_hash": digest_of(without_kb)}
    kb = sign_raw(b'{"alg":"ES256","typ":"kb+jwt"}', json.dumps(kb_payload).encode("utf-16"), world.holder_key)
    result = world.verify(without_kb + kb)
    assert result.check("holder_binding").status == FAILED
    assert "UTF-8" in result.check("holder_binding").detail


def test_status_list_token_not_in_utf8_fails_revocation():
    world = World()
    token = sign_status_list_token(StatusList.new(), world.issuer_key, uri=LIST_URI, iat=NOW - 10, kid="k")
    head, payload, _ = token.split(".")
    from credentials.jose import b64url_decode

    forged = sign_raw(b64url_decode(head), b64url_decode(payload).decode().encode("utf-16"), world.issuer_key)
    with pytest.raises(RevocationError, match="UTF-8"):
        verify_status_list_token(forged, world.issuer_key.public_key(), expected_uri=LIST_URI, now=NOW)
