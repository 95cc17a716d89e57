"""Batches signed by worker processes: same credentials, same archive, same progress as in one process."""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor

import pytest
from _issuer_support import NOW, jwk_cell, make_csv, make_row

from credentials.errors import InvalidCredentialData, InvalidInput
from credentials.jose import PrivateKey
from credentials.sd_jwt_vc import verify_sd_jwt_vc
from issuer import batch
from issuer.archive import Archive
from issuer.batch import parse_csv
from issuer.service import PARALLEL_FROM, IssuerService
from issuer.signing_pool import Signer, SigningJob, SigningPool, available_cores, decoded_job


@pytest.fixture
def parallel_service(home, anchor):
    archive = Archive(home.archive_path)
    yield IssuerService(home.identity, archive, home.signing_key(), anchor=anchor, workers=2)
    archive.close()


def batch_rows(count: int, keys: list[PrivateKey]) -> list[dict[str, str]]:
    """Every third row without a key (an offer), the others bound to one of ``keys``."""
    return [make_row(n) if n % 3 == 0 else make_row(n, holder_jwk=jwk_cell(keys[n % len(keys)]))
            for n in range(1, count + 1)]


def test_a_long_batch_is_signed_by_workers_and_archived_like_a_short_one(parallel_service, defaults, monkeypatch):
    submitted: list[int] = []

    class CountingPool(SigningPool):
        def submit_hashed(self, jobs, *, now):
            submitted.append(len(jobs))
            return super().submit_hashed(jobs, now=now)

        def submit_encoded(self, jobs, *, now):  # issue_batch ships the claims as archived (JSON text)
            submitted.append(len(jobs))
            return super().submit_encoded(jobs, now=now)

    monkeypatch.setattr("issuer.service.SigningPool", CountingPool)
    keys = [PrivateKey.generate() for _ in range(3)]
    entries = parse_csv(make_csv(batch_rows(PARALLEL_FROM + 17, keys)), defaults)
    steps: list[int] = []
    result = parallel_service.issue_batch(entries, now=NOW, progress=steps.append)
    assert sum(steps) == len(entries)
    assert len(steps) > 1
    assert sum(submitted) == sum(1 for e in entries if e.holder_jwk)
    assert len(submitted) > 1
    assert [i.row for i in result.issued] == [e.row for e in entries]
    records = {r.id: r for r in parallel_service.archive.credentials(limit=len(entries) + 1)}
    assert len(records) == len(entries)
    assert len({(r.list_id, r.idx) for r in records.values()}) == len(entries)
    for issued, entry in zip(result.issued, entries, strict=True):
        record = records[issued.credential_id]
        assert record.student_id == issued.student_id == entry.student_id
        if entry.holder_jwk is None:
            assert issued.sd_jwt is None
            assert issued.offer_id == record.offer_id
            continue
        assert record.sd_jwt_sha256 == hashlib.sha256(issued.sd_jwt.encode()).hexdigest()
    for issued in result.issued[1::97]:
        if issued.sd_jwt is None:
            continue
        verified = verify_sd_jwt_vc(issued.sd_jwt, now=NOW, key_binding=None)
        record = records[issued.credential_id]
        assert verified.issuer == parallel_service.identity.did
        assert verified.holder_jwk == record.holder_jwk
        assert verified.disclosed["learner"]["student_id"] == record.student_id
        assert verified.status["status_list"] == {
            "idx": record.idx, "uri": parallel_service.identity.status_list_uri(record.list_id)}
    assert all(r.version == 1 for r in parallel_service.archive.status_lists())


def test_failed_delivery_of_a_parallel_batch_leaves_it_pending(parallel_service, defaults):
    entries = parse_csv(make_csv(batch_rows(PARALLEL_FROM, [PrivateKey.generate()])), defaults)

    def broken(issued):
        raise OSError("disk full")

    with pytest.raises(OSError):
        parallel_service.issue_batch(entries, now=NOW, deliver=broken)
    records = parallel_service.archive.credentials(limit=len(entries) + 1)
    assert len(records) == len(entries)
    assert all(r.sd_jwt_sha256 is None for r in records)
    assert parallel_service.archive.batch(records[0].batch_id).state == "pending"


def test_pool_workers_sign_with_the_issuer_key(home, defaults):
    key = home.signing_key()
    signer = Signer(key, home.identity.did, home.identity.kid)
    holder = PrivateKey.generate().public_key().to_jwk()
    claims = parse_csv(make_csv([make_row(1)]), defaults)[0].claims
    jobs = [SigningJob(claims, holder, home.identity.status_list_uri("L"), index) for index in (3, 4)]
    with SigningPool(signer, 2) as pool:
        signed = pool.submit(jobs, now=NOW).result()
    assert [verify_sd_jwt_vc(s, now=NOW, key_binding=None).status["status_list"]["idx"] for s in signed] == [3, 4]


