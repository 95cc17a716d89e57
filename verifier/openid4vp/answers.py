"""The wallet's answer at the Response URI: decrypted, matched to its transaction, and refused unless asked for.

OpenID4VP 1.0 §8.2 (``direct_post``: form fields ``vp_token`` and ``state``),
§8.3 and §8.3.1 (``direct_post.jwt``: one form field ``response``, a JWE
compact serialization whose payload holds the response parameters), §8.1
(``vp_token`` = ``{credential query id: [presentation, …]}``), §8.5 (error
answers, plain form fields in either mode). HAIP 1.0 §5: ``ECDH-ES`` with a
P-256 key, ``enc`` ``A128GCM`` or ``A256GCM``. The JWE is decrypted with
jwcrypto, limited to those algorithms.

Refused with ``400 {"error": "invalid_request", "error_description": …}``
(:class:`~credentials.errors.OAuthError`), each saying what was expected and
what was found: a plain ``vp_token`` where the request asked for an
encrypted answer; a JWE with another ``alg`` / ``enc``, a compression or
critical header, an unknown ``kid``; a payload whose ``state`` is not the
request's; an unknown, expired or answered transaction; a ``vp_token`` that
is not an object of non-empty arrays of presentations, or holds more than
:data:`MAX_PRESENTATIONS`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

from credentials.errors import InvalidInput, OAuthError
from credentials.jose import b64url_decode, json_loads
from verifier.openid4vp.transactions import Transaction, TransactionStore

__all__ = ["ENCRYPTION_ALG", "ENC_VALUES", "MAX_PRESENTATIONS", "WalletAnswer", "new_encryption_key",
           "public_encryption_jwk", "read_answer"]

ENCRYPTION_ALG = "ECDH-ES"
ENC_VALUES = ("A128GCM", "A256GCM")
#: At most this many presentations in one answer (the verifier API's stack limit).
MAX_PRESENTATIONS = 16
#: JWE header parameters an answer may carry (RFC 7516 §4.1, RFC 7518 §4.6.1); anything else is refused.
_JWE_HEADER = frozenset({"alg", "enc", "kid", "epk", "apu", "apv", "typ", "cty"})


def _invalid(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def new_encryption_key(kid: str) -> dict[str, Any]:
    """A fresh ephemeral P-256 key for one request's answer (private JWK, kept with the transaction)."""
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid=kid, use="enc", alg=ENCRYPTION_ALG)
    return key.export_private(as_dict=True)


def public_encryption_jwk(private: Mapping[str, Any]) -> dict[str, Any]:
    """The public half, as ``client_metadata.jwks`` lists it (``kid``, ``use: enc``, ``alg: ECDH-ES``)."""
    return {name: private[name] for name in ("kty", "crv", "x", "y", "kid", "use", "alg")}


@dataclass
class WalletAnswer:
    tx: Transaction
    vp_token: dict[str, list[str]] | None = None
    error: str | None = None
    error_description: str | None = None


def read_answer(form: Mapping[str, str], transactions: TransactionStore, now: float) -> WalletAnswer:
    """The answer a Response URI POST carries, for a waiting transaction; OAuthError ``invalid_request`` else."""
    if "response" in form:
        extra = sorted(name for name in form if name != "response")
        if extra:
            raise _invalid("an encrypted answer (response_mode direct_post.jwt) carries only the 'response' "
                           f"parameter; found also {', '.join(extra)[:120]}")
        tx, payload = _decrypt(form["response"], transactions)
        state = payload.get("state")
        if not isinstance(state, str) or not hmac.compare_digest(state.encode("utf-8"), tx.state.encode("utf-8")):
            raise _invalid("the encrypted answer's state is not the state of the request its key belongs to")
        fields = payload
    else:
        found = transactions.by_state(form.get("state", ""))
        if found is None:
            raise _invalid("unknown, used or expired state")
        tx = found
        if "error" not in form and tx.response_mode == "direct_post.jwt":
            raise _invalid("this request asked for an encrypted answer (response_mode direct_post.jwt); "
                           "a plain vp_token is refused")
        fields = dict(form)
    _check_waiting(tx, transactions, now)
    if "error" in fields:
        error, description = fields.get("error"), fields.get("error_description")
        if not isinstance(error, str) or not error.strip():
            raise _invalid("error must be a non-empty text")
        return WalletAnswer(tx, error=error[:100], error_description=(description or "")[:300]
                            if isinstance(description, str) else None)
    return WalletAnswer(tx, vp_token=_vp_token(fields.get("vp_token")))


