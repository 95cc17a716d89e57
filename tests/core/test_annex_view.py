"""One Annex I view whatever the format (issue 12, item 2): microcred, OB 3.0 / CLR 2.0, ELM 3 / EDC.

Real documents: the 1EdTech OB 3.0 specification examples (tests/vectors/ob3-annex) and
a production-sealed Europass EDC micro-credential (tests/vectors/europass-edc).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from credentials.annex_elm import annex_from_elm
from credentials.annex_mappers import annex_from_microcred
from credentials.annex_ob3 import annex_from_ob3
from credentials.annex_view import (
    AnnexView,
    Sourced,
    ViewBuilder,
    is_language_map,
    json_pointer,
    pick_language,
    stack_summary,
)
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
OB3_FULL = json.loads((VECTORS / "ob3-annex" / "full-open-badge-credential.json").read_text())
OB3_BASIC = json.loads((VECTORS / "ob3-annex" / "basic-open-badge-credential.json").read_text())
EDC_MC = json.loads(json.loads((VECTORS / "europass-edc" / "edc-mc-signed.jsonld").read_text())["payload"])
EDC_DC = json.loads((VECTORS / "europass-edc" / "edc-dc-example.json").read_text())


def leaf_pointers(node, path=()) -> set[str]:
    """Every leaf of a JSON document (language maps count as one), minus skipped keys."""
    if isinstance(node, dict) and not is_language_map(node):
        return set().union(*(leaf_pointers(v, (*path, k)) for k, v in node.items()), set())
    if isinstance(node, list) and node:
        return set().union(*(leaf_pointers(v, (*path, i)) for i, v in enumerate(node)))
    return {json_pointer(path)}


def covered(view: AnnexView, document, skipped: set[str]) -> None:
    """Each leaf of the document is under a path the view shows, or under a skipped key."""
    shown = view.paths()
    for pointer in leaf_pointers(document):
        parts = pointer.split("/")
        if skipped & set(parts) or pointer in ("",):
            continue
        assert any(pointer == p or pointer.startswith(p + "/") for p in shown), f"{pointer} is dropped"


# --- helpers -------------------------------------------------------------------------------


def test_json_pointer_escapes_per_rfc6901() -> None:
    assert json_pointer(["a/b", "m~n", 0]) == "/a~1b/m~0n/0"


@pytest.mark.parametrize(("value", "languages", "expected"), [
    ({"it": "Diritto", "en": "Law", "de": "Recht"}, ("it",), "Diritto"),
    ({"it": "Diritto", "en": "Law"}, ("fr",), "Law"),
    ({"en-GB": "Colour"}, ("en",), "Colour"),
    ({"sl": "Pravo", "de": "Recht"}, ("fr",), "Recht"),
    ("plain", ("it",), "plain"),
    (True, ("en",), "yes"),
    (5.0, ("en",), "5"),
])
def test_pick_language(value, languages, expected) -> None:
    assert pick_language(value, languages) == expected


def test_language_maps_are_kept_whole() -> None:
    builder = ViewBuilder({"title": {"en": "Law", "it": "Diritto"},
                           "name": [{"@value": "Recht", "@language": "de"}, {"@value": "Law", "@language": "en"}]})
    assert builder.take(["title"]) == Sourced({"en": "Law", "it": "Diritto"}, "/title")
    assert builder.take(["name"]) == Sourced({"de": "Recht", "en": "Law"}, "/name")
    assert not is_language_map({"id": "urn:x"})
    assert builder.more_details() == ()


# --- microcred -----------------------------------------------------------------------------


def test_microcred_claims_map_with_their_paths() -> None:
    claims = {**MICRO_CREDENTIAL_CLAIMS, "grade": "A", "stackability": {"option": "stackable", "target": "MSc"},
              "further_information": "Summer school", "iss": "did:key:z6Mk", "cnf": {"jwk": {}},
              "shoe_size": 44}
    view = annex_from_microcred(claims)
    assert view.kind == "microcred"
    assert [(s.label, s.path) for s in view.learner] == [
        ("Given name", "/learner/given_name"), ("Family name", "/learner/family_name"),
        ("Date of birth", "/learner/birth_date"), ("Student number", "/learner/student_id")]
    assert (view.title.value, view.title.path) == (claims["title"], "/title")
    (body,) = view.awarding_bodies
    assert (body.name.path, body.id.value, body.country.path) == (
        "/awarding_body/0/name", "https://uni.example", "/awarding_body/0/country")
    assert [(c.value, c.path) for c in view.countries] == [("CZ", "/issuer_country/0")]
    assert [s.path for s in view.learning_outcomes] == ["/learning_outcomes/0", "/learning_outcomes/1"]
    assert (view.ects_value, view.eqf_level_value, view.qf_ehea_cycle.value) == (Decimal(4), 7, "second")
    assert (view.assessment.path, view.participation.value) == ("/assessment_type", "online")
    assert [q.path for q in view.quality_assurance] == ["/quality_assurance"]
    assert view.stackability.value == {"option": "stackable", "target": "MSc"}
    assert [(m.path, m.value) for m in view.more_details] == [("/iss", "did:key:z6Mk"), ("/shoe_size", 44)]
    covered(view, claims, {"cnf"})


def test_a_partial_disclosure_maps_what_is_there() -> None:
    view = annex_from_microcred({"title": "Data literacy", "ects": 3})
    assert (view.title.value, view.ects_value, view.learner, view.awarding_bodies) == ("Data literacy", 3, (), ())
    assert view.more_details == ()


# --- Open Badges 3.0 ----------------------------------------------------------------------


def test_the_complete_ob3_example_maps_with_paths() -> None:
    view = annex_from_ob3(OB3_FULL)
    assert view.kind == "ob3"
    achievement = "/credentialSubject/achievement"
    assert (view.title.value, view.title.path) == ("1EdTech University Degree", f"{achievement}/name")
    (body,) = view.awarding_bodies
    assert (body.name.value, body.id.path, body.country.value) == (
        "1EdTech University", "/issuer/id", "US")
    assert (view.issued_on.value, view.issued_on.path) == ("2010-01-01T00:00:00Z", "/validFrom")
    assert [s.path for s in view.learning_outcomes] == [f"{achievement}/alignment/0/targetName",
                                                       f"{achievement}/alignment/1/targetName"]
    assert view.learning_outcomes[0].label == "1EdTech University Program and Course Catalog"
    assert view.ects is None
    assert (view.workload.value, view.workload.path) == (36.0, f"{achievement}/creditsAvailable")
    assert view.assessment.path == f"{achievement}/criteria/narrative"
    assert (view.grade.value, view.grade.path) == ("A", "/credentialSubject/result/0/value")
    assert ("identityHash", "emailAddress") == (view.learner[1].path.split("/")[-1], view.learner[1].label)
    more = {s.path: s.value for s in view.more_details}
    assert more["/credentialSubject/licenseNumber"] == "A-9320041"
    assert more["/credentialSubject/term"] == "Fall"
    assert more[f"{achievement}/humanCode"] == "R1"
    assert "/name" in more  # 'type' is JSON-LD plumbing
    assert "/credentialStatus/type" not in more
    covered(view, OB3_FULL, {"@context", "type", "proof"})


def test_ob3_alignments_to_eqf_and_ects_make_level_and_ects() -> None:
    badge = copy.deepcopy(OB3_BASIC)
    badge["credentialSubject"]["achievement"].update({
        "creditsAvailable": 5,
        "alignment": [
            {"type": ["Alignment"], "targetName": "EQF level 6", "targetUrl": "http://data.europa.eu/snb/eqf/6"},
            {"type": ["Alignment"], "targetName": "ECTS", "targetFramework": "ECTS",
             "targetUrl": "http://data.europa.eu/snb/education-credit/6fcec5c5af"},
            {"type": ["Alignment"], "targetName": "manage personal data", "targetFramework": "ESCO",
             "targetUrl": "http://data.europa.eu/esco/skill/9f7b1b6c"},
        ]})
    view = annex_from_ob3(badge)
    base = "/credentialSubject/achievement"
    assert (view.eqf_level_value, view.eqf_level.path) == (6, f"{base}/alignment/0/targetUrl")
    assert (view.ects_value, view.ects.path, view.workload) == (5, f"{base}/creditsAvailable", None)
    assert [(s.value, s.label) for s in view.learning_outcomes] == [("manage personal data", "ESCO")]
    more = {s.path: s.value for s in view.more_details}
    assert more[f"{base}/alignment/2/targetUrl"] == "http://data.europa.eu/esco/skill/9f7b1b6c"
    assert more[f"{base}/alignment/1/targetFramework"] == "ECTS"
    assert f"{base}/alignment/0/targetUrl" not in more
    assert more[f"{base}/alignment/0/targetName"] == "EQF level 6"
    covered(view, badge, {"@context", "type", "proof"})


def test_a_clr_lists_its_achievements() -> None:
    clr = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "ClrCredential"],
           "name": "Transcript", "issuer": {"id": "did:example:uni", "name": "Uni"},
           "validFrom": "2024-06-01T00:00:00Z",
           "credentialSubject": {"type": ["ClrSubject"], "verifiableCredential": [OB3_BASIC, OB3_FULL]}}
    view = annex_from_ob3(clr)
    assert (view.kind, view.title.value) == ("clr", "Transcript")
    assert [s.value for s in view.learning_outcomes] == ["Teamwork", "1EdTech University Degree"]
    assert view.learning_outcomes[1].path == (
        "/credentialSubject/verifiableCredential/1/credentialSubject/achievement/name")


# --- ELM 3 / Europass EDC -----------------------------------------------------------------------


def test_the_sealed_edc_micro_credential_maps_with_paths() -> None:
    view = annex_from_elm(EDC_MC)
    claim = "/credentialSubject/hasClaim"
    assert view.kind == "elm"
    assert [(s.label, s.value) for s in view.learner] == [("Full name", {"en": "Joe Done"}),
                                                         ("National identifier", "12345")]
    assert view.title.value == {"de": "Title of your learning achievement", "en": "Title of your learning achievement"}
    assert view.title.path == f"{claim}/title"
    (body,) = view.awarding_bodies
    assert (body.name.text(), body.name.path) == ("NETIS d.o.o.", f"{claim}/awardedBy/awardingBody/legalName")
    assert body.country.text() == "Slovenia"
    assert [c.text() for c in view.countries] == ["Slovenia"]
    assert (view.issued_on.value, view.issued_on.path) == ("2026-01-12T07:12:23Z", "/issued")
    assert [s.text() for s in view.learning_outcomes] == ["Example of learning outcome",
                                                          "Example of learning second outcome"]
    assert view.learning_outcomes[0].path == f"{claim}/specifiedBy/learningOutcome/0/title"
    assert (view.ects.value, view.ects.path, view.ects_value) == ("5", f"{claim}/specifiedBy/creditPoint/point", 5)
    assert (view.workload.value, view.workload.path) == ("PT45H", f"{claim}/specifiedBy/volumeOfLearning")
    assert (view.eqf_level_value, view.eqf_level.path) == (6, f"{claim}/specifiedBy/eqfLevel/id")
    assert (view.assessment.text(), view.grade.text("de")) == ("Written Exam", "19")
    assert view.grade.path == f"{claim}/provenBy/grade/noteLiteral"
    assert view.identity_verification.text() == "Supervised with ID Verification"
    assert (view.participation.text(), view.participation.path) == ("Online", f"{claim}/specifiedBy/mode/prefLabel")
    assert [s.label for s in view.further_information] == [
        "Description", "Language", "National qualifications framework level"]
    more = {s.path: s.value for s in view.more_details}
    assert more["/credentialSubject/contactPoint/emailAddress/id"] == "mailto:peter.paravinja@netis.si"
    assert more["/issuanceDate"] == "2026-01-12T07:12:23Z"
    assert f"{claim}/specifiedBy/learningOutcome/0/relatedESCOSkill/0/prefLabel" in more
    covered(view, EDC_MC, {"@context", "type", "inScheme", "proof"})


def test_an_edc_activity_claim_keeps_everything_in_more_details() -> None:
    view = annex_from_elm(EDC_DC)
    assert view.title.text() == "Title of Activity"
    assert view.ects is None
    assert view.eqf_level is None
    assert view.learning_outcomes == ()
    assert view.awarding_bodies[0].name.path == "/credentialSubject/hasClaim/awardedBy/awardingBody/legalName"
    covered(view, EDC_DC, {"@context", "type", "inScheme", "proof"})


# --- the stack ------------------------------------------------------------------------------------


def test_stack_summary_counts_only_verified_views() -> None:
    micro = annex_from_microcred(MICRO_CREDENTIAL_CLAIMS)          # 4 ECTS, EQF 7
    edc = annex_from_elm(EDC_MC)                                  # "5" ECTS, EQF 6
    badge = annex_from_ob3(OB3_FULL)                              # credits without a unit: not ECTS
    half = annex_from_microcred({**MICRO_CREDENTIAL_CLAIMS, "ects": 2.5, "eqf_level": 4})
    summary = stack_summary([(micro, True), (edc, True), (badge, True), (half, False)])
    assert (summary.total_ects, summary.counted, summary.without_ects, summary.not_verified) == (Decimal(9), 2, 1, 1)
    assert (summary.eqf_min, summary.eqf_max) == (6, 7)
    assert stack_summary([(half, True), (micro, True)]).total_ects == Decimal("6.5")
    assert stack_summary([]).eqf_min is None


@pytest.mark.parametrize("ects", ["-1", "NaN", "five", True, None, [], "Infinity"])
def test_values_that_are_not_ects_count_as_without(ects) -> None:
    view = AnnexView(kind="test", ects=Sourced(ects, "/ects"))
    assert view.ects_value is None
    assert stack_summary([(view, True)]).without_ects == 1
