"""The wallet's scan page when the camera cannot be started, in headless Chromium at 360 x 740: the learner reads
the cause in plain words (no camera found on this device, permission refused, camera in use, anything else) with
what to do (the wallet's own words: reload this page, or paste the link instead), in the page's language, never
the browser's exception name nor the generic sentence for every cause. infra/static/scan.js maps the names to the
page's data-say-no-camera / -refused / -in-use / -failed (185bcd8).

Headless Chromium has no camera: the page starts it on load and meets the real NotFoundError. The other causes
are the DOMException names getUserMedia rejects with, raised by the browser's own DOMException from an init
script that reads the name to raise from the tab's localStorage."""

from __future__ import annotations

import pytest
from wallet_helpers import sign_up_in_browser

pytestmark = pytest.mark.browser

REJECT = """(() => {
    let name = null;
    try { name = window.localStorage.getItem('reject-camera-with'); } catch (error) { return; }
    if (name && navigator.mediaDevices) {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('the browser says so', name));
    }
})();"""

EXCEPTION_NAMES = ("NotFoundError", "NotAllowedError", "NotReadableError", "OverconstrainedError", "SecurityError",
                   "AbortError", "TypeError")


def _camera_says(page, base: str, rejection: str | None, language: str = "en") -> str:
    page.evaluate("name => name ? localStorage.setItem('reject-camera-with', name) "
                  ": localStorage.removeItem('reject-camera-with')", rejection)
    page.goto(f"{base}/credentials/scan?lang={language}")
    page.wait_for_function("() => { const said = document.querySelector('#camera-status').textContent;"
                           " return said.endsWith('.') && !said.endsWith('…'); }")
    said = page.inner_text("#camera-status")
    for name in EXCEPTION_NAMES:
        assert name not in said, said
    assert "{error}" not in said
    return said


@pytest.fixture
def scan(serve_wallet, page):
    _app, base = serve_wallet()
    page.set_viewport_size({"width": 360, "height": 740})
    page.add_init_script(REJECT)
    sign_up_in_browser(page, base)
    return lambda rejection=None, language="en": _camera_says(page, base, rejection, language)


def test_each_cause_is_said_in_plain_words_with_what_to_do(scan):
    assert scan() == "No camera was found on this device: paste the link instead."  # headless: no camera at all
    assert scan("OverconstrainedError") == "No camera was found on this device: paste the link instead."
    refused = ("The browser was not given permission to use the camera (allow it in the site’s settings and reload "
               "this page), or paste the link instead.")
    assert scan("NotAllowedError") == refused
    assert scan("SecurityError") == refused
    assert scan("NotReadableError") == ("The camera is in use by another app or tab (close it and reload this page), "
                                        "or paste the link instead.")
    assert scan("TypeError") == "The camera could not be started: paste the link instead."


@pytest.mark.parametrize(("language", "no_camera", "refused"), [
    ("de", "Auf diesem Gerät wurde keine Kamera gefunden: fügen Sie stattdessen den Link ein.",
     "laden Sie diese Seite neu"),
    ("fr", "Aucune caméra n’a été trouvée sur cet appareil : collez plutôt le lien.", "rechargez cette page"),
    ("it", "Su questo dispositivo non è stata trovata alcuna fotocamera: incolla invece il link.",
     "ricarica questa pagina"),
], ids=["de", "fr", "it"])
def test_the_sentences_are_in_the_pages_language(scan, language, no_camera, refused):
    assert scan(language=language) == no_camera
    assert refused in scan("NotAllowedError", language)