def _check_waiting(tx: Transaction, transactions: TransactionStore, now: float) -> None:
    if tx.answered_at is not None:
        raise _invalid("this request was already answered")
    if tx.expired(now):
        raise _invalid("this request expired; the verifier must make a new one")


def _decrypt(token: Any, transactions: TransactionStore) -> tuple[Transaction, dict[str, Any]]:
    if not isinstance(token, str) or token.count(".") != 4:
        raise _invalid("response must be a JWE in compact serialization (five base64url parts)")
    try:
        header = json_loads(b64url_decode(token.split(".", 1)[0]).decode("utf-8"), what="the JWE header")
    except (InvalidInput, UnicodeDecodeError):
        raise _invalid("the JWE header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise _invalid("the JWE header must be a JSON object")
    if header.get("alg") != ENCRYPTION_ALG:
        raise _invalid(f"the answer must be encrypted with alg {ENCRYPTION_ALG}; found {_shown(header.get('alg'))}")
    if header.get("enc") not in ENC_VALUES:
        raise _invalid(f"the answer must use enc {' or '.join(ENC_VALUES)}; found {_shown(header.get('enc'))}")
    unexpected = sorted(str(name)[:30] for name in header if name not in _JWE_HEADER)
    if unexpected:
        raise _invalid(f"unexpected JWE header parameter(s): {', '.join(unexpected)}")
    tx = transactions.by_kid(header.get("kid"))
    if tx is None or tx.enc_key is None:
        raise _invalid(f"the JWE kid {_shown(header.get('kid'))} names no key of a waiting request")
    try:
        message = jwe.JWE(algs=[ENCRYPTION_ALG, *ENC_VALUES])
        message.deserialize(token, key=jwk.JWK(**tx.enc_key))
        plaintext = message.payload
    except (JWException, ValueError, TypeError, KeyError):
        raise _invalid("the answer could not be decrypted with the key of the request it names") from None
    try:
        payload = json_loads(plaintext.decode("utf-8"), what="the decrypted answer")
    except (InvalidInput, UnicodeDecodeError):
        raise _invalid("the decrypted answer is not JSON") from None
    if not isinstance(payload, dict):
        raise _invalid("the decrypted answer must be a JSON object of response parameters")
    return tx, payload


def _vp_token(value: Any) -> dict[str, list[str]]:
    if value is None or value == "":
        raise _invalid("vp_token is missing")
    if isinstance(value, str):
        try:
            value = json_loads(value, what="vp_token")
        except InvalidInput:
            raise _invalid("vp_token must be a JSON object") from None
    if not isinstance(value, dict) or not value:
        raise _invalid("vp_token must be a non-empty JSON object keyed by credential query id")
    token: dict[str, list[str]] = {}
    count = 0
    for query_id, presentations in value.items():
        if not isinstance(presentations, list) or not presentations:
            raise _invalid(f"vp_token.{_shown(query_id)} must be a non-empty array of presentations")
        texts = []
        for item in presentations:
            if isinstance(item, dict):
                item = json.dumps(item, separators=(",", ":"))
            if not isinstance(item, str) or not item:
                raise _invalid(f"vp_token.{_shown(query_id)} holds something that is not a presentation")
            texts.append(item)
        count += len(texts)
        if count > MAX_PRESENTATIONS:
            raise _invalid(f"an answer may hold at most {MAX_PRESENTATIONS} presentations")
        token[query_id] = texts
    return token


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
