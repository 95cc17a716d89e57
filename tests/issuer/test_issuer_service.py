"""The issuing pipeline: signing, random indices, status changes, anchoring, re-issue, archive."""

from __future__ import annotations

import hashlib
import itertools
import os
import stat

import pytest
from _issuer_support import NOW, jwk_cell, make_csv, make_row

from credentials.errors import ConfigurationError, InvalidInput
from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.sd_jwt_vc import verify_sd_jwt_vc
from credentials.status_list import STATUS_INVALID, STATUS_SUSPENDED, STATUS_VALID, verify_status_list_token
from issuer.archive import Archive, UnknownCredential
from issuer.batch import parse_csv
from issuer.identity import create_issuer, load_issuer
from issuer.service import LIST_SIZE, STATUS_BITS, IssuerService, StatusChangeRefused


def issue(service, defaults, rows):
    return service.issue_batch(parse_csv(make_csv(rows), defaults), now=NOW)


def list_status(service, list_id: str, index: int) -> int:
    token = service.status_list_token(list_id)
    verified = verify_status_list_token(
        token, service.signing_key.public_key(), expected_uri=service.identity.status_list_uri(list_id), now=NOW
    )
    return verified.status(index)


def test_identity_files_are_private_and_reload(home, data_dir):
    for path in (home.signing_key_path, home.controller_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.path.stat().st_mode) == 0o700
    assert home.identity.did.startswith("did:key:zDn")
    assert load_issuer(data_dir, "uni").identity == home.identity
    with pytest.raises(ConfigurationError, match="already exists"):
        create_issuer(data_dir, "uni", legal_name="Again", country="IT")
    os.chmod(home.signing_key_path, 0o644)
    with pytest.raises(ConfigurationError, match="expected 0600"):
        home.signing_key()


def test_new_issuer_input_is_checked(data_dir):
    with pytest.raises(InvalidInput) as caught:
        create_issuer(data_dir, "Bad Name", legal_name=" ", country="XX", did_method="web", base_url="ftp://x/")
    message = str(caught.value)
    for part in ("name:", "country:", "legal name:", "DID method:", "base URL:"):
        assert part in message
    jwk_issuer = create_issuer(data_dir, "uni-jwk", legal_name="U", country="FR", did_method="jwk")
    assert jwk_issuer.identity.did.startswith("did:jwk:")
    assert jwk_issuer.identity.kid.endswith("#0")


def test_batch_signs_bound_credentials_and_makes_offers(service, defaults, holder_key):
    result = issue(service, defaults, [make_row(1, holder_jwk=jwk_cell(holder_key)), make_row(2)])
    bound, offered = result.issued
    verified = verify_sd_jwt_vc(bound.sd_jwt, now=NOW, key_binding=None)
    assert verified.issuer == service.identity.did
    assert verified.vct == MICRO_CREDENTIAL_VCT
    assert verified.holder_jwk == holder_key.public_key().to_jwk()
    assert verified.disclosed["learner"]["student_id"] == "S00001"
    reference = verified.status["status_list"]
    record = service.archive.credential(bound.credential_id)
    assert reference == {"idx": record.idx, "uri": service.identity.status_list_uri(record.list_id)}
    assert record.sd_jwt_sha256 == hashlib.sha256(bound.sd_jwt.encode()).hexdigest()
    assert offered.sd_jwt is None
    assert offered.offer_id
    assert service.archive.credential(offered.credential_id).delivery == "offer"
    assert bound.credential_id != "S00001"  # opaque ids, not the student number
    lists = service.archive.status_lists()
    assert len(lists) == 1
    assert lists[0].version == 1
    assert lists[0].size == LIST_SIZE
    assert lists[0].bits == STATUS_BITS
    assert list_status(service, record.list_id, record.idx) == STATUS_VALID


def test_indices_are_random_distinct_and_skip_used_ones(home, defaults):
    draws = itertools.chain([7, 7, 7, 9, 9], itertools.count(100))
    archive = Archive(home.archive_path)
    service = IssuerService(home.identity, archive, home.signing_key(), random_below=lambda n: next(draws))
    result = issue(service, defaults, [make_row(i) for i in range(4)])
    assert sorted(archive.credential(i.credential_id).idx for i in result.issued) == [7, 9, 100, 101]


