"""The verifier's scan page when the camera cannot be started, in headless Chromium at 360 x 740: a plain sentence
for each cause (no camera found, permission refused, camera in use, anything else) with what to do instead
(upload a photo or paste), never the browser's exception name ("(NotFoundError)").

Headless Chromium has no camera: pressing "Start camera" meets the real NotFoundError. The other causes are the
DOMException names getUserMedia rejects with, raised by the browser's own DOMException from an init script."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, QUIET_CHROMIUM_ARGS, chromium_page, serving

pytestmark = [pytest.mark.browser]

EXCEPTION_NAMES = ("NotFoundError", "NotAllowedError", "NotReadableError", "OverconstrainedError", "SecurityError",
                   "AbortError", "Error")


@pytest.fixture
def bare_app(tmp_path):
    """A verifier with no chain behind it: enough to render its pages."""
    from verifier import create_app

    return create_app({"TESTING": True, "VERIFIER_PUBLIC_URL": "http://127.0.0.1:5002",
                       "VERIFIER_TRUSTED_ROOTS": "did:example:root", "DATA_DIR": str(tmp_path / "verifier"),
                       "RPC_URL": "http://127.0.0.1:9"})


def _camera_says(bare_app, rejection: str | None = None, language: str = "en") -> str:
    with serving(bare_app) as base, chromium_page(viewport=PHONE, args=QUIET_CHROMIUM_ARGS) as page:
        if rejection is not None:
            page.add_init_script("navigator.mediaDevices.getUserMedia = function () { return Promise.reject("
                                 f"new DOMException('the browser says so', '{rejection}')); }};")
        page.set_extra_http_headers({"Accept-Language": language})
        page.goto(base + "/")
        before = page.inner_text("#camera-status")
        page.click("#start-camera")
        page.wait_for_function("before => document.querySelector('#camera-status').textContent !== before "
                               "&& !document.querySelector('#camera-status').textContent.endsWith('…')", arg=before)
        return page.inner_text("#camera-status")


def _plain(said: str) -> None:
    for name in EXCEPTION_NAMES:
        assert f"({name})" not in said
        assert name not in said.split()
    assert "NotFound" not in said
    assert "upload a photo" in said


def test_no_camera_says_so_and_what_to_do(bare_app):
    said = _camera_says(bare_app)  # headless Chromium: no camera at all
    _plain(said)
    assert "No camera was found" in said


@pytest.mark.parametrize(("rejection", "words"), [
    ("NotAllowedError", "permission"),
    ("SecurityError", "permission"),
    ("NotReadableError", "in use"),
    ("OverconstrainedError", "No camera was found"),
    ("TypeError", "could not be started"),
])
def test_each_cause_is_said_in_plain_words(bare_app, rejection, words):
    said = _camera_says(bare_app, rejection)
    _plain(said)
    assert words in said


def test_the_sentence_is_in_the_pages_language(bare_app):
    said = _camera_says(bare_app, language="fr")
    assert "NotFoundError" not in said
    assert "caméra" in said.lower()
