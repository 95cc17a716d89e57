"""Headless Chromium with a fake camera: the scanning page reads a QR code from a .y4m video
(made here) with the vendored jsQR, submits it, and shows the verdict."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.browser import QUIET_CHROMIUM_ARGS, chromium_page, serving

pytestmark = [pytest.mark.integration, pytest.mark.browser]

WIDTH, HEIGHT, FRAMES = 640, 480, 20


def write_y4m(path: Path, text: str) -> None:
    """A still video of ``text`` as a QR code: YUV 4:2:0, grey Y plane, neutral chroma."""
    import segno
    from PIL import Image

    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=6, border=4)
    code = Image.open(io.BytesIO(png.getvalue())).convert("L")
    side = min(HEIGHT - 40, code.width)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(code.resize((side, side), Image.NEAREST), ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + luma + chroma + chroma)


@pytest.fixture
def served_app(app):
    with serving(app) as base:
        yield base


def test_camera_scan_shows_the_verdict(served_app, make_issuer, status_server, tmp_path):
    issuer = make_issuer()
    link = status_server.serve("/share/browser", issuer.present(), content_type="application/dc+sd-jwt")
    video = tmp_path / "qr.y4m"
    write_y4m(video, link)
    args = [*QUIET_CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
    with chromium_page(args=args) as page:
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(served_app + "/")
        page.click("#start-camera")
        page.wait_for_selector("#verdict", timeout=20_000)
        assert page.get_attribute("#verdict", "data-verified") == "true"
        assert "Verified" in page.inner_text("#verdict")
        assert "Introduction to Smart Contracts" in page.inner_text("#certificate")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert not [e for e in errors if "Content Security Policy" in e]
