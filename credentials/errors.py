"""The one error hierarchy of microcred.

Every error the project raises on purpose derives from :class:`MicrocredError`.
Leaves also inherit the builtin they resemble, so callers that only know
Python's own exceptions still catch them sensibly::

    MicrocredError
    ├── InvalidInput (ValueError)            malformed data we were handed
    │   ├── InvalidDid                       a DID that does not parse / resolve
    │   ├── InvalidKey                       a JWK or key of an unsupported kind
    │   ├── InvalidStatusList                a status list that does not decode
    │   └── InvalidCredentialData (schema)   claims that break the micro-credential schema
    ├── VerificationError (ValueError)       a check failed; ``.check`` names it
    │   ├── FormatError                      check "format"
    │   ├── SignatureError                   check "signature"
    │   ├── DisclosureError                  check "disclosures"
    │   ├── HolderBindingError               check "holder_binding"
    │   ├── ReplayError                      check "replay"
    │   ├── ValidityPeriodError              check "validity_period"
    │   ├── IssuerTrustError                 check "issuer_trust"
    │   ├── RevocationError                  check "revocation"
    │   └── SchemaViolation                  check "schema"
    └── ConfigurationError (RuntimeError)    a setting is missing or wrong

A :class:`VerificationError` carries ``check`` (one of :data:`CHECKS`) and
``reason``, a sentence fit for an employer's screen: it says what was expected
and what was found, and never contains key material or a traceback.
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


class ConfigurationError(MicrocredError, RuntimeError):
    """A setting is missing or inconsistent (deployment file, data dir, …)."""
