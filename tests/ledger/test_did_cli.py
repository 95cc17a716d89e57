"""``microcred did create|add-key|rotate|revoke|show`` and ``microcred issuer init --did-method mcr`` /
``issuer rotate-key`` through click's runner on the real Anvil: outputs, exit codes, one-line errors, hostile input."""

from __future__ import annotations

import json
import re

import pytest

from credentials.jose import PrivateKey
from tests.ledger.cli_runner import one_line_error, run

pytestmark = pytest.mark.integration


def _jwk_file(path, key=None):
    key = key or PrivateKey.generate("ES256")
    path.write_text(json.dumps(key.to_jwk()))
    return path, key


def _create(tmp_path, env, name="c"):
    key_file, key = _jwk_file(tmp_path / f"{name}.jwk")
    controller = tmp_path / f"{name}.key"
    code, out, err = run(["did", "create", "--controller", str(controller), "--public-key", str(key_file)], env)
    assert code == 0, err
    did = re.search(r"DID:\s+(did:mcr:\S+)", out)[1]
    kid = re.search(r"key:\s+(did:mcr:\S+#\S+)", out)[1]
    return did, kid, controller, key


def test_create_rotate_revoke_show(tmp_path, ledger_env):
    did, kid, controller, key = _create(tmp_path, ledger_env)
    assert kid == f"{did}#{key.public_key().thumbprint()}"
    assert (controller.stat().st_mode & 0o777) == 0o600
    new_file, new_key = _jwk_file(tmp_path / "new.jwk", PrivateKey.generate("EdDSA"))
    code, out, err = run(["did", "rotate", did, "--old", kid, "--new-key", str(new_file),
                           "--controller", str(controller)], ledger_env)
    assert code == 0, err
    rotated_at = int(re.search(r"rotated at block (\d+)", out)[1])
    code, out, _ = run(["did", "show", did, "--json"], ledger_env)
    assert code == 0
    shown = json.loads(out)
    old, new = shown["didDocument"]["verificationMethod"]
    assert old["validUntilBlock"] == rotated_at == new["validFromBlock"]
    assert shown["didDocument"]["assertionMethod"] == [f"{did}#{new_key.public_key().thumbprint()}"]
    assert shown["didDocumentMetadata"]["controller"].endswith(":" + _address(out))
    new_kid = "#" + new_key.public_key().thumbprint()
    code, out, err = run(["did", "revoke", did, new_kid, "--controller", str(controller)], ledger_env)
    assert code == 0, err
    code, out, _ = run(["did", "show", did], ledger_env)
    assert code == 0
    assert "revoked at block" in out
    assert "until block" in out
    code, _, err = run(["did", "revoke", did, new_kid, "--controller", str(controller)], ledger_env)
    assert code == 1
    assert "already revoked" in one_line_error(err)


def _address(json_text: str) -> str:
    return json.loads(json_text)["didDocumentMetadata"]["controller"].rsplit(":", 1)[1]


def test_only_the_controller_rotates_or_revokes(tmp_path, ledger_env):
    did, kid, _, _ = _create(tmp_path, ledger_env)
    stranger = tmp_path / "stranger.key"
    run(["did", "create", "--controller", str(stranger), "--public-key", str(_jwk_file(tmp_path / "s.jwk")[0])],
         ledger_env)  # makes and funds the stranger's key
    new_file, _ = _jwk_file(tmp_path / "n.jwk")
    code, _, err = run(["did", "rotate", did, "--old", kid, "--new-key", str(new_file),
                         "--controller", str(stranger)], ledger_env)
    assert code == 1
    assert "(NotController)" in one_line_error(err)
    code, _, err = run(["did", "revoke", did, kid, "--controller", str(stranger)], ledger_env)
    assert code == 1
    assert "is not the controller" in one_line_error(err)


@pytest.mark.parametrize("bad_did", ["did:web:example.com", "did:mcr:31337:XYZ", "did:mcr:0:" + "ab" * 16,
                                     "did:mcr:31337:" + "ab" * 17, "not a did", "did:mcr:31337:" + "ab" * 16 + "/x",
                                     "did:mcr:\u202e31337:" + "ab" * 16, "", "did:mcr:" + "9" * 30 + ":" + "ab" * 16])
def test_a_malformed_did_is_bad_usage(tmp_path, ledger_env, bad_did):
    code, _, err = run(["did", "show", bad_did], ledger_env)
    assert code == 2
    assert "Traceback" not in err
    assert "did:mcr" in err or "DID" in err