def test_revoke_suspend_reinstate_update_the_signed_list(service, defaults, anchor):
    result = issue(service, defaults, [make_row(i) for i in range(3)])
    ids = [i.credential_id for i in result.issued]
    records = [service.archive.credential(i) for i in ids]
    service.set_status(ids[:2], "revoked", now=NOW + 1)
    service.set_status([ids[2]], "suspended", now=NOW + 2)
    assert [list_status(service, r.list_id, r.idx) for r in records] == [
        STATUS_INVALID, STATUS_INVALID, STATUS_SUSPENDED]
    service.set_status([ids[2]], "valid", now=NOW + 3)
    assert list_status(service, records[2].list_id, records[2].idx) == STATUS_VALID
    assert service.archive.status_list(records[0].list_id).version == 4
    assert service.archive.count_credentials() == {"valid": 1, "revoked": 2, "suspended": 0}


def test_status_changes_are_all_or_nothing(service, defaults):
    ids = [i.credential_id for i in issue(service, defaults, [make_row(1), make_row(2)]).issued]
    service.set_status([ids[0]], "revoked", now=NOW)
    with pytest.raises(StatusChangeRefused) as caught:
        service.set_status([ids[1], ids[0], "no-such-id"], "revoked", now=NOW)
    assert f"credential {ids[0]} is revoked; cannot make it revoked" in caught.value.errors
    assert "no credential with id 'no-such-id' in this issuer's archive" in caught.value.errors
    assert service.archive.credential(ids[1]).status == "valid"
    with pytest.raises(StatusChangeRefused, match="cannot make it valid"):
        service.set_status([ids[0]], "valid", now=NOW)
    with pytest.raises(InvalidInput, match="expected a status"):
        service.set_status([ids[1]], "deleted", now=NOW)


def test_one_anchor_per_list_for_many_changes(service, defaults, anchor):
    ids = [i.credential_id for i in issue(service, defaults, [make_row(i) for i in range(5)]).issued]
    assert len(anchor.calls) == 1  # the new list, version 1
    result = service.set_status(ids, "revoked", now=NOW + 5)
    assert len(anchor.calls) == 2
    did, list_id, digest, version = anchor.calls[-1]
    assert did == service.identity.did
    assert version == 2
    assert digest == hashlib.sha256(service.status_list_token(list_id).encode()).digest()
    assert result.anchors[0].anchored
    assert result.anchors[0].block == 2
    record = service.archive.status_list(list_id)
    assert record.anchored_version == 2
    assert not record.anchor_pending


def test_ledger_down_keeps_the_change_and_publish_retries(service, defaults, anchor):
    ids = [i.credential_id for i in issue(service, defaults, [make_row(1), make_row(2)]).issued]
    anchor.down = True
    result = service.set_status([ids[0]], "revoked", now=NOW + 1)
    assert not result.anchors[0].anchored
    assert "did not answer" in result.anchors[0].error
    record = service.archive.status_lists()[0]
    assert record.anchor_pending
    assert record.version == 2
    assert record.anchored_version == 1
    assert "did not answer" in record.anchor_error
    assert service.archive.credential(ids[0]).status == "revoked"  # the revocation itself is done
    service.set_status([ids[1]], "suspended", now=NOW + 2)  # still down: version 3 pending
    anchor.down = False
    outcomes = service.publish(now=NOW + 3)
    assert [(o.version, o.anchored) for o in outcomes] == [(3, True)]
    assert anchor.calls[-1][3] == 3
    assert service.publish(now=NOW + 4) == []


def test_without_a_ledger_lists_stay_pending(home, defaults):
    service = IssuerService(home.identity, Archive(home.archive_path), home.signing_key(), anchor=None)
    result = issue(service, defaults, [make_row(1)])
    assert result.anchors[0].error == "no ledger configured"


