"""Europass EDCs sealed with JAdES (credentials.europass): the real sealed samples under
tests/vectors/europass-edc/, real ELM documents sealed with the test PKI, and what must be refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.errors import FormatError, SignatureError, ValidityPeriodError, VerificationError
from credentials.europass import EDC_FORMAT, MAX_EDC_BYTES, SealedEdc, parse_trust_anchors, verify_sealed_edc
from credentials.jades import seal_jades
from tests.x509_pki import NOW, ORG_ID, SIGNED_AT, make_pki

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "europass-edc"
EXPECTED = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
HALCOM = parse_trust_anchors((VECTORS / EXPECTED["anchors"]).read_bytes())
ELM_EXAMPLE = json.loads((VECTORS / "edc-dc-example.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED["vectors"]))
def test_published_sealed_edc_verifies(name):
    expected = EXPECTED["vectors"][name]
    result = verify_sealed_edc((VECTORS / name).read_bytes(), trust_anchors=HALCOM, now=EXPECTED["now"])
    assert result.format == EDC_FORMAT
    assert (result.issuer_id, result.legal_name, result.country, result.alg) == (
        expected["issuer_id"], expected["legal_name"], expected["country"], expected["alg"])
    assert (result.signing_time, result.credential_id, result.valid_until) == (
        expected["signing_time"], expected["credential_id"], expected["valid_until"])
    assert [link.subject for link in result.chain] == expected["chain"]
    assert list(result.unverified_properties) == expected["unverified_properties"]
    assert "EuropeanDigitalCredential" in result.credential["type"]


def test_published_sealed_edc_also_verifies_from_text():
    name = sorted(EXPECTED["vectors"])[0]
    text = (VECTORS / name).read_text(encoding="utf-8")
    assert verify_sealed_edc(text, trust_anchors=HALCOM, now=EXPECTED["now"]).issuer_id.startswith("x509:org:")


def test_published_sealed_edc_fails_signature_without_its_anchor():
    name = "edc-mc-signed.jsonld"
    with pytest.raises(SignatureError) as caught:
        verify_sealed_edc((VECTORS / name).read_bytes(), trust_anchors=parse_trust_anchors(make_pki("ec").anchors_pem),
                          now=EXPECTED["now"])
    assert "does not end at a configured trust anchor" in caught.value.reason
    assert "Halcom Root Certificate Authority" in caught.value.reason


def test_published_sealed_edc_with_one_changed_payload_character_fails_signature():
    sealed = json.loads((VECTORS / "edc-dc-signed.jsonld").read_bytes())
    sealed["payload"] = sealed["payload"].replace("VerifiableCredential", "VerifiableCredentiaL", 1)
    with pytest.raises(SignatureError):
        verify_sealed_edc(json.dumps(sealed), trust_anchors=HALCOM, now=EXPECTED["now"])


def seal(document=None, *, pki=None, alg=None, signing_time=SIGNED_AT, raw: bytes | None = None) -> str:
    pki = pki or make_pki("ec")
    payload = raw if raw is not None else json.dumps(ELM_EXAMPLE if document is None else document,
                                                     ensure_ascii=False).encode("utf-8")
    return seal_jades(payload, pki.seal_key, pki.chain, signing_time=signing_time, alg=alg)


def verify(sealed, pki, now=NOW) -> SealedEdc:
    return verify_sealed_edc(sealed, trust_anchors=parse_trust_anchors(pki.anchors_pem), now=now)


@pytest.mark.parametrize("kind,alg", [("ec", "ES256"), ("rsa", "RS256"), ("rsa", "PS256")])
def test_a_real_elm_document_sealed_with_the_test_pki_verifies(kind, alg):
    pki = make_pki(kind)
    result = verify(seal(pki=pki, alg=alg), pki)
    assert result.issuer_id == f"x509:org:{ORG_ID}"
    assert (result.legal_name, result.country, result.organization_identifier) == ("Università di Prova", "IT", ORG_ID)
    assert result.credential == ELM_EXAMPLE
    assert result.signing_time == SIGNED_AT
    assert result.alg == alg
    assert [link.trust_anchor for link in result.chain] == [False, False, True]
    assert result.credential_profiles
    assert all(p.startswith("http://data.europa.eu/snb/") for p in result.credential_profiles)


def edited(**changes):
    document = json.loads(json.dumps(ELM_EXAMPLE))
    for name, value in changes.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return document


@pytest.mark.parametrize("changes,expected", [
    ({"type": ["VerifiableCredential"]}, "EuropeanDigitalCredential"),
    ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "ELM context"),
    ({"@context": ["https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap",
                   "https://attacker.example/context.jsonld"]}, "nothing else"),
    ({"@context": ["http://data.europa.eu/snb/model/context/edc-ap"]}, "starts with"),
    ({"credentialSubject": None}, "credentialSubject"),
    ({"issuer": {"legalName": {"en": "No id"}}}, "issuer"),
])
def test_a_sealed_document_that_is_not_an_edc_fails_format(changes, expected):
    pki = make_pki("ec")
    with pytest.raises(FormatError) as caught:
        verify(seal(edited(**changes), pki=pki), pki)
    assert expected in caught.value.reason


@pytest.mark.parametrize("changes,expected", [
    ({"validUntil": "2026-05-01T00:00:00Z"}, "expired"),
    ({"validFrom": "2027-01-01T00:00:00Z"}, "not valid yet"),
    ({"validFrom": "yesterday"}, "date-time"),
    ({"validUntil": "2030-01-01T00:00:00"}, "time zone"),
])
def test_the_validity_period_is_checked_at_now(changes, expected):
    pki = make_pki("ec")
    with pytest.raises(ValidityPeriodError) as caught:
        verify(seal(edited(**changes), pki=pki), pki)
    assert expected in caught.value.reason


def test_an_unsealed_elm_document_is_refused_as_format():
    pki = make_pki("ec")
    with pytest.raises(FormatError) as caught:
        verify((VECTORS / "edc-dc-example.json").read_bytes(), pki)
    assert "protected header" in caught.value.reason


def test_over_two_megabytes_is_refused_before_parsing():
    pki = make_pki("ec")
    with pytest.raises(FormatError) as caught:
        verify(b"{" + b" " * MAX_EDC_BYTES + b"}", pki)
    assert str(MAX_EDC_BYTES) in caught.value.reason


@pytest.mark.parametrize("bomb,expected", [
    # Deeper than the parser goes: refused by the JSON parser (RecursionError) or, where the
    # interpreter's recursion limit is higher, by the depth limit; both are format errors.
    (b"[" * 5000 + b"]" * 5000, ("not valid", "deeper than 64")),
    (b'{"a":' + b"[" * 100 + b"]" * 100 + b"}", "deeper than 64"),
    (b"[" + b"0," * 250_000 + b"0]", "more than 200000"),
    (b'{"a":"' + b"x" * 1_100_000 + b'"}', "longer than 1048576"),
])
def test_json_bombs_in_the_sealed_document_are_refused(bomb, expected):
    pki = make_pki("ec")
    with pytest.raises(FormatError) as caught:
        verify(seal(raw=bomb, pki=pki), pki)
    expected_any = (expected,) if isinstance(expected, str) else expected
    assert any(text in caught.value.reason for text in expected_any), caught.value.reason


@pytest.mark.parametrize("data", [b"", b"   ", b"\xff\xfe{", "\ufeff{}".encode(), b'{"payload": 1, "payload": 2}',
                                  b"[]", b"not.a.seal", "é.é.é", b"a" * 100, b'{"signatures": "x"}', 42])
def test_garbage_fails_format(data):
    with pytest.raises(FormatError):
        verify_sealed_edc(data, trust_anchors=HALCOM, now=NOW)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=2000), tail=st.booleans())
def test_a_truncated_seal_fails_with_a_named_check(cut, tail):
    sealed = SMALL_SEALED
    truncated = sealed[:-cut - 1] if tail else sealed[cut + 1:]
    with pytest.raises(VerificationError) as caught:
        verify_sealed_edc(truncated, trust_anchors=SMALL_ANCHORS, now=NOW)
    assert caught.value.check in ("format", "signature")


_SMALL_PKI = make_pki("ec")
SMALL_SEALED = seal(edited(displayParameter=None), pki=_SMALL_PKI)
SMALL_ANCHORS = parse_trust_anchors(_SMALL_PKI.anchors_pem)


@pytest.mark.parametrize(("payload", "expected"), [
    ("\ufeff{}".encode(), "starts with a byte order mark"),
    (b'{"a": 1, "a": 2}', "duplicate JSON member 'a'"),
    (b'{"a": NaN}', "NaN is not valid JSON"),
    (b"[1]", "must be an ELM credential"),
])
def test_the_sealed_document_read_from_the_seals_text_is_as_strict_as_from_its_bytes(payload, expected):
    with pytest.raises(FormatError) as caught:
        verify(seal(raw=payload, pki=_SMALL_PKI), _SMALL_PKI)
    assert expected in caught.value.reason
