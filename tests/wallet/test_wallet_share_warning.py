"""The Share pages warn before a revoked, suspended or expired credential is shared, as the OpenID4VP page does.

The learner may still share it (the verifier is told its status); the warning is the consent page's sentence,
with ``role="alert"``, on the page where the claims are chosen and on the preview before the QR is made. A stored
badge older than ``WALLET_STATUS_MAX_AGE`` is checked again first, so a credential revoked since it was added is
warned about too.
"""

from __future__ import annotations

import json
import re

import pytest

TITLE = json.dumps(["title"])
REVOKED = "Revoked by its issuer: not valid, and the verifier will be told so."
SUSPENDED = "Suspended by its issuer: not valid now, and the verifier will be told so."


def _trust_check(status_of_raw: dict[str, str]):
    """The app's TRUST_CHECK (wallet.checking): the verifier API's checks, the revocation one as the issuer says."""
    def check(raw, fmt, now):
        said = status_of_raw.get(raw)
        return [{"check": "issuer_trust", "status": "passed", "detail": "accredited"},
                {"check": "revocation", "status": "failed" if said else "passed",
                 "detail": f"the credential is {said}" if said else "not revoked"}]
    return check


def _alert(page: str) -> list[str]:
    return re.findall(r'<p class="warning" role="alert">([^<]*)</p>', page)


@pytest.mark.parametrize(("said", "warning"), [("revoked", REVOKED), ("suspended", SUSPENDED)])
def test_the_share_pages_warn_about_a_credential_that_is_not_valid(app, signed_in, issuer, clock, said, warning):
    raw = issuer.issue(signed_in.holder_jwk(app))
    statuses: dict[str, str] = {}
    app.config["TRUST_CHECK"] = _trust_check(statuses)
    credential_id = int(signed_in.add(raw).headers["Location"].rsplit("/", 1)[1])
    statuses[raw] = said  # the issuer changes its status after the learner added it
    clock.now += app.config["WALLET_STATUS_MAX_AGE"] + 1

    signed_in.get(f"/credentials/{credential_id}/share")
    assert _alert(signed_in.last_page) == [warning]
    preview = signed_in.post(f"/credentials/{credential_id}/share/preview", {"claim": [TITLE]})
    assert preview.status_code == 200
    assert _alert(signed_in.last_page) == [warning]


def test_a_valid_credential_s_share_pages_carry_no_warning(app, signed_in, issuer):
    app.config["TRUST_CHECK"] = _trust_check({})
    credential_id = int(signed_in.add(issuer.issue(signed_in.holder_jwk(app))).headers["Location"].rsplit("/", 1)[1])
    signed_in.get(f"/credentials/{credential_id}/share")
    assert _alert(signed_in.last_page) == []
    signed_in.post(f"/credentials/{credential_id}/share/preview", {"claim": [TITLE]})
    assert _alert(signed_in.last_page) == []
