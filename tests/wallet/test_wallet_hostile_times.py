"""Issue 10 A1 at wallet import: a credential whose exp / nbf / iat is 1e400 (inf) is refused with 400, not a 500."""

from __future__ import annotations

import pytest
from wallet_helpers import db_rows

from tests.forging import forge_issuer_claim


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1.5"])
def test_import_of_a_credential_with_a_hostile_time_is_refused(app, signed_in, issuer, name, literal):
    credential = forge_issuer_claim(issuer.issue(signed_in.holder_jwk(app)), issuer.key, name, literal)
    response = signed_in.add(credential)
    assert response.status_code == 400, signed_in.last_page[:500]
    assert "Not added" in signed_in.last_page
    assert "1970" in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0
