"""Classifying what a holder-shown QR code carries."""

import pytest

from credentials.errors import FormatError
from credentials.presentation_codec import (
    INLINE_QR_MAX_CHARS,
    KIND_CREDENTIAL_OFFER,
    KIND_INLINE,
    KIND_LINK,
    KIND_OPENID4VP,
    classify_scanned,
    fits_inline,
)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln~WyJzIiwiYSIsMV0~eyJ0.eyJ1.c2ln", KIND_INLINE),
        ("  eyJh.eyJh.c2ln~  ", KIND_INLINE),
        ("https://wallet.example/s/abc123", KIND_LINK),
        ("http://127.0.0.1:5001/s/abc123", KIND_LINK),
        ("http://localhost:5001/s/abc123", KIND_LINK),
        ("openid4vp://?client_id=x&request_uri=https%3A%2F%2Fv.example%2Fr", KIND_OPENID4VP),
        ("OPENID4VP://?client_id=x", KIND_OPENID4VP),
        ("haip-vp://?client_id=x&request_uri=https%3A%2F%2Fv.example%2Fr", KIND_OPENID4VP),
        ("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi.example", KIND_CREDENTIAL_OFFER),
    ],
)
def test_known_kinds(text, kind):
    assert classify_scanned(text).kind == kind
    assert classify_scanned(text).value == text.strip()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("hello world", "neither"),
        ("http://wallet.example/s/x", "must use https"),
        ("https://user:pw@wallet.example/s/x", "user name"),
        ("https:///nohost", "no host"),
        ("x" * 5000, "more than a QR code"),
        (None, "must be text"),
    ],
)
def test_refused(text, message):
    with pytest.raises(FormatError, match=message):
        classify_scanned(text)


def test_fits_inline_threshold():
    assert fits_inline("a" * INLINE_QR_MAX_CHARS)
    assert not fits_inline("a" * (INLINE_QR_MAX_CHARS + 1))


# --- stacks (issue 13, item 1): what a stack link answers ----------------------------------------------

from credentials.presentation_codec import parse_stack, stack_presentations, stack_text  # noqa: E402


def test_a_stack_round_trips_and_json_presentations_may_be_objects():
    text = stack_text(["a.b.c~d~e.f.g", '{"type":["VerifiablePresentation"]}'])
    assert parse_stack(text) == ("a.b.c~d~e.f.g", '{"type":["VerifiablePresentation"]}')
    assert parse_stack('{"presentations": [{"type": ["VerifiablePresentation"], "proof": {}}]}') == (
        '{"type":["VerifiablePresentation"],"proof":{}}',)


@pytest.mark.parametrize("text", ["a.b.c~d~", '{"@context": [], "type": ["VerifiablePresentation"]}', "{not json",
                                  '["presentations"]', '{"payload": "presentations"}'])
def test_a_single_presentation_is_not_a_stack(text):
    assert parse_stack(text) is None


@pytest.mark.parametrize("document, message", [
    ({"presentations": "a.b.c~"}, "must be a list of presentations, found str"),
    ({"presentations": []}, "is empty; a stack holds 1 to 16 presentations"),
    ({"presentations": ["x"] * 17}, "the stack holds 17 presentations, more than 16"),
    ({"presentations": ["x", 5]}, "presentations[1] must be a presentation (text) or a JSON presentation (object), "
                                  "found int"),
    ({"presentations": ["  "]}, "presentations[0] must be a presentation (text) or a JSON presentation (object), "
                                "found an empty one"),
    ({"presentations": [None]}, "found NoneType"),
    ({"presentations": ["x"], "nonce": "n"}, "a stack holds only 'presentations'; found also 'nonce'"),
])
def test_a_malformed_stack_says_what_is_wrong(document, message):
    import json

    with pytest.raises(FormatError) as raised:
        parse_stack(json.dumps(document))
    assert message in str(raised.value)


def test_the_api_list_is_checked_the_same_way():
    with pytest.raises(FormatError, match=r"presentations\[0\]"):
        stack_presentations([[]])
    assert stack_presentations([" a "]) == ("a",)
