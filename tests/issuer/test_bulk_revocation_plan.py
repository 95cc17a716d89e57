"""Checking a bulk revocation file against the archive (issue 14, §4), without a chain: the anchoring
and the one-transaction rule are tested on Anvil in test_bulk_revocation.py."""

from __future__ import annotations

import pytest
from _issuer_support import NOW, make_csv, make_row

from credentials.errors import StatusChangeRefused
from issuer.batch import parse_csv
from issuer.bulk_revocation import MAX_CSV_BYTES, plan_revocation


@pytest.fixture
def batch(service, defaults):
    return service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2)]), defaults), now=NOW)


def _refusal(service, text) -> list[str]:
    with pytest.raises(StatusChangeRefused) as caught:
        plan_revocation(service.archive, text, now=NOW)
    return caught.value.errors


def test_a_batch_row_follows_a_reissued_credential_to_its_replacement(service, batch, holder_key):
    old_id = batch.issued[0].credential_id
    new = service.reissue(old_id, holder_key.public_key().to_jwk(), now=NOW + 10).issued[0]

    plan = plan_revocation(service.archive, f"batch_id,reason\n{batch.batch_id},revoked\n", now=NOW)

    assert sorted(plan.changes["revoked"]) == sorted([new.credential_id, batch.issued[1].credential_id])
    assert plan.summary() == "2 credentials in 1 list (2 revoked)"


def test_the_header_must_name_the_columns(service, batch):
    assert _refusal(service, "id,why\nx,revoked\n") == [
        "line 1: expected a header of credential_id, batch_id, reason, note (reason and one of credential_id / "
        "batch_id required), found 'id, why'"]
    assert _refusal(service, "") == ["the file is empty; expected a header row: credential_id,batch_id,reason"]
    assert _refusal(service, "credential_id,reason\n") == ["the file has a header but no rows"]


def test_a_malformed_row_a_long_note_and_a_revoked_credential_made_suspended_are_named_by_line(service, batch):
    first = batch.issued[0].credential_id
    service.set_status([first], "revoked", now=NOW + 1)
    text = (f"credential_id,reason,note\n{first},suspended,\n{batch.issued[1].credential_id},revoked\n"
            f'"{batch.issued[1].credential_id}",revoked,{"x" * 501}\n')
    assert _refusal(service, text) == [
        f"line 2: credential {first} is revoked; cannot make it suspended",
        "line 3: expected 3 fields, found 2",
        "line 4: note: at most 500 characters, found 501",
    ]


def test_a_file_over_the_limit_or_not_utf8_is_refused_before_reading_rows(service, batch):
    assert _refusal(service, b"credential_id,reason\n" + b"x" * MAX_CSV_BYTES) == [
        f"the file is {MAX_CSV_BYTES + 21} bytes; at most {MAX_CSV_BYTES} are read"]
    assert _refusal(service, b"credential_id,reason\n\xff,revoked\n") == [
        "the file is not UTF-8 (an invalid byte at offset 21)"]
