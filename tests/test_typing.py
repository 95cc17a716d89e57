"""The code type-checks (issue 11, item 6): mypy with the settings of ``pyproject.toml``.

``credentials/`` (the pure core) under the flags of ``mypy --strict``; the other
packages with every function body checked (``check_untyped_defs``). ``make test``
runs this file with the rest of the suite, so a type error fails the build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_type_error():
    checked = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert checked.stderr == "", checked.stderr
    assert checked.stdout == "", checked.stdout
    assert checked.returncode == 0
