"""SD-JWT (RFC 9901): issuing, presenting, and every rejection rule of §7.

Each rejection case builds an issuer-signed JWT by hand, so the only thing
wrong with it is the rule under test.
"""

from __future__ import annotations

import pytest

from credentials.errors import (
    DisclosureError,
    FormatError,
    HolderBindingError,
    SignatureError,
    ValidityPeriodError,
)
from credentials.jose import PrivateKey, b64url_encode, json_dumps, sign_jws
from credentials.sd_jwt import (
    HolderSdJwt,
    KeyBindingPolicy,
    UnverifiedSdJwt,
    add_key_binding,
    digest_of,
    issue_sd_jwt,
    verify_sd_jwt,
)

NOW = 1_700_000_000
TYP = ("example+sd-jwt",)


def disclosure(*elements) -> str:
    return b64url_encode(json_dumps(list(elements)).encode())


def signed(payload, key, typ="example+sd-jwt") -> str:
    return sign_jws(payload, key, header={"typ": typ})


def verify(serialization, key, **kwargs):
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("expected_typ", TYP)
    return verify_sd_jwt(serialization, key.public_key(), **kwargs)


# --- issue → present → verify -------------------------------------------------

CLAIMS = {
    "iss": "https://issuer.example",
    "iat": NOW,
    "given_name": "Ada",
    "family_name": "Lovelace",
    "address": {"street": "12 Marylebone", "city": "London", "country": "GB"},
    "outcomes": ["analyse", "compute", "publish"],
}
FRAME = {
    "_sd": ["given_name", "family_name", "address", "outcomes"],
    "_sd_decoy": 3,
    "address": {"_sd": ["street", "city"]},
    "outcomes": {"_sd": [0, 1, 2], "_sd_decoy": 2},
}


@pytest.fixture(scope="module")
def keys():
    return PrivateKey.generate("ES256"), PrivateKey.generate("EdDSA")


@pytest.fixture(scope="module")
def issued(keys):
    issuer, holder = keys
    return issue_sd_jwt(CLAIMS, FRAME, issuer, header={"typ": TYP[0]}, holder_jwk=holder.public_key().to_jwk())


def test_full_disclosure_restores_every_claim(keys, issued):
    verified = verify(issued.serialization, keys[0])
    expected = {**CLAIMS, "cnf": {"jwk": keys[1].public_key().to_jwk()}}
    assert verified.claims == expected
    assert len(verified.disclosures) == 9  # 4 top-level + 2 in address + 3 outcomes


def test_payload_hides_disclosable_claims_and_adds_decoys(issued):
    payload = issued.payload
    assert set(payload) == {"iss", "iat", "address", "outcomes", "_sd", "_sd_alg", "cnf"} - {"address", "outcomes"}
    assert payload["_sd_alg"] == "sha-256"
    assert len(payload["_sd"]) == 4 + 3  # real + decoys
    assert payload["_sd"] == sorted(payload["_sd"])


def test_holder_lists_paths_with_array_indices_ignoring_decoys(issued):
    holder = HolderSdJwt.parse(issued.serialization)
    assert set(holder.paths) == {
        ("given_name",), ("family_name",), ("address",), ("address", "street"), ("address", "city"),
        ("outcomes",), ("outcomes", 0), ("outcomes", 1), ("outcomes", 2),
    }
    by_path = {c.path: c for c in holder.claims}
    assert by_path[("outcomes", 2)].value == "publish"
    assert by_path[("address", "city")].parent == ("address",)


def test_selecting_a_child_brings_its_parent(keys, issued):
    holder = HolderSdJwt.parse(issued.serialization)
    presentation = holder.present([("address", "city"), ("outcomes", 2)])
    claims = verify(presentation, keys[0]).claims
    assert claims["address"] == {"city": "London", "country": "GB"}
    assert claims["outcomes"] == ["publish"]
    assert "given_name" not in claims
    assert "family_name" not in claims


def test_selecting_an_unknown_path_is_refused(issued):
    holder = HolderSdJwt.parse(issued.serialization)
    with pytest.raises(ValueError, match="not a selectively disclosable claim"):
        holder.present([("iss",)])
    with pytest.raises(ValueError, match="not a claim of this credential"):
        holder.present([("outcomes", 7)])
    with pytest.raises(ValueError, match="not a claim of this credential"):
        holder.present([()])


