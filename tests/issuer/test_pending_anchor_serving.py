"""What the status-list endpoints serve while a newer version waits for its anchor (round 3, C5).

A verifier holds the served token's SHA-256 against the chain's anchor, so while a list's newest version is
not anchored the issuer serves the anchored one (kept in the archive as ``anchored_token``); the newest with
no ledger configured, with nothing anchored yet, or when the anchored token has expired. The whole story
against a real node and the real verifier is tests/system/test_pending_anchor.py; here the rules, the
migration of an archive made by the schema before (``archive-m005``), and the endpoints' headers.
"""

from __future__ import annotations

import hashlib

import pytest
from _issuer_support import NOW, jwk_cell, make_csv, make_row

from credentials.jose import PrivateKey
from credentials.status_list import StatusList, sign_status_list_token
from issuer.archive import Archive
from issuer.batch import parse_csv
from issuer.list_keeper import expired, served_token
from issuer.service import IssuerService
from issuer.web import create_app
from tests.legacy_databases.legacy import load_dump, schema_of


def _issue(service, defaults, kinds=("microcred",)) -> list[str]:
    rows = [make_row(1, holder_jwk=jwk_cell(PrivateKey.generate())), make_row(2)]
    result = service.issue_batch(parse_csv(make_csv(rows), defaults, kinds=kinds), now=NOW, kinds=kinds)
    return [item.credential_id for item in result.issued if item.kind == "microcred"]


def _list_of(service, credential_id: str) -> str:
    return service.archive.credential(credential_id).list_id


def test_a_revocation_waiting_for_its_anchor_serves_the_anchored_version(service, anchor, defaults):
    first, second = _issue(service, defaults)
    list_id = _list_of(service, first)
    anchored = service.status_list_token(list_id)
    assert anchored == service.archive.status_list(list_id).anchored_token

    anchor.down = True
    result = service.set_status([first], "revoked", now=NOW + 10)
    assert [o.anchored for o in result.anchors] == [False]
    record = service.archive.status_list(list_id)
    assert record.version == 2
    assert record.anchored_version == 1
    assert record.token != anchored
    assert service.status_list_token(list_id) == anchored
    assert service.status_list_token(list_id, now=NOW + 20) == anchored

    anchor.down = False
    assert [o.anchored for o in service.converge_anchors()] == [True]
    newest = service.archive.status_list(list_id)
    assert newest.anchored_token == newest.token
    assert service.status_list_token(list_id) == newest.token
    assert anchor.calls[-1][2] == hashlib.sha256(newest.token.encode("ascii")).digest()


def test_both_kinds_of_list_serve_their_anchored_version(service, anchor, defaults):
    first, _ = _issue(service, defaults, kinds=("microcred", "ob3"))
    (twin,) = service.archive.twins(first)
    ietf, bitstring = _list_of(service, first), twin.list_id
    before = {ietf: service.status_list_token(ietf, "ietf"),
              bitstring: service.status_list_token(bitstring, "bitstring")}
    anchor.down = True
    service.set_status([first], "revoked", now=NOW + 10)
    for list_id, kind in ((ietf, "ietf"), (bitstring, "bitstring")):
        assert service.archive.status_list(list_id).anchor_pending
        assert service.status_list_token(list_id, kind) == before[list_id]
    assert service.status_list_token(ietf, "bitstring") is None  # each kind at its own URL, as before
    assert service.status_list_token(bitstring, "ietf") is None


def test_with_no_ledger_configured_the_newest_is_served(home, defaults):
    archive = Archive(home.archive_path)
    try:
        service = IssuerService(home.identity, archive, home.signing_key(), anchor=None)
        first, _ = _issue(service, defaults)
        service.set_status([first], "revoked", now=NOW + 10)
        record = archive.status_list(_list_of(service, first))
        assert record.version == 2
        assert record.anchored_token is None
        assert service.status_list_token(record.id) == record.token
    finally:
        archive.close()


def test_a_list_never_anchored_serves_its_newest(service, anchor, defaults):
    anchor.down = True
    first, _ = _issue(service, defaults)
    record = service.archive.status_list(_list_of(service, first))
    assert record.anchor_pending
    assert record.anchored_token is None
    assert service.status_list_token(record.id) == record.token


