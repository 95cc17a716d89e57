"""The share page's labels and defaults make sense to a learner (issue 15 §1.7): no "Awarding body 1" or
"Country of the issuer 1" for a list of one, the items of a longer list told apart by their values; the
always-visible part does not claim that dates (a checkbox below) are always shown; the default choice
names the learner, so a verdict names somebody."""

from __future__ import annotations

import re

from wallet_helpers import CLAIMS


def _page(client, credential_id: int) -> str:
    response = client.get(f"/credentials/{credential_id}/share")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _checked(page: str) -> set[str]:
    return {value.replace("&#34;", '"') for value in
            re.findall(r'<input type="checkbox" name="claim" value="([^"]+)" checked>', page)}


def test_labels_of_a_list_of_one_carry_no_number(held):
    client, credential_id = held
    page = _page(client, credential_id)
    assert "Awarding body 1" not in page
    assert "Country of the issuer 1" not in page
    assert "Learning outcome 1" not in page
    assert page.count("<strong>Learning outcome</strong>") == len(CLAIMS["learning_outcomes"])


def test_the_always_visible_part_does_not_speak_of_dates_a_checkbox_hides(held):
    client, credential_id = held
    page = _page(client, credential_id)
    assert "dates are always visible" not in page
    assert "when it was signed" in page


def test_the_default_choice_names_the_learner_and_leaves_birth_date_and_number_out(held):
    client, credential_id = held
    checked = _checked(_page(client, credential_id))
    assert '["learner","given_name"]' in checked
    assert '["learner","family_name"]' in checked
    assert '["learner","birth_date"]' not in checked
    assert '["learner","student_id"]' not in checked
    assert '["title"]' in checked


def test_the_stack_page_says_the_same_and_ticks_the_learner_s_name(app, held, issuer):
    client, credential_id = held
    second = client.add(issuer.issue(client.holder_jwk(app), {**CLAIMS, "title": "Cloud Security Basics"}))
    other_id = int(second.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/stack/share/choose?credential={credential_id}&credential={other_id}").get_data(as_text=True)
    assert "dates are always visible" not in page
    assert "when it was signed" in page
    assert "Awarding body 1" not in page
    assert f'name="claim-{credential_id}" value="[&#34;learner&#34;,&#34;given_name&#34;]" checked' in page
