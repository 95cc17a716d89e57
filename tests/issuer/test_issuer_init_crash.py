"""``issuer init`` killed after it wrote its keys, before its identity (``issuer.json``): the same command run
again finishes it with those keys (the same DID) and says so, instead of refusing ("already exists; not
overwriting a key") and leaving a folder no command lists or removes. Real child processes."""

from __future__ import annotations

import json
import signal

from _crash_support import assert_nothing_left_behind, child_env, run, start

from issuer.identity import load_issuer


def test_an_init_killed_before_its_identity_is_finished_by_running_it_again(data_dir):
    args = ["issuer", "init", "uni", "--country", "IT", "--legal-name", "Università di Prova"]
    killed = start(args, child_env(data_dir, fault="issuer-keys-written"))
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    folder = data_dir / "issuers" / "uni"
    left_key = json.loads((folder / "issuer.private.jwk").read_text(encoding="utf-8"))
    assert not (folder / "issuer.json").exists()
    again = run(args, child_env(data_dir))
    assert again.returncode == 0, again.stderr
    assert "finishing the `issuer init` interrupted earlier" in again.stdout
    home = load_issuer(data_dir, "uni")
    assert home.signing_key().to_jwk() == left_key
    assert f"DID:        {home.identity.did}" in again.stdout
    twice = run(args, child_env(data_dir))
    assert twice.returncode == 1
    assert "already exists" in twice.stderr
