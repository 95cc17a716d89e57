"""The one error hierarchy of microcred, and the HTTP status each error answers.

Every error the project raises on purpose derives from :class:`MicrocredError`.
Leaves also inherit the builtin they resemble, so callers that only know
Python's own exceptions still catch them sensibly. This is the whole tree,
including the classes defined next to the I/O they are about (``[infra]``:
:mod:`infra.errors`, ``[ledger]``: :mod:`ledger.errors`); the number is the
HTTP status every web app answers for it (:data:`infra.web_errors.HTTP_STATUS`,
the one table; a test keeps this drawing, that table and the classes equal)::

    MicrocredError                                          500  anything raised on purpose
    ├── InvalidInput (ValueError)                           400  malformed data we were handed
    │   ├── InvalidDid                                      400  a DID that does not parse / resolve
    │   ├── InvalidKey                                      400  a JWK or key of an unsupported kind
    │   ├── InvalidStatusList                               400  a status list that does not decode
    │   ├── InvalidCredentialData                           400  claims that break the micro-credential schema
    │   ├── InvalidPresentationRequest                      400  an OpenID4VP request the wallet will not answer
    │   ├── InvalidCredentialOffer                          400  an OpenID4VCI offer the wallet cannot redeem
    │   ├── UnknownCredential                               404  a credential id the issuer's archive does not hold
    │   ├── DuplicateCredential                             409  the wallet already holds this credential
    │   ├── StatusChangeRefused                             409  a revoke / suspend / reinstate that does not apply
    │   └── FetchRefused [infra]                            400  a URL we do not fetch; nothing was sent
    ├── VerificationError (ValueError)                      400  a check failed; ``.check`` names it
    │   ├── FormatError                                     400  check "format"
    │   ├── SignatureError                                  400  check "signature"
    │   ├── DisclosureError                                 400  check "disclosures"
    │   ├── HolderBindingError                              400  check "holder_binding"
    │   ├── ReplayError                                     400  check "replay"
    │   ├── ValidityPeriodError                             400  check "validity_period"
    │   ├── IssuerTrustError                                400  check "issuer_trust"
    │   ├── RevocationError                                 400  check "revocation"
    │   └── SchemaViolation                                 400  check "schema"
    ├── OAuthError                                          400  an OAuth / OpenID4VCI error answer (``error`` code)
    │   ├── InvalidAccessToken                              401  a missing, unknown or spent access token
    │   └── OfferNotFound                                   404  an offer that does not exist, expired or was used
    ├── DoubleSubmit (ValueError)                           409  the same form sent twice
    ├── RateLimited                                         429  too many requests from one client
    ├── ConfigurationError (RuntimeError)                   503  a setting is missing or wrong
    │   └── SecretFileExists [infra] (FileExistsError)      503  a key file to create exists already
    ├── FetchError [infra] (ConnectionError)                502  an outbound request brought nothing usable
    │   ├── RemoteUnreachable [infra]                       502  nobody answered, or the server failed (5xx)
    │   └── UnusableAnswer [infra]                          400  the host answered, but not with what was asked
    ├── StoreUnavailable [infra] (ConnectionError)          503  the shared state store cannot answer now
    ├── StorageError [infra] (OSError)                      503  a disk that is full, read-only or failing
    ├── ServiceFailed [infra] (RuntimeError)                500  a service process exited or did not answer
    └── LedgerError [ledger]                                502  the chain's answer cannot be used
        ├── LedgerUnavailable [ledger] (ConnectionError)    503  node down, unreachable, or timed out
        │   └── RpcTransportError [ledger]                  503  a JSON-RPC request not sent or not read
        ├── RpcErrorResponse [ledger]                       502  the node answered with a JSON-RPC error
        ├── DeploymentNotFound [ledger] (FileNotFoundError) 503  no deployment.json in the data dir
        ├── InvalidDeployment [ledger] (ValueError)         503  deployment.json unreadable or for another chain
        ├── TransactionReverted [ledger]                    502  a call or transaction reverted
        ├── DevnetError [ledger] (RuntimeError)             500  Anvil missing, would not start or stop
        ├── KeyFileError [ledger] (ValueError)              503  a controller key file is unreadable
        └── CompilationError [ledger] (RuntimeError)        500  solc missing, wrong version or failing

A network failure means the same everywhere: a URL we refuse is 400, a remote
nobody reaches is 502, a remote that answers nonsense is 400, our own store or
ledger down is 503. A 4xx answer shows the error's message (written for the
user: what was expected, what was found), and so does a 502 of
:class:`FetchError` (it names only the host the user gave); any other 5xx
answer shows a generic sentence, and the exception goes to the operator's log.

A :class:`VerificationError` carries ``check`` (one of :data:`CHECKS`) and
``reason``, a sentence fit for an employer's screen: it says what was expected
and what was found, and never contains key material or a traceback. Only
:class:`FormatError` names the ``format`` check; parsing another party's
OpenID4VP request or OpenID4VCI offer has classes of its own.
"""

from __future__ import annotations

