"""A Ctrl-C in any ``microcred`` command: one line saying what is kept, exit 130 (real processes on Anvil).

Before, the ledger's commands (``deploy``, ``accredit …``, ``did …``, ``devnet …``, ``trust …``) and every
command still starting (loading web3 takes seconds) printed click's "Aborted!" and exited 1. The ``microcred``
group now answers for all of them: "interrupted: …; run the same command again …", exit 130, as the issuer's
commands do. The Ctrl-C comes at the exact step through the fault hook (``MICROCRED_FAULT_AT=<point>:INT``).
"""

from __future__ import annotations

import json
import re

import pytest

from credentials.jose import PrivateKey
from infra.fault_hook import ENV_FAULT_AT
from microcred.cli import EXIT_INTERRUPTED
from tests.ledger.cli_runner import run, run_process

pytestmark = pytest.mark.integration


def _one_interrupted_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("interrupted"), stderr
    assert "Aborted" not in stderr
    return lines[0]


def test_ctrl_c_once_a_did_is_registered_is_exit_130_and_the_rerun_finishes(ledger_env, tmp_path):
    key_file = tmp_path / "signing.jwk"
    key_file.write_text(json.dumps(PrivateKey.generate("EdDSA").to_jwk()))
    args = ["did", "create", "--controller", str(tmp_path / "controller.key"), "--public-key", str(key_file)]
    interrupted = run_process(args, {**ledger_env, ENV_FAULT_AT: "did-registered:INT"})
    assert interrupted.returncode == EXIT_INTERRUPTED, interrupted.stderr
    line = _one_interrupted_line(interrupted.stderr)
    assert "kept" in line
    assert "run the same command again" in line
    code, out, err = run(args, ledger_env)
    assert code == 0, err
    assert re.search(r"already registered: did:mcr:\S+; nothing to do", out), out


@pytest.mark.parametrize("args", [["accredit", "show", "did:web:anyone.example"], ["deploy"], ["devnet", "status"],
                                  ["trust", "export"]])
def test_ctrl_c_while_a_command_starts_is_exit_130_and_nothing_changed(ledger_env, args):
    interrupted = run_process(args, {**ledger_env, ENV_FAULT_AT: "command-loading:INT"})
    assert interrupted.returncode == EXIT_INTERRUPTED, interrupted.stderr
    line = _one_interrupted_line(interrupted.stderr)
    assert "nothing was changed" in line
    assert "run the same command again" in line
    assert interrupted.stdout == ""
