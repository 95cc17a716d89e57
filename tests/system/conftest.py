"""Fixtures for whole-system tests: the demo system running for real, a headless
Chromium with a fake camera, and the camera's video.

``running_system``    module: :func:`microcred.demo.start_system` in a temporary
                      data dir — its own Anvil devnet, the contracts, the trust
                      chain ministry → QA agency → two universities, both issuers,
                      the wallet and the verifier on free 127.0.0.1 ports, and the
                      demo learner holding four credentials. ``MICROCRED_DATA_DIR``
                      points at it while the module runs (``MICROCRED_RPC_URL`` is
                      unset so the system starts its own chain) and is restored
                      afterwards. Stopped at the end of the module, also on failure.
``browser``           function: a :class:`Browsers` launcher. A fake camera plays one
                      file for the life of a Chromium process, so each scan gets its
                      own launch: ``browser.phone(camera=video)`` (390×844, device
                      scale 1, touch) or ``browser.desktop()`` (1280×800) return a
                      fresh context; everything is closed at teardown.
``fake_camera_video`` function: ``fake_camera_video(text) -> Path``, a still .y4m video
                      of ``text`` as a QR code, for ``--use-file-for-fake-video-capture``.

Tests using these are marked ``@pytest.mark.integration`` and
``@pytest.mark.browser``. They skip when Anvil or ``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import io
import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.tooling import missing_tool

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
FAKE_CAMERA_ARGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}

#: The fake camera's frame: large enough for a dense inline presentation QR (≈ 4 px a module).
VIDEO_WIDTH, VIDEO_HEIGHT, VIDEO_FRAMES = 960, 960, 10
_QUIET_ZONE = 4


@pytest.fixture(scope="module")
def running_system(tmp_path_factory) -> Iterator[object]:
    from ledger.config import ENV_CONFIRMATIONS, ENV_DATA_DIR, ENV_RPC_URL
    from ledger.devnet import DevnetError, find_anvil, free_port
    from microcred.demo import start_system
    from microcred.system import UNIVERSITIES

    try:
        find_anvil()
    except DevnetError as exc:
        missing_tool(f"Anvil is not installed: {exc}")
    data_dir = tmp_path_factory.mktemp("system-var")
    with pytest.MonkeyPatch.context() as env:
        env.delenv(ENV_RPC_URL, raising=False)
        env.setenv(ENV_CONFIRMATIONS, "0")
        env.setenv(ENV_DATA_DIR, str(data_dir))  # start_system sets it too; this restores it afterwards
        running = start_system(data_dir, wallet_port=free_port(), verifier_port=free_port(),
                               issuer_ports={u.name: free_port() for u in UNIVERSITIES})
        try:
            yield running
        finally:
            running.stop()


class Browsers:
    """Launches headless Chromium processes (one per camera video) and closes them all."""

    def __init__(self, playwright) -> None:
        self._playwright = playwright
        self._launched: list[object] = []
        self.console_errors: list[str] = []

    def launch(self, camera: Path | None = None):
        args = list(CHROMIUM_ARGS)
        if camera is not None:
            args += [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={camera}"]
        launched = self._playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        self._launched.append(launched)
        return launched

    def _context(self, options: dict, camera: Path | None, storage_state: dict | None):
        context = self.launch(camera).new_context(**options, storage_state=storage_state)
        context.set_default_timeout(20_000)
        context.on("console", lambda message: self.console_errors.append(message.text)
                   if message.type == "error" else None)
        if camera is not None:
            context.grant_permissions(["camera"])
        return context

    def phone(self, camera: Path | None = None, *, storage_state: dict | None = None):
        """A new phone-sized context (its own Chromium); ``storage_state`` carries a sign-in over."""
        return self._context(PHONE, camera, storage_state)

    def desktop(self, camera: Path | None = None, *, storage_state: dict | None = None):
        return self._context(DESKTOP, camera, storage_state)

    def close(self) -> None:
        for launched in reversed(self._launched):
            launched.close()
        self._launched.clear()


@pytest.fixture
def browser() -> Iterator[Browsers]:
    if shutil.which(CHROMIUM) is None:
        missing_tool(f"Debian chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browsers = Browsers(playwright)
        try:
            yield browsers
        finally:
            browsers.close()


def write_qr_video(path: Path, text: str) -> Path:
    """``text`` as a QR code in a still YUV 4:2:0 video: grey luma, neutral chroma."""
    import segno
    from PIL import Image

    png = io.BytesIO()
    segno.make(text, error="l" if len(text) > 300 else "m", boost_error=False).save(
        png, kind="png", scale=1, border=_QUIET_ZONE)
    code = Image.open(io.BytesIO(png.getvalue())).convert("L")
    scale = max(1, (min(VIDEO_WIDTH, VIDEO_HEIGHT) - 20) // code.width)
    code = code.resize((code.width * scale, code.height * scale), Image.NEAREST)
    frame = Image.new("L", (VIDEO_WIDTH, VIDEO_HEIGHT), 255)
    frame.paste(code, ((VIDEO_WIDTH - code.width) // 2, (VIDEO_HEIGHT - code.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (VIDEO_WIDTH // 2 * VIDEO_HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{VIDEO_WIDTH} H{VIDEO_HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(VIDEO_FRAMES):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path


@pytest.fixture
def fake_camera_video(tmp_path) -> Callable[[str], Path]:
    made = itertools.count(1)

    def make(text: str) -> Path:
        return write_qr_video(tmp_path / f"camera-{next(made)}.y4m", text)

    return make
