"""Trust lists others can read (issue 14, §3), against the real Anvil registry.

The TrustRegistry exported as an ETSI TS 119 602 List of Trusted Entities
(validated against the vendored, published schema) and as EBSI-style
Verifiable Accreditations; served by the verifier at ``/trust/lote.json`` (a
503 with a reason while the chain is down); imported into a fresh verifier,
whose trust it then decides: export → import → a credential of an
accredited issuer is trusted, and not before.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from click.testing import CliRunner

from credentials.lote import STATUS_GRANTED, STATUS_SUSPENDED, STATUS_WITHDRAWN, schema_errors
from microcred.cli import main
from tests.verifier.conftest import AUDIENCE

pytestmark = pytest.mark.integration


def _entities(document: dict) -> dict[str, dict]:
    """DID → its service information."""
    found = {}
    for entity in document["LoTE"]["TrustedEntitiesList"]:
        for service in entity["TrustedEntityServices"]:
            info = service["ServiceInformation"]
            for did in info["ServiceDigitalIdentity"]["OtherIds"]:
                found[did] = info
    return found


def test_the_exported_lote_is_schema_valid_and_lists_each_entry_with_its_accreditor_and_status(
        ledger, accredit_issuer):
    from ledger.trust_export import lote_of, registry_snapshot

    active, suspended, revoked = accredit_issuer(), accredit_issuer(), accredit_issuer()
    ledger.trust.suspend(suspended.did)
    ledger.trust.revoke(revoked.did)

    snapshot = registry_snapshot(ledger)
    document = lote_of(snapshot)

    assert schema_errors(document) == []
    info = document["LoTE"]["ListAndSchemeInformation"]
    assert info["LoTESequenceNumber"] == snapshot.block
    services = _entities(document)
    assert services[ledger.deployment.root_did]["ServiceStatus"] == STATUS_GRANTED
    accreditation = services[active.did]["ServiceInformationExtensions"][0]["microcredAccreditation"]
    assert accreditation["accreditedBy"] == active.tao_did
    assert accreditation["role"] == "issuer"
    assert services[active.did]["ServiceStatus"] == STATUS_GRANTED
    assert services[suspended.did]["ServiceStatus"] == STATUS_SUSPENDED
    assert services[revoked.did]["ServiceStatus"] == STATUS_WITHDRAWN


def test_ebsi_accreditations_are_unsigned_vcs_of_the_current_entries_saying_so(ledger, accredit_issuer):
    from ledger.trust_export import accreditations_of, registry_snapshot

    active, revoked = accredit_issuer(), accredit_issuer()
    ledger.trust.revoke(revoked.did)

    document = accreditations_of(registry_snapshot(ledger))

    assert document["proof"] == "none"
    by_subject = {vc["credentialSubject"]["id"]: vc for vc in document["accreditations"]}
    assert revoked.did not in by_subject
    vc = by_subject[active.did]
    assert vc["issuer"] == active.tao_did
    assert vc["type"][-1] == "VerifiableAccreditationToAttest"
    assert by_subject[active.tao_did]["type"][-1] == "VerifiableAccreditationToAccredit"


def test_the_verifier_serves_the_lote_cached_briefly(client, accredit_issuer):
    issuer = accredit_issuer()

    answer = client.get("/trust/lote.json")

    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Cache-Control"] == "public, max-age=30"
    assert schema_errors(answer.get_json()) == []
    assert issuer.tao_did in _entities(answer.get_json())
    accreditations = client.get("/trust/accreditations.json")
    assert accreditations.status_code == 200
    assert accreditations.get_json()["proof"] == "none"


def test_the_lote_route_answers_503_with_a_reason_while_the_chain_is_down(ledger_data_dir):
    from verifier import create_app, service_of

    app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "RPC_URL": "http://127.0.0.1:9",
                      "VERIFIER_RATE_LIMIT": "off", "VERIFIER_TRUSTED_ROOTS": "did:web:root.example"})
    try:
        answer = app.test_client().get("/trust/lote.json")
    finally:
        service_of(app).close()

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json() == {"error": "the trust registry cannot be read from the ledger now; try again shortly"}


@pytest.fixture
def fresh_verifier_dir(tmp_path, ledger_data_dir):
    """A verifier's data dir of its own on the session's chain: the deployment file, nothing imported."""
    from ledger.config import DEPLOYMENT_FILE, DEVNET_FILE

    directory = tmp_path / "fresh-verifier"
    directory.mkdir()
    for name in (DEPLOYMENT_FILE, DEVNET_FILE):
        shutil.copy(ledger_data_dir / name, directory / name)
    return directory


def _verify(data_dir, anvil, presentation: str) -> dict:
    from verifier import create_app, service_of

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "RPC_URL": anvil.url,
                      "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                      "VERIFIER_RATE_LIMIT": "off", "VERIFIER_TRUSTED_ROOTS": "did:web:nobody-we-know.example"})
    try:
        answer = app.test_client().post("/api/v1/verify", json={"presentation": presentation, "audience": AUDIENCE})
    finally:
        service_of(app).close()
    return {c["check"]: c for c in answer.get_json()["checks"]}


def test_round_trip_export_then_import_into_a_fresh_verifier_makes_an_accredited_issuer_trusted(
        ledger_env, anvil, make_issuer, fresh_verifier_dir, tmp_path, monkeypatch):
    issuer = make_issuer()
    runner = CliRunner()
    exported = tmp_path / "lote.json"

    result = runner.invoke(main, ["trust", "export", "--format", "lote", "--out", str(exported)])
    assert result.exit_code == 0, result.output
    assert schema_errors(json.loads(exported.read_text())) == []

    before = _verify(fresh_verifier_dir, anvil, issuer.present())
    assert before["issuer_trust"]["status"] == "failed"
    assert "which this verifier does not trust" in before["issuer_trust"]["detail"]

    monkeypatch.setenv("MICROCRED_DATA_DIR", str(fresh_verifier_dir))
    result = runner.invoke(main, ["trust", "import", str(exported)])
    assert result.exit_code == 0, result.output
    assert "trusted DID(s)" in result.output

    after = _verify(fresh_verifier_dir, anvil, issuer.present())
    assert after["issuer_trust"]["status"] == "passed", after["issuer_trust"]


def test_an_imported_list_replaces_the_default_root_when_no_roots_are_configured(
        anvil, make_issuer, fresh_verifier_dir):
    from credentials.lote import SchemeInfo, TrustedEntry, build_lote
    from verifier import create_app, service_of
    from verifier.imported_trust import TRUSTED_LIST_FILE, import_list

    issuer = make_issuer()
    other = TrustedEntry("did:web:other-ministry.example", "root", "Other ministry", "FR", None, (), None, 0,
                         None, None, None)
    now = int(time.time())
    lote = build_lote([other], SchemeInfo("Other ministry", "FR", now, now + 3600, 1, 1, "0x" + "00" * 20))
    import_list(json.dumps(lote).encode(), fresh_verifier_dir / TRUSTED_LIST_FILE, now=now)

    app = create_app({"TESTING": True, "DATA_DIR": str(fresh_verifier_dir), "RPC_URL": anvil.url,
                      "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                      "VERIFIER_RATE_LIMIT": "off"})
    try:
        answer = app.test_client().post("/api/v1/verify", json={"presentation": issuer.present(),
                                                                "audience": AUDIENCE})
    finally:
        service_of(app).close()
    checks = {c["check"]: c for c in answer.get_json()["checks"]}
    assert checks["issuer_trust"]["status"] == "failed"
    assert "which this verifier does not trust" in checks["issuer_trust"]["detail"]


def test_import_refuses_a_schema_invalid_list_with_each_reason_and_writes_nothing(
        ledger_env, fresh_verifier_dir, tmp_path, monkeypatch):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"LoTE": {"ListAndSchemeInformation": {"LoTEVersionIdentifier": "one",
                                                                        "SchemeOperatorName": []}}}))
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(fresh_verifier_dir))

    result = CliRunner().invoke(main, ["trust", "import", str(bad)])

    assert result.exit_code == 1
    assert "$.LoTE.ListAndSchemeInformation.LoTEVersionIdentifier: 'one' is not of type 'integer'" in result.output
    assert "'LoTESequenceNumber' is a required property" in result.output
    assert "$.LoTE.ListAndSchemeInformation.SchemeOperatorName: [] should be non-empty" in result.output
    assert "Traceback" not in result.output
    assert not (fresh_verifier_dir / "trusted-list.json").exists()
