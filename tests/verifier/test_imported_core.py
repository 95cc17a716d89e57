"""Whole credentials through the verifier core (credentials.verification): Open Badges as JWT and with Data
Integrity, sealed Europass EDCs, W3C status lists, holder-signed presentations, did:web, with plain-function
resolvers (the chain-backed ones are exercised in test_imported_api.py against the real Anvil)."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.annex_elm import annex_from_elm
from credentials.errors import CHECKS, InvalidDid
from credentials.jose import PrivateKey, UnverifiedJws
from credentials.multikey import multibase_from_public_key
from credentials.presentation_vp import holder_did, present_whole
from credentials.verification import (
    FAILED,
    PASSED,
    SKIPPED,
    UNAVAILABLE,
    KeyResolver,
    Policy,
    StatusEvidence,
    TrustAnswer,
    TrustLink,
    Unavailable,
    verify_presentation,
)
from credentials.verification_types import EDC_TYPE_URN, OB3_ACHIEVEMENT_TYPE_PREFIX, OB3_TYPE
from credentials.x509_trust import TrustAnchors
from tests.verifier.imported_world import (
    VECTORS,
    DiIssuer,
    Holder,
    JwtIssuer,
    badge,
    badge_di,
    badge_jwt,
    bitstring_list_jwt,
    did_document,
    edc_document,
    jwt_vp_json,
    ldp_vp,
    rsa_badge_jwt,
    seal,
    status_list_2021,
    vp_jwt,
)
from tests.x509_pki import NOW as PKI_NOW
from tests.x509_pki import ORG_ID, SIGNED_AT, make_pki
from verifier.pages import annex_certificate

NOW = PKI_NOW
ROOT = "did:web:root.example"
AUDIENCE = "https://employer.example"
LIST_URL = "https://uni.example/status/ob3-list-1"


class World:
    """An OB3 issuer, a holder, a W3C status list, and resolvers answering from dicts."""

    def __init__(self):
        self.issuer, self.holder = JwtIssuer(), Holder()
        self.accredited: dict[str, set[str]] = {self.issuer.did: {OB3_TYPE}}
        self.lists: dict[str, str] = {}
        self.anchors: dict[str, bytes] = {}
        self.seen: set[str] = set()
        self.publish()

    def publish(self, revoked=(), *, anchor=True, url=LIST_URL, issuer=None):
        text = bitstring_list_jwt(issuer or self.issuer, url, valid_from=NOW - 3600, revoked=revoked)
        self.lists[url] = text
        if anchor:
            self.anchors[url] = hashlib.sha256(text.encode()).digest()
        else:
            self.anchors.pop(url, None)

    def trust(self, did, kind, at_time):
        if kind not in self.accredited.get(did, set()):
            return TrustAnswer(False, f"{did} is not accredited for {kind}")
        chain = (TrustLink(did, "Università di Prova", "issuer"), TrustLink(ROOT, "Root", "root"))
        return TrustAnswer(True, "accredited", chain, "IT", ROOT, None, 7)

    def list_status(self, did, url):
        text = self.lists.get(url)
        return StatusEvidence(self.anchors.get(url), 7 if url in self.anchors else None, 1, text,
                              None if text else "connection refused", checked_at=NOW - 1)

    def replay(self, kb_id, expires_at):
        first = kb_id not in self.seen
        self.seen.add(kb_id)
        return first

    def verify(self, text, policy=None, **kwargs):
        arguments = {"policy": policy or Policy(frozenset({ROOT})), "trust": self.trust,
                     "status": lambda d, u: None, "replay": self.replay, "now": NOW, "lists": self.list_status}
        arguments.update(kwargs)
        return verify_presentation(text, **arguments)

    def badge_jwt(self, **kwargs):
        return badge_jwt(self.issuer, self.holder.did, valid_from=NOW - 600, status_url=LIST_URL, **kwargs)


@pytest.fixture
def world():
    return World()


def statuses(result):
    return {c.check: c.status for c in result.checks}


def test_a_jwt_vc_with_a_status_entry_is_decided_not_left_unavailable(world):
    """Regression (issue 12): any JWT VC with credentialStatus was reported `unavailable` (a 503)."""
    result = world.verify(world.badge_jwt())
    assert result.check("revocation").status == PASSED, result.check("revocation").detail
    assert result.verified
    assert result.format == "vc+jwt"
    assert "anchored at block 7" in result.check("revocation").detail
    assert result.check("holder_binding").status == SKIPPED
    assert result.check("schema").status == PASSED
    assert result.annex is not None
    assert str(result.annex.ects_value) == "5"
    answer = result.to_json()
    assert answer["claims"]["achievement"]["name"] == "Introduction to Smart Contracts"
    assert answer["annex"]["title"]["value"] == "Introduction to Smart Contracts"


def test_a_revoked_bit_fails_revocation(world):
    world.publish(revoked=(88123,))
    result = world.verify(world.badge_jwt())
    assert result.check("revocation").status == FAILED
    assert "is revoked" in result.check("revocation").detail


def test_a_list_whose_hash_is_not_the_anchored_one_fails(world):
    world.lists[LIST_URL] = bitstring_list_jwt(world.issuer, LIST_URL, valid_from=NOW - 60)
    result = world.verify(world.badge_jwt())
    assert result.check("revocation").status == FAILED
    assert "anchored in block 7" in result.check("revocation").detail


def test_an_unanchored_list_passes_saying_so_or_fails_by_policy(world):
    world.publish(anchor=False)
    passed = world.verify(world.badge_jwt())
    assert passed.check("revocation").status == PASSED
    assert "not anchored on chain; read from the issuer's list" in passed.check("revocation").detail
    strict = world.verify(world.badge_jwt(), Policy(frozenset({ROOT}), unanchored_status_lists=False))
    assert strict.check("revocation").status == FAILED
    assert "not anchored" in strict.check("revocation").detail


def test_a_list_that_cannot_be_fetched_leaves_the_answer_undecided(world):
    del world.lists[LIST_URL]
    result = world.verify(world.badge_jwt())
    assert result.check("revocation").status == UNAVAILABLE
    assert result.undecided
    assert not result.verified
    down = world.verify(world.badge_jwt(), lists=lambda d, u: Unavailable("the ledger did not answer"))
    assert down.check("revocation").status == UNAVAILABLE


def test_a_list_signed_by_another_issuer_fails(world):
    world.publish(issuer=JwtIssuer())
    result = world.verify(world.badge_jwt())
    assert result.check("revocation").status == FAILED
    assert "not by the credential's issuer" in result.check("revocation").detail


def test_no_status_entry_is_skipped_unless_required(world):
    token = badge_jwt(world.issuer, world.holder.did, valid_from=NOW - 600)
    assert world.verify(token).check("revocation").status == SKIPPED
    assert world.verify(token).verified
    strict = world.verify(token, Policy(frozenset({ROOT}), imported_status_required=True))
    assert strict.check("revocation").status == FAILED


def test_issuer_trust_by_achievement_type_or_by_the_badge_type(world):
    world.accredited[world.issuer.did] = {OB3_ACHIEVEMENT_TYPE_PREFIX + "MicroCredential"}
    assert world.verify(world.badge_jwt()).check("issuer_trust").status == PASSED
    result = world.verify(world.badge_jwt(achievement_type="Degree"))
    assert result.check("issuer_trust").status == FAILED
    assert OB3_TYPE in result.check("issuer_trust").detail


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_an_rsa_signed_badge_verifies(world, alg):
    token, did = rsa_badge_jwt(None, valid_from=NOW - 600, alg=alg)
    world.accredited[did] = {OB3_TYPE}
    result = world.verify(token)
    assert result.verified, statuses(result)
    assert result.check("signature").detail.startswith(alg)


def test_a_data_integrity_badge_verifies_and_a_changed_one_fails_signature(world):
    issuer = DiIssuer()
    world.accredited[issuer.did] = {OB3_TYPE}
    document = badge_di(issuer, world.holder.did, valid_from=NOW - 600)
    result = world.verify(json.dumps(document))
    assert result.verified, statuses(result)
    assert result.format == "ldp_vc"
    assert "eddsa-rdfc-2022" in result.check("signature").detail
    document["credentialSubject"]["achievement"]["creditsAvailable"] = 60
    changed = world.verify(json.dumps(document))
    assert changed.check("signature").status == FAILED
    assert "does not verify" in changed.check("signature").detail


@pytest.mark.parametrize("context", ["https://example.org/unknown-context.jsonld", "https://evil.example/ctx"])
def test_an_unknown_or_remote_context_fails_format(world, context):
    issuer = DiIssuer()
    document = badge_di(issuer, None, valid_from=NOW - 600)
    document["@context"] = [*document["@context"], context]
    result = world.verify(json.dumps(document))
    assert result.check("format").status == FAILED
    assert "context" in result.check("format").detail


def test_a_jwt_presentation_binds_the_badge_to_its_holder(world):
    vp = jwt_vp_json(world.holder, world.badge_jwt(), nonce="n-1", audience=AUDIENCE, iat=NOW - 5)
    result = world.verify(vp, nonce="n-1", audience=AUDIENCE)
    assert result.verified, statuses(result)
    assert result.format == "jwt_vp_json"
    assert result.check("holder_binding").status == PASSED
    assert result.check("replay").status == PASSED
    again = world.verify(vp, nonce="n-1", audience=AUDIENCE)
    assert again.check("replay").status == FAILED


def test_a_vp_jwt_with_an_enveloped_credential_verifies(world):
    vp = vp_jwt(world.holder, world.badge_jwt(), nonce="n-2", audience=AUDIENCE, iat=NOW - 5)
    result = world.verify(vp, nonce="n-2", audience=AUDIENCE)
    assert result.verified, statuses(result)
    assert result.format == "vp+jwt"


@pytest.mark.parametrize("change,reason", [
    ({"nonce": "other"}, "nonce"), ({"audience": "https://elsewhere.example"}, "was made for"),
    ({"iat": NOW - 3600}, "ago"), ({"signer": "stranger"}, "not signed by"),
])
def test_a_presentation_bound_wrongly_fails_holder_binding(world, change, reason):
    key = Holder().key if change.get("signer") else None
    vp = jwt_vp_json(world.holder, world.badge_jwt(), nonce=change.get("nonce", "n-1"),
                     audience=change.get("audience", AUDIENCE), iat=change.get("iat", NOW - 5), key=key)
    result = world.verify(vp, nonce="n-1", audience=AUDIENCE)
    assert result.check("holder_binding").status == FAILED
    assert reason in result.check("holder_binding").detail
    assert result.check("replay").status == SKIPPED


def test_a_presentation_by_somebody_else_than_the_subject_fails(world):
    stranger = Holder()
    vp = jwt_vp_json(stranger, world.badge_jwt(), nonce="n-1", audience=AUDIENCE, iat=NOW - 5)
    result = world.verify(vp)
    assert result.check("holder_binding").status == FAILED


def test_a_whole_credential_alone_fails_when_the_policy_requires_a_presentation(world):
    result = world.verify(world.badge_jwt(), Policy(frozenset({ROOT}), whole_credential_binding_required=True))
    assert result.check("holder_binding").status == FAILED
    assert "no holder-signed presentation" in result.check("holder_binding").detail


def edc_world(world, *, status_url=None, revoked=()):
    pki = make_pki("ec")
    sealed = seal(edc_document(world.holder.did, status_url=status_url), pki, signing_time=SIGNED_AT)
    anchors = TrustAnchors.from_pem(pki.anchors_pem)
    world.accredited[f"x509:org:{ORG_ID}"] = {EDC_TYPE_URN}
    if status_url:
        world.lists[status_url] = seal(status_list_2021("urn:epass:org:1", status_url, revoked=revoked), pki,
                                       signing_time=SIGNED_AT)
    return sealed, anchors


def test_a_sealed_edc_verifies_with_its_status_list_2021_sealed_by_the_same_organisation(world):
    url = "https://edc.example/status/2021-list"
    sealed, anchors = edc_world(world, status_url=url)
    result = world.verify(sealed, trust_anchors=anchors)
    assert result.verified, statuses(result)
    assert result.format == "europass-edc"
    assert result.issuer["id"] == f"x509:org:{ORG_ID}"
    assert "not anchored on chain" in result.check("revocation").detail
    assert result.annex is not None
    assert result.annex.kind == "elm"
    revoked_sealed, _ = edc_world(world, status_url=url, revoked=(199,))
    assert world.verify(revoked_sealed, trust_anchors=anchors).check("revocation").status == FAILED


def test_a_sealed_edc_without_anchors_or_with_another_pki_fails_signature(world):
    sealed, _ = edc_world(world)
    assert "no X.509 trust anchors" in world.verify(sealed).check("signature").detail
    other = TrustAnchors.from_pem((VECTORS / "europass-edc" / "halcom-root-ca.pem").read_bytes())
    result = world.verify(sealed, trust_anchors=other)
    assert result.check("signature").status == FAILED
    assert "does not end at a configured trust anchor" in result.check("signature").detail


def test_a_sealed_edc_in_a_jwt_presentation_binds_to_its_subject(world):
    sealed, anchors = edc_world(world)
    vp = jwt_vp_json(world.holder, json.loads(sealed), nonce="n-3", audience=AUDIENCE, iat=NOW - 5)
    result = world.verify(vp, trust_anchors=anchors)
    assert result.verified, statuses(result)
    assert result.check("holder_binding").status == PASSED


def test_a_did_web_issuer_is_resolved_through_the_injected_source(world):
    did = "did:web:issuer.example%3A8443:ob3"
    issuer = JwtIssuer()
    issuer.did, issuer.kid = did, f"{did}#key-1"
    documents = {did: json.dumps(did_document(did, issuer.key))}
    world.accredited[did] = {OB3_TYPE}
    keys = KeyResolver(lambda d: documents[d])
    result = world.verify(badge_jwt(issuer, None, valid_from=NOW - 600), keys=keys)
    assert result.verified, statuses(result)

    def refuse(d):
        raise InvalidDid("the DID document's URL points at a private address (10.0.0.8.nip.example), which is not "
                         "fetched")

    refused = world.verify(badge_jwt(issuer, None, valid_from=NOW - 600), keys=KeyResolver(refuse))
    assert refused.check("signature").status == FAILED
    assert "private address" in refused.check("signature").detail

    def down(d):
        raise ConnectionError("could not reach issuer.example")

    unreachable = world.verify(badge_jwt(issuer, None, valid_from=NOW - 600), keys=KeyResolver(down))
    assert unreachable.check("signature").status == UNAVAILABLE


@pytest.mark.parametrize("text", ["eyJhbGciOiJFUzI1NiJ9.eyJ", "a.b.c", "{", '{"type": "x"}', "[]",
                                  '{"payload": 1, "signatures": []}', "eyJ" * 10])
def test_broken_input_fails_format_and_never_raises(world, text):
    result = world.verify(text)
    assert [c.check for c in result.checks] == list(CHECKS)
    assert result.check("format").status == FAILED or result.check("signature").status == FAILED


def test_a_truncated_badge_jwt_fails(world):
    token = world.badge_jwt()
    for cut in (len(token) // 2, len(token) - 3):
        result = world.verify(token[:cut])
        assert not result.verified
        assert FAILED in (result.check("format").status, result.check("signature").status)


def test_badge_helper_is_an_open_badge():
    assert badge("did:example:i", None, valid_from=NOW)["type"][1] == "OpenBadgeCredential"


def test_a_data_integrity_presentation_binds_a_data_integrity_badge(world):
    holder_key = ed25519.Ed25519PrivateKey.generate()
    holder_did = f"did:key:{multibase_from_public_key(holder_key.public_key())}"
    issuer = DiIssuer()
    world.accredited[issuer.did] = {OB3_TYPE}
    credential = badge_di(issuer, holder_did, valid_from=NOW - 600)
    vp = ldp_vp(holder_key, credential, challenge="n-di", domain=AUDIENCE, created=NOW - 5)
    result = world.verify(json.dumps(vp), nonce="n-di", audience=AUDIENCE)
    assert result.verified, statuses(result)
    assert result.format == "ldp_vp"
    assert result.check("holder_binding").status == PASSED
    other = world.verify(json.dumps(vp), nonce="another", audience=AUDIENCE)
    assert other.check("holder_binding").status == FAILED
    vp["proof"]["challenge"] = "another"  # the challenge is signed: changing it breaks the proof
    assert world.verify(json.dumps(vp), nonce="another").check("holder_binding").status == FAILED


def test_the_page_shows_the_annex_view_in_english_with_more_details():
    certificate = annex_certificate(annex_from_elm(edc_document()))
    assert certificate["kind"] == "European Digital Credential"
    assert certificate["title"]
    assert all(not isinstance(v, dict) for _, v in certificate["facts"])
    assert certificate["more"]


_TAMPER_WORLD = World()
_TAMPER_ISSUER = DiIssuer()
_TAMPER_WORLD.accredited[_TAMPER_ISSUER.did] = {OB3_TYPE}
_TAMPER_TEXTS = {
    "jwt": _TAMPER_WORLD.badge_jwt(),
    "ldp": json.dumps(badge_di(_TAMPER_ISSUER, None, valid_from=NOW - 600)),
    "vp": jwt_vp_json(_TAMPER_WORLD.holder, _TAMPER_WORLD.badge_jwt(), nonce="n", audience=AUDIENCE, iat=NOW - 5),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(_TAMPER_TEXTS)), position=st.floats(0, 1, exclude_max=True),
       replacement=st.characters(codec="utf-8", exclude_categories=("Cs",)))
def test_any_changed_character_is_refused_by_a_named_check_and_never_raises(kind, position, replacement):
    text = _TAMPER_TEXTS[kind]
    index = int(position * len(text))
    if text[index] == replacement:
        return
    result = _TAMPER_WORLD.verify(text[:index] + replacement + text[index + 1:])
    assert [c.check for c in result.checks] == list(CHECKS)
    assert not result.verified or kind == "ldp"  # JSON whitespace or an equivalent escape may not change the proof


def test_the_wallets_presentations_verify(world):
    """The wallet's side (credentials.presentation_vp.present_whole) and ours agree on OpenID4VP Appendix B
    (a sealed EDC goes in an ldp_vp with a JCS proof: not base64-inflated into a JWT)."""
    wallet_key = PrivateKey.generate("ES256")
    did = holder_did(wallet_key)
    di_issuer = DiIssuer()
    world.accredited[di_issuer.did] = {OB3_TYPE}
    _, anchors = edc_world(world)
    credentials = {
        "jwt": badge_jwt(world.issuer, did, valid_from=NOW - 600, status_url=LIST_URL),
        "ldp": badge_di(di_issuer, did, valid_from=NOW - 600),
        "edc": json.loads(seal(edc_document(did), make_pki("ec"), signing_time=SIGNED_AT)),
    }
    for name, credential in credentials.items():
        form, vp = present_whole(credential, wallet_key, audience=AUDIENCE, nonce=f"n-{name}", iat=NOW - 5)
        text = vp if isinstance(vp, str) else json.dumps(vp)
        result = world.verify(text, nonce=f"n-{name}", audience=AUDIENCE, trust_anchors=anchors)
        assert result.verified, (name, statuses(result), result.check("holder_binding").detail)
        assert result.format == form
        assert result.check("holder_binding").status == PASSED
    unbound = badge_jwt(world.issuer, None, valid_from=NOW - 600)
    _, vp = present_whole(unbound, wallet_key, audience=AUDIENCE, nonce="n-u", iat=NOW - 5)
    result = world.verify(vp)
    assert result.check("holder_binding").status == SKIPPED
    assert "names no holder" in result.check("holder_binding").detail
    assert result.verified



def test_a_jwt_vc_is_split_and_decoded_once_per_verification(world, monkeypatch):
    token, calls = world.badge_jwt(), []
    world.verify(token)  # the status list is verified once, then kept by the list memo
    original = UnverifiedJws.parse.__func__

    def counting(cls, text, **kwargs):
        calls.append(text)
        return original(cls, text, **kwargs)

    monkeypatch.setattr(UnverifiedJws, "parse", classmethod(counting))
    result = world.verify(token)
    assert result.verified, statuses(result)
    assert calls.count(token) == 1
