"""infra.display: every bidirectional control (UAX #9 explicit formatting, the marks) is made
visible; other text, including right-to-left scripts themselves, is left as it is."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from infra.display import BIDI_CONTROLS, neutralise_bidi

LISTED = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C]


def test_the_set_is_exactly_the_listed_controls():
    assert BIDI_CONTROLS == {chr(c) for c in LISTED}


@pytest.mark.parametrize("code", LISTED, ids=lambda c: f"U+{c:04X}")
def test_each_control_becomes_visible(code):
    shown = neutralise_bidi(f"Universit{chr(code)}y of Example")
    assert chr(code) not in shown
    assert shown == f"Universit[U+{code:04X}]y of Example"


def test_trojan_source_name_is_shown_as_written():
    spoof = "Example \u202eytisrevinU\u202c"
    assert neutralise_bidi(spoof) == "Example [U+202E]ytisrevinU[U+202C]"


def test_plain_and_rtl_text_and_non_strings_unchanged():
    for value in ("Universidade Exemplo", "جامعة المثال", "אוניברסיטה", "", 5, None, ["\u202e"]):
        assert neutralise_bidi(value) == value
    text = "Universidade Exemplo"
    assert neutralise_bidi(text) is text


def test_markup_stays_markup_and_safe():
    value = Markup("<strong>x\u202ey</strong>")
    shown = neutralise_bidi(value)
    assert isinstance(shown, Markup)
    assert shown == Markup("<strong>x[U+202E]y</strong>")


def test_jinja_finalize_covers_every_printed_expression():
    from flask import Flask, render_template_string

    from infra.display import init_jinja

    app = Flask(__name__)
    init_jinja(app)
    with app.test_request_context():
        page = render_template_string("<p title='{{ a }}'>{{ b }}</p>{{ c|bidi_safe }}",
                                      a="x\u2067", b="\u202dy", c="z\u200f")
    assert page == "<p title='x[U+2067]'>[U+202D]y</p>z[U+200F]"


@pytest.mark.parametrize("code", [0x061B, 0x061D, 0x200D, 0x2010, 0x2029, 0x202F, 0x2065, 0x206A],
                         ids=lambda c: f"U+{c:04X}")
def test_the_neighbours_of_the_controls_are_left_as_they_are(code):
    text = f"Universit{chr(code)}y of Example"
    assert neutralise_bidi(text) is text