def _token(key: PrivateKey, *, iat: int, exp: int | None) -> str:
    return sign_status_list_token(StatusList.new(), key, uri="https://uni.example/status/x", iat=iat, exp=exp, kid="k1",
                                  ttl=300)


def test_an_expired_anchored_token_is_not_served(service, anchor, defaults):
    """The issuer signs no ``exp``; were an anchored token to carry one that has passed, a verifier would refuse
    it anyway, so the newest is served (no worse than before the fix)."""
    first, _ = _issue(service, defaults)
    list_id = _list_of(service, first)
    anchor.down = True
    service.set_status([first], "revoked", now=NOW + 10)
    expiring = _token(service.signing_key, iat=NOW, exp=NOW + 100)
    with service.archive.transaction():
        service.archive.update_status_list(list_id, anchored_token=expiring)
    newest = service.archive.status_list(list_id).token
    assert service.status_list_token(list_id, now=NOW + 99) == expiring
    assert service.status_list_token(list_id, now=NOW + 100) == newest
    assert service.status_list_token(list_id, now=NOW + 5000) == newest


@pytest.mark.parametrize(("payload_end", "now", "ended"), [
    ({}, 10**10, False),
    ({"exp": 2000}, 1999, False),
    ({"exp": 2000}, 2000, True),
    ({"exp": "2000"}, 0, True),
    ({"validUntil": "2026-01-01T00:00:00Z"}, 1767225599, False),
    ({"validUntil": "2026-01-01T00:00:00Z"}, 1767225600, True),
    ({"validUntil": "2026-01-01T00:00:00"}, 1767225600, True),
    ({"validUntil": "the end of term"}, 0, True),
    ({"validUntil": 5}, 0, True),
])
def test_the_end_of_a_token_is_read_from_exp_or_valid_until(payload_end, now, ended):
    from credentials.jose import sign_jws

    token = sign_jws({"iat": 1000, **payload_end}, PrivateKey.generate(), header={"typ": "statuslist+jwt"})
    assert expired(token, now) is ended


def test_a_token_that_is_not_a_jwt_counts_as_ended():
    assert expired("not a token", 0) is True


class _ChainAnchor:
    """An anchor that reads its chain state (``latest_anchor``), as the StatusRegistry client does; it can send a
    transaction that the chain holds although the caller never hears back (a crash, a receipt never seen)."""

    def __init__(self):
        self.chain: dict[str, tuple[int, bytes]] = {}
        self.pool: dict[str, tuple[int, bytes]] = {}
        self.congested = False

    def anchor(self, issuer_did, list_id, sha256, version, compressed_list=None):
        if self.congested:  # sent, not mined within the time the sender waits
            from ledger.errors import LedgerUnavailable

            self.pool[list_id] = (version, sha256)
            raise LedgerUnavailable("transaction not mined after 120 s")
        self.chain[list_id] = (version, sha256)
        return type("Receipt", (), {"transaction_hash": f"0x{version:064x}", "block_number": version})()

    def mine(self):
        self.chain.update(self.pool)
        self.pool.clear()

    def latest_anchor(self, issuer_did, list_id):
        if list_id not in self.chain:
            return None
        version, sha256 = self.chain[list_id]
        return type("Anchor", (), {"version": version, "sha256": sha256, "block_number": version})()


def test_an_anchor_mined_unbeknown_to_the_issuer_is_served_once_the_service_sees_it(home, defaults):
    """The anchoring transaction is mined after the sender stopped waiting for it: the archive still says pending
    and serves the old version (which the chain no longer holds) until the next convergence — the service's
    background loop runs it every ANCHOR_RETRY_SECONDS — finds the chain holding the new version, records it
    without sending anything, and serves it."""
    archive = Archive(home.archive_path)
    try:
        anchor = _ChainAnchor()
        service = IssuerService(home.identity, archive, home.signing_key(), anchor=anchor)
        first, _ = _issue(service, defaults)
        list_id = _list_of(service, first)
        anchor.congested = True
        service.set_status([first], "revoked", now=NOW + 10)
        record = archive.status_list(list_id)
        assert record.anchor_pending
        assert service.status_list_token(list_id) == record.anchored_token != record.token
        anchor.congested = False
        anchor.mine()
        assert anchor.chain[list_id] == (2, hashlib.sha256(record.token.encode("ascii")).digest())
        assert [(o.version, o.anchored, o.tx) for o in service.converge_anchors()] == [(2, True, None)]  # nothing sent
        assert service.status_list_token(list_id) == record.token
    finally:
        archive.close()


