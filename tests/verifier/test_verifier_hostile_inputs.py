"""Every verifier route and form, attacked with hostile values: never a 500, never a traceback
(the crawl is in ``tests/hostile.py``)."""

from __future__ import annotations

import pytest

from tests.hostile import crawl_forms, crawl_routes

pytestmark = pytest.mark.integration


def test_every_route_survives_hostile_input(app, client):
    findings = crawl_routes(app, client)
    assert not findings, "\n".join(map(str, findings))


def test_every_form_survives_hostile_input(client, make_issuer):
    make_issuer()  # a trusted issuer exists, so verification runs past the first checks
    findings = crawl_forms(client, ["/", "/openid4vp/new"])
    assert not findings, "\n".join(map(str, findings))
