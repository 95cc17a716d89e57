"""Issue 10 B12 at wallet import: a credential hiding exp (or part of status / cnf) in a disclosure is refused.

The wallet receives every disclosure, so it is where a withheld ``exp`` can be
seen at all: a verifier shown the credential without that disclosure could not.
"""

from __future__ import annotations

import pytest
from wallet_helpers import CLAIMS, NOW, db_rows

from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt.issuer import issue_sd_jwt

STATUS = {"status_list": {"idx": 7, "uri": "https://uni.example/status/1"}}


@pytest.mark.parametrize("frame,registered", [
    ({"_sd": ["exp"]}, {"exp": NOW + 10**7}),
    ({"_sd": ["nbf"]}, {"nbf": NOW - 10}),
    ({"status": {"_sd": ["status_list"]}}, {}),
    ({"cnf": {"_sd": ["jwk"]}}, {}),
], ids=["exp", "nbf", "status.status_list", "cnf.jwk"])
def test_import_refuses_hidden_registered_claims(app, signed_in, issuer, frame, registered):
    claims = {"iss": issuer.did, "iat": NOW - 3600, "vct": MICRO_CREDENTIAL_VCT, "status": STATUS, **registered,
              **CLAIMS}
    base = disclosure_frame(CLAIMS)
    full_frame = {**base, **frame, "_sd": [*base.get("_sd", []), *frame.get("_sd", [])]}
    credential = issue_sd_jwt(claims, full_frame, issuer.key, header={"typ": "dc+sd-jwt", "kid": issuer.kid},
                              holder_jwk=signed_in.holder_jwk(app)).serialization
    response = signed_in.add(credential)
    assert response.status_code == 400, signed_in.last_page[:400]
    assert "Not added" in signed_in.last_page
    assert "selectively disclos" in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0