def test_served_token_rules_on_a_record(service, anchor, defaults):
    first, _ = _issue(service, defaults)
    record = service.archive.status_list(_list_of(service, first))
    assert served_token(record, ledger=True) == record.token  # in sync
    assert served_token(record, ledger=False) == record.token


def test_recording_an_older_anchor_never_moves_the_record_back(service, defaults):
    first, _ = _issue(service, defaults)
    list_id = _list_of(service, first)
    with service.archive.transaction():
        service.archive.record_anchored(list_id, version=3, token="eyJ.v3.sig", block=9, tx="0x3")
        service.archive.record_anchored(list_id, version=2, token="eyJ.v2.sig", block=8, tx="0x2")
    record = service.archive.status_list(list_id)
    assert (record.anchored_version, record.anchored_token, record.anchored_block, record.anchored_tx) == (
        3, "eyJ.v3.sig", 9, "0x3")


# --------------------------------------------------------------------------- the endpoints


@pytest.fixture
def client(home, data_dir, anchor):
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                       "CLOCK": lambda: NOW + 30}).test_client()


def test_the_endpoints_serve_the_anchored_version_and_are_not_cached_meanwhile(service, anchor, defaults, client):
    first, _ = _issue(service, defaults, kinds=("microcred", "ob3"))
    (twin,) = service.archive.twins(first)
    paths = {f"/status/{_list_of(service, first)}": _list_of(service, first),
             f"/status/bitstring/{twin.list_id}": twin.list_id}
    before = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=300"
        before[path] = response.get_data(as_text=True)

    anchor.down = True
    service.set_status([first], "revoked", now=NOW + 10)
    for path, list_id in paths.items():
        response = client.get(path)
        assert response.get_data(as_text=True) == before[path]
        assert response.get_data(as_text=True) != service.archive.status_list(list_id).token
        assert response.headers["Cache-Control"] == "no-cache"  # a cache must not keep it once anchored

    anchor.down = False
    service.converge_anchors()
    for path, list_id in paths.items():
        response = client.get(path)
        assert response.get_data(as_text=True) == service.archive.status_list(list_id).token
        assert response.headers["Cache-Control"] == "public, max-age=300"


# --------------------------------------------------------------------------- an archive made by the schema before


def test_an_archive_made_before_keeps_serving_what_it_served(tmp_path, home):
    """``archive-m005``: made by issuer/archive/ at 03a7e34 (migrations m001–m005). A list in sync keeps its
    token as the anchored one; for a list left pending its anchored token was never kept, so the newest is
    served, as it was; a list never signed serves nothing."""
    path = load_dump("archive-m005", tmp_path / "archive.sqlite")
    archive = Archive(path)
    try:
        records = {record.id: record for record in archive.status_lists()}
        assert records["L1"].anchored_token == records["L1"].token == "eyJ.v2-of-L1.sig"
        assert records["B1"].anchored_token == records["B1"].token == "eyJ.v1-of-B1.sig"
        assert records["L2"].anchor_pending
        assert records["L2"].anchored_token is None
        assert records["L3"].anchored_token is None
        service = IssuerService(home.identity, archive, home.signing_key(), anchor=object())
        assert service.status_list_token("L1") == "eyJ.v2-of-L1.sig"
        assert service.status_list_token("L2") == "eyJ.v3-of-L2; 'quoted'.sig"
        assert service.status_list_token("L3") is None
        assert service.status_list_token("B1", "bitstring") == "eyJ.v1-of-B1.sig"
    finally:
        archive.close()
    fresh = tmp_path / "fresh.sqlite"
    Archive(fresh).close()
    assert schema_of(path) == schema_of(fresh)


