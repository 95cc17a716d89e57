"""The status check's memo (credentials.status_check.StatusListMemo): what it keeps never stands in for a check.

A token's SHA-256 is computed once per token (issue 16: the resolver hands over the same, possibly large, token
for every credential on its list) and compared with the chain's anchor on every use; a token that no longer
matches the anchor fails however often it matched before.
"""

from __future__ import annotations

import hashlib
import types

import credentials.status_check as status_check
from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jose import PrivateKey
from credentials.status_check import StatusListMemo, check_revocation
from credentials.status_list import StatusList, sign_status_list_token
from credentials.verification_model import FAILED, PASSED, CheckRun, Policy, StatusEvidence

NOW = 1_780_000_000
URI = "https://uni.example/status/list-7"
KEY = PrivateKey.generate("ES256")
ISSUER = did_key_from_public_key(KEY.public_key())
PAYLOAD = {"status": {"status_list": {"idx": 3, "uri": URI}}}


def _token(revoked: bool = False) -> str:
    status_list = StatusList.new()
    if revoked:
        status_list.set(3, 1)
    return sign_status_list_token(status_list, KEY, uri=URI, iat=NOW - 10, kid=verification_method_id(ISSUER))


def _revocation(memo: StatusListMemo, token: str, anchored: bytes):
    run = CheckRun()
    evidence = StatusEvidence(anchored, 41, 1, token, checked_at=NOW)
    check_revocation(run, Policy(frozenset({"did:example:root"})), lambda did, uri: evidence, PAYLOAD, ISSUER,
                     KEY.public_key(), NOW, memo)
    return run.results["revocation"]


def test_a_token_is_hashed_once_and_compared_with_its_anchor_every_time(monkeypatch):
    hashed: list[bytes] = []

    def sha256(data: bytes):
        hashed.append(data)
        return hashlib.sha256(data)

    monkeypatch.setattr(status_check, "hashlib", types.SimpleNamespace(sha256=sha256))
    memo, token = StatusListMemo(), _token()
    anchored = hashlib.sha256(token.encode()).digest()
    for _ in range(3):
        assert _revocation(memo, token, anchored).status == PASSED
    assert len(hashed) == 1

    other = hashlib.sha256(b"another version of the list").digest()  # the chain anchors a newer version
    result = _revocation(memo, token, other)
    assert result.status == FAILED
    assert f"is {other.hex()[:16]}" in result.detail
    assert len(hashed) == 1


def test_the_digest_kept_is_of_the_token_asked_for():
    memo = StatusListMemo(digests=2)
    tokens = [_token(), _token(revoked=True), "a.b.c"]
    for token in tokens + tokens:
        assert memo.digest(token) == hashlib.sha256(token.encode()).digest()
    revoked = _token(revoked=True)
    result = _revocation(memo, revoked, hashlib.sha256(revoked.encode()).digest())
    assert result.status == FAILED
    assert "revoked" in result.detail