def test_reissue_revokes_the_old_and_binds_the_new_key(service, defaults, holder_key):
    old_id = issue(service, defaults, [make_row(1, holder_jwk=jwk_cell(holder_key))]).issued[0].credential_id
    new_key = PrivateKey.generate("EdDSA")
    result = service.reissue(old_id, new_key.public_key().to_jwk(), now=NOW + 10)
    new = result.issued[0]
    old_record, new_record = service.archive.credential(old_id), service.archive.credential(new.credential_id)
    assert old_record.status == "revoked"
    assert old_record.replaced_by == new.credential_id
    assert new_record.replaces == old_id
    assert new_record.claims == old_record.claims
    verified = verify_sd_jwt_vc(new.sd_jwt, now=NOW + 10, key_binding=None)
    assert verified.holder_jwk == new_key.public_key().to_jwk()
    assert verified.issued_at == NOW + 10
    assert list_status(service, old_record.list_id, old_record.idx) == STATUS_INVALID
    with pytest.raises(StatusChangeRefused, match="already re-issued"):
        service.reissue(old_id, None, now=NOW + 11)
    offer = service.reissue(new.credential_id, None, now=NOW + 12).issued[0]
    assert offer.sd_jwt is None
    assert offer.offer_id


def test_a_failed_delivery_leaves_the_batch_pending_and_known(service, defaults, holder_key):
    """The batch is archived before signing: a failed delivery leaves it pending, never unknown."""
    def broken(issued):
        raise OSError("disk full")

    rows = [make_row(1, holder_jwk=jwk_cell(holder_key)), make_row(2)]
    with pytest.raises(OSError):
        service.issue_batch(parse_csv(make_csv(rows), defaults), now=NOW, deliver=broken)
    records = service.archive.credentials()
    assert len(records) == 2
    assert all(r.sd_jwt_sha256 is None for r in records)
    (batch_id,) = {r.batch_id for r in records}
    assert service.archive.batch(batch_id).state == "pending"
    delivered = []
    issued = service.sign_batch(batch_id, deliver=delivered.extend)
    assert [i.credential_id for i in delivered] == [r.id for r in records if r.holder_jwk]
    signed = {i.credential_id: i.sd_jwt for i in issued}
    for record in service.archive.batch_credentials(batch_id):
        if record.holder_jwk:
            assert record.sd_jwt_sha256 == hashlib.sha256(signed[record.id].encode()).hexdigest()
    assert service.sign_batch(batch_id, deliver=delivered.extend)  # nothing left to sign
    assert len(delivered) == 1


def test_archive_lookups(service, defaults):
    rows = [make_row(1), make_row(2, **{"learner.family_name": "Verdi"})]
    ids = [i.credential_id for i in issue(service, defaults, rows).issued]
    assert [r.id for r in service.archive.credentials(search="Verdi")] == [ids[1]]
    assert {r.id for r in service.archive.credentials(search="S0000")} == set(ids)
    with pytest.raises(UnknownCredential):
        service.archive.credential("missing")
    with pytest.raises(InvalidInput):
        service.archive.update_credential(ids[0], nonsense=1)


def test_a_batch_is_delivered_and_recorded_a_thousand_credentials_at_a_time(service, defaults, monkeypatch):
    """Each step (deliver, then record the hashes in one transaction) covers 1,000 credentials, not one 250-credential
    signing job: each transaction waits for the disk (issue 16)."""
    keys = [PrivateKey.generate() for _ in range(4)]
    entries = parse_csv(make_csv([make_row(n, holder_jwk=jwk_cell(keys[n % 4])) for n in range(1, 1203)]), defaults)
    events = []
    transaction = service.archive.transaction

    def counted():
        events.append("transaction")
        return transaction()

    def deliver(issued):
        events.append(len(issued))
        assert all(service.archive.credential(i.credential_id).sd_jwt_sha256 is None for i in issued[:3])

    steps = []
    monkeypatch.setattr(service.archive, "transaction", counted)
    result = service.issue_batch(entries, now=NOW, deliver=deliver, progress=steps.append)
    first, second = events.index(1000), events.index(202)
    assert events[first + 1:second] == ["transaction"]  # the first step's hashes, recorded together
    assert events[second + 1] == "transaction"
    assert steps == [1000, 202]
    for issued in result.issued[::301]:
        record = service.archive.credential(issued.credential_id)
        assert record.sd_jwt_sha256 == hashlib.sha256(issued.sd_jwt.encode("ascii")).hexdigest()