# --------------------------------------------------------------------------- what the registrar and the CLI are told


def test_the_registrar_is_told_the_revocation_takes_effect_when_anchored(service, anchor, defaults, client):
    first, _ = _issue(service, defaults)
    anchor.down = True
    client.get(f"/registrar/credentials/{first}/revoke")
    with client.session_transaction() as session:
        token = session["csrf"]
    done = client.post(f"/registrar/credentials/{first}/revoke", data={"csrf_token": token, "reason": "void"},
                       follow_redirects=True).get_data(as_text=True)
    assert "NOT anchored yet" in done
    assert "verifiers still see the credential as valid" in done
    assert "takes effect for verifiers when its anchor is confirmed" in done
    assert "verifiers are served version 1 until then" in done  # the list under "Status lists"


def test_the_cli_says_the_revocation_takes_effect_when_anchored(data_dir, tmp_path):
    from click.testing import CliRunner

    from issuer.cli import EXIT_ANCHOR_PENDING
    from issuer.identity import load_issuer
    from microcred.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["issuer", "init", "uni", "--country", "IT", "--legal-name", "Uni"]).exit_code == 0
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(1), make_row(2)]), encoding="utf-8")
    runner.invoke(main, ["issuer", "issue", "--from", str(source)])  # the ledger is down (tests/issuer/conftest.py)
    archive = Archive(load_issuer(data_dir, "uni").archive_path)
    try:
        first = archive.credentials()[0]
        with archive.transaction():  # as if version 1 had been anchored before the ledger went down
            record = archive.status_list(first.list_id)
            archive.record_anchored(record.id, version=1, token=record.token, block=7, tx=None)
    finally:
        archive.close()
    revoked = runner.invoke(main, ["issuer", "revoke", first.id])
    assert revoked.exit_code == EXIT_ANCHOR_PENDING
    assert "NOT anchored" in revoked.output
    assert "verifiers are still served the last anchored status list" in revoked.output
    assert "takes effect for verifiers when its anchor is confirmed" in revoked.output
    assert "new status list is served" not in revoked.output  # what it said before: no longer true
    lists = runner.invoke(main, ["issuer", "lists"])
    assert "PENDING" in lists.output
    assert "verifiers are served version 1" in lists.output


def test_the_home_page_says_which_version_verifiers_are_served(service, anchor, defaults, client):
    first, _ = _issue(service, defaults)
    assert "verifiers are served version" not in client.get("/").get_data(as_text=True)
    anchor.down = True
    service.set_status([first], "revoked", now=NOW + 10)
    page = client.get("/").get_data(as_text=True)
    assert "anchor pending" in page
    assert "verifiers are served version 1 until then" in page


def test_a_token_read_before_its_successor_is_anchored_is_never_served_as_cacheable(service, anchor, defaults,
                                                                                     client, monkeypatch):
    """The anchor of the newest version confirmed (another anchorer) while a request is being answered: the token
    read while it waited (the old anchored one) must not go out with ``public, max-age``, or a cache would keep
    serving a token whose hash the chain no longer holds. The token and its header come from one read."""
    first, _ = _issue(service, defaults)
    list_id = _list_of(service, first)
    anchor.down = True
    service.set_status([first], "revoked", now=NOW + 10)
    anchor.down = False
    waiting = service.archive.status_list(list_id)
    assert waiting.anchor_pending

    read = Archive.status_list
    armed = [True]

    def read_then_anchored_elsewhere(archive, wanted):
        record = read(archive, wanted)
        if armed and wanted == list_id:
            armed.clear()  # once: the anchorer reads the archive too
            assert [o.anchored for o in service.converge_anchors()] == [True]
        return record

    monkeypatch.setattr(Archive, "status_list", read_then_anchored_elsewhere)
    response = client.get(f"/status/{list_id}")
    monkeypatch.undo()
    assert not armed  # the anchor was confirmed during the request
    assert response.get_data(as_text=True) == waiting.anchored_token  # what was anchored when it was read
    assert hashlib.sha256(waiting.anchored_token.encode("ascii")).digest() != anchor.calls[-1][2]
    assert response.headers["Cache-Control"] == "no-cache"
