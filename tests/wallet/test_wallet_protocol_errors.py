"""A verifier's OpenID4VP request or an issuer's OpenID4VCI offer that the wallet refuses is not a failed check.

Before issue 11 both parsers raised :class:`~credentials.errors.FormatError`,
the error of the verification check ``format``, for what is another party's
protocol message: the wallet's pages then mixed "this credential is
malformed" with "this request is malformed". Each now has its own class in
the one tree, a 400 like any input the wallet refuses.
"""

from __future__ import annotations

import pytest

from credentials.errors import InvalidCredentialOffer, InvalidPresentationRequest, VerificationError
from infra.fetch import FetchPolicy, StrictFetcher
from infra.web_errors import status_of
from wallet.oid4vci_client import parse_offer
from wallet.oid4vp import parse_request
from wallet.transport import Client

NOW = 1_700_000_000


def _client() -> Client:
    def no_network(method, url, headers, body):
        raise AssertionError(f"the wallet should refuse before fetching {url}")

    return Client(StrictFetcher(FetchPolicy(), transport=no_network))


@pytest.mark.parametrize("text", [
    "https://verifier.example/not-a-request",
    "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fverifier.example%2Fr&response_type=code",
    "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fverifier.example%2Fr&response_type=vp_token"
    "&response_mode=fragment",
], ids=["not-openid4vp", "wrong-response-type", "wrong-response-mode"])
def test_a_malformed_presentation_request_is_its_own_error(text):
    with pytest.raises(InvalidPresentationRequest) as refused:
        parse_request(text, _client(), now=NOW)
    assert not isinstance(refused.value, VerificationError)
    assert status_of(refused.value) == 400


@pytest.mark.parametrize("text", [
    "https://issuer.example/not-an-offer",
    "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fissuer.example%2Fo",
    "openid-credential-offer://?credential_offer=%7B%7D",
], ids=["not-an-offer", "both-forms", "no-issuer"])
def test_a_malformed_credential_offer_is_its_own_error(text):
    with pytest.raises(InvalidCredentialOffer) as refused:
        parse_offer(text, _client())
    assert not isinstance(refused.value, VerificationError)
    assert status_of(refused.value) == 400
