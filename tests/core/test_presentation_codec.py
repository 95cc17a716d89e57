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
