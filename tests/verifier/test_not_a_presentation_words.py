"""Garbage pasted on the verifier's page, or given to ``microcred verify``: the employer reads in plain words what
was expected (an SD-JWT presentation, a Europass EDC, an Open Badge or a wallet's QR link), not the parser's
reason ("the JWT must have 3 dot-separated parts (compact JWS)"); the API's ``format`` check keeps that precise
reason, in the same JSON shape (⚑ verify API), and so does the command's JSON."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.integration

GARBAGE = ["AAAA.BBBB", "hello, is this my diploma?", "AAAA.BBBB.CCCC~dd~"]
EXPECTED = ("This is not a credential presentation microcred can read: expected an SD-JWT presentation, "
            "a Europass EDC, an Open Badge or a link from a wallet's QR code.")
JARGON = ("dot-separated", "compact JWS", "the JWT", "base64", "JSON")


def _verdict(html: str) -> str:
    section = re.search(r'<section class="verdict.*?</section>', html, re.S)
    assert section is not None, html
    return " ".join(re.sub(r"<[^>]+>", " ", unescape(section.group(0))).split())


@pytest.mark.parametrize("garbage", GARBAGE)
def test_the_page_says_what_it_expected_in_plain_words(client, garbage):
    response = client.post("/verify", data={"presentation": garbage})
    said = _verdict(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "This is not a credential" in said
    assert EXPECTED in said
    for word in JARGON:
        assert word not in said


def test_the_api_keeps_the_precise_reason_in_the_same_shape(client):
    answer = client.post("/api/v1/verify", json={"presentation": "AAAA.BBBB"})
    assert answer.status_code == 400
    result = answer.get_json()
    assert "3 dot-separated parts" in result["error"]
    assert result["verified"] is False
    assert [check["check"] for check in result["checks"]][0] == "format"
    assert result["checks"][0]["status"] == "failed"
    assert "3 dot-separated parts" in result["checks"][0]["detail"]
    assert EXPECTED not in json.dumps(result)


def test_the_command_says_it_on_standard_error_and_keeps_the_json(ledger_env, monkeypatch):
    from verifier.cli import verify

    monkeypatch.delenv("MICROCRED_DEV_LOOPBACK", raising=False)
    answer = CliRunner().invoke(verify, ["-"], input=b"AAAA.BBBB")
    assert answer.exit_code == 1, answer.output
    assert "3 dot-separated parts" in json.loads(answer.stdout)["checks"][0]["detail"]
    assert EXPECTED in " ".join(answer.stderr.split())
