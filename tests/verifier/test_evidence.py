"""Evidence files (issue 14, §5) against the real node: the result page's signed download, and
``microcred verify --evidence FILE`` re-checking it later (0 still valid, 1 changed for the worse or a
bad signature, 2 cannot decide)."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape

import pytest
from click.testing import CliRunner

from credentials.evidence import parse_evidence, sign_evidence
from credentials.jose import PrivateKey, PublicKey, b64url_decode, b64url_encode
from tests.verifier.conftest import CLAIMS

pytestmark = pytest.mark.integration


def _download(client, presentation: str, claims: str = "include") -> str:
    page = unescape(client.post("/verify", data={"presentation": presentation}).get_data(as_text=True))
    assert 'data-verified="true"' in page
    action = re.search(r'<form method="post" action="(/evidence/[^"]+)"', page)
    assert action is not None, "the result page offers no evidence download"
    response = client.post(action.group(1), data={"claims": claims})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="evidence-')
    return response.get_data(as_text=True)


def _keys(client) -> dict[str, PublicKey]:
    jwks = client.get("/.well-known/jwks.json").get_json()
    return {jwk["kid"]: PublicKey.from_jwk({k: v for k, v in jwk.items() if k not in ("kid", "use")})
            for jwk in jwks["keys"]}


@pytest.fixture
def recheck(ledger_env, monkeypatch, tmp_path):
    """``microcred verify --evidence`` on a file: (exit code, output)."""
    from verifier.cli import verify

    monkeypatch.setenv("MICROCRED_VERIFIER_FETCH_ALLOW_HTTP", "true")
    monkeypatch.setenv("MICROCRED_VERIFIER_FETCH_ALLOW_LOOPBACK", "true")

    def run(text: str, *extra: str) -> tuple[int, str]:
        path = tmp_path / "evidence.json"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(verify, ["--evidence", str(path), *extra])
        return result.exit_code, result.output

    return run


def test_the_result_page_offers_a_signed_evidence_file_with_every_input(client, make_issuer, ledger):
    issuer = make_issuer()
    presentation = issuer.present()
    text = _download(client, presentation)
    evidence = parse_evidence(text)
    assert evidence.signature_problem(_keys(client)) is None
    payload = evidence.payload
    assert payload["presentation"]["sha256"] == hashlib.sha256(presentation.encode()).hexdigest()
    assert payload["verified"] is True
    assert payload["claims"]["title"] == CLAIMS["title"]
    revocation = evidence.check("revocation")["inputs"]
    anchor = ledger.status.latest_anchor(issuer.did, issuer.list_id)
    assert revocation["anchored_block"] == anchor.block_number
    assert revocation["anchored_sha256"] == anchor.sha256.hex()
    assert hashlib.sha256(revocation["status_list_token"].encode()).digest() == anchor.sha256
    receipt = ledger.chain.w3.eth.get_transaction_receipt(revocation["anchor_transaction"])
    assert receipt["blockNumber"] == anchor.block_number
    trust = evidence.check("issuer_trust")["inputs"]
    assert [link["did"] for link in trust["chain"]][0] == issuer.did
    assert trust["chain"][-1]["did"] == ledger.deployment.root_did
    assert trust["chain"][0]["events"][0]["event"] == "Accredited"
    assert trust["chain"][0]["events"][0]["block"] <= trust["read_at_block"]
    assert payload["ledger"]["chain_id"] == ledger.chain.chain_id()


def test_the_employer_may_leave_the_disclosed_claims_out(client, make_issuer):
    text = _download(client, make_issuer().present(), claims="omit")
    payload = parse_evidence(text).payload
    assert payload["claims"] is None
    assert payload["claims_omitted"] is True
    assert CLAIMS["title"] not in json.dumps(payload)


def test_an_unknown_evidence_id_or_claims_choice_is_refused(client, make_issuer):
    assert client.post("/evidence/not-kept", data={"claims": "omit"}).status_code == 404
    page = client.post("/verify", data={"presentation": make_issuer().present()}).get_data(as_text=True)
    action = re.search(r'action="(/evidence/[^"]+)"', page).group(1)
    refused = client.post(action, data={"claims": "everything"})
    assert refused.status_code == 400
    assert "omit or include" in refused.get_data(as_text=True)


def test_evidence_rechecked_unchanged_is_still_valid(client, make_issuer, recheck):
    code, output = recheck(_download(client, make_issuer().present()))
    assert code == 0, output
    assert "revocation: unchanged" in output
    assert "issuer_trust: unchanged" in output
    assert "still valid" in output


def test_the_servers_jwks_checks_the_file_anywhere(client, make_issuer, recheck, tmp_path):
    text = _download(client, make_issuer().present())
    jwks = tmp_path / "jwks.json"
    jwks.write_text(client.get("/.well-known/jwks.json").get_data(as_text=True))
    code, output = recheck(text, "--jwks", str(jwks))
    assert code == 0, output
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"keys": [PrivateKey.generate("ES256").public_key().to_jwk()]}))
    code, output = recheck(text, "--jwks", str(other))
    assert code == 1
    assert "not among the verifier keys given" in output


def test_tampered_evidence_fails_with_the_reason(client, make_issuer, recheck):
    outer = json.loads(_download(client, make_issuer().present()))
    payload = json.loads(b64url_decode(outer["payload"]))
    payload["checks"][0]["detail"] = "edited"
    outer["payload"] = b64url_encode(json.dumps(payload).encode())
    code, output = recheck(json.dumps(outer))
    assert code == 1
    assert "changed after the verifier signed it" in output


def test_evidence_signed_by_another_key_fails(client, make_issuer, recheck):
    payload = parse_evidence(_download(client, make_issuer().present())).payload
    code, output = recheck(sign_evidence(payload, PrivateKey.generate("ES256")))
    assert code == 1
    assert "not among the verifier keys given" in output


def test_a_revocation_after_the_evidence_is_said_with_its_block(client, make_issuer, recheck, ledger):
    issuer = make_issuer()
    text = _download(client, issuer.present(issuer.credential(idx=4321)))
    issuer.status_list.set(4321, 1)
    issuer.publish()
    block = ledger.status.latest_anchor(issuer.did, issuer.list_id).block_number
    code, output = recheck(text)
    assert code == 1, output
    assert f"revoked at block {block} since the evidence was made" in output


def test_a_suspended_accreditation_after_the_evidence_is_said(client, make_issuer, recheck, ledger):
    issuer = make_issuer()
    text = _download(client, issuer.present())
    ledger.trust.suspend(issuer.did)
    code, output = recheck(text)
    assert code == 1, output
    assert "issuer accreditation suspended since the evidence was made" in output


def test_a_chain_that_cannot_be_read_cannot_decide(client, make_issuer, recheck, monkeypatch):
    text = _download(client, make_issuer().present())
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    code, output = recheck(text)
    assert code == 2, output
    assert "the ledger cannot be read" in output


def test_not_a_file_of_evidence_is_refused(recheck):
    code, output = recheck('{"hello": 1}')
    assert code == 1
    assert "not a verifier's evidence" in output


def test_the_issuance_proof_and_its_anchor_are_kept_and_checked_again(client, make_issuer, recheck, ledger):
    from tests.verifier.test_issuance_anchor_api import _batch, _present

    issuer = make_issuer()
    credential, proof, anchored = _batch(ledger, issuer)
    text = _download(client, _present(issuer, credential, proof, "n-evidence"))
    inputs = parse_evidence(text).check("issuance_anchor")["inputs"]
    assert inputs["proof"] == proof
    assert inputs["anchored_block"] == anchored.block_number
    assert inputs["anchored_by"].lower() == issuer.account.address.lower()
    code, output = recheck(text)
    assert code == 0, output
    assert f"issuance_anchor: unchanged: issued no later than block {anchored.block_number}" in output


def test_a_forged_cross_site_post_cannot_name_an_evidence_file(client, make_issuer):
    """What stands for a CSRF token on ``POST /evidence/<id>``: the verifier keeps no session (it sets no cookie a
    forged post could ride on), and the form's action names the result by an unguessable id (≥ 128 bits) that only
    its result page carries, a new one for each result. Whatever else a third party knows of the result (the
    presentation, the fingerprint the receipt prints, a near miss) names nothing: 404, no file. (The verifier
    has no CSRF token to check: adding a session cookie, or an id one can derive, makes this test fail.)"""
    presentation = make_issuer().present()
    shown = client.post("/verify", data={"presentation": presentation})
    assert "Set-Cookie" not in shown.headers
    page = unescape(shown.get_data(as_text=True))
    offer = re.search(r'<form method="post" action="/evidence/([^"]+)"', page).group(1)
    assert len(b64url_decode(offer)) >= 16
    again = unescape(client.post("/verify", data={"presentation": make_issuer().present()}).get_data(as_text=True))
    other = re.search(r'action="/evidence/([^"]+)"', again).group(1)
    assert other != offer
    digest = hashlib.sha256(presentation.encode()).hexdigest()
    near = offer[:-1] + ("A" if offer[-1] != "A" else "B")
    for guess in (digest, digest[:32], digest[:24], near, offer[:-1], offer.swapcase()):
        refused = client.post(f"/evidence/{guess}", data={"claims": "include"})
        assert refused.status_code == 404, guess
        assert "attachment" not in refused.headers.get("Content-Disposition", "")
    download = client.post(f"/evidence/{offer}", data={"claims": "include"})
    assert download.status_code == 200
    assert "Set-Cookie" not in download.headers
    assert parse_evidence(download.get_data(as_text=True)).payload["presentation"]["sha256"] == digest


def test_a_chain_read_that_fails_is_named_once_in_the_recheck():
    """Before: "the status anchor cannot be read: the status anchor cannot be read (the node …)"."""
    from credentials.evidence import recheck as recheck_rules
    from ledger.errors import LedgerError
    from tests.core.test_evidence_rules import _evidence, _finding, _now
    from verifier.evidence_check import _read

    def refused():
        raise LedgerError("the node at http://127.0.0.1:8545 refused to read the anchor")

    then = _read("the status anchor", refused)
    detail = _finding(recheck_rules(_evidence(), _now(anchor_then=then)), "revocation").detail
    assert detail.count("cannot be read") == 1, detail
    assert "refused to read the anchor" in detail
