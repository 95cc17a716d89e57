"""The code lints clean (issue 11, item 6): ruff with the settings of ``pyproject.toml``.

pycodestyle, pyflakes, import order, bugbear, pyupgrade, comprehensions and plain
simplifications over the packages, the tests and the benchmarks, 120 columns
(``[tool.ruff]``). ``make test`` runs this file with the rest of the suite, so a
finding fails the build; ``ruff check --fix`` applies the safe fixes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
