"""A revocation whose anchor is not on chain yet must not make the rest of its list unverifiable.

The issuer signs a new status-list version as soon as a credential is revoked; its SHA-256 is anchored
on the StatusRegistry afterwards (a transaction waiting to be mined, or a ledger down or refusing). A
verifier reads the list from the issuer and holds its hash against the chain's anchor: served before its
anchor is mined, the new version matches nothing on chain, and every credential on the list answered
"not verified" until the anchor was mined — for good if it never was. The issuer's public endpoints
(IETF Token Status List ``/status/<id>`` and W3C Bitstring ``/status/bitstring/<id>``) now serve the
anchored version while a newer one waits for its anchor, and the newer one once the chain holds it.

The real parts run here: the session's Anvil node (tests/conftest.py), the issuer's web app served on
loopback, its service anchoring with the controller key, and the verifier app fetching the list over HTTP.
Mining is paused with ``evm_setAutomine`` (a transaction sent but not mined), or the issuer's node is
unreachable (the anchor fails). Each verifier is made after the revocation, as one that has not read the
list before would be.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

AUDIENCE = "https://employer.example"
SHOWN = [("title",), ("ects",)]
ROW = {
    "title": "Consensus Protocols in Practice", "ects": 4, "eqf_level": 7, "qf_ehea_cycle": "second",
    "learning_outcomes": ["Explain why a fork resolves", "Measure finality on a test network"],
    "assessment_type": "Project", "participation": "online",
    "quality_assurance": "Internal quality assurance, ESG-compliant",
}
_names = itertools.count(1)


@contextmanager
def serving_on(port: int, app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class World:
    """One accredited issuer serving its lists on loopback, its service, and a holder key."""

    home: object
    service: object
    base_url: str
    ledger: object
    ledger_data_dir: object
    anvil_url: str
    holder: object

    def issue(self, count: int) -> list[tuple[str, str, str, str]]:
        """``count`` credentials each with an Open Badge twin: (id, SD-JWT VC, twin id, twin vc+jwt) each."""
        from credentials.jose import json_dumps
        from issuer.archive import KIND_MICROCRED, KIND_OB3
        from issuer.batch import BatchDefaults, parse_json

        now = int(time.time())
        identity = self.service.identity
        rows = [{**ROW, "holder_jwk": self.holder.public_key().to_jwk(),
                 "learner": {"given_name": "Ada", "family_name": "Pending", "birth_date": "2000-01-01",
                             "student_id": f"P-{n:05d}"}} for n in range(count)]
        defaults = BatchDefaults(issuer_country=identity.country, awarding_body=identity.awarding_body(),
                                 issued_on=datetime.fromtimestamp(now, UTC).date().isoformat())
        kinds = (KIND_MICROCRED, KIND_OB3)
        result = self.service.issue_batch(parse_json(json_dumps(rows), defaults, kinds=kinds), now=now, kinds=kinds)
        assert all(outcome.anchored for outcome in result.anchors), result.anchors
        primaries = [item for item in result.issued if item.kind == KIND_MICROCRED]
        twins = {self.service.archive.credential(item.credential_id).twin_of: item for item in result.issued
                 if item.kind == KIND_OB3}
        return [(item.credential_id, item.sd_jwt, twins[item.credential_id].credential_id,
                 twins[item.credential_id].sd_jwt) for item in primaries]

    def served(self, path: str) -> str:
        with urllib.request.urlopen(self.base_url + path, timeout=10) as response:  # noqa: S310 (loopback)
            return response.read().decode("ascii")

    def chain_sha256(self, list_id: str) -> bytes:
        return bytes(self.ledger.status.latest_anchor(self.home.identity.did, list_id).sha256)

    @contextmanager
    def verifier(self):
        """A new verifier app (nothing cached) on the session deployment, loopback http allowed."""
        from verifier import create_app, service_of

        app = create_app({"TESTING": True, "DATA_DIR": str(self.ledger_data_dir), "RPC_URL": self.anvil_url,
                          "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                          "VERIFIER_POLL_INTERVAL": 0.05, "VERIFIER_FETCH_TIMEOUT": 2.0,
                          "VERIFIER_RATE_LIMIT": "off", "VERIFIER_OPENID4VP_RATE_LIMIT": "off"})
        try:
            yield app.test_client()
        finally:
            service_of(app).close()

    def revocation(self, client, credential: str) -> tuple[bool, dict]:
        """Verify ``credential`` (an SD-JWT VC, presented with a fresh KB-JWT, or a badge's vc+jwt as it is):
        (verified, the revocation check)."""
        from credentials.sd_jwt import HolderSdJwt

        if "~" in credential:
            body = HolderSdJwt.parse(credential).present_with_key_binding(
                SHOWN, self.holder, audience=AUDIENCE, nonce=secrets.token_urlsafe(16), iat=int(time.time()))
        else:
            body = credential
        answer = client.post("/api/v1/verify", data=body, content_type="text/plain").get_json()
        checks = {item["check"]: item for item in answer["checks"]}
        return answer["verified"], checks["revocation"]


@pytest.fixture
def world(ledger_env, ledger, chain, root_account, new_account, unique_did, ledger_data_dir, anvil):
    from credentials.jose import PrivateKey
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from credentials.verification_types import OB3_TYPE
    from issuer.archive import Archive
    from issuer.identity import create_issuer
    from issuer.ledger_link import LedgerStatusAnchor
    from issuer.service import IssuerService
    from issuer.web import create_app
    from ledger.artifacts import Role
    from ledger.devnet import free_port
    from ledger.keys import DEVNET_FUNDING_WEI

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    home = create_issuer(ledger_data_dir, f"pending-anchor-{next(_names)}-{secrets.token_hex(3)}",
                         legal_name="Università di Prova", country="IT", base_url=base_url)
    now = chain.block_timestamp()
    vcts = [MICRO_CREDENTIAL_VCT, OB3_TYPE]
    tao, tao_account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=vcts, legal_name="Agenzia di prova",
                          country="IT", valid_from=min(now, int(time.time())) - 3600, valid_until=None,
                          controller=tao_account.address)
    ledger.trust.accredit(tao, home.identity.did, role=Role.ISSUER, vcts=vcts, legal_name=home.identity.legal_name,
                          country="IT", valid_from=min(now, int(time.time())) - 600, valid_until=None,
                          controller=home.identity.controller_address, account=tao_account)
    chain.transfer(root_account, home.identity.controller_address, DEVNET_FUNDING_WEI)
    service = IssuerService(home.identity, Archive(home.archive_path), home.signing_key(),
                            anchor=LedgerStatusAnchor(home))
    app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "ISSUER": home.identity.name})
    with serving_on(port, app):
        yield World(home, service, base_url, ledger, ledger_data_dir, anvil.url, PrivateKey.generate("ES256"))
    service.archive.close()


@contextmanager
def mining_paused(chain):
    chain.w3.provider.make_request("evm_setAutomine", [False])
    try:
        yield
    finally:
        chain.w3.provider.make_request("evm_setAutomine", [True])


def _assert_old_list_served(world, lists: dict[str, str]) -> None:
    """Each list's endpoint serves the token whose SHA-256 the chain holds (the last anchored version)."""
    for path, list_id in lists.items():
        served = world.served(path)
        assert hashlib.sha256(served.encode("ascii")).digest() == world.chain_sha256(list_id), path


def _paths(world, credential_id: str, twin_id: str) -> dict[str, str]:
    ietf = world.service.archive.credential(credential_id).list_id
    bitstring = world.service.archive.credential(twin_id).list_id
    return {f"/status/{ietf}": ietf, f"/status/bitstring/{bitstring}": bitstring}


def test_a_revocation_waiting_to_be_mined_leaves_the_rest_of_its_list_verified(world, chain):
    (keep_id, keep, keep_twin_id, keep_twin), (doomed_id, doomed, _, doomed_twin) = world.issue(2)
    lists = _paths(world, keep_id, keep_twin_id)
    assert set(lists.values()) == set(_paths(world, doomed_id, world.service.archive.twins(doomed_id)[0].id).values())

    with mining_paused(chain):
        outcome: list = []
        revoking = threading.Thread(
            target=lambda: outcome.append(world.service.set_status([doomed_id], "revoked", now=int(time.time()))))
        revoking.start()
        try:
            # Signed and committed, its anchor sent and waiting to be mined.
            wait_for(lambda: all(world.service.archive.status_list(i).version == 2 for i in lists.values()),
                     within=30, what="the new versions of both lists to be signed")
            controller = world.home.identity.controller_address
            wait_for(lambda: chain.w3.eth.get_transaction_count(controller, "pending")
                     > chain.w3.eth.get_transaction_count(controller, "latest"),
                     within=30, what="the anchoring transaction to wait in the node's pool")
            with world.verifier() as client:
                for credential in (keep, keep_twin, doomed, doomed_twin):  # the old, anchored list: all valid
                    verified, revocation = world.revocation(client, credential)
                    assert verified is True, revocation
                    assert revocation["status"] == "passed", revocation
            _assert_old_list_served(world, lists)
        finally:
            chain.w3.provider.make_request("evm_mine", [])
            revoking.join(timeout=150)
    assert [o.anchored for o in outcome[0].anchors] == [True, True], outcome

    for path, list_id in lists.items():  # the chain holds version 2: it is served
        record = world.service.archive.status_list(list_id)
        assert world.served(path) == record.token
        assert world.chain_sha256(list_id) == hashlib.sha256(record.token.encode("ascii")).digest()
    with world.verifier() as client:
        for credential in (doomed, doomed_twin):
            verified, revocation = world.revocation(client, credential)
            assert verified is False, revocation
            assert revocation["status"] == "failed", revocation
            assert "revoked" in revocation["detail"], revocation
        for credential in (keep, keep_twin):
            verified, revocation = world.revocation(client, credential)
            assert verified is True, revocation


def _revoked(world, client, credential) -> tuple[bool, dict] | None:
    """The verdict once the verifier reads the credential as revoked, else None (it may read the chain later)."""
    verified, revocation = world.revocation(client, credential)
    return (verified, revocation) if revocation["status"] == "failed" else None


def test_an_anchor_that_fails_leaves_the_old_list_served_until_it_is_anchored(world, monkeypatch, ledger_env):
    (keep_id, keep, keep_twin_id, keep_twin), (doomed_id, doomed, _, doomed_twin) = world.issue(2)
    lists = _paths(world, keep_id, keep_twin_id)

    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")  # the issuer's node: nothing listens
    result = world.service.set_status([doomed_id], "revoked", now=int(time.time()))
    assert [o.anchored for o in result.anchors] == [False, False], result.anchors
    assert all(world.service.archive.status_list(i).anchor_pending for i in lists.values())
    with world.verifier() as client:
        for credential in (keep, keep_twin):
            verified, revocation = world.revocation(client, credential)
            assert verified is True, revocation
    _assert_old_list_served(world, lists)

    monkeypatch.setenv("MICROCRED_RPC_URL", ledger_env["MICROCRED_RPC_URL"])
    assert all(o.anchored for o in world.service.publish(now=int(time.time())))
    with world.verifier() as client:
        for credential in (doomed, doomed_twin):
            verified, revocation = wait_for(lambda credential=credential: _revoked(world, client, credential),
                                            within=10, step=0.2, what="the verifier to read the revocation")
            assert verified is False, revocation
            assert "revoked" in revocation["detail"], revocation
        assert world.revocation(client, keep)[0] is True
