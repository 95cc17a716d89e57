"""Evidence of a presentation scanned as a one-time link (the wallet's usual QR, and the demo's walk).

The result page verifies what the link led to; its evidence file must hold that presentation's digest and the
inputs each check was decided on (the credential, the Status List Token and its anchor, the trust chain), so
that ``microcred verify --evidence`` can check it again. Before, the evidence was made from the link's text:
no credential, no inputs, and the re-check said "the evidence records no input that can be checked again".
"""

from __future__ import annotations

import hashlib

import pytest

from credentials.evidence import parse_evidence
from tests.verifier.test_evidence import _download
from tests.verifier.test_evidence import recheck as recheck  # noqa: F401 (the fixture, used by name)

pytestmark = pytest.mark.integration


def test_evidence_of_a_link_holds_the_presentation_it_led_to_and_every_input(client, make_issuer, status_server,
                                                                             recheck):
    issuer = make_issuer()
    presentation = issuer.present()
    link = status_server.serve("/p/evidence-share", presentation, content_type="application/dc+sd-jwt")

    text = _download(client, link)

    evidence = parse_evidence(text)
    assert evidence.payload["presentation"]["sha256"] == hashlib.sha256(presentation.encode()).hexdigest()
    assert evidence.payload["credential"]["iss"] == issuer.did
    revocation = evidence.check("revocation")["inputs"]
    assert revocation["status_list_token"] is not None
    assert evidence.check("issuer_trust")["inputs"]["chain"][0]["did"] == issuer.did
    code, output = recheck(text)
    assert code == 0, output
    assert "revocation: unchanged" in output
