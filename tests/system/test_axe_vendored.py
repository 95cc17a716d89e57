"""The vendored axe-core (tests/system/vendor/axe/) is the version package.json pins, whole, with its
licence, and only the tests use it: no page, script or package of the apps refers to it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "tests" / "system" / "vendor" / "axe"
APPS = ("wallet", "verifier", "issuer", "infra")
AXE_MENTION = re.compile(r"axe\.min|axe-core|\baxe\.run\b|vendor/axe")


def test_the_vendored_axe_is_the_pinned_version_with_its_licence():
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]["axe-core"]
    locked = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]["node_modules/axe-core"]
    script = (VENDORED / "axe.min.js").read_text(encoding="utf-8")
    banner = re.match(r"/\*! axe v(\S+)", script)
    assert banner is not None, "axe.min.js does not start with axe's banner"
    assert banner.group(1) == pinned == locked["version"]
    assert "Mozilla Public License, version 2.0" in (VENDORED / "LICENSE").read_text(encoding="utf-8")
    assert f"axe-core` version {pinned}" in (VENDORED / "SOURCE.md").read_text(encoding="utf-8")
    installed = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if installed.exists():  # after `npm ci`: the copy is byte for byte the package's file
        assert hashlib.sha256(installed.read_bytes()).digest() == hashlib.sha256(script.encode("utf-8")).digest()


def test_no_app_serves_or_links_axe():
    tracked = subprocess.run(["git", "ls-files", *APPS], cwd=ROOT, capture_output=True, text=True, check=True)
    sources = [path for path in tracked.stdout.split() if path.endswith((".html", ".js", ".py"))]
    mentions = [path for path in sources if AXE_MENTION.search((ROOT / path).read_text(encoding="utf-8"))]
    assert mentions == []
