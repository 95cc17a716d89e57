"""The result page's "awarded to" line names the person; an identifier disclosed with the name (a student
number, a national id) is one of the disclosed facts, never part of the name (Annex I element 1, learner)."""

from __future__ import annotations

import time

import pytest

from credentials.annex_elm import annex_from_elm
from credentials.annex_mappers import annex_from_eudi_learning, annex_from_microcred
from credentials.verification_model import CheckResult, VerificationResult
from verifier.pages import annex_certificate

CHECKS = ("format", "signature", "disclosures", "holder_binding", "replay", "validity_period", "issuer_trust",
          "revocation", "schema")
MICROCRED = {"title": "Data Science Basics",
             "learner": {"given_name": "Giulia", "family_name": "Rossi", "student_id": "12345"}}
EDC = {"credentialSubject": {"givenName": {"en": "Giulia"}, "familyName": {"en": "Rossi"},
                             "nationalID": {"notation": "12345"},
                             "hasClaim": {"title": {"en": "Data Science Basics"}}}}


def _facts(certificate):
    return dict(certificate["facts"])


def test_a_micro_credential_is_awarded_to_given_and_family_name_with_the_student_number_a_fact():
    certificate = annex_certificate(annex_from_microcred(MICROCRED))
    assert certificate["learner"] == "Giulia Rossi"
    assert _facts(certificate)["Student number"] == "12345"


def test_a_europass_edc_is_awarded_to_the_name_and_its_national_id_is_a_fact():
    certificate = annex_certificate(annex_from_elm(EDC))
    assert certificate["learner"] == "Giulia Rossi"
    assert _facts(certificate)["National identifier"] == "12345"


def test_a_full_name_is_shown_as_it_is_stated():
    document = {"credentialSubject": {"fullName": {"en": "Giulia Rossi"}, "givenName": {"en": "Giulia"},
                                      "familyName": {"en": "Rossi"}}}
    assert annex_certificate(annex_from_elm(document))["learner"] == "Giulia Rossi"


def test_an_eudi_learning_credential_keeps_its_learner_identification_out_of_the_name():
    certificate = annex_certificate(annex_from_eudi_learning(
        {"given_name": "Giulia", "family_name": "Rossi", "learner_identification": "IT-12345"}))
    assert certificate["learner"] == "Giulia Rossi"
    assert _facts(certificate)["Learner identification"] == "IT-12345"


def test_only_an_identifier_disclosed_names_nobody():
    certificate = annex_certificate(annex_from_microcred({"title": "T", "learner": {"student_id": "12345"}}))
    assert certificate["learner"] == ""
    assert _facts(certificate)["Student number"] == "12345"


@pytest.fixture
def bare_app(tmp_path):
    """A verifier with no chain behind it: enough to render pages."""
    from verifier import create_app

    return create_app({"TESTING": True, "VERIFIER_PUBLIC_URL": "http://127.0.0.1:5002",
                       "VERIFIER_TRUSTED_ROOTS": "did:example:root", "DATA_DIR": str(tmp_path / "verifier"),
                       "RPC_URL": "http://127.0.0.1:9"})


def test_the_page_reads_awarded_to_giulia_rossi(bare_app):
    from verifier.pages import render_result

    result = VerificationResult("dc+sd-jwt", tuple(CheckResult(name, "passed", "ok") for name in CHECKS),
                                issuer={"id": "did:example:issuer"}, claims=MICROCRED,
                                annex=annex_from_microcred(MICROCRED))
    with bare_app.test_request_context("/verify", method="POST"):
        page = render_result(result, "presentation", int(time.time()))
    line = page[page.index('class="cert-learner"'):]
    line = line[:line.index("</p>")]
    assert "awarded to Giulia Rossi" in line
    assert "12345" not in line
    assert "12345" in page
