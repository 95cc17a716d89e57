"""The issuing service and CLI: issuer keys, batch issuing, status lists, revocation and anchoring, OpenID4VCI."""
