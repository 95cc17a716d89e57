"""The employer's own words for a request: each credential and each claim said once, required or optional."""

from werkzeug.datastructures import MultiDict

from verifier.openid4vp.query_form import describe, read_form


def test_a_request_says_required_once_and_names_the_optional_claims():
    form = MultiDict({"c1-use": "required", "c1-claim-title": "required", "c1-claim-ects": "required",
                      "c1-claim-grade": "optional", "c2-use": "optional", "c2-claim-title": "required"})
    lines = describe(read_form(form, default_mode="direct_post.jwt").query)
    assert lines == ["Required: a micro-credential showing Title of the micro-credential, Workload (ECTS credits); "
                     "optionally Grade achieved",
                     "Optional: a micro-credential showing Title of the micro-credential"]
