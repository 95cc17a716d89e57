"""Stacks through POST /api/v1/verify, the result page and ``microcred verify`` (issue 13, item 1), on the real Anvil.

A stack: two SD-JWT VC micro-credentials from two accredited universities and an Open Badge 3.0 (JWT VC) in a
holder-signed ``jwt_vp_json`` presentation, all made for one nonce and audience. One answer per credential and
the summary; a revoked one is not verified and its ECTS are left out; a presentation made for another nonce
fails ``holder_binding``; 17 presentations are 413; malformed members 400 with a precise reason, never 500.
"""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from credentials.verification_types import OB3_TYPE
from microcred.cli import main
from tests.verifier.conftest import CLAIMS
from tests.verifier.imported_world import Holder, JwtIssuer, badge_jwt, jwt_vp_json
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
AUDIENCE = "urn:microcred:wallet-share:stack-test"
NONCE = "stack-nonce-0001"


def post(client, body):
    response = client.post("/api/v1/verify", json=body)
    assert response.status_code != 500, response.get_data(as_text=True)
    return response, response.get_json()


def check(answer, name):
    return next(c for c in answer["checks"] if c["check"] == name)


@pytest.fixture
def ob3_issuer(accredit_any):
    issuer = JwtIssuer()
    issuer.account = accredit_any(issuer.did, [OB3_TYPE])
    return issuer


@pytest.fixture
def stack(make_issuer, ob3_issuer, imported_client):
    """Factory: the three presentations of one stack (nonce and audience overridable per member)."""
    first, second = make_issuer(), make_issuer()
    first_credential = first.credential(idx=4321)  # every credential of this stack's first member has index 4321
    holder = Holder()
    badge = badge_jwt(ob3_issuer, holder.did, valid_from=int(time.time()) - 600)

    def revoked_seen() -> bool:
        answer = post(imported_client, {"presentation": first.present(first_credential)})[1]
        return check(answer, "revocation")["status"] == "failed"

    def make(*, nonces=(NONCE,) * 3, audiences=(AUDIENCE,) * 3, revoked_first=False):
        if revoked_first:
            first.status_list.set(4321, 1)
            first.publish()
            wait_for(revoked_seen, within=10, what="the verifier to see the revocation anchored on chain")
        return [
            first.present(first.credential(idx=4321), nonce=nonces[0], audience=audiences[0]),
            second.present(second.credential(claims={**CLAIMS, "ects": 4, "eqf_level": 7}), nonce=nonces[1],
                           audience=audiences[1]),
            jwt_vp_json(holder, badge, nonce=nonces[2], audience=audiences[2], iat=int(time.time())),
        ]

    return make


def test_a_stack_of_three_formats_and_issuers_is_verified_with_one_line(imported_client, stack):
    response, answer = post(imported_client, {"presentations": stack(), "nonce": NONCE, "audience": AUDIENCE})
    assert response.status_code == 200, answer
    assert answer["verified"] is True, [r["checks"] for r in answer["results"]]
    assert [r["format"] for r in answer["results"]] == ["dc+sd-jwt", "dc+sd-jwt", "jwt_vp_json"]
    assert all(r["verified"] for r in answer["results"])
    summary = answer["summary"]
    assert summary["line"] == "3 of 3 verified · 14 ECTS · EQF 6–7"
    assert (summary["count"], summary["verified"], summary["ects_total"]) == (3, 3, 14)
    assert summary["issuers"] == ["Università di Prova"]  # the registry's names (the test accredits all so)


def test_a_revoked_member_is_not_verified_and_its_ects_are_left_out(imported_client, stack):
    presentations = stack(revoked_first=True)
    response, answer = post(imported_client, {"presentations": presentations, "nonce": NONCE, "audience": AUDIENCE})
    assert response.status_code == 200
    assert answer["verified"] is False
    assert check(answer["results"][0], "revocation")["status"] == "failed"
    assert answer["results"][1]["verified"] is True
    assert answer["summary"]["line"] == "2 of 3 verified · 9 ECTS · EQF 6–7"


def test_a_member_made_for_another_nonce_fails_holder_binding(imported_client, stack):
    presentations = stack(nonces=(NONCE, "another-request-nonce", NONCE))
    response, answer = post(imported_client, {"presentations": presentations})  # no expected nonce: the stack's
    assert response.status_code == 200
    assert answer["verified"] is False
    binding = check(answer["results"][1], "holder_binding")
    assert binding["status"] == "failed"
    assert "another nonce than the rest of the stack" in binding["detail"]
    assert answer["results"][0]["verified"] is True
    assert answer["results"][2]["verified"] is True
    assert answer["summary"]["line"] == "2 of 3 verified · 10 ECTS · EQF 6"
    presentations = stack(audiences=(AUDIENCE, AUDIENCE, "https://elsewhere.example"))
    response, answer = post(imported_client, {"presentations": presentations, "nonce": NONCE, "audience": AUDIENCE})
    assert check(answer["results"][2], "holder_binding")["status"] == "failed"
    assert "https://elsewhere.example" in check(answer["results"][2], "holder_binding")["detail"]


def test_seventeen_presentations_are_too_many(imported_client, stack):
    response, answer = post(imported_client, {"presentations": stack() * 6})
    assert response.status_code == 413
    assert answer["error"] == "the stack holds 18 presentations, more than 16"