def test_key_binding_round_trip(keys, issued):
    issuer, holder_key = keys
    holder = HolderSdJwt.parse(issued.serialization)
    presentation = holder.present_with_key_binding([("given_name",)], holder_key, audience="https://v.example",
                                                   nonce="n-1", iat=NOW)
    verified = verify(presentation, issuer, key_binding=KeyBindingPolicy(audience="https://v.example", nonce="n-1"))
    assert verified.key_binding is not None
    assert verified.key_binding.nonce == "n-1"
    assert verified.claims["given_name"] == "Ada"


# --- key binding failures -------------------------------------------------------

@pytest.fixture(scope="module")
def bound(keys, issued):
    holder = HolderSdJwt.parse(issued.serialization)
    return holder.present([("given_name",)])


@pytest.mark.parametrize(
    "policy, kb_kwargs, message",
    [
        (KeyBindingPolicy(audience="https://other.example"), {}, "made for"),
        (KeyBindingPolicy(nonce="expected"), {}, "nonce"),
        (KeyBindingPolicy(max_age=300), {"iat": NOW - 1000}, "too old"),
        (KeyBindingPolicy(), {"iat": NOW + 3600}, "future"),
    ],
    ids=["wrong-audience", "wrong-nonce", "too-old", "future-iat"],
)
def test_key_binding_policy_failures(keys, bound, policy, kb_kwargs, message):
    issuer, holder_key = keys
    args = {"audience": "https://v.example", "nonce": "n-1", "iat": NOW, **kb_kwargs}
    presentation = add_key_binding(bound, holder_key, **args)
    with pytest.raises(HolderBindingError, match=message):
        verify(presentation, issuer, key_binding=policy)


def test_missing_kb_jwt_fails_when_required(keys, bound):
    with pytest.raises(HolderBindingError, match="no Key Binding JWT"):
        verify(bound, keys[0], key_binding=KeyBindingPolicy())


def test_kb_jwt_by_another_key_fails(keys, bound):
    presentation = add_key_binding(bound, PrivateKey.generate("EdDSA"), audience="a", nonce="n", iat=NOW)
    with pytest.raises(HolderBindingError, match="signature"):
        verify(presentation, keys[0], key_binding=KeyBindingPolicy())


def test_kb_jwt_over_other_disclosures_fails_sd_hash(keys, issued, bound):
    presentation = add_key_binding(bound, keys[1], audience="a", nonce="n", iat=NOW)
    kb_jwt = presentation.rsplit("~", 1)[1]
    # Drop the disclosure after binding: the KB-JWT no longer matches.
    stripped = UnverifiedSdJwt.parse(bound).issuer_jwt + "~" + kb_jwt
    with pytest.raises(HolderBindingError, match="sd_hash"):
        verify(stripped, keys[0], key_binding=KeyBindingPolicy())


def test_kb_jwt_with_wrong_typ_fails(keys, bound):
    payload = {"iat": NOW, "aud": "a", "nonce": "n", "sd_hash": digest_of(bound)}
    kb_jwt = sign_jws(payload, keys[1], header={"typ": "JWT"})
    with pytest.raises(HolderBindingError, match="typ"):
        verify(bound + kb_jwt, keys[0], key_binding=KeyBindingPolicy())


def test_kb_jwt_without_cnf_fails(keys):
    issuer, holder_key = keys
    unbound = issue_sd_jwt({"a": 1}, {"_sd": ["a"]}, issuer, header={"typ": TYP[0]}).serialization
    presentation = add_key_binding(unbound, holder_key, audience="a", nonce="n", iat=NOW)
    with pytest.raises(HolderBindingError, match="no holder key"):
        verify(presentation, issuer)


def test_kb_jwt_missing_claims_fails(keys, bound):
    kb_jwt = sign_jws({"iat": NOW, "aud": "a", "sd_hash": digest_of(bound)}, keys[1], header={"typ": "kb+jwt"})
    with pytest.raises(HolderBindingError, match="'nonce'"):
        verify(bound + kb_jwt, keys[0], key_binding=KeyBindingPolicy())


# --- RFC 9901 §7.1 rejection rules, one case each ------------------------------

@pytest.fixture(scope="module")
def issuer_key(keys):
    return keys[0]


def _case(issuer_key, payload, disclosures):
    return signed(payload, issuer_key) + "~" + "".join(d + "~" for d in disclosures)


def test_digest_listed_twice_is_rejected(issuer_key):
    d = disclosure("salt1", "name", "x")
    payload = {"_sd": [digest_of(d), digest_of(d)], "_sd_alg": "sha-256"}
    with pytest.raises(DisclosureError, match="more than once"):
        verify(_case(issuer_key, payload, [d]), issuer_key)


