"""`make shell` (issue 15, §1 item 11): the README's `microcred …` commands work without typing `.venv/bin`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.tooling import missing_tool

ROOT = Path(__file__).resolve().parent.parent


def test_make_shell_puts_the_projects_microcred_first_on_the_path(tmp_path):
    if shutil.which("make") is None:
        missing_tool("make is not installed")
    env = {**os.environ, "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    # -o: the installed stamps count as up to date, so the test never reinstalls anything
    answer = subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "-o", "node_modules/.installed",
                             "shell"], input="command -v microcred\nmicrocred --version\nexit\n", capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert answer.returncode == 0, answer.stderr
    assert str(ROOT / ".venv" / "bin" / "microcred") in answer.stdout + answer.stderr
    assert "microcred, version" in answer.stdout + answer.stderr
