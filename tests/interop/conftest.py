"""Fixtures of the OpenID4VP interop tests (test_openid4vp_*.py): the interop access-certificate PKI,
microcred's verifier served on a free port (openid4vp_world.py), and the verifier tests' accredited
did:key issuer with its anchored status list (tests/verifier/conftest.py)."""

from tests.interop.openid4vp_world import our_verifier, pki  # noqa: F401 - fixtures used by name
from tests.verifier.conftest import make_issuer, status_server  # noqa: F401 - fixtures used by name
