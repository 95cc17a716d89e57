"""The ``microcred`` command line through click's runner, for the ledger and did CLI tests."""

from __future__ import annotations

from click.testing import CliRunner

from microcred.cli import main

__all__ = ["one_line_error", "run"]


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """``microcred *args`` with ``env``: (exit code, stdout, stderr); exceptions propagate."""
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(stderr: str) -> str:
    """The one line ``error: …`` a failing command writes (no traceback, nothing else)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]
