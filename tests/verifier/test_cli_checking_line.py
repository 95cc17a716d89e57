"""``microcred verify`` says "checking…" on standard error when that is a terminal, before the seconds it spends
loading the ledger's client and reading the chain (nothing was printed meanwhile); piped or captured, standard
error gets no such line, and standard output (the result JSON) is the same either way."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def _run(tmp_path, *, terminal: bool) -> tuple[int, str, str]:
    """The command in its own process, its standard error a terminal (a pseudo-terminal) or a pipe:
    (exit code, standard output, standard error)."""
    (tmp_path / "garbage.txt").write_text("hello, is this my diploma?", encoding="utf-8")
    command = [sys.executable, "-m", "microcred", "verify", str(tmp_path / "garbage.txt")]
    env = {**os.environ, "MICROCRED_DATA_DIR": str(tmp_path / "var")}
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
        return done.returncode, done.stdout, done.stderr
    controller, terminal_end = pty.openpty()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=terminal_end, stdin=subprocess.DEVNULL,
                              timeout=120, env=env, cwd=tmp_path)
    finally:
        os.close(terminal_end)
    said = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the terminal's other end is closed and everything was read
            break
        if not chunk:
            break
        said += chunk
    os.close(controller)
    return done.returncode, done.stdout.decode("utf-8"), said.decode("utf-8", "replace")


def test_a_terminal_is_told_it_is_checking_and_a_pipe_is_not(tmp_path):
    code, out, err = _run(tmp_path, terminal=True)
    piped_code, piped_out, piped_err = _run(tmp_path, terminal=False)

    assert code == piped_code == 1
    assert err.lstrip().startswith("checking…"), err
    assert "checking" not in piped_err
    assert json.loads(out) == json.loads(piped_out)
