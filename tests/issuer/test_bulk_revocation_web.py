"""The registrar's bulk revocation page (issue 14, §4): upload, preview, confirm; on a real Anvil node.

The same CSV as ``issuer revoke --from``: a preview that says what changes
("2 credentials in 2 lists"), a confirmation that applies it (one anchoring
transaction, counted from the chain), bad rows by line number with nothing
changed, a confirmation of another file refused, CSRF and size limits, and
the hostile-input crawl of ``tests/hostile.py`` over the new routes.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from _issuer_support import NOW, make_csv, make_row
from test_bulk_revocation import fill, issue, transactions_from

from issuer.archive import Archive
from issuer.web import create_app
from issuer.web.registrar_bulk import MAX_UPLOAD_BYTES
from tests.hostile import HOSTILE, crawl_forms, crawl_routes, forms_of

pytestmark = pytest.mark.integration


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def registrar(accredited_issuer, ledger_data_dir, tmp_path):
    home, _ = accredited_issuer
    issue(home, tmp_path, "spring", [1, 2])
    fill(Archive(home.archive_path))
    issue(home, tmp_path, "autumn", [3, 4])
    app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "ISSUER": home.identity.name})
    return home, app.test_client()


def _upload(client, text: str, *, as_file: bool = True):
    token = _token(client.get("/registrar/bulk/").get_data(as_text=True))
    data = {"csrf_token": token}
    if as_file:
        data["file"] = (io.BytesIO(text.encode("utf-8")), "revoke.csv")
    else:
        data["csv_text"] = text
    return client.post("/registrar/bulk/", data=data, content_type="multipart/form-data")


def test_upload_previews_then_confirmation_changes_and_anchors_in_one_transaction(registrar, ledger, chain):
    home, client = registrar
    archive = Archive(home.archive_path)
    autumn_first, _ = archive.batch_credentials("autumn")
    text = f"batch_id,credential_id,reason,note\r\nspring,,revoked,withdrawn\r\n,{autumn_first.id},suspended,\r\n"

    preview = _upload(client, text)

    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Change 3 credentials in 2 lists (2 revoked, 1 suspended)?" in page
    assert {r.status for r in Archive(home.archive_path).credentials()} == {"valid"}  # a preview changes nothing
    (form,) = [f for f in forms_of(page, "/registrar/bulk/") if f.action.endswith("/confirm")]
    since = ledger.status.latest_block()

    done = client.post(form.action, data=dict(form.fields, reason="exam board decision"), follow_redirects=True)

    assert done.status_code == 200
    assert "Changed 3 credentials in 2 lists (2 revoked, 1 suspended); the status lists are anchored." in \
        done.get_data(as_text=True)
    assert len(transactions_from(chain, home.identity.controller_address, since)) == 1
    fresh = Archive(home.archive_path)
    assert {r.status for r in fresh.batch_credentials("spring")} == {"revoked"}
    assert fresh.credential(autumn_first.id).status == "suspended"
    assert fresh.status_changes(autumn_first.id)[0].source.startswith("revoke.csv, by ")


def test_bad_rows_are_listed_by_line_and_nothing_changes(registrar):
    home, client = registrar

    answer = _upload(client, "credential_id,reason\nnobody,revoked\n,suspended\n", as_file=False)

    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "line 2: no credential with id &#39;nobody&#39;" in page
    assert "line 3: expected a credential_id or a batch_id (one of them), found neither" in page
    assert {r.status for r in Archive(home.archive_path).credentials()} == {"valid"}


def test_a_confirmation_of_another_file_or_without_the_csrf_token_changes_nothing(registrar):
    home, client = registrar
    preview = _upload(client, "batch_id,reason\nspring,revoked\n").get_data(as_text=True)
    (form,) = [f for f in forms_of(preview, "/registrar/bulk/") if f.action.endswith("/confirm")]
    swapped = dict(form.fields, csv_b64=base64.b64encode(b"batch_id,reason\nautumn,revoked\n").decode())

    assert client.post(form.action, data=swapped).status_code == 400
    assert client.post(form.action, data=dict(form.fields, csrf_token="forged")).status_code == 400
    assert {r.status for r in Archive(home.archive_path).credentials()} == {"valid"}


def test_an_upload_over_the_size_limit_is_refused_with_413(registrar):
    _, client = registrar
    answer = _upload(client, "batch_id,reason\n" + "x" * (MAX_UPLOAD_BYTES + 100_000))
    assert answer.status_code == 413


def test_the_bulk_routes_survive_hostile_input(home, data_dir, anchor, service, defaults):
    from issuer.batch import parse_csv

    service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2)]), defaults), now=NOW)
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    client = app.test_client()
    findings = crawl_routes(app, client)
    findings += crawl_forms(client, ["/registrar/bulk/"])
    token = _token(client.get("/registrar/bulk/").get_data(as_text=True))
    for field in ("csv_b64", "digest", "name"):
        for value in HOSTILE:
            answer = client.post("/registrar/bulk/confirm", data={"csrf_token": token, field: value})
            if answer.status_code >= 500 or "Traceback" in answer.get_data(as_text=True):
                findings.append((field, value[:30], answer.status_code))
    assert not findings, "\n".join(map(str, findings))
