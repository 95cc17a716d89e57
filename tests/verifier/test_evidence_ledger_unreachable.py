"""``microcred verify --evidence FILE`` when the ledger cannot be reached: it names the ledger as it is configured
(the node ``MICROCRED_RPC_URL`` names, or the local devnet) and says what to do, never the node's URL (which may
hold an API key, and is an internal address) on standard output or standard error; exit 2 (cannot decide)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.verifier.test_evidence import _download

pytestmark = pytest.mark.integration

DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _recheck(tmp_path, text: str, jwks: str) -> tuple[int, str]:
    """The command as a newcomer runs it, in its own process (so that what it logs reaches the terminal too):
    (exit code, standard output and standard error)."""
    (tmp_path / "evidence.json").write_text(text, encoding="utf-8")
    (tmp_path / "jwks.json").write_text(jwks, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "microcred", "verify", "--evidence", str(tmp_path / "evidence.json"),
                           "--jwks", str(tmp_path / "jwks.json")], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ), cwd=tmp_path)
    return done.returncode, done.stdout + done.stderr


def _evidence(client, make_issuer) -> tuple[str, str]:
    return _download(client, make_issuer().present()), client.get("/.well-known/jwks.json").get_data(as_text=True)


def test_a_configured_node_that_does_not_answer_is_named_by_its_setting(client, make_issuer, ledger_env,
                                                                        monkeypatch, tmp_path):
    text, jwks = _evidence(client, make_issuer)
    monkeypatch.setenv("MICROCRED_RPC_URL", DEAD)

    code, output = _recheck(tmp_path, text, jwks)

    assert code == 2, output
    assert "ledger: cannot say: the ledger cannot be read: the ledger node MICROCRED_RPC_URL names did not answer" \
        in output
    assert "check that it is running and that this machine can reach it, then run this again" in output
    assert "the evidence was made on chain 31337" in output
    assert "127.0.0.1:9" not in output
    assert "http" not in output


def test_a_local_devnet_that_does_not_answer_says_how_to_start_it(client, make_issuer, ledger_env, ledger_data_dir,
                                                                   monkeypatch, tmp_path):
    text, jwks = _evidence(client, make_issuer)
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(ledger_data_dir / "deployment.json", data_dir / "deployment.json")
    (data_dir / "devnet.json").write_text(json.dumps({"url": DEAD, "pid": 1}), encoding="utf-8")
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(data_dir))
    monkeypatch.delenv("MICROCRED_RPC_URL")

    code, output = _recheck(tmp_path, text, jwks)

    assert code == 2, output
    assert "ledger: cannot say: the ledger cannot be read: the local devnet did not answer" in output
    assert "start it with `microcred devnet start`" in output
    assert "127.0.0.1:9" not in output
    assert str(data_dir) not in output


def test_a_data_dir_without_a_ledger_says_where_to_run_it(client, make_issuer, ledger_env, monkeypatch, tmp_path):
    text, jwks = _evidence(client, make_issuer)
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("MICROCRED_RPC_URL")

    code, output = _recheck(tmp_path, text, jwks)

    assert code == 2, output
    assert "ledger: cannot say: the ledger cannot be read: no ledger is set up in this data dir" in output
    assert "MICROCRED_DATA_DIR" in output
    assert "its operator has been told" not in output
    assert str(tmp_path) not in output


def test_no_node_and_no_devnet_says_what_to_set(client, make_issuer, ledger_env, ledger_data_dir, monkeypatch,
                                                  tmp_path):
    text, jwks = _evidence(client, make_issuer)
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(ledger_data_dir / "deployment.json", data_dir / "deployment.json")
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(data_dir))
    monkeypatch.delenv("MICROCRED_RPC_URL")

    code, output = _recheck(tmp_path, text, jwks)

    assert code == 2, output
    assert "no ledger is configured: MICROCRED_RPC_URL is not set and no local devnet was started here" in output
    assert str(data_dir) not in output
