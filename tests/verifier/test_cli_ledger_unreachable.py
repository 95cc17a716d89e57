"""``microcred verify FILE`` when the ledger cannot be reached: the checks that need it say which ledger (the node
``MICROCRED_RPC_URL`` names, or the local devnet) and what to do, as ``verify --evidence`` does
(tests/verifier/test_evidence_ledger_unreachable.py); never the node's URL or a path, on standard output or
standard error, and never "its operator has been told" (the operator is the person at the terminal); exit 2
(could not decide), as README's command-line section says."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _verify(tmp_path, presentation: str) -> tuple[int, str, dict]:
    """The command as a newcomer runs it, in its own process (what it logs reaches the terminal too):
    (exit code, standard output and standard error, the result JSON)."""
    (tmp_path / "presentation.txt").write_text(presentation, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "microcred", "verify", str(tmp_path / "presentation.txt")],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ), cwd=tmp_path)
    return done.returncode, done.stdout + done.stderr, json.loads(done.stdout)


def _details(result: dict) -> str:
    return " | ".join(check["detail"] for check in result["checks"])


def test_a_configured_node_that_does_not_answer_is_named_by_its_setting(make_issuer, ledger_env, monkeypatch,
                                                                        tmp_path):
    presentation = make_issuer().present()
    monkeypatch.setenv("MICROCRED_RPC_URL", DEAD)

    code, output, result = _verify(tmp_path, presentation)

    assert code == 2, output
    assert "the ledger node MICROCRED_RPC_URL names did not answer" in _details(result)
    assert "check that it is running and that this machine can reach it, then run this again" in _details(result)
    assert "its operator has been told" not in output
    assert not re.search(r"127\.0\.0\.1:9\b", output)  # the node's URL
    assert str(ledger_env["MICROCRED_DATA_DIR"]) not in output


def test_a_local_devnet_that_does_not_answer_says_how_to_start_it(make_issuer, ledger_env, ledger_data_dir,
                                                                   monkeypatch, tmp_path):
    presentation = make_issuer().present()
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(ledger_data_dir / "deployment.json", data_dir / "deployment.json")
    (data_dir / "devnet.json").write_text(json.dumps({"url": DEAD, "pid": 1}), encoding="utf-8")
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(data_dir))
    monkeypatch.delenv("MICROCRED_RPC_URL")

    code, output, result = _verify(tmp_path, presentation)

    assert code == 2, output
    assert "the local devnet did not answer" in _details(result)
    assert "start it with `microcred devnet start`" in _details(result)
    assert not re.search(r"127\.0\.0\.1:9\b", output)  # the node's URL
    assert str(data_dir) not in output


def test_a_data_dir_without_a_ledger_says_where_to_run_it(make_issuer, ledger_env, monkeypatch, tmp_path):
    presentation = make_issuer().present()
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("MICROCRED_RPC_URL")

    code, output, result = _verify(tmp_path, presentation)

    assert code == 2, output
    assert "no ledger is set up in this data dir" in _details(result)
    assert "MICROCRED_DATA_DIR" in _details(result)
    assert "its operator has been told" not in output
    assert str(tmp_path) not in output


@pytest.mark.parametrize("logger", ["verifier.service", "ledger.view", "ledger.issuance"])
def test_what_the_ledgers_readers_log_while_verifying_is_not_printed(caplog, logger):
    # A node that stops answering in the middle of a run is logged by the ledger's view (its URL in the line),
    # for a service's operator: the command's check details say it in the terminal user's terms instead.
    import logging

    from verifier.terminal import services_log_muted

    with caplog.at_level(logging.INFO), services_log_muted():
        logging.getLogger(logger).warning("the node at http://10.0.0.5:8545/?key=s3cret did not answer")
    assert "10.0.0.5" not in caplog.text
    logging.getLogger(logger).warning("after the command's verification: printed as usual")
    assert "printed as usual" in caplog.text
