"""`microcred verify` as a newcomer meets it (issue 15, §1 item 11), against the real Anvil.

Before: text garbage exited 1 but binary garbage 2; the demo's own http share
links, which its web verifier accepts, were refused ("must use https").
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from infra.settings import DEMO_MARKER_FILE

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(ledger_env, monkeypatch):
    for name in ("MICROCRED_DEV_LOOPBACK", "MICROCRED_VERIFIER_FETCH_ALLOW_HTTP",
                 "MICROCRED_VERIFIER_FETCH_ALLOW_LOOPBACK"):
        monkeypatch.delenv(name, raising=False)
    return ledger_env


@pytest.mark.parametrize("garbage", [b"not a presentation", b"\xff\xfe\x00\x01 binary \x80\x81", b"\x00" * 64])
def test_garbage_text_or_binary_is_not_verified_with_the_same_exit_code(cli_env, garbage):
    from verifier.cli import verify

    answer = CliRunner().invoke(verify, ["-"], input=garbage)
    assert answer.exit_code == 1, answer.output
    result = json.loads(answer.stdout)
    assert result["verified"] is False
    assert result["checks"][0]["check"] == "format"
    assert result["checks"][0]["status"] == "failed"


def test_the_demos_own_http_share_link_is_accepted(cli_env, make_issuer, status_server, ledger_data_dir):
    from verifier.cli import verify

    issuer = make_issuer()
    link = status_server.serve("/p/demo-share", issuer.present(), content_type="application/dc+sd-jwt")
    marker = ledger_data_dir / DEMO_MARKER_FILE
    marker.write_text("{}")
    try:
        answer = CliRunner().invoke(verify, ["-"], input=link)
    finally:
        marker.unlink()
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.stdout)["verified"] is True
    assert "MICROCRED_DEV_LOOPBACK" in answer.stderr  # it says which development setting it took, and why


def test_outside_the_demo_an_http_link_is_refused_saying_how_to_allow_it(cli_env, make_issuer, status_server):
    from verifier.cli import verify

    issuer = make_issuer()
    link = status_server.serve("/p/not-demo", issuer.present(), content_type="application/dc+sd-jwt")
    answer = CliRunner().invoke(verify, ["-"], input=link)
    assert answer.exit_code == 1
    detail = json.loads(answer.stdout)["checks"][0]["detail"]
    assert "https" in detail
    assert "MICROCRED_DEV_LOOPBACK" in answer.stderr


def test_an_issued_credential_file_is_not_verified_with_a_hint_to_share_it_from_a_wallet(cli_env, make_issuer):
    """A newcomer's first try: `microcred verify` on the issuer's `<id>.sd-jwt` or `<id>.with-proof.json`.

    Before: the credential alone failed holder_binding with no word on what to do, and the
    with-proof file failed `format` with "the credential's 'type' must be a string or a list
    of strings", as if it were a broken W3C credential.
    """
    from verifier.cli import verify

    credential = make_issuer().credential()
    alone = CliRunner().invoke(verify, ["-"], input=credential)
    assert alone.exit_code == 1, alone.output
    assert json.loads(alone.stdout)["verified"] is False
    assert "wallet" in alone.stderr
    bundle = json.dumps({"credential": credential, "issuance_proof": {"alg": "rfc9162-sha256"}})
    with_proof = CliRunner().invoke(verify, ["-"], input=bundle)
    assert with_proof.exit_code == 1, with_proof.output
    assert json.loads(with_proof.stdout)["verified"] is False
    assert "with-proof.json" in with_proof.stderr
    assert "import it into a wallet" in with_proof.stderr


def test_deeply_nested_json_is_not_verified_without_a_traceback(cli_env):
    """The hint for an issuer's file reads JSON too: nesting too deep for it is no issuer's file, not a crash."""
    from verifier.cli import verify

    depth = 50_000
    answer = CliRunner().invoke(verify, ["-"], input='{"a":' * depth + "1" + "}" * depth)
    assert isinstance(answer.exception, SystemExit), answer.exception
    assert answer.exit_code == 1
    assert json.loads(answer.stdout)["checks"][0]["status"] == "failed"
    assert "Traceback" not in answer.output
