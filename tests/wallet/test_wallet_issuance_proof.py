"""The wallet keeps a credential's issuance proof (file import of <id>.with-proof.json, OpenID4VCI) and sends it
along in every presentation: the KB-JWT's claim issuance_proof. Redeemed from a real issuer on Anvil, the proof
leads to a root the issuer's account anchored."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from wallet_helpers import NOW, db_rows

from credentials.issuance_anchor import anchored_issuance
from credentials.jose import UnverifiedJws
from credentials.merkle import IssuanceProof, MerkleTree, credential_leaf
from credentials.sd_jwt.common import UnverifiedSdJwt
from wallet.transport import HttpResponse

TITLE = json.dumps(["title"])
REGISTRY = "0x" + "1f" * 20


def _bundle(credentials, index, change=None):
    tree = MerkleTree([credential_leaf(c) for c in credentials])
    proof = IssuanceProof.of(tree, index, chain_id=31337, registry=REGISTRY).to_json() | (change or {})
    return json.dumps({"credential": credentials[index], "issuance_proof": proof}, indent=1), proof


def _added_id(client, response):
    assert response.status_code == 302, client.last_page
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _shared_kb_payload(app, client, credential_id):
    client.get(f"/credentials/{credential_id}/share")
    assert client.post(f"/credentials/{credential_id}/share/preview", {"claim": [TITLE]}).status_code == 200
    created = client.post(f"/credentials/{credential_id}/share", {"claim": [TITLE]})
    assert created.status_code == 302, client.last_page
    presentation = db_rows(app, "SELECT presentation FROM shares ORDER BY created_at DESC, rowid DESC")[0][0]
    kb_jwt = UnverifiedSdJwt.parse(presentation).kb_jwt
    return UnverifiedJws.parse(kb_jwt, what="KB-JWT").payload


def test_a_file_with_its_proof_is_kept_and_its_proof_sent_in_every_kb_jwt(app, signed_in, issuer):
    holder = signed_in.holder_jwk(app)
    batch = [issuer.issue(holder, {"title": f"Course {n}"}) for n in range(3)]
    text, proof = _bundle(batch, 1)
    credential_id = _added_id(signed_in, signed_in.add(text))
    (stored,) = db_rows(app, "SELECT raw, issuance_proof FROM credentials WHERE id = ?", [credential_id])
    assert stored[0] == batch[1]
    assert json.loads(stored[1]) == proof
    assert _shared_kb_payload(app, signed_in, credential_id)["issuance_proof"] == proof


def test_a_credential_without_a_proof_sends_no_claim(app, held):
    client, credential_id = held
    assert db_rows(app, "SELECT issuance_proof FROM credentials")[0][0] is None
    assert "issuance_proof" not in _shared_kb_payload(app, client, credential_id)


@pytest.mark.parametrize(("change", "message"), [
    ({"index": 0}, "does not belong to this credential"),
    ({"root": "00" * 32}, "does not belong to this credential"),
    ({"alg": "sha1"}, "the issuance proof cannot be used"),
])
def test_a_proof_that_is_not_this_credentials_is_refused(app, signed_in, issuer, change, message):
    holder = signed_in.holder_jwk(app)
    batch = [issuer.issue(holder, {"title": f"Course {n}"}) for n in range(3)]
    text, _ = _bundle(batch, 2, change)
    assert signed_in.add(text).status_code == 400
    assert message in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0


# --- OpenID4VCI from the real issuer, anchored on Anvil -------------------------------------------------------

@pytest.fixture
def anchored_issuer(ledger_env, ledger_data_dir, ledger, chain, root_account, new_account, unique_did):
    """An accredited issuer in the ledger's data dir (its anchor: the real IssuanceRegistry) with one offer."""
    import io

    from issuer import web as issuer_web
    from issuer.archive import Archive
    from issuer.batch import BatchDefaults, parse_csv
    from issuer.identity import create_issuer
    from issuer.ledger_link import LedgerStatusAnchor
    from issuer.service import IssuerService
    from ledger.artifacts import Role
    from ledger.keys import DEVNET_FUNDING_WEI
    from tests.wallet.test_wallet_oid4vci import ROW

    home = create_issuer(ledger_data_dir, unique_did("uni").rsplit(":", 1)[-1].replace(".", "-"),
                         legal_name="Universidade Exemplo", country="PT")
    start = chain.block_timestamp() - 3600
    tao, tao_account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=["urn:microcred:vct:micro-credential:1"],
                          legal_name="Agência", country="PT", valid_from=start, valid_until=None,
                          controller=tao_account.address)
    ledger.trust.accredit(tao, home.identity.did, role=Role.ISSUER, vcts=["urn:microcred:vct:micro-credential:1"],
                          legal_name=home.identity.legal_name, country="PT", valid_from=start, valid_until=None,
                          controller=home.identity.controller_address, account=tao_account)
    chain.transfer(root_account, home.identity.controller_address, DEVNET_FUNDING_WEI)
    archive = Archive(home.archive_path)
    service = IssuerService(home.identity, archive, home.signing_key(), anchor=LedgerStatusAnchor(home))
    rows = "\n".join([",".join(ROW), ",".join(f'"{v}"' for v in ROW.values())]) + "\n"
    defaults = BatchDefaults(home.identity.country, home.identity.awarding_body(), "2026-09-21")
    result = service.issue_batch(parse_csv(io.StringIO(rows).getvalue(), defaults), now=NOW - 60)
    app = issuer_web.create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "ISSUER": home.identity.name,
                                 "CLOCK": lambda: NOW})
    yield home, service, result.issued[0].offer_id, app.test_client()
    archive.close()


@pytest.mark.integration
def test_an_openid4vci_credential_comes_with_a_proof_to_a_root_its_issuer_anchored(app, signed_in, anchored_issuer,
                                                                                   ledger):
    from issuer.oid4vci import offer_uri
    from ledger.view import LedgerView

    home, service, offer_id, issuer_client = anchored_issuer
    host = urlsplit(home.identity.base_url).netloc
    answers = []

    def send(method, url, headers, body):
        parts = urlsplit(url)
        assert parts.netloc == host
        response = issuer_client.open(parts.path + (f"?{parts.query}" if parts.query else ""), method=method,
                                      headers=dict(headers), data=body)
        answers.append((parts.path, response.get_json(silent=True)))
        return HttpResponse(response.status_code, dict(response.headers), response.get_data())

    app.config["DEV_LOOPBACK"] = True
    app.config["HTTP_TRANSPORT"] = send
    credential_id = _added_id(signed_in, signed_in.add(offer_uri(service.identity, offer_id)))
    (credential_answer,) = [body for path, body in answers if path == "/credential"]
    (item,) = credential_answer["credentials"]
    assert set(item) == {"credential", "issuance_proof"}  # the proof is a member beside the credential
    raw, stored = db_rows(app, "SELECT raw, issuance_proof FROM credentials WHERE id = ?", [credential_id])[0]
    assert raw == item["credential"]
    assert json.loads(stored) == item["issuance_proof"]
    view = LedgerView(ledger, lambda uri: "")
    try:
        anchored = anchored_issuance(raw, json.loads(stored), home.identity.did, view.issuance_anchor)
    finally:
        view.stop()
    assert anchored.anchored_by == home.identity.controller_address
    assert anchored.size == 1
    assert _shared_kb_payload(app, signed_in, credential_id)["issuance_proof"] == item["issuance_proof"]
