"""Batch issuing runs without full garbage collections, and puts the collector back as it was (issuer.gc_scope)."""

from __future__ import annotations

import gc
import threading

import pytest
from _issuer_support import NOW, jwk_cell, make_csv, make_row

import issuer.batch
from credentials.errors import InvalidCredentialData
from issuer.batch import parse_csv, parse_json
from issuer.gc_scope import OUT_OF_REACH, batch_collection, in_batch_collection


@pytest.fixture(autouse=True)
def usual_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def oldest_threshold() -> int:
    return gc.get_threshold()[2]


def test_the_scope_defers_full_collections_keeps_young_ones_and_puts_the_threshold_back():
    with batch_collection():
        assert gc.get_threshold() == (700, 10, OUT_OF_REACH)
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_scopes_put_the_threshold_back_only_when_the_outermost_ends():
    with batch_collection():
        with batch_collection():
            assert oldest_threshold() == OUT_OF_REACH
        assert oldest_threshold() == OUT_OF_REACH
    assert oldest_threshold() == 10


def test_a_batch_that_raises_still_puts_the_threshold_back():
    @in_batch_collection
    def failing() -> None:
        raise ValueError("row 2: bad")

    with pytest.raises(ValueError, match="row 2"):
        failing()
    assert oldest_threshold() == 10


def test_overlapping_batches_in_two_threads_restore_once_the_last_ends():
    entered, release, seen = threading.Event(), threading.Event(), []

    def other_batch() -> None:
        with batch_collection():
            entered.set()
            release.wait(10)
            seen.append(oldest_threshold())

    thread = threading.Thread(target=other_batch)
    thread.start()
    assert entered.wait(10)
    with batch_collection():
        assert oldest_threshold() == OUT_OF_REACH
    assert oldest_threshold() == OUT_OF_REACH  # the other thread's batch still runs
    release.set()
    thread.join(10)
    assert seen == [OUT_OF_REACH]
    assert oldest_threshold() == 10


def test_checking_a_batch_runs_in_the_scope_csv_and_json(defaults, monkeypatch):
    during = []
    check_rows = issuer.batch._check_rows

    def recording(rows):
        during.append(oldest_threshold())
        return check_rows(rows)

    monkeypatch.setattr(issuer.batch, "_check_rows", recording)
    assert len(parse_csv(make_csv([make_row(1), make_row(2)]), defaults)) == 2
    with pytest.raises(InvalidCredentialData):  # checked (in the scope), then refused
        parse_json('[{"title": 1}]', defaults)
    assert during == [OUT_OF_REACH, OUT_OF_REACH]
    assert oldest_threshold() == 10


def test_archiving_and_signing_a_batch_run_in_the_scope(service, defaults, holder_key):
    during = []
    entries = parse_csv(make_csv([make_row(1, holder_jwk=jwk_cell(holder_key)), make_row(2)]), defaults)
    result = service.issue_batch(entries, now=NOW, deliver=lambda chunk: during.append(oldest_threshold()))
    assert during == [OUT_OF_REACH]
    assert [c.student_id for c in result.issued] == ["S00001", "S00002"]
    assert oldest_threshold() == 10
