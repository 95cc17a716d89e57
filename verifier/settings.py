"""The verifier's settings: ``MICROCRED_<NAME>`` in the environment, ``app.config[NAME]`` in the app.

Checked once, at start-up, by :mod:`infra.settings` (for ``verifier serve``
and for ``microcred verify`` alike); :class:`verifier.service.VerifierService`
turns them into a :class:`~credentials.verification_model.Policy`, a fetch
policy, a replay guard and rate limits. The README's configuration table lists
those an operator sets.
"""

from __future__ import annotations

from credentials.eudi_learning import EUDI_LEARNING_VCT
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.status_list import MIN_STATUS_LIST_ENTRIES
from infra.rate_limit import rate_limit_check
from infra.settings import COMMON, VERIFIER_OPENID4VP, X509_TRUST_ANCHORS, Setting

__all__ = ["SETTINGS", "RATE_LIMITS"]

#: Rate-limited actions: (setting, store namespace, what the client is told it sent too many of).
RATE_LIMITS = {
    "verify": ("VERIFIER_RATE_LIMIT", "rate-verify", "verification requests"),
    "openid4vp": ("VERIFIER_OPENID4VP_RATE_LIMIT", "rate-openid4vp", "new presentation requests"),
}


SETTINGS: tuple[Setting, ...] = COMMON + (
    Setting("VERIFIER_PUBLIC_URL", "url", None, "this service's base URL (OpenID4VP response_uri; the host answered)"),
    Setting("VERIFIER_TRUSTED_ROOTS", "list", (), "root DIDs trusted; default: the deployment's root"),
    Setting("VERIFIER_TRUSTED_LIST", "str", None,
            "the file `microcred trust import` writes (its DIDs are trusted roots, replacing the default root); "
            "default: <DATA_DIR>/trusted-list.json"),
    Setting("VERIFIER_ACCEPTED_VCTS", "list", (MICRO_CREDENTIAL_VCT, EUDI_LEARNING_VCT),
            "SD-JWT VC types (and plain JWT VC types) accepted"),
    X509_TRUST_ANCHORS,
    Setting("VERIFIER_WHOLE_CREDENTIAL_BINDING_REQUIRED", "bool", False,
            "refuse a whole credential (JWT VC, Open Badge, EDC) shown without a holder-signed presentation"),
    Setting("VERIFIER_IMPORTED_STATUS_REQUIRED", "bool", False,
            "refuse a whole credential that carries no status entry"),
    Setting("VERIFIER_REQUIRE_ISSUANCE_ANCHOR", "bool", False,
            "fail issuance_anchor for a presentation without an issuance proof (off: the check is skipped)"),
    Setting("VERIFIER_UNANCHORED_STATUS_LISTS", "bool", True,
            "accept W3C status lists their issuer does not anchor on chain (read from the issuer's server)"),
    Setting("VERIFIER_DID_WEB_TTL", "int", 300, "seconds a fetched did:web document is kept", minimum=0),
    Setting("VERIFIER_AUDIENCE", "str", None, "the aud a KB-JWT must carry; default: any, checked per request"),
    Setting("VERIFIER_KB_MAX_AGE", "int", 300, "seconds a KB-JWT is accepted after its iat", minimum=0),
    Setting("VERIFIER_CLOCK_SKEW", "int", 60, "seconds of clock difference tolerated", minimum=0),
    Setting("VERIFIER_HOLDER_BINDING_REQUIRED", "bool", True, "refuse presentations without a KB-JWT"),
    Setting("VERIFIER_MAX_STATUS_AGE", "int", 60, "seconds a fetched status list may be old", minimum=0),
    Setting("VERIFIER_MIN_STATUS_LIST_ENTRIES", "int", MIN_STATUS_LIST_ENTRIES,
            "shorter status lists fail revocation (herd privacy)", minimum=0),
    Setting("VERIFIER_MAX_BODY", "int", 64 * 1024, "bytes of a request body holding an SD-JWT VC", minimum=0),
    Setting("VERIFIER_MAX_IMPORTED_BODY", "int", 2 * 1024 * 1024,
            "bytes of a request body holding a whole credential (JWT VC, Open Badge, EDC) or a presentation of one",
            minimum=0),
    Setting("VERIFIER_FETCH_HOSTS", "list", (), "allow-list for status lists and links; empty: any public host"),
    Setting("VERIFIER_FETCH_ALLOW_HTTP", "bool", False, "plain http to any allowed host (development only)"),
    Setting("VERIFIER_FETCH_ALLOW_LOOPBACK", "bool", False, "the verifier's own name for DEV_LOOPBACK's loopback part"),
    Setting("VERIFIER_FETCH_ALLOW_PRIVATE", "bool", False, "the verifier's own name for FETCH_ALLOW_PRIVATE"),
    Setting("VERIFIER_FETCH_TIMEOUT", "float", 3.0, "one deadline per outbound request, seconds", above=0),
    Setting("VERIFIER_POLL_INTERVAL", "float", 0.2, "seconds between two looks at the chain's head", above=0),
    Setting("VERIFIER_DEADLINE", "float", 5.0, "seconds for all chain reads of one verification (then 503)",
            above=0),
    Setting("VERIFIER_RATE_LIMIT", "str", "120/60", "verifications per client: N/S seconds, or off",
            check=rate_limit_check("VERIFIER_RATE_LIMIT")),
    Setting("VERIFIER_OPENID4VP_RATE_LIMIT", "str", "30/60", "new OpenID4VP requests per client",
            check=rate_limit_check("VERIFIER_OPENID4VP_RATE_LIMIT")),
) + VERIFIER_OPENID4VP
