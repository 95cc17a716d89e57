"""What `make demo` / `make test` print while they install (the README's two commands, on a fresh machine): pip and
npm run quietly for a minute or two, so a line first says what is being installed; Debian packages are installed
with sudo when the user is not root (as the browser and Redis packages already were)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.tooling import missing_tool

ROOT = Path(__file__).resolve().parent.parent


def _dry_run(target: str, *variables: str) -> str:
    """The commands make would run for ``target``, every prerequisite out of date (-B), none run (-n)."""
    if shutil.which("make") is None:
        missing_tool("make is not installed")
    answer = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), *variables, target], capture_output=True, text=True,
                            timeout=60, check=False)
    assert answer.returncode == 0, answer.stderr
    return answer.stdout


def test_installing_the_python_packages_says_so_first():
    commands = _dry_run(".venv/.installed")
    said = commands.find("Installing microcred and its Python packages")
    assert said != -1, commands
    assert said < commands.find("pip install --quiet -e")


def test_installing_the_node_tooling_says_so_first():
    commands = _dry_run("node_modules/.installed")
    said = commands.find("Installing the Node tooling")
    assert said != -1, commands
    assert said < commands.find("npm ci")


def test_nodejs_is_installed_with_sudo_for_a_user_who_is_not_root():
    commands = _dry_run("node_modules/.installed", "SUDO=sudo")
    assert "sudo apt-get install -y -q nodejs npm" in commands
