"""The browser assets the wallet and the verifier share (issue 11, item 5): one QR scanner.

jsQR was vendored twice byte for byte (the wallet's copy without its source
note) and the two ``scan.js`` had drifted apart. Now one copy of each lives in
``infra/static/`` (:mod:`infra.assets`), both apps serve it at
``/static/shared/…`` under their strict Content-Security-Policy, both scanning
pages load it and configure it with data- attributes, and the files travel in
the package. The camera itself is exercised by the browser tests
(tests/verifier/test_browser.py, tests/wallet/test_wallet_browser.py,
tests/system/test_story_browser.py).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.wallet.wallet_helpers import WalletClient

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "infra" / "static"
SHARED_FILES = ("scan.js", "vendor/jsqr/jsQR.js", "vendor/jsqr/LICENSE", "vendor/jsqr/SOURCE.md")


def _tracked(name: str) -> list[str]:
    """Paths (tracked or new, not ignored) in the checkout whose file name is ``name``."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    return sorted(path for path in listed if path.rsplit("/", 1)[-1] == name and (ROOT / path).is_file())


@pytest.fixture
def verifier_client(tmp_path):
    from verifier import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "verifier")}).test_client()


@pytest.fixture
def wallet_client(tmp_path):
    from wallet import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "wallet"), "SESSION_COOKIE_SECURE": False,
                      "CHAIN_CHECKS": False, "PUBLIC_URL": "http://127.0.0.1:5001", "ARGON2_TIME_COST": 1,
                      "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1})
    client = WalletClient(app.test_client())
    client.signup()
    return client


def test_one_copy_of_jsqr_and_of_the_scanner_in_the_checkout():
    assert _tracked("jsQR.js") == ["infra/static/vendor/jsqr/jsQR.js"]
    assert _tracked("scan.js") == ["infra/static/scan.js"]


def test_jsqr_carries_its_license_and_source_note():
    note = (SHARED / "vendor/jsqr/SOURCE.md").read_text()
    assert "1.4.0" in note
    assert "https://github.com/cozmo/jsQR" in note
    assert "Apache License\n" in (SHARED / "vendor/jsqr/LICENSE").read_text()


@pytest.mark.parametrize("which", ["verifier_client", "wallet_client"])
@pytest.mark.parametrize("name", SHARED_FILES)
def test_both_apps_serve_the_shared_files_under_their_policy(request, which, name):
    client = request.getfixturevalue(which)
    answer = client.get(f"/static/shared/{name}")
    assert answer.status_code == 200
    assert answer.get_data() == (SHARED / name).read_bytes()
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("which", ["verifier_client", "wallet_client"])
def test_no_path_outside_the_shared_folder_is_served(request, which):
    client = request.getfixturevalue(which)
    for path in ("/static/shared/../assets.py", "/static/shared/%2e%2e/assets.py", "/static/shared/vendor/",
                 "/static/shared/missing.js"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(("which", "page", "fallback"), [
    ("verifier_client", "/", "upload a photo or paste instead"),
    ("wallet_client", "/credentials/scan", "paste the link instead"),
])
def test_each_scanning_page_loads_the_shared_scanner_and_configures_it(request, which, page, fallback):
    client = request.getfixturevalue(which)
    answer = client.get(page)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    scripts = re.findall(r'<script src="([^"]+)"></script>', html)
    assert scripts == ["/static/shared/vendor/jsqr/jsQR.js", "/static/shared/scan.js"]
    assert "<script>" not in html
    scanner = re.search(r"<[a-z]+ [^>]*data-qr-scanner[^>]*>", html)
    assert scanner is not None
    assert f'data-fallback="{fallback}"' in scanner.group(0)
    for part in ("data-scan-video", "data-scan-canvas", "data-scan-status", "data-scan-form", "data-scan-field"):
        assert html.count(part) == 1, part


def test_the_verifier_starts_on_the_button_and_the_wallet_on_load(verifier_client, wallet_client):
    verifier_page = verifier_client.get("/").get_data(as_text=True)
    wallet_page = wallet_client.get("/credentials/scan").get_data(as_text=True)
    assert "data-scan-start" in verifier_page
    assert "data-autostart" not in verifier_page
    assert 'data-autostart="1"' in wallet_page


def test_the_shared_files_travel_in_the_package():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data.get("infra", [])
    for name in SHARED_FILES:
        assert any(fnmatch(f"static/{name}", pattern) and pattern.count("/") == f"static/{name}".count("/")
                   for pattern in patterns), name
