"""OpenID for Verifiable Presentations 1.0 (final) with HAIP 1.0, wallet side.

- :mod:`wallet.oid4vp.verifier_id`: who asks (Client Identifier Prefixes, §5.9.3;
  the request object's signature and certificate chain);
- :mod:`wallet.oid4vp.request`: reading and checking the request (§5, §8);
- :mod:`wallet.oid4vp.consent`: what the consent page offers and what the
  learner's choices send (DCQL, §6, §7);
- :mod:`wallet.oid4vp.answer`: posting the answer, encrypted or not (§8.2, §8.3, §8.5).
"""

from wallet.oid4vp.answer import send_error, send_response
from wallet.oid4vp.request import PresentationRequest, parse_request

__all__ = ["PresentationRequest", "parse_request", "send_response", "send_error"]