def test_digest_in_two_places_is_rejected(issuer_key):
    d = disclosure("salt1", "name", "x")
    payload = {"_sd": [digest_of(d)], "inner": {"_sd": [digest_of(d)]}, "_sd_alg": "sha-256"}
    with pytest.raises(DisclosureError, match="more than once"):
        verify(_case(issuer_key, payload, [d]), issuer_key)


def test_unreferenced_disclosure_is_rejected(issuer_key):
    d = disclosure("salt1", "name", "x")
    payload = {"_sd": [], "_sd_alg": "sha-256"}
    with pytest.raises(DisclosureError, match="not referenced"):
        verify(_case(issuer_key, payload, [d]), issuer_key)


@pytest.mark.parametrize("reserved", ["_sd", "..."])
def test_reserved_claim_names_are_rejected(issuer_key, reserved):
    d = disclosure("salt1", reserved, ["x"])
    payload = {"_sd": [digest_of(d)], "_sd_alg": "sha-256"}
    with pytest.raises(DisclosureError, match="reserved"):
        verify(_case(issuer_key, payload, [d]), issuer_key)


def test_claim_name_that_already_exists_is_rejected(issuer_key):
    d = disclosure("salt1", "name", "disclosed")
    payload = {"name": "plain", "_sd": [digest_of(d)], "_sd_alg": "sha-256"}
    with pytest.raises(DisclosureError, match="already exists"):
        verify(_case(issuer_key, payload, [d]), issuer_key)


def test_same_disclosure_twice_is_rejected(issuer_key):
    d = disclosure("salt1", "name", "x")
    payload = {"_sd": [digest_of(d)], "_sd_alg": "sha-256"}
    with pytest.raises(DisclosureError, match="more than once"):
        verify(_case(issuer_key, payload, [d, d]), issuer_key)


@pytest.mark.parametrize("sd_alg", ["md5", "SHA-256", 256])
def test_unsupported_sd_alg_is_rejected(issuer_key, sd_alg):
    payload = {"_sd": [], "_sd_alg": sd_alg}
    with pytest.raises(DisclosureError, match="_sd_alg"):
        verify(_case(issuer_key, payload, []), issuer_key)


def test_sha_512_is_supported(issuer_key):
    d = disclosure("salt1", "name", "x")
    payload = {"_sd": [digest_of(d, "sha-512")], "_sd_alg": "sha-512"}
    assert verify(_case(issuer_key, payload, [d]), issuer_key).claims == {"name": "x"}


def test_sd_that_is_not_a_list_is_rejected(issuer_key):
    with pytest.raises(DisclosureError, match="not an array"):
        verify(_case(issuer_key, {"_sd": "abc"}, []), issuer_key)


def test_non_string_digest_is_rejected(issuer_key):
    with pytest.raises(DisclosureError, match="not a string"):
        verify(_case(issuer_key, {"_sd": [42]}, []), issuer_key)


def test_array_disclosure_in_object_is_rejected(issuer_key):
    d = disclosure("salt1", "x")
    with pytest.raises(DisclosureError, match="array-element disclosure"):
        verify(_case(issuer_key, {"_sd": [digest_of(d)]}, [d]), issuer_key)


def test_object_disclosure_in_array_is_rejected(issuer_key):
    d = disclosure("salt1", "name", "x")
    with pytest.raises(DisclosureError, match="referenced from an array"):
        verify(_case(issuer_key, {"list": [{"...": digest_of(d)}]}, [d]), issuer_key)


def test_array_placeholder_with_other_members_is_rejected(issuer_key):
    d = disclosure("salt1", "x")
    with pytest.raises(DisclosureError, match="other members"):
        verify(_case(issuer_key, {"list": [{"...": digest_of(d), "extra": 1}]}, [d]), issuer_key)


@pytest.mark.parametrize(
    "encoded, message",
    [
        ("not base64!", "malformed"),
        (b64url_encode(b"not json"), "malformed"),
        (b64url_encode(b'{"a": 1}'), "2 or 3 elements"),
        (b64url_encode(b'["s", "n", 1, 2]'), "2 or 3 elements"),
        (b64url_encode(b'[1, "n", 1]'), "salt"),
        (b64url_encode(b'["s", 5, 1]'), "claim name"),
        (b64url_encode(b'["s", "n", 1, "n", 2]'), "2 or 3 elements"),
    ],
    ids=["not-base64", "not-json", "object", "four-elements", "salt-not-string", "name-not-string", "five-elements"],
)
def test_malformed_disclosures_are_rejected(issuer_key, encoded, message):
    with pytest.raises(DisclosureError, match=message):
        verify(_case(issuer_key, {"_sd": []}, [encoded]), issuer_key)


