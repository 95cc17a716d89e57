"""The verifier service: the verify API, policies, the scanning page, OpenID4VP."""
