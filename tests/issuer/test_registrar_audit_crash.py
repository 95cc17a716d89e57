"""The registrar pages write a status change's audit entry once the change is saved, before anchoring.

Before: the entry was written after anchoring, so a worker killed while the anchor was being sent (a
deploy, an OOM kill) left a revocation in the archive that the audit log never named (the command line
already wrote it first: tests/issuer/test_issuer_rerun.py).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import pytest
from _issuer_support import NOW, RecordingAnchor, make_csv, make_row
from argon2 import PasswordHasher

from issuer.batch import parse_csv
from issuer.staff import StaffBook
from issuer.web import create_app

PASSWORD = "correct horse battery staple"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class _Killed(BaseException):
    """The worker dying while its anchoring transaction is on its way (nothing in the process catches it)."""


@dataclass
class _DyingAnchor(RecordingAnchor):
    """Anchors as usual (the batch's lists) until armed; then the worker dies as it sends an anchor."""

    armed: bool = False

    def anchor(self, *args: Any, **kwargs: Any) -> Any:
        if self.armed:
            raise _Killed
        return super().anchor(*args, **kwargs)


@pytest.fixture
def anchor() -> _DyingAnchor:
    return _DyingAnchor()


@pytest.fixture
def app(home, data_dir, anchor):
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                       "CLOCK": lambda: NOW})


@pytest.fixture
def client(app, home):
    StaffBook.of_home(home.path, CHEAP).add("ada", "registrar", PASSWORD, now=NOW)
    client = app.test_client()
    token = _csrf(client, "/registrar/sign-in")
    client.post("/registrar/sign-in", data={"csrf_token": token, "username": "ada", "password": PASSWORD,
                                            "next": "/registrar/"})
    return client


@pytest.fixture
def batch(service, defaults):
    return service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2)]), defaults), now=NOW)


def _csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_a_revocation_killed_while_anchoring_is_in_the_audit_log(client, home, batch, service, anchor):
    anchor.armed = True
    target = batch.issued[0].credential_id
    token = _csrf(client, f"/registrar/credentials/{target}/revoke")
    with pytest.raises(_Killed):
        client.post(f"/registrar/credentials/{target}/revoke", data={"csrf_token": token, "reason": "exam fraud"})
    assert service.archive.credential(target).status == "revoked"
    (entry,) = StaffBook.of_home(home.path, CHEAP).audit()
    assert (entry.actor, entry.action, entry.subject, entry.count, entry.reason) == (
        "ada", "revoked", target, 1, "exam fraud")


def test_a_bulk_change_killed_while_anchoring_is_in_the_audit_log(client, home, batch, service, anchor):
    anchor.armed = True
    ids = [issued.credential_id for issued in batch.issued]
    text = "credential_id,reason\n" + "".join(f"{i},revoked\n" for i in ids)
    token = _csrf(client, "/registrar/bulk/")
    preview = client.post("/registrar/bulk/", data={"csrf_token": token, "csv_text": text})
    digest = re.search(r'name="digest" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "digest": digest, "name": "board.csv", "reason": "exam board decision 2026/14",
            "csv_b64": base64.b64encode(text.encode()).decode()}
    with pytest.raises(_Killed):
        client.post("/registrar/bulk/confirm", data=form)
    assert {service.archive.credential(i).status for i in ids} == {"revoked"}
    (entry,) = StaffBook.of_home(home.path, CHEAP).audit()
    assert (entry.actor, entry.count, entry.reason) == ("ada", 2, "exam board decision 2026/14")
    assert "board.csv" in entry.subject