def test_nested_disclosures_are_processed_recursively(issuer_key):
    inner = disclosure("s2", "street", "Main St")
    outer = disclosure("s1", "address", {"_sd": [digest_of(inner)], "city": "Rome"})
    claims = verify(_case(issuer_key, {"_sd": [digest_of(outer)]}, [outer, inner]), issuer_key).claims
    assert claims == {"address": {"street": "Main St", "city": "Rome"}}


def test_deep_nesting_is_refused(issuer_key):
    node: dict = {"leaf": 1}
    for _ in range(40):
        node = {"n": node}
    with pytest.raises(DisclosureError, match="deeper"):
        verify(_case(issuer_key, node, []), issuer_key)


# --- serialization, signature, time -------------------------------------------

@pytest.mark.parametrize(
    "serialization, message",
    [
        ("abc", "no '~'"),
        ("~abc~", "no issuer-signed JWT"),
        ("a.b.c~~d~", "empty disclosure"),
        ("a.b.c~d~notajwt", "last part"),
        ("x" * 300_000 + "~", "over the limit"),
    ],
    ids=["no-tilde", "no-jwt", "empty-disclosure", "bad-last-part", "oversized"],
)
def test_malformed_serializations_fail_format(issuer_key, serialization, message):
    with pytest.raises(FormatError, match=message):
        verify(serialization, issuer_key)


def test_wrong_typ_fails_format(issuer_key):
    with pytest.raises(FormatError, match="typ"):
        verify(signed({"a": 1}, issuer_key, typ="JWT") + "~", issuer_key)


def test_signature_by_another_key_fails(issuer_key):
    other = PrivateKey.generate()
    with pytest.raises(SignatureError, match="does not match"):
        verify(signed({"a": 1}, other) + "~", issuer_key)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", None])
def test_disallowed_algorithms_fail_signature(issuer_key, alg):
    header = b64url_encode(json_dumps({"alg": alg, "typ": TYP[0]}).encode())
    body = b64url_encode(json_dumps({"a": 1}).encode())
    with pytest.raises(SignatureError, match="only ES256, EdDSA are accepted"):
        verify(f"{header}.{body}.{b64url_encode(b'sig')}~", issuer_key)


def test_key_in_header_is_ignored(issuer_key):
    attacker = PrivateKey.generate()
    token = sign_jws({"a": 1}, attacker, header={"typ": TYP[0], "jwk": attacker.public_key().to_jwk()})
    with pytest.raises(SignatureError):
        verify(token + "~", issuer_key)


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"exp": NOW - 120}, "expired"),
        ({"nbf": NOW + 3600}, "not valid before"),
        ({"iat": NOW + 3600}, "future"),
        ({"exp": "tomorrow"}, "must be a whole number of seconds"),
    ],
    ids=["expired", "not-yet-valid", "issued-in-future", "exp-not-number"],
)
def test_time_claims(issuer_key, claims, message):
    with pytest.raises(ValidityPeriodError, match=message):
        verify(signed(claims, issuer_key) + "~", issuer_key)


def test_time_claims_within_leeway_pass(issuer_key):
    assert verify(signed({"exp": NOW - 30, "nbf": NOW + 30}, issuer_key) + "~", issuer_key).claims


# --- issuing: bad frames and claims are refused before anything is signed -------

@pytest.mark.parametrize(
    "claims, frame, message",
    [
        ({"a": 1}, {"_sd": ["b"]}, "do not have"),
        ({"a": 1}, {"_sd": "a"}, "must list member names"),
        ({"a": 1}, ["a"], "must be an object"),
        ({"a": 1}, {"a": {"_sd": []}}, "applies to a int"),
        ({"a": [1, 2]}, {"a": {"_sd": [2]}}, "indices of the array"),
        ({"a": [1, 2]}, {"a": {"_sd": [True]}}, "indices of the array"),
        ({"a": [1, 2]}, {"a": {"5": {"_sd": []}}}, "does not have"),
        ({"a": [1, 2]}, {"a": {"x": {"_sd": []}}}, "does not have"),
        ({"a": 1}, {"_sd_decoy": -1}, "_sd_decoy"),
        ({"a": 1}, {"_sd_decoy": 1000}, "_sd_decoy"),
        ({"_sd": 1}, {}, "reserved"),
        ({"_sd_alg": "x"}, {}, "reserved"),
        ("not claims", {}, "must be an object"),
    ],
    ids=["unknown-member", "sd-not-list", "frame-not-object", "frame-on-scalar", "index-out-of-range",
         "bool-index", "element-frame-out-of-range", "element-frame-not-index", "negative-decoys",
         "too-many-decoys", "reserved-sd", "reserved-sd-alg", "claims-not-object"],
)
def test_bad_frames_and_claims_are_refused(issuer_key, claims, frame, message):
    with pytest.raises(ValueError, match=message):
        issue_sd_jwt(claims, frame, issuer_key)


