"""OpenID4VP 1.0 (final) with the HAIP 1.0 choices: the verifier asks a learner's wallet for credentials.

The employer fills a form (:mod:`.query_form`: claims required or optional,
allowed values, several credentials, alternatives → a DCQL query, §6); the
page shows a QR code holding only ``openid4vp://?client_id=…&request_uri=…``
(request by reference, RFC 9101; §5.7). The wallet fetches the Request Object
once (:mod:`.views`): a JAR (``typ: oauth-authz-req+jwt``) signed for the
``x509_hash``, ``x509_san_dns`` and ``decentralized_identifier`` Client
Identifier Prefixes, unsigned for ``redirect_uri`` (:mod:`.identity`, §5.9),
asking for ``direct_post.jwt`` (an answer encrypted to a per-request P-256
key, §8.3) or plain ``direct_post`` (§8.2). The answer is decrypted and
matched (:mod:`.answers`), each presentation verified and the query enforced
(:mod:`.outcome`, §8.6, §14.6); only the browser that made the request reads
the outcome (:mod:`.transactions`: page id ≠ request id ≠ state, a secret
cookie, a ``response_code`` for ``/done``; §13.3, §14.2).
"""

from __future__ import annotations

from verifier.openid4vp.query_form import slot_query_id
from verifier.openid4vp.transactions import ANSWER_LIFETIME_S, REQUEST_LIFETIME_S, Transaction
from verifier.openid4vp.views import COOKIE_PREFIX, REQUEST_SCHEME, bp, identity_of, request_link, transactions_of

__all__ = ["bp", "REQUEST_SCHEME", "COOKIE_PREFIX", "REQUEST_LIFETIME_S", "ANSWER_LIFETIME_S", "CREDENTIAL_QUERY_ID",
           "Transaction", "identity_of", "request_link", "transactions_of", "transaction"]

#: The id of the first credential query of every request the form makes.
CREDENTIAL_QUERY_ID = slot_query_id(1)


def transaction(app, page_id: str) -> Transaction | None:
    """The transaction of the page ``page_id`` as the shared store holds it now (for tests and tools)."""
    return transactions_of(app).load(page_id)