__all__ = [
    "CHECKS",
    "MicrocredError",
    "InvalidInput",
    "InvalidDid",
    "InvalidKey",
    "InvalidStatusList",
    "InvalidCredentialData",
    "InvalidPresentationRequest",
    "InvalidCredentialOffer",
    "UnknownCredential",
    "DuplicateCredential",
    "StatusChangeRefused",
    "VerificationError",
    "FormatError",
    "SignatureError",
    "DisclosureError",
    "HolderBindingError",
    "ReplayError",
    "ValidityPeriodError",
    "IssuerTrustError",
    "RevocationError",
    "SchemaViolation",
    "OAuthError",
    "InvalidAccessToken",
    "OfferNotFound",
    "DoubleSubmit",
    "RateLimited",
    "ConfigurationError",
]

#: The names of the verification checks, in the order a verifier runs them.
CHECKS = (
    "format",
    "signature",
    "disclosures",
    "holder_binding",
    "replay",
    "validity_period",
    "issuer_trust",
    "revocation",
    "schema",
    "issuance_anchor",
)


class MicrocredError(Exception):
    """Root of every error microcred raises on purpose."""


class InvalidInput(MicrocredError, ValueError):
    """Data handed to microcred is malformed or of an unsupported kind."""


class InvalidDid(InvalidInput):
    """A DID does not parse, or its method or key type is not supported."""


class InvalidKey(InvalidInput):
    """A key (usually a JWK) is malformed or of an unsupported type."""


class InvalidStatusList(InvalidInput):
    """A status list does not decode, or an index lies outside it."""


class InvalidCredentialData(InvalidInput):
    """Claims given to the issuer break the micro-credential schema.

    ``errors`` lists every problem found (``"ects: 75 is not less than 60"``),
    so a registrar can fix all of them at once.
    """

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors) if self.errors else "invalid credential data")


class InvalidPresentationRequest(InvalidInput):
    """An OpenID4VP request (OpenID4VP 1.0 §5) the wallet will not answer: malformed, unsigned where it
    must be signed, or asking to send the answer elsewhere than the verifier that asks."""


class InvalidCredentialOffer(InvalidInput):
    """An OpenID4VCI credential offer (OpenID4VCI 1.0 §4.1), or an issuer's answer during its redemption,
    that the wallet cannot use."""


class UnknownCredential(InvalidInput):
    """A credential id that the issuer's archive does not hold."""


class DuplicateCredential(InvalidInput):
    """The account already holds this exact credential; ``existing_id`` names it."""

    def __init__(self, existing_id: int):
        self.existing_id = existing_id
        super().__init__("this credential is already in your wallet")


class StatusChangeRefused(InvalidInput):
    """A revoke / suspend / reinstate that does not apply; ``errors`` lists why, nothing changed."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class VerificationError(MicrocredError, ValueError):
    """A verification check failed.

    ``check`` is the name of the check (see :data:`CHECKS`), ``reason`` a
    human sentence. Subclasses fix ``check``; the base class takes it as an
    argument.
    """

    check: str = ""

    def __init__(self, reason: str, *, check: str | None = None):
        if check is not None:
            self.check = check
        if self.check not in CHECKS:
            raise ValueError(f"unknown verification check {self.check!r}")
        self.reason = reason
        super().__init__(f"{self.check}: {reason}")


class FormatError(VerificationError):
    check = "format"


class SignatureError(VerificationError):
    check = "signature"


class DisclosureError(VerificationError):
    check = "disclosures"


class HolderBindingError(VerificationError):
    check = "holder_binding"


class ReplayError(VerificationError):
    check = "replay"


class ValidityPeriodError(VerificationError):
    check = "validity_period"


class IssuerTrustError(VerificationError):
    check = "issuer_trust"


class RevocationError(VerificationError):
    check = "revocation"


class SchemaViolation(VerificationError):
    check = "schema"


class OAuthError(MicrocredError):
    """An OAuth 2.0 / OpenID4VCI error answer (RFC 6749 §5.2, OpenID4VCI 1.0 §8.3.1): ``error`` is the
    spec's code (``invalid_grant``, ``invalid_proof``, …), ``description`` a sentence for the developer."""

    def __init__(self, error: str, description: str):
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}")

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidAccessToken(OAuthError):
    """A missing, unknown, expired or spent access token (RFC 6750 §3.1 ``invalid_token``)."""

    def __init__(self, description: str):
        super().__init__("invalid_token", description)


class OfferNotFound(OAuthError):
    """A credential offer that does not exist, has expired or was redeemed."""

    def __init__(self, description: str):
        super().__init__("not_found", description)


class DoubleSubmit(MicrocredError, ValueError):
    """The same form was submitted twice."""


class RateLimited(MicrocredError):
    """Too many requests from one client; try again after ``retry_after`` seconds."""

    def __init__(self, what: str, retry_after: int):
        super().__init__(f"too many {what} from your address; try again in {retry_after} seconds")
        self.retry_after = retry_after


class ConfigurationError(MicrocredError, RuntimeError):
    """A setting is missing or inconsistent (deployment file, data dir, …)."""