def test_issuing_refuses_unsupported_sd_alg_and_private_holder_keys(issuer_key):
    with pytest.raises(ValueError, match="_sd_alg"):
        issue_sd_jwt({"a": 1}, {"_sd": ["a"]}, issuer_key, sd_alg="md5")
    with pytest.raises(ValueError, match="public key"):
        issue_sd_jwt({"a": 1}, {}, issuer_key, holder_jwk=PrivateKey.generate().to_jwk())
    with pytest.raises(ValueError, match="not both"):
        issue_sd_jwt({"cnf": {}}, {}, issuer_key, holder_jwk=PrivateKey.generate().public_key().to_jwk())


def test_array_elements_with_their_own_frames(keys):
    issuer, _ = keys
    claims = {"degrees": [{"type": "BSc", "year": 2020}, {"type": "MSc", "year": 2022}]}
    frame = {"degrees": {"_sd": [1], "0": {"_sd": ["year"]}, 1: {"_sd": ["type"]}}}
    issued = issue_sd_jwt(claims, frame, issuer, header={"typ": TYP[0]})
    holder = HolderSdJwt.parse(issued.serialization)
    assert set(holder.paths) == {("degrees", 0, "year"), ("degrees", 1), ("degrees", 1, "type")}
    claims_seen = verify(holder.present([("degrees", 1, "type")]), issuer).claims
    assert claims_seen == {"degrees": [{"type": "BSc"}, {"type": "MSc", "year": 2022}]}


def test_holder_refuses_a_stored_sd_jwt_with_key_binding_or_broken_structure(keys, issued, bound):
    issuer, holder_key = keys
    with pytest.raises(FormatError, match="must not carry a Key Binding JWT"):
        HolderSdJwt.parse(add_key_binding(bound, holder_key, audience="a", nonce="n", iat=NOW))
    d = disclosure("salt", "name", 1)
    with pytest.raises(DisclosureError, match="not referenced"):
        HolderSdJwt.parse(_case(issuer, {"_sd": []}, [d]))
    with pytest.raises(DisclosureError, match="more than once"):
        HolderSdJwt.parse(_case(issuer, {"_sd": [digest_of(d)]}, [d, d]))
    with pytest.raises(DisclosureError, match="array-element"):
        HolderSdJwt.parse(_case(issuer, {"_sd": [digest_of(disclosure("s", 1))]}, [disclosure("s", 1)]))
    with pytest.raises(DisclosureError, match="from an array"):
        HolderSdJwt.parse(_case(issuer, {"l": [{"...": digest_of(d)}]}, [d]))
    with pytest.raises(DisclosureError, match="not an array"):
        HolderSdJwt.parse(_case(issuer, {"_sd": "x"}, []))


def test_kb_jwt_creation_needs_a_trailing_tilde(keys):
    with pytest.raises(ValueError, match="must end with"):
        add_key_binding("a.b.c", keys[1], audience="a", nonce="n", iat=NOW)


def test_resolver_callable_and_unresolvable_key(keys, issued):
    from credentials.errors import InvalidDid

    issuer, _ = keys
    assert verify_sd_jwt(issued.serialization, lambda header, payload: issuer.public_key(), now=NOW,
                         expected_typ=TYP).claims

    def unresolvable(header, payload):
        raise InvalidDid("no such DID")

    with pytest.raises(SignatureError, match="cannot be resolved"):
        verify_sd_jwt(issued.serialization, unresolvable, now=NOW, expected_typ=TYP)


def test_single_member_audience_list_is_accepted_and_reported_as_a_string(keys, bound):
    issuer, holder_key = keys
    payload = {"iat": NOW, "aud": ["https://v.example"], "nonce": "n", "sd_hash": digest_of(bound)}
    presentation = bound + sign_jws(payload, holder_key, header={"typ": "kb+jwt"})
    verified = verify(presentation, issuer, key_binding=KeyBindingPolicy(audience="https://v.example"))
    assert verified.key_binding.audience == "https://v.example"
