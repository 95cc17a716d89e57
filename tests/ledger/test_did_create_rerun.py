"""``microcred did create`` killed once its registration was mined, then run again (real Anvil, real processes).

Before, the rerun registered a second DID for the same controller and key, and the first, which the killed
run never printed, was orphaned on the registry. Now the same command finds the DID it registered and says
so: "already registered: <did>; nothing to do", printing its DID, key and controller lines as a first run
does. The kill comes at the exact step through the fault hook (``MICROCRED_FAULT_AT=did-registered``).
"""

from __future__ import annotations

import json
import re
import signal

import pytest

from credentials.jose import PrivateKey
from infra.fault_hook import ENV_FAULT_AT
from ledger.keys import load_key_file
from tests.ledger.cli_runner import run, run_process

pytestmark = pytest.mark.integration


def _registered_by(ledger, address: str) -> list[str]:
    """The DIDs the registry's events say ``address`` registered (as did:mcr identifiers' hex)."""
    return [event.args["id"].hex() if isinstance(event.args["id"], bytes) else str(event.args["id"])
            for event in ledger.dids.events()
            if event.name == "DidRegistered" and event.args["controller"].lower() == address.lower()]


def test_a_did_create_killed_once_mined_finishes_the_same_did_when_run_again(ledger, ledger_env, tmp_path):
    key = PrivateKey.generate("ES256")
    key_file = tmp_path / "signing.jwk"
    key_file.write_text(json.dumps(key.to_jwk()))
    controller = tmp_path / "controller.key"
    args = ["did", "create", "--controller", str(controller), "--public-key", str(key_file)]

    killed = run_process(args, {**ledger_env, ENV_FAULT_AT: "did-registered"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    address = load_key_file(controller).address
    assert len(_registered_by(ledger, address)) == 1

    code, out, err = run(args, ledger_env)
    assert code == 0, err
    did = re.search(r"DID:\s+(did:mcr:\S+)", out)[1]
    assert f"already registered: {did}; nothing to do" in out
    assert f"key:        {did}#{key.public_key().thumbprint()}" in out
    assert len(_registered_by(ledger, address)) == 1  # no second DID
    record = ledger.dids.record(did)
    assert record.controller == address
    assert [method.fragment for method in record.methods] == [key.public_key().thumbprint()]
