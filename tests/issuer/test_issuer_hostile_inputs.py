"""Every issuer route and form (registrar, status lists, OpenID4VCI), attacked with hostile
values: never a 500, never a traceback (the crawl is in ``tests/hostile.py``)."""

from __future__ import annotations

from _issuer_support import NOW, make_csv, make_row

from issuer.web import create_app
from tests.hostile import crawl_forms, crawl_routes


def test_every_issuer_route_and_form_survives_hostile_input(home, data_dir, anchor, service, defaults):
    from issuer.batch import parse_csv

    batch = service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2)]), defaults), now=NOW)
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    client = app.test_client()
    target = batch.issued[0].credential_id
    findings = crawl_routes(app, client)
    findings += crawl_forms(client, ["/", "/registrar/", f"/registrar/credentials/{target}/revoke"])
    assert not findings, "\n".join(map(str, findings))


def test_registrar_search_and_page_out_of_range_are_client_errors(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    client = app.test_client()
    too_long = client.get("/registrar/", query_string={"q": "a" * 70_000})  # was: SQLite "pattern too complex", 500
    assert too_long.status_code == 400
    assert "at most 200 characters" in too_long.get_data(as_text=True)
    far = client.get("/registrar/", query_string={"page": "9" * 30})  # was: OverflowError in OFFSET, 500
    assert far.status_code == 200


def test_bitstring_lists_and_health_answer_404_or_ok_and_nothing_internal(home, data_dir, anchor):
    """``/status/bitstring/<id>`` and ``/healthz`` (added by the Open Badge twins and production serving)."""
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    client = app.test_client()
    for list_id in ("nope", "..%2F..%2Fkeys", "%00", "a" * 300):
        assert client.get(f"/status/bitstring/{list_id}").status_code == 404
    health = client.get("/healthz")
    assert health.status_code == 200
    assert str(data_dir) not in health.get_data(as_text=True)
