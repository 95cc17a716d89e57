"""The ``microcred`` command line through click's runner, for the ledger and did CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from microcred.cli import main

__all__ = ["one_line_error", "run", "run_process"]

MICROCRED = str(Path(sys.executable).with_name("microcred"))
CHECKOUT = str(Path(__file__).resolve().parents[2])


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """``microcred *args`` with ``env``: (exit code, stdout, stderr); exceptions propagate."""
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_process(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``microcred *args`` in a process of its own (for a kill or a Ctrl-C), this environment's ``MICROCRED_*``
    replaced by ``env``."""
    child = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    child["PYTHONPATH"] = CHECKOUT  # this checkout's packages, whatever the installed distribution lists
    return subprocess.run([MICROCRED, *args], env={**child, **env}, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)


def one_line_error(stderr: str) -> str:
    """The one line ``error: …`` a failing command writes (no traceback, nothing else)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]
