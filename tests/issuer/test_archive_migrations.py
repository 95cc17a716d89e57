"""The issuer archive: versioned, upgraded in place from each earlier schema, shared by threads."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from infra.migrations import applied_names
from issuer.archive import ARCHIVE_MIGRATIONS, Archive
from tests.legacy_databases.legacy import load_dump, rows_of, schema_of

EARLIER = ["archive-8f3995b", "archive-8f3995b-opened-by-751cd67", "archive-751cd67", "archive-m002"]
#: Columns later migrations added, and what an upgraded row holds in them.
ADDED = {"credentials": {"batch_row": None, "kind": "microcred", "twin_of": None},
         "status_lists": {"kind": "ietf", "anchored_token": None}}  # their lists are pending or never signed


@pytest.mark.parametrize("dump", EARLIER)
def test_an_earlier_archive_is_upgraded_keeping_every_row(dump, tmp_path):
    path = load_dump(dump, tmp_path / "archive.sqlite")
    before = rows_of(path)
    archive = Archive(path)
    try:
        assert applied_names(archive.db, ARCHIVE_MIGRATIONS) == list(ARCHIVE_MIGRATIONS.names)
    finally:
        archive.close()
    after = rows_of(path)
    assert set(after) == set(before) | {"batches", "status_changes", "issuance_leaves", "issuance_trees"}
    for table, rows in before.items():
        if table == "_sqlite_migrations":
            continue  # the versioned dump's own bookkeeping; the applied names are checked above
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            assert {name: new[name] for name in old} == old, table
            added = {name: value for name, value in new.items() if name not in old}
            assert added == {name: ADDED[table][name] for name in added}, table


@pytest.mark.parametrize("dump", EARLIER)
def test_an_upgraded_archive_has_the_fresh_schema(dump, tmp_path):
    upgraded = load_dump(dump, tmp_path / "upgraded.sqlite")
    Archive(upgraded).close()
    fresh = tmp_path / "fresh.sqlite"
    Archive(fresh).close()
    # Up to whitespace: an archive made fresh at 751cd67 has batch_row inside CREATE TABLE, not appended by ALTER.
    assert schema_of(upgraded, exact=False) == schema_of(fresh, exact=False)
    if dump != "archive-751cd67":
        assert schema_of(upgraded) == schema_of(fresh)


def test_an_upgraded_archive_serves_what_it_held(tmp_path):
    archive = Archive(load_dump("archive-751cd67", tmp_path / "archive.sqlite"))
    try:
        record = archive.credential("c1")
        assert record.title.startswith("Semicolons; 'quotes'")
        assert record.claims == {"title": "Semicolons; quotes"}
        assert [r.id for r in archive.batch_credentials("b1")] == ["c1"]
        assert archive.batch("b1").state == "delivered"
        assert archive.status_entries("L1") == [(7, 0x01)]
        assert archive.status_list("L1").anchor_pending is True
        assert archive.offer_by("pre_authorized_code", "code;1")["credential_id"] == "c2"
        with archive.transaction():
            archive.set_status(["c1"], "suspended")
        assert archive.count_credentials() == {"valid": 0, "revoked": 1, "suspended": 1}
    finally:
        archive.close()


def test_an_archive_from_before_twins_reads_as_microcred_credentials_on_ietf_lists(tmp_path):
    """m003: every credential an m002 archive held is a microcred SD-JWT VC and no twin; every list an IETF one."""
    archive = Archive(load_dump("archive-m002", tmp_path / "archive.sqlite"))
    try:
        assert [(r.id, r.kind, r.twin_of) for r in archive.credentials(twins=True)] == [
            ("c2", "microcred", None), ("c1", "microcred", None)]
        assert [(r.id, r.kind) for r in archive.status_lists()] == [("L1", "ietf"), ("L2", "ietf")]
        assert archive.twins("c1") == []
        with archive.transaction():
            archive.insert_status_list("B1", size=131072, bits=1, created_at=1700000400, kind="bitstring")
        assert [r.id for r in archive.status_lists_of("bitstring")] == ["B1"]
    finally:
        archive.close()


def _open_archive_at(path: str, barrier) -> str:
    from issuer.archive import ARCHIVE_MIGRATIONS, Archive

    barrier.wait(timeout=30)
    try:
        archive = Archive(path)
    except Exception as exc:  # noqa: BLE001 (reported to the parent)
        return f"{type(exc).__name__}: {exc}"
    try:
        return str(len(applied_names(archive.db, ARCHIVE_MIGRATIONS)))
    finally:
        archive.close()


def test_processes_opening_a_fresh_archive_together_create_it_once(tmp_path):
    """Issuer workers, or the CLI beside a running service, open a new archive at the same moment."""
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    outcomes = []
    with context.Pool(4) as pool:
        for attempt in range(20):
            path = str(tmp_path / f"archive-{attempt}.sqlite")
            outcomes += pool.starmap(_open_archive_at, [(path, manager.Barrier(4))] * 4)
    manager.shutdown()
    assert outcomes == [str(len(ARCHIVE_MIGRATIONS))] * 80


def test_a_thread_never_sees_another_threads_unfinished_transaction(tmp_path):
    archive = Archive(tmp_path / "archive.sqlite")
    inside, looked = threading.Event(), threading.Event()
    seen = {}

    def writer() -> None:
        with archive.transaction():
            archive.insert_status_list("L-half", size=131072, bits=2, created_at=1)
            inside.set()
            looked.wait(timeout=30)

    def reader() -> None:
        inside.wait(timeout=30)
        seen["list"] = archive.status_list("L-half")
        looked.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {"list": None}
    assert archive.status_list("L-half") is not None  # committed once the writer finished
    archive.close()


def test_threads_write_through_one_archive_each_in_its_own_transaction(tmp_path):
    archive = Archive(tmp_path / "archive.sqlite")
    errors = []

    def add(n: int) -> None:
        try:
            for k in range(20):
                archive.add_nonce(f"nonce-{n}-{k}", 10**10, now=1)
        except Exception as exc:  # noqa: BLE001 (collected for the assertion)
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(archive.consume_nonce(f"nonce-{n}-{k}", now=2) for n in range(4) for k in range(20)) == 80
    archive.close()


def test_the_issuer_app_opens_its_archive_once_and_shares_it_between_threads(home, data_dir, anchor):
    from issuer.web import create_app
    from issuer.web.context import get_service

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor})
    archives = []

    def request_archive() -> None:
        with app.test_request_context("/"):
            archives.append(get_service().archive)

    request_archive()
    request_archive()
    thread = threading.Thread(target=request_archive)
    thread.start()
    thread.join(timeout=60)
    assert len(archives) == 3
    assert archives[1] is archives[0]
    assert archives[2] is archives[0]
    assert archives[0].status_lists() == []  # still open after the requests ended
    assert app.test_client().get("/.well-known/openid-credential-issuer").status_code == 200