@pytest.mark.parametrize("body, reason", [
    ({"presentations": "abc"}, "'presentations' must be a list of presentations, found str"),
    ({"presentations": []}, "'presentations' is empty; a stack holds 1 to 16 presentations"),
    ({"presentations": ["a.b.c~", 5]}, "presentations[1] must be a presentation (text) or a JSON presentation "
                                       "(object), found int"),
    ({"presentations": [None]}, "presentations[0] must be a presentation"),
    ({"presentations": [""]}, "found an empty one"),
    ({"presentations": [["a"]]}, "found list"),
    ({"presentations": ["a.b.c~"], "presentation": "a.b.c~"},
     "send either 'presentation' (one) or 'presentations' (a stack), not both"),
    ({"presentations": ["a.b.c~"], "nonce": 5}, "'nonce' must be a string, found int"),
    ({"presentations": ["a.b.c~"], "extra": 1}, "unexpected member(s) extra"),
])
def test_malformed_members_are_400_with_a_precise_reason(imported_client, body, reason):
    response, answer = post(imported_client, body)
    assert response.status_code == 400
    assert reason in answer["error"]


def test_a_member_that_is_no_presentation_fails_format_and_is_400(imported_client, stack):
    presentations = stack()
    presentations[1] = "hello world"
    response, answer = post(imported_client, {"presentations": presentations})
    assert response.status_code == 400
    assert answer["error"].startswith("presentations[1]: ")
    assert check(answer["results"][1], "format")["status"] == "failed"
    assert len(answer["results"]) == 3


def test_an_sd_jwt_member_over_the_size_limit_is_413(imported_client, stack):
    presentations = stack()
    presentations[0] = presentations[0] + "~" * 70_000
    response, answer = post(imported_client, {"presentations": presentations})
    assert response.status_code == 413
    assert answer["error"].startswith("presentations[0]: the SD-JWT VC presentation is")


def test_a_link_to_a_stack_is_answered_as_a_stack_by_the_api_and_the_page(imported_client, stack, status_server):
    link = status_server.serve("/p/stack-1", json.dumps({"presentations": stack()}), content_type="application/json")
    response, answer = post(imported_client, {"presentation": link})
    assert response.status_code == 200
    assert answer["summary"]["line"] == "3 of 3 verified · 14 ECTS · EQF 6–7"
    again = stack(nonces=("second-stack-nonce",) * 3)  # the same nonce again would be a replay of the same VP
    status_server.serve("/p/stack-2", json.dumps({"presentations": again}), content_type="application/json")
    page = imported_client.post("/verify", data={"presentation": status_server.base + "/p/stack-2"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="stack-line"' in text
    assert "3 of 3 verified · 14 ECTS · EQF 6–7" in text
    assert text.count('<li class="stack-item ') == 3
    assert 'data-verified="true"' in text


def test_a_link_to_a_malformed_stack_fails_format_saying_why(imported_client, status_server):
    link = status_server.serve("/p/stack-bad", json.dumps({"presentations": [1]}), content_type="application/json")
    response, answer = post(imported_client, {"presentation": link})
    assert response.status_code == 400
    assert "presentations[0] must be a presentation" in check(answer, "format")["detail"]


def test_the_cli_verifies_a_stack_file(ledger_env, stack, tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_VERIFIER_FETCH_ALLOW_HTTP", "1")
    monkeypatch.setenv("MICROCRED_VERIFIER_FETCH_ALLOW_LOOPBACK", "1")
    good = tmp_path / "stack.json"
    good.write_text(json.dumps({"presentations": stack()}))
    done = CliRunner().invoke(main, ["verify", str(good)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["summary"]["line"] == "3 of 3 verified · 14 ECTS · EQF 6–7"
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps({"presentations": stack(nonces=(NONCE, "other", NONCE))}))
    done = CliRunner().invoke(main, ["verify", str(mixed)])
    assert done.exit_code == 1, done.output
    assert json.loads(done.output)["verified"] is False


def test_one_credential_shown_twice_counts_once(imported_client, make_issuer):
    issuer = make_issuer()
    credential = issuer.credential()
    presentations = [issuer.present(credential, nonce=NONCE, audience=AUDIENCE),
                     issuer.present(credential, nonce=NONCE, audience=AUDIENCE, paths=[("title",), ("ects",)])]
    response, answer = post(imported_client, {"presentations": presentations, "nonce": NONCE, "audience": AUDIENCE})
    assert response.status_code == 200
    assert answer["results"][0]["verified"] is True
    assert check(answer["results"][1], "replay")["status"] == "failed"
    assert "already shown as presentation 1 of this stack" in check(answer["results"][1], "replay")["detail"]
    assert answer["summary"]["line"] == "1 of 2 verified · 5 ECTS · EQF 6"


def test_the_stack_page_takes_plain_results_as_an_openid4vp_answer_gives_them(imported_app, make_issuer):
    """render_stack_result(results, presentations, now, problems=…): integrity, counting once and the problems."""
    from verifier import service_of
    from verifier.pages import render_stack_result

    issuer = make_issuer()
    credential = issuer.credential()
    presentations = [issuer.present(credential, nonce=NONCE, audience=AUDIENCE),
                     issuer.present(credential, nonce=NONCE, audience=AUDIENCE, paths=[("title",)]),
                     issuer.present(nonce="another", audience=AUDIENCE)]
    service = service_of(imported_app)
    results = [service.verify(p) for p in presentations]
    assert all(r.verified for r in results)
    with imported_app.test_request_context("/"):
        page = render_stack_result(results, presentations, int(time.time()),
                                   problems=["the answer for 'degree' does not disclose ects"])
    assert 'data-verified="false"' in page
    assert "1 of 3 verified · 5 ECTS · EQF 6" in page
    assert "already shown as presentation 1 of this stack" in page
    assert "another nonce than the rest of the stack" in page
    assert "the answer for &#39;degree&#39; does not disclose ects" in page
