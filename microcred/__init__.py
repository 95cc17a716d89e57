"""microcred: verifiable micro-credentials (SD-JWT VC) with on-chain trust and status.

This package holds only the command-line entry point; the parts live in the
top-level packages ``credentials`` (pure core), ``ledger``, ``issuer``,
``wallet`` and ``verifier``.
"""

__version__ = "0.1.0"
