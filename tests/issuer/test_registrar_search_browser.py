"""The registrar's search box on a 360 px phone, in headless Chromium: its hint (what one can search for) is read
whole in each language, in the box's label above it, not as a placeholder cut off at the box's edge; the label and
the box are no wider than the phone."""

from __future__ import annotations

import pytest
from _issuer_support import NOW

from issuer.web import create_app
from tests.browser import PHONE, QUIET_CHROMIUM_ARGS, chromium_page, serving

pytestmark = pytest.mark.browser

#: What one can search for, as each language says it.
HINTS = {"en": "student id, name, title or credential id", "de": "Matrikelnummer, Name, Titel oder Nachweis-ID",
         "fr": "numéro d’étudiant, nom, intitulé ou identifiant d’attestation",
         "it": "matricola, nome, titolo o id della credenziale"}
#: The box's label and hint: a hint typed into the box scrolls it when the placeholder would be cut off.
SEARCH_BOX = """() => {
    const box = document.querySelector('#q');
    const label = document.querySelector('label[for=q]');
    const hint = box.placeholder;
    box.value = hint;
    const fits = box.scrollWidth <= box.clientWidth;
    box.value = '';
    const width = document.documentElement.clientWidth;
    const inside = e => e.getBoundingClientRect().left >= 0 && e.getBoundingClientRect().right <= width;
    return {label: label.innerText.replace(/\\s+/g, ' '), placeholder_fits: hint === '' || fits,
            inside: inside(box) && inside(label) && label.scrollWidth <= label.clientWidth};
}"""


@pytest.fixture
def served(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    with serving(app) as base:
        yield base


def test_the_search_hint_is_whole_on_a_360_px_phone_in_each_language(served):
    with chromium_page(viewport=PHONE, args=QUIET_CHROMIUM_ARGS) as page:
        for language, hint in HINTS.items():
            page.goto(f"{served}/registrar/?lang={language}")
            found = page.evaluate(SEARCH_BOX)
            assert hint in found["label"], (language, found)  # read whole, above the box
            assert found["placeholder_fits"], (language, found)
            assert found["inside"], (language, found)