def test_workers_hash_what_they_sign_as_the_archive_records_it(home, defaults):
    signer = Signer(home.signing_key(), home.identity.did, home.identity.kid)
    claims = parse_csv(make_csv([make_row(1)]), defaults)[0].claims
    jobs = [SigningJob(claims, PrivateKey.generate().public_key().to_jwk(), home.identity.status_list_uri("L"), i)
            for i in (1, 2)]
    with SigningPool(signer, 2) as pool:
        in_workers = pool.submit_hashed(jobs, now=NOW).result()
    here = signer.sign_hashed(jobs, now=NOW)
    for signed in (*in_workers, *here):
        serialization, digest, leaf = signed
        assert digest == hashlib.sha256(serialization.encode("ascii")).hexdigest()
        assert leaf == hashlib.sha256(serialization.split("~")[0].encode("ascii")).hexdigest()
        assert verify_sd_jwt_vc(serialization, now=NOW, key_binding=None).issuer == home.identity.did


def test_workers_sign_encoded_jobs_from_the_claims_as_archived(service, home, defaults):
    """issue_batch ships each claim set as the archive's JSON text; the worker signs exactly those claims."""
    row = make_row(1, holder_jwk=jwk_cell(PrivateKey.generate()))
    row["learner.given_name"] = "Zoë \u2028 «Ω»"
    result = service.issue_batch(parse_csv(make_csv([row]), defaults), now=NOW)
    record = service.archive.credential(result.issued[0].credential_id)
    text = service.archive.conn.execute("SELECT claims FROM credentials WHERE id = ?", [record.id]).fetchone()[0]
    job = (text, record.holder_jwk, home.identity.status_list_uri(record.list_id), record.idx, record.kind)
    assert decoded_job(job) == SigningJob(record.claims, record.holder_jwk, job[2], record.idx, record.kind)
    signer = Signer(home.signing_key(), home.identity.did, home.identity.kid)
    with SigningPool(signer, 2) as pool:
        [(serialization, digest, _)] = pool.submit_encoded([job], now=NOW).result()
    verified = verify_sd_jwt_vc(serialization, now=NOW, key_binding=None)
    assert verified.disclosed["learner"] == record.claims["learner"]
    assert verified.disclosed["learner"]["given_name"] == "Zoë \u2028 «Ω»"
    assert verified.status["status_list"]["idx"] == record.idx
    assert digest == hashlib.sha256(serialization.encode("ascii")).hexdigest()


@pytest.mark.parametrize("workers", [0, -1])
def test_fewer_than_one_worker_is_refused(home, workers):
    with pytest.raises(InvalidInput, match="at least 1"):
        IssuerService(home.identity, Archive(":memory:"), home.signing_key(), workers=workers)
    with pytest.raises(InvalidInput, match="at least 1"):
        SigningPool(Signer(home.signing_key(), home.identity.did, home.identity.kid), workers)


def test_available_cores_is_at_least_one():
    assert available_cores() >= 1


def test_a_long_batch_is_checked_by_workers_with_the_same_entries_and_errors(defaults, monkeypatch):
    pools: list[int] = []

    class CountingExecutor(ProcessPoolExecutor):
        def __init__(self, max_workers, **options):
            pools.append(max_workers)
            super().__init__(max_workers, **options)

    monkeypatch.setattr(batch, "ProcessPoolExecutor", CountingExecutor)
    keys = [PrivateKey.generate() for _ in range(3)]
    rows = batch_rows(batch.PARALLEL_FROM + 3, keys)
    good = make_csv(rows)
    assert parse_csv(good, defaults, workers=2) == parse_csv(good, defaults)
    rows[5] = make_row(6, ects="lots")
    rows[700] = make_row(701, **{"learner.birth_date": "2001-02-30"})
    rows[900] = make_row(5, holder_jwk='{"kty": "EC"}')
    rows[-1] = make_row(2)
    bad = make_csv(rows)
    with pytest.raises(InvalidCredentialData) as in_workers:
        parse_csv(bad, defaults, workers=2)
    with pytest.raises(InvalidCredentialData) as here:
        parse_csv(bad, defaults)
    assert in_workers.value.errors == here.value.errors
    assert len(in_workers.value.errors) >= 5
    assert pools == [2, 2]