def test_hostile_key_files_and_kids(tmp_path, ledger_env):
    did, kid, controller, _ = _create(tmp_path, ledger_env)
    garbage = tmp_path / "garbage.jwk"
    for content in (b"\xff\xfe not utf-8", b"[]", b'{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}', b"{" * 100_000,
                    b'{"kty":"oct","k":"AAAA"}', json.dumps({"kty": "RSA", "n": "AQAB", "e": "AQAB"}).encode()):
        garbage.write_bytes(content)
        code, _, err = run(["did", "rotate", did, "--old", kid, "--new-key", str(garbage),
                             "--controller", str(controller)], ledger_env)
        assert code == 2, err
        assert "Traceback" not in err
    new_file, _ = _jwk_file(tmp_path / "n.jwk")
    for bad_kid in ("#", "#" + "A" * 43, "did:key:z6Mk#abc", "#!!!", "x" * 5000, f"{did}#{'A' * 44}"):
        code, _, err = run(["did", "rotate", did, "--old", bad_kid, "--new-key", str(new_file),
                             "--controller", str(controller)], ledger_env)
        assert code == 1, (bad_kid, err)
        assert len(one_line_error(err)) < 400
    code, _, err = run(["did", "show", f"did:mcr:1:{'ab' * 16}"], ledger_env)
    assert code == 1
    assert "belongs to chain 1" in one_line_error(err)
    code, _, err = run(["did", "show", f"did:mcr:31337:{'ab' * 16}"], ledger_env)
    assert code == 1
    assert "is not registered" in one_line_error(err)
    code, _, err = run(["did", "revoke", did, kid, "--controller", str(tmp_path / "missing.key")], ledger_env)
    assert code == 1
    assert "Traceback" not in err


def test_an_issuer_signs_with_a_did_mcr_and_rotates_its_key(tmp_path, ledger_env):
    from issuer.identity import load_issuer
    from ledger.config import data_dir

    code, out, err = run(["issuer", "init", "mcr-uni", "--country", "IT", "--legal-name", "Università di Prova",
                           "--did-method", "mcr"], ledger_env)
    assert code == 0, err
    home = load_issuer(data_dir(), "mcr-uni")
    identity = home.identity
    assert identity.did.startswith("did:mcr:31337:")
    first_key = home.signing_key().public_key()
    assert identity.kid == f"{identity.did}#{first_key.thumbprint()}"
    assert f"DID:        {identity.did}" in out
    code, out, err = run(["--help"], ledger_env)
    assert "did" in out
    code, out, err = run(["issuer", "--issuer", "mcr-uni", "rotate-key"], ledger_env)
    assert code == 0, err
    assert "signed 0 status list(s) again with the new key" in out
    rotated = load_issuer(data_dir(), "mcr-uni")
    new_key = rotated.signing_key().public_key()
    assert new_key != first_key
    assert rotated.identity.kid == f"{identity.did}#{new_key.thumbprint()}"
    assert (rotated.signing_key_path.stat().st_mode & 0o777) == 0o600
    assert not (rotated.path / "issuer.private.next.jwk").exists()
    code, out, _ = run(["did", "show", identity.did, "--json"], ledger_env)
    assert json.loads(out)["didDocument"]["assertionMethod"] == [rotated.identity.kid]


def test_a_did_key_issuer_cannot_rotate_and_a_failed_registration_leaves_no_issuer(tmp_path, ledger_env,
                                                                                 monkeypatch):
    code, _, err = run(["issuer", "init", "key-uni", "--country", "IT", "--legal-name", "Uni"], ledger_env)
    assert code == 0, err
    code, _, err = run(["issuer", "--issuer", "key-uni", "rotate-key"], ledger_env)
    assert code == 1
    assert "only a did:mcr issuer can rotate its key" in err
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")  # nobody listens there
    env = {**ledger_env, "MICROCRED_RPC_URL": "http://127.0.0.1:9"}
    code, _, err = run(["issuer", "init", "down-uni", "--country", "IT", "--legal-name", "Uni",
                         "--did-method", "mcr"], env)
    assert code == 1
    assert "Traceback" not in err
    monkeypatch.setenv("MICROCRED_RPC_URL", ledger_env["MICROCRED_RPC_URL"])
    code, _, err = run(["issuer", "init", "down-uni", "--country", "IT", "--legal-name", "Uni",
                         "--did-method", "mcr"], ledger_env)
    assert code == 0, err  # nothing was left behind to refuse the second attempt
