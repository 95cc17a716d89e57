"""JAdES seals (credentials.jades): serializations, the header rules of TS 119 182-1 / RFC 7515 / RFC 7797,
the algorithm allow-list, and the signing certificate taken only from the seal's own chain."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.errors import FormatError, SignatureError, VerificationError
from credentials.jades import seal_jades, verify_jades
from credentials.jose import PrivateKey, b64url_decode, b64url_encode
from credentials.x509_trust import TrustAnchors
from tests.x509_pki import NOW, SIGNED_AT, make_pki

PAYLOAD = json.dumps({"@context": ["https://www.w3.org/2018/credentials/v1"],
                      "title": {"en": "Prova.", "it": "Prova…"}},
                     ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="module")
def ec_pki():
    return make_pki("ec")


@pytest.fixture(scope="module")
def rsa_pki():
    return make_pki("rsa")


def anchors(pki):
    return TrustAnchors.from_pem(pki.anchors_pem)


def verify(sealed, pki, now=NOW):
    parsed = sealed if not sealed.startswith("{") else json.loads(sealed)
    return verify_jades(parsed, trust_anchors=anchors(pki), now=now)


def refused(sealed, pki, error=VerificationError, now=NOW) -> VerificationError:
    with pytest.raises(error) as caught:
        verify(sealed, pki, now=now)
    return caught.value


@pytest.mark.parametrize("form", ["general", "flattened"])
@pytest.mark.parametrize("unencoded", [True, False])
@pytest.mark.parametrize("kind,alg", [("ec", "ES256"), ("rsa", "RS256"), ("rsa", "PS256")])
def test_a_seal_round_trips(form, unencoded, kind, alg):
    pki = make_pki(kind)
    sealed = seal_jades(PAYLOAD, pki.seal_key, pki.chain, signing_time=SIGNED_AT, alg=alg,
                        serialization_form=form, unencoded=unencoded)
    result = verify(sealed, pki)
    assert (result.payload, result.alg, result.signing_time) == (PAYLOAD, alg, SIGNED_AT)
    assert result.certificate == pki.seal
    assert len(result.chain) == 3


def test_compact_serialization_round_trips(ec_pki):
    sealed = seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT, serialization_form="compact",
                        unencoded=False)
    assert verify(sealed, ec_pki).payload == PAYLOAD


def reseal(pki, *, header=None, drop=()):
    """An ES256 seal of PAYLOAD whose protected header is edited (members set or dropped), signed again."""
    sealed = json.loads(seal_jades(PAYLOAD, pki.seal_key, pki.chain, signing_time=SIGNED_AT))
    entry = sealed["signatures"][0]
    protected = json.loads(b64url_decode(entry["protected"]))
    protected.update(header or {})
    for name in drop:
        protected.pop(name, None)
    entry["protected"] = b64url_encode(json.dumps(protected).encode())
    segment = PAYLOAD if protected.get("b64") is False else b64url_encode(PAYLOAD).encode()
    if protected.get("b64") is not False:
        sealed["payload"] = segment.decode()
    signer = PrivateKey.from_cryptography(pki.seal_key)
    entry["signature"] = b64url_encode(signer.sign(entry["protected"].encode() + b"." + segment))
    return json.dumps(sealed)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS384", "ES384", "EdDSA", None])
def test_algorithms_outside_the_list_fail_signature(ec_pki, alg):
    error = refused(reseal(ec_pki, header={"alg": alg}), ec_pki)
    assert error.check == "signature"
    assert "only ES256, PS256, RS256 are accepted" in error.reason


@pytest.mark.parametrize("member", [{"jwk": {"kty": "EC"}}, {"jku": "https://attacker.example/jwks"},
                                    {"x5u": "https://attacker.example/chain.pem"}])
def test_keys_named_outside_the_certificate_chain_are_refused(ec_pki, member):
    error = refused(reseal(ec_pki, header=member), ec_pki)
    assert error.check == "signature"
    assert "only a certificate chain" in error.reason


def test_an_rs256_header_over_an_ec_certificate_fails(ec_pki):
    assert refused(reseal(ec_pki, header={"alg": "RS256"}), ec_pki).check == "signature"


def test_a_ps256_seal_does_not_verify_as_rs256(rsa_pki):
    sealed = json.loads(seal_jades(PAYLOAD, rsa_pki.seal_key, rsa_pki.chain, signing_time=SIGNED_AT, alg="PS256"))
    entry = sealed["signatures"][0]
    header = json.loads(b64url_decode(entry["protected"]))
    header["alg"] = "RS256"
    entry["protected"] = b64url_encode(json.dumps(header).encode())
    assert "does not match" in refused(json.dumps(sealed), rsa_pki, SignatureError).reason


@pytest.mark.parametrize("crit,expected", [
    (["b64", "sigT", "sigD"], "not supported"),
    (["b64", "sigT", "srCms"], "not supported"),
    (["sigT"], "must be listed in 'crit'"),
    (["b64", "sigT", "sigT"], "distinct"),
    ([], "non-empty"),
    ("sigT", "non-empty"),
])
def test_crit_rules(ec_pki, crit, expected):
    error = refused(reseal(ec_pki, header={"crit": crit}), ec_pki)
    assert error.check == "format"
    assert expected in error.reason


def test_crit_naming_an_absent_parameter_is_refused(ec_pki):
    error = refused(reseal(ec_pki, header={"crit": ["b64", "sigT"]}, drop=("sigT",)), ec_pki)
    assert error.check == "format"


@pytest.mark.parametrize("sig_t", [None, "2026-06-01", "2026-06-01T09:30:00+00:00", "2026-02-30T09:30:00Z", 1780306200])
def test_sig_t_must_be_a_utc_date_time(ec_pki, sig_t):
    header = {"crit": ["b64"]} if sig_t is None else {"sigT": sig_t}
    error = refused(reseal(ec_pki, header=header, drop=("sigT",) if sig_t is None else ()), ec_pki)
    assert error.check == "format"
    assert "sigT" in error.reason


def test_a_signing_time_in_the_future_fails_signature(ec_pki):
    sealed = seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=NOW + 3600)
    error = refused(sealed, ec_pki)
    assert error.check == "signature"
    assert "after the time of verification" in error.reason


def test_the_thumbprint_must_match_the_x5c_certificate(ec_pki):
    other = make_pki("rsa")
    thumb = b64url_encode(hashlib.sha256(other.seal.public_bytes(Encoding.DER)).digest())
    error = refused(reseal(ec_pki, header={"x5t#S256": thumb}), ec_pki)
    assert error.check == "signature"
    assert "x5t#S256" in error.reason


def test_a_thumbprint_alone_finds_the_certificate_among_the_unsigned_values(ec_pki):
    sealed = json.loads(reseal(ec_pki, drop=("x5c",)))
    der = [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in ec_pki.chain]
    x_vals = {"xVals": [{"x509Cert": {"val": v}} for v in der]}
    sealed["signatures"][0]["header"] = {"etsiU": [b64url_encode(json.dumps(x_vals).encode())]}
    result = verify(json.dumps(sealed), ec_pki)
    assert result.certificate == ec_pki.seal
    assert result.unverified_properties == ()


def test_no_signing_certificate_reference_is_refused(ec_pki):
    assert refused(reseal(ec_pki, drop=("x5c", "x5t#S256")), ec_pki).check == "format"


def test_a_changed_payload_fails_signature(ec_pki):
    sealed = json.loads(seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT))
    sealed["payload"] = sealed["payload"].replace("Prova.", "Prova!")
    assert refused(json.dumps(sealed), ec_pki).check == "signature"


def test_two_signatures_are_refused(ec_pki):
    sealed = json.loads(seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT))
    sealed["signatures"] *= 2
    assert "exactly one seal" in refused(json.dumps(sealed), ec_pki, FormatError).reason


def test_a_detached_payload_is_refused(ec_pki):
    sealed = json.loads(seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT))
    del sealed["payload"]
    assert "detached" in refused(json.dumps(sealed), ec_pki, FormatError).reason


def test_sig_d_is_refused_even_when_not_critical(ec_pki):
    error = refused(reseal(ec_pki, header={"sigD": {"mId": "http://uri.etsi.org/19182/ObjectIdByURI", "pars": ["x"]}}),
                    ec_pki, FormatError)
    assert "sigD" in error.reason


@pytest.mark.parametrize("unprotected", [{"kid": "x"}, {"alg": "ES256"}, {"x5c": []}, {"etsiU": {"xVals": []}},
                                         {"etsiU": ["!!"]}, {"etsiU": [{"a": 1, "b": 2}]}])
def test_the_unprotected_header_holds_only_well_formed_etsi_u(ec_pki, unprotected):
    sealed = json.loads(seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT))
    sealed["signatures"][0]["header"] = unprotected
    assert refused(json.dumps(sealed), ec_pki).check == "format"


def test_unsigned_time_stamps_are_reported_as_unverified(ec_pki):
    sealed = json.loads(seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT))
    sealed["signatures"][0]["header"] = {"etsiU": [{"sigTst": {"tstTokens": []}}, {"arcTst": {}}]}
    assert verify(json.dumps(sealed), ec_pki).unverified_properties == ("sigTst", "arcTst")


def test_an_unencoded_payload_cannot_travel_compact(ec_pki):
    sealed = seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT, serialization_form="compact",
                        unencoded=False)
    header = json.loads(b64url_decode(sealed.split(".")[0]))
    header.update({"b64": False, "crit": ["b64", "sigT"]})
    forged = b64url_encode(json.dumps(header).encode()) + "." + "e30" + "." + sealed.split(".")[2]
    assert refused(forged, ec_pki, FormatError).check == "format"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_character_is_refused_with_a_named_check(ec_pki, data):
    sealed = seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT, serialization_form="flattened")
    position = data.draw(st.integers(0, len(sealed) - 1))
    replacement = data.draw(st.sampled_from("AaZz09_-+/.{}[]\":,eé"))
    changed = sealed[:position] + replacement + sealed[position + 1:]
    if changed == sealed:
        return
    try:
        parsed = json.loads(changed)
    except ValueError:
        return  # not JSON any more: the EDC layer refuses it as format (tests/core/test_europass_edc.py)
    if not isinstance(parsed, dict):
        return
    try:
        result = verify_jades(parsed, trust_anchors=anchors(ec_pki), now=NOW)
    except (FormatError, SignatureError):
        return
    # JSON-equivalent edits (whitespace, \u escapes) are harmless only if nothing signed changed
    assert result.payload == PAYLOAD
    assert result.signing_time == SIGNED_AT


@pytest.mark.parametrize("x5c", [["AAAA"], ["not base64!"], [42], "MIIB", [], ["=" * 8]])
def test_x5c_entries_that_are_not_certificates_fail_format(ec_pki, x5c):
    error = refused(reseal(ec_pki, header={"x5c": x5c}), ec_pki)
    assert error.check == "format"


@pytest.mark.parametrize(("form", "unencoded", "text"), [
    ("general", True, PAYLOAD.decode("utf-8")), ("flattened", True, PAYLOAD.decode("utf-8")),
    ("general", False, None), ("compact", False, None),
])
def test_an_unencoded_payload_is_also_handed_over_as_the_text_the_seal_held(ec_pki, form, unencoded, text):
    sealed = seal_jades(PAYLOAD, ec_pki.seal_key, ec_pki.chain, signing_time=SIGNED_AT, serialization_form=form,
                        unencoded=unencoded)
    result = verify(sealed, ec_pki)
    assert (result.payload, result.payload_text) == (PAYLOAD, text)
