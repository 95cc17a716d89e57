"""OpenID4VCI against the issuer's real service: the wallet opens an offer (pasted or
scanned), follows the metadata, redeems the pre-authorized code with a key proof,
and stores the credential bound to its own key. The wallet's outbound HTTP goes to
the issuer's Flask app through its test client (no sockets)."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote, urlsplit

import pytest
from wallet_helpers import NOW, db_rows

from issuer import web as issuer_web
from wallet.transport import HttpResponse

ROW = {
    "learner.given_name": "Ana", "learner.family_name": "Silva", "learner.birth_date": "2001-03-09",
    "learner.student_id": "S-204", "title": "Foundations of Data Science",
    "learning_outcomes": "Explain sampling bias|Fit and check a linear model", "ects": "5", "eqf_level": "6",
    "qf_ehea_cycle": "first", "assessment_type": "written exam", "participation": "online",
    "quality_assurance": "internal QA, ENQA-registered agency",
}


class _Anchor:
    def anchor(self, *args, **kwargs):
        return type("Result", (), {"transaction_hash": "0x" + "0" * 64, "block_number": 1})()


@pytest.fixture
def issuer_side(tmp_path, monkeypatch):
    """A real issuer with three offered credentials; returns (service, offers, test client)."""
    from issuer.archive import Archive
    from issuer.batch import BatchDefaults, parse_csv
    from issuer.identity import create_issuer
    from issuer.service import IssuerService

    data_dir = tmp_path / "issuer-var"
    data_dir.mkdir()
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    home = create_issuer(data_dir, "uni", legal_name="Universidade Exemplo", country="PT")
    archive = Archive(home.archive_path)
    service = IssuerService(home.identity, archive, home.signing_key(), anchor=_Anchor())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ROW), lineterminator="\n")
    writer.writeheader()
    writer.writerows([{**ROW, "learner.student_id": f"S-{n}"} for n in range(3)])
    defaults = BatchDefaults(home.identity.country, home.identity.awarding_body(), "2026-09-21")
    result = service.issue_batch(parse_csv(buffer.getvalue(), defaults), now=NOW - 60)
    app = issuer_web.create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni",
                                 "STATUS_ANCHOR": _Anchor(), "CLOCK": lambda: NOW})
    yield service, [issued.offer_id for issued in result.issued], app.test_client()
    archive.close()


@pytest.fixture(autouse=True)
def _dev_loopback(app):
    """The issuer here is on loopback over http: allowed only by the development setting."""
    app.config["DEV_LOOPBACK"] = True


def _transport_to(test_client, base_url, log):
    host = urlsplit(base_url).netloc

    def send(method, url, headers, body):
        parts = urlsplit(url)
        if parts.netloc != host:
            raise AssertionError(f"the wallet called an unexpected host {parts.netloc}")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        log.append((method, parts.path))
        response = test_client.open(path, method=method, headers=dict(headers), data=body)
        return HttpResponse(response.status_code, dict(response.headers), response.get_data())

    return send


def _offer_link(service, offer_id):
    from issuer.oid4vci import offer_uri

    return offer_uri(service.identity, offer_id)


def test_redeem_an_offer_by_reference(app, signed_in, issuer_side):
    service, offers, issuer_client = issuer_side
    log: list = []
    app.config["HTTP_TRANSPORT"] = _transport_to(issuer_client, service.identity.base_url, log)
    response = signed_in.add(_offer_link(service, offers[0]))
    assert response.status_code == 302, signed_in.last_page
    assert [path for _, path in log] == [
        f"/credential-offer/{offers[0]}", "/.well-known/openid-credential-issuer",
        "/.well-known/oauth-authorization-server", "/token", "/nonce", "/credential",
    ]
    signed_in.get(response.headers["Location"])
    assert "Foundations of Data Science" in signed_in.last_page
    record = service.archive.credential(service.archive.offer(offers[0])["credential_id"])
    assert record.delivery == "redeemed"
    assert record.holder_jwk == signed_in.holder_jwk(app)  # bound to this wallet's key


def test_scanned_offer_and_used_offer(app, signed_in, issuer_side):
    service, offers, issuer_client = issuer_side
    app.config["HTTP_TRANSPORT"] = _transport_to(issuer_client, service.identity.base_url, [])
    link = _offer_link(service, offers[1])
    first = signed_in.submit("/credentials/scan", "/credentials/scan", {"scanned": link})
    assert first.status_code == 302
    again = signed_in.submit("/credentials/scan", "/credentials/scan", {"scanned": link})
    assert again.status_code == 400
    assert "Not added" in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1


def test_offer_by_value_and_refusals(app, signed_in, issuer_side):
    service, offers, issuer_client = issuer_side
    app.config["HTTP_TRANSPORT"] = _transport_to(issuer_client, service.identity.base_url, [])
    code = service.archive.offer(offers[2])["pre_authorized_code"]
    from issuer.oid4vci import credential_offer

    by_value = ("openid-credential-offer://?credential_offer="
                + quote(json.dumps(credential_offer(service.identity, code))))
    assert signed_in.add(by_value).status_code == 302, signed_in.last_page
    needs_tx_code = {"credential_issuer": service.identity.base_url, "credential_configuration_ids": ["x"],
                     "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code":
                                {"pre-authorized_code": "c", "tx_code": {"length": 4}}}}
    for bad, message in (
        ("openid-credential-offer://?credential_offer=" + quote(json.dumps(needs_tx_code)), "transaction code"),
        ("openid-credential-offer://?nothing=1", "exactly one of"),
        ("openid-credential-offer://?credential_offer_uri=ftp%3A%2F%2Fx.example%2Fo", "must use https"),
    ):
        assert signed_in.add(bad).status_code == 400
        assert message in signed_in.last_page, signed_in.last_page


def test_key_proof_follows_appendix_f1():
    from credentials.jose import PrivateKey, UnverifiedJws
    from wallet.oid4vci_client import key_proof, well_known_url

    key = PrivateKey.generate("ES256")
    jws = UnverifiedJws.parse(key_proof(key, audience="https://issuer.example", nonce="n-1", iat=NOW))
    assert jws.header == {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": key.public_key().to_jwk()}
    assert jws.payload == {"aud": "https://issuer.example", "iat": NOW, "nonce": "n-1"}
    jws.verify_with(key.public_key())
    assert well_known_url("https://issuer.example/tenant/", "/.well-known/openid-credential-issuer") == \
        "https://issuer.example/.well-known/openid-credential-issuer/tenant"
