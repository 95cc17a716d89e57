"""Twins of a batch row: the Open Badges 3.0 vc+jwt and the EUDI learning credential (issue 12, item 5).

Unit level (no chain: the recording anchor); the ledger side is in test_issuer_twins_anchoring.py.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
from _issuer_support import NOW, jwk_cell, make_csv, make_row
from click.testing import CliRunner

from credentials.annex_mappers import annex_from_eudi_learning, annex_from_microcred
from credentials.annex_ob3 import annex_from_ob3
from credentials.bitstring_status_list import (
    MIN_BITSTRING_LENGTH,
    entry_status,
    parse_status_list_credential,
    read_credential_status,
)
from credentials.dids import did_jwk_from_public_key, did_key_from_public_key
from credentials.errors import InvalidAccessToken, InvalidCredentialData, OAuthError, StatusChangeRefused
from credentials.eudi_learning import EUDI_LEARNING_VCT, validate_eudi_learning_disclosed
from credentials.jose import sign_jws
from credentials.jwt_vc import verify_jwt_vc
from credentials.open_badges import check_open_badge_credential, open_badge_schema_problems
from credentials.sd_jwt_vc import resolve_did_issuer_key, verify_sd_jwt_vc
from credentials.status_list import STATUS_INVALID, STATUS_VALID, verify_status_list_token
from issuer.archive import KIND_EUDI_LEARNING, KIND_MICROCRED, KIND_OB3
from issuer.archive.status_lists import LIST_KIND_BITSTRING, LIST_KIND_IETF
from issuer.batch import parse_csv
from issuer.cli import issuer as issuer_cli
from issuer.oid4vci import PRE_AUTHORIZED_GRANT, PROOF_TYP, Oid4vciIssuer
from issuer.twins import OB3_CONTEXT
from issuer.web import create_app

BOTH = (KIND_MICROCRED, KIND_OB3)


@pytest.fixture
def client(home, data_dir, anchor):
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                       "CLOCK": lambda: NOW}).test_client()
EUDI_ROW = {"language_of_classes": "en|it", "expected_study_time": "6 weeks"}


def issue(service, defaults, rows, kinds):
    entries = parse_csv(make_csv(rows), defaults, kinds=kinds)
    return service.issue_batch(entries, now=NOW, kinds=kinds)


def by_kind(result, kind):
    return [item for item in result.issued if item.kind == kind]


def verified_badge(service, token):
    verified = verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)
    assert verified.format == "vc+jwt"
    return verified


def _values(view):
    """The Annex I elements both views carry, as plain values (dates compared by day)."""
    def one(sourced):
        return None if sourced is None else sourced.value
    return {
        "title": one(view.title),
        "awarding_bodies": [(one(b.name), one(b.id), one(b.country)) for b in view.awarding_bodies],
        "country": one(view.countries[0]) if view.countries else None,
        "issued_on": str(one(view.issued_on))[:10],
        "learning_outcomes": [s.value for s in view.learning_outcomes],
        "ects": view.ects_value,
        "eqf_level": view.eqf_level_value,
        "assessment": one(view.assessment),
        "grade": one(view.grade),
    }


# ------------------------------------------------------------------ the Open Badge twin

def test_the_open_badge_twin_maps_back_to_the_same_annex_values(service, defaults, holder_key):
    row = make_row(1, holder_did=did_key_from_public_key(holder_key.public_key()), grade="28/30",
                   further_information="Taught with the national statistics office")
    result = issue(service, defaults, [row], BOTH)
    (microcred,), (badge,) = by_kind(result, KIND_MICROCRED), by_kind(result, KIND_OB3)
    claims = verify_sd_jwt_vc(microcred.sd_jwt, now=NOW, key_binding=None).disclosed
    credential = verified_badge(service, badge.sd_jwt).credential

    twin_view, own_view = annex_from_ob3(credential), annex_from_microcred(claims)
    assert _values(twin_view) == _values(own_view)
    assert twin_view.ects_value == Decimal(5)
    assert twin_view.eqf_level_value == 6
    description = [s.value for s in twin_view.further_information if s.label == "Description of the achievement"]
    assert description == [claims["further_information"]]
    assert any(s.value == "Ada Rossi" for s in twin_view.learner)
    assert any(s.value == "S00001" for s in twin_view.learner)


def test_the_open_badge_twin_is_an_ob3_vc_jwt_of_the_issuer_about_the_holder(service, defaults, holder_key):
    holder_did = did_key_from_public_key(holder_key.public_key())
    result = issue(service, defaults, [make_row(1, holder_did=holder_did)], BOTH)
    (badge,) = by_kind(result, KIND_OB3)
    header = badge.sd_jwt.split(".")[0]
    verified = verified_badge(service, badge.sd_jwt)
    assert verified.issuer_id == service.identity.did
    assert verified.kid == service.identity.kid
    assert verified.alg == "ES256"
    assert verified.subject_id == holder_did
    credential = verified.credential
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2", OB3_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    info = check_open_badge_credential(credential, now=NOW)  # vendored contexts only, OB 3.0 form
    assert info.kind == "OpenBadgeCredential"
    assert open_badge_schema_problems(info) == ()
    assert header  # compact JWS
    record = service.archive.credential(badge.credential_id)
    assert record.twin_of == by_kind(result, KIND_MICROCRED)[0].credential_id
    assert record.sd_jwt_sha256 == hashlib.sha256(badge.sd_jwt.encode()).hexdigest()


def test_a_holder_jwk_makes_the_subject_its_did_jwk(service, defaults, holder_key):
    result = issue(service, defaults, [make_row(1, holder_jwk=jwk_cell(holder_key))], BOTH)
    (badge,) = by_kind(result, KIND_OB3)
    assert verified_badge(service, badge.sd_jwt).subject_id == did_jwk_from_public_key(holder_key.public_key())


def test_the_twin_carries_a_bitstring_entry_of_a_large_list_the_issuer_serves(service, defaults, holder_key, client):
    result = issue(service, defaults, [make_row(n, holder_jwk=jwk_cell(holder_key)) for n in (1, 2)], BOTH)
    badges = by_kind(result, KIND_OB3)
    entries = [read_credential_status(verified_badge(service, b.sd_jwt).credential)[0] for b in badges]
    assert {e.status_purpose for e in entries} == {"revocation"}
    records = [service.archive.credential(b.credential_id) for b in badges]
    assert [e.status_list_index for e in entries] == [r.idx for r in records]
    (list_record,) = service.archive.status_lists_of("bitstring")
    url = service.identity.bitstring_status_list_uri(list_record.id)
    assert {e.status_list_credential for e in entries} == {url}
    assert list_record.size >= MIN_BITSTRING_LENGTH

    response = client.get(f"/status/bitstring/{list_record.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    assert hashlib.sha256(token.encode()).hexdigest() == list_record.token_sha256
    served = verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW)
    assert served.issuer_id == service.identity.did
    status_list = parse_status_list_credential(served.credential)
    assert status_list.id == url
    assert status_list.bitstring.length >= MIN_BITSTRING_LENGTH
    assert [entry_status(e, status_list) for e in entries] == [False, False]
    assert client.get(f"/status/{list_record.id}").status_code == 404  # each kind at its own URL
    (ietf,) = service.archive.status_lists_of("ietf")
    assert client.get(f"/status/bitstring/{ietf.id}").status_code == 404


# ------------------------------------------------------------------ the EUDI learning credential

def test_vct_eudi_learning_issues_it_instead_and_validates_it(service, defaults, holder_key):
    row = make_row(1, holder_jwk=jwk_cell(holder_key), grade="A", **EUDI_ROW)
    result = issue(service, defaults, [row], (KIND_EUDI_LEARNING,))
    (credential,) = result.issued
    assert credential.kind == KIND_EUDI_LEARNING
    verified = verify_sd_jwt_vc(credential.sd_jwt, now=NOW, key_binding=None)
    assert verified.vct == EUDI_LEARNING_VCT
    validate_eudi_learning_disclosed({**verified.disclosed, "iss": verified.issuer, "iat": NOW, "vct": verified.vct})
    view = annex_from_eudi_learning(verified.disclosed)
    assert view.title.value == "Foundations of Data Science"
    assert view.eqf_level_value == 6
    assert verified.disclosed["language_of_classes"] == ["en", "it"]
    assert verified.disclosed["expected_study_time"] == "6 weeks"
    assert verified.disclosed["learner_identification"] == "S00001"
    assert verified.holder_jwk == holder_key.public_key().to_jwk()


def test_also_eudi_learning_adds_it_beside_microcred(service, defaults, holder_key):
    row = make_row(1, holder_jwk=jwk_cell(holder_key), language_of_classes="en")
    result = issue(service, defaults, [row], (KIND_MICROCRED, KIND_EUDI_LEARNING))
    assert [item.kind for item in result.issued] == [KIND_MICROCRED, KIND_EUDI_LEARNING]
    eudi = verify_sd_jwt_vc(result.issued[1].sd_jwt, now=NOW, key_binding=None).disclosed
    assert eudi["expected_study_time"] == "5 ECTS credits (about 125 to 150 hours of study)"


def test_a_row_that_cannot_be_an_eudi_learning_credential_is_named_before_anything_is_signed(service, defaults):
    rows = [make_row(1, language_of_classes="en"), make_row(2), make_row(3, language_of_classes="English")]
    with pytest.raises(InvalidCredentialData) as caught:
        parse_csv(make_csv(rows), defaults, kinds=(KIND_EUDI_LEARNING,))
    assert caught.value.errors == [
        "row 3: eudi-learning: language_of_classes: missing",
        "row 4: eudi-learning: language_of_classes.0: expected a language tag, found 'English'",
    ]
    assert service.archive.credentials(twins=True) == []


# ------------------------------------------------------------------ status changes

def test_revoking_a_credential_revokes_its_twins_and_changes_both_lists(service, defaults, holder_key):
    rows = [make_row(n, holder_jwk=jwk_cell(holder_key), **EUDI_ROW) for n in (1, 2)]
    result = issue(service, defaults, rows, (KIND_MICROCRED, KIND_OB3, KIND_EUDI_LEARNING))
    first = result.issued[0]
    group = [first.credential_id, *(t.id for t in service.archive.twins(first.credential_id))]
    assert len(group) == 3
    versions = {r.id: r.version for r in service.archive.status_lists()}

    change = service.set_status([first.credential_id], "revoked", now=NOW + 1)
    assert set(change.changed) == set(group)
    assert {service.archive.credential(i).status for i in group} == {"revoked"}
    after = {r.id: r.version for r in service.archive.status_lists()}
    assert {i for i in after if after[i] != versions[i]} == {service.archive.credential(i).list_id for i in group}
    assert {o.list_id for o in change.anchors} == set(after)

    badge = service.archive.credential(group[1])
    token = service.status_list_token(badge.list_id, "bitstring")
    status_list = parse_status_list_credential(
        verify_jwt_vc(token, resolve_issuer_key=resolve_did_issuer_key, now=NOW + 1).credential)
    assert status_list.bitstring.get(badge.idx) is True
    ietf = service.archive.credential(group[0])
    verified = verify_status_list_token(service.status_list_token(ietf.list_id), service.signing_key.public_key(),
                                        expected_uri=service.identity.status_list_uri(ietf.list_id), now=NOW + 1)
    assert verified.status(ietf.idx) == STATUS_INVALID
    other = result.issued[3]  # the second row's credential stays valid
    assert verified.status(service.archive.credential(other.credential_id).idx) == STATUS_VALID


def test_a_twins_id_stands_for_its_group_and_a_suspension_leaves_the_revocation_list(service, defaults, holder_key):
    result = issue(service, defaults, [make_row(1, holder_jwk=jwk_cell(holder_key))], BOTH)
    microcred, badge = result.issued
    (bitstring,) = service.archive.status_lists_of("bitstring")
    service.set_status([badge.credential_id], "suspended", now=NOW + 1)
    assert service.archive.credential(microcred.credential_id).status == "suspended"
    assert service.archive.status_list(bitstring.id).version == bitstring.version  # revocation purpose: unchanged
    service.set_status([microcred.credential_id, badge.credential_id], "revoked", now=NOW + 2)
    assert service.archive.credential(badge.credential_id).status == "revoked"
    assert service.archive.status_list(bitstring.id).version == bitstring.version + 1
    assert service.archive.count_credentials()["revoked"] == 1  # twins are not counted as credentials


def test_reissue_revokes_the_twins_and_refuses_a_twin_id(service, defaults, holder_key):
    result = issue(service, defaults, [make_row(1, holder_jwk=jwk_cell(holder_key))], BOTH)
    microcred, badge = result.issued
    with pytest.raises(StatusChangeRefused, match="is a twin"):
        service.reissue(badge.credential_id, None, now=NOW + 1)
    service.reissue(microcred.credential_id, holder_key.public_key().to_jwk(), now=NOW + 1)
    assert service.archive.credential(badge.credential_id).status == "revoked"


# ------------------------------------------------------------------ OpenID4VCI and the CLI

def test_the_offer_of_a_row_without_a_key_holds_its_twins_each_redeemed_once(service, defaults, client,
                                                                               holder_key):
    kinds = (KIND_MICROCRED, KIND_OB3, KIND_EUDI_LEARNING)
    result = issue(service, defaults, [make_row(1, language_of_classes="en")], kinds)
    offer_id = result.issued[0].offer_id
    assert {item.offer_id for item in result.issued} == {offer_id}
    document = client.get(f"/credential-offer/{offer_id}").get_json()
    offered = document["credential_configuration_ids"]
    assert offered == ["micro-credential", "open-badge-3", "eudi-learning-credential"]
    metadata = client.get("/.well-known/openid-credential-issuer").get_json()
    configurations = metadata["credential_configurations_supported"]
    assert configurations["open-badge-3"]["format"] == "jwt_vc_json"
    assert configurations["open-badge-3"]["credential_definition"]["type"] == ["VerifiableCredential",
                                                                               "OpenBadgeCredential"]
    assert configurations["eudi-learning-credential"]["format"] == "dc+sd-jwt"
    assert configurations["eudi-learning-credential"]["vct"] == EUDI_LEARNING_VCT

    vci = Oid4vciIssuer(service)
    code = document["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    bearer = "Bearer " + vci.token({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code},
                                   now=NOW)["access_token"]

    def request(configuration):
        proof = sign_jws({"aud": service.identity.base_url, "iat": NOW, "nonce": vci.nonce(now=NOW)["c_nonce"]},
                         holder_key, header={"typ": PROOF_TYP, "jwk": holder_key.public_key().to_jwk()})
        body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
        return vci.credential(bearer, body, now=NOW)["credentials"][0]["credential"]

    badge = request("open-badge-3")
    assert verified_badge(service, badge).subject_id == did_jwk_from_public_key(holder_key.public_key())
    with pytest.raises(OAuthError, match="already issued"):
        request("open-badge-3")
    assert service.archive.offer(offer_id)["redeemed_at"] is None  # two more to go
    eudi = verify_sd_jwt_vc(request("eudi-learning-credential"), now=NOW, key_binding=None)
    assert eudi.vct == EUDI_LEARNING_VCT
    assert verify_sd_jwt_vc(request("micro-credential"), now=NOW, key_binding=None).holder_jwk == \
        holder_key.public_key().to_jwk()
    assert service.archive.offer(offer_id)["redeemed_at"] == NOW
    with pytest.raises(InvalidAccessToken):
        request("micro-credential")


def test_issue_help_names_the_twins():
    result = CliRunner().invoke(issuer_cli, ["issue", "--help"])
    assert result.exit_code == 0
    for text in ("--also [ob3|eudi-learning]", "--vct [microcred|eudi-learning]", "Open Badges 3.0",
                 "urn:eu.europa.ec.eudi:learning:credential:1", "twins are revoked with the credential"):
        assert text in " ".join(result.output.split()), text
    columns = CliRunner().invoke(issuer_cli, ["columns"])
    assert "language_of_classes" in columns.output


def test_the_registrar_links_each_status_list_where_it_is_served(client, service, defaults):
    """A W3C Bitstring list (an Open Badge twin's) is served at /status/bitstring/<id>, not at /status/<id>."""
    issue(service, defaults, [make_row(1)], BOTH)
    html = client.get("/registrar/").get_data(as_text=True)
    links = re.findall(r'<li><a href="(/status/[^"]+)"', html)
    kinds = {record.id: record.kind for record in service.archive.status_lists()}
    assert sorted(kinds.values()) == sorted({LIST_KIND_BITSTRING, LIST_KIND_IETF})
    assert len(links) == len(kinds)
    for link in links:
        answer = client.get(link)
        assert answer.status_code == 200, link
        list_id = link.rsplit("/", 1)[1]
        expected = f"/status/bitstring/{list_id}" if kinds[list_id] == LIST_KIND_BITSTRING else f"/status/{list_id}"
        assert link == expected
