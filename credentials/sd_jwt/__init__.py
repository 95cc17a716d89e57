"""SD-JWT (IETF RFC 9901): issuer, holder and verifier roles over a shared base.

- :mod:`credentials.sd_jwt.common`: disclosures, digests, the compact serialization
- :mod:`credentials.sd_jwt.issuer`: claims + disclosure frame → signed SD-JWT
- :mod:`credentials.sd_jwt.holder`: what can be disclosed; choose; present
- :mod:`credentials.sd_jwt.key_binding`: Key Binding JWTs (§4.3, §7.3)
- :mod:`credentials.sd_jwt.verifier`: the checks of §7
"""

from credentials.sd_jwt.common import Disclosure, UnverifiedSdJwt, digest_of
from credentials.sd_jwt.holder import ClaimPath, DisclosableClaim, HolderSdJwt
from credentials.sd_jwt.issuer import IssuedSdJwt, build_sd_payload, issue_sd_jwt
from credentials.sd_jwt.key_binding import (
    KeyBindingPolicy,
    VerifiedKeyBinding,
    add_key_binding,
    create_kb_jwt,
)
from credentials.sd_jwt.verifier import VerifiedSdJwt, unpack_disclosures, verify_sd_jwt

__all__ = [
    "ClaimPath",
    "DisclosableClaim",
    "Disclosure",
    "HolderSdJwt",
    "IssuedSdJwt",
    "KeyBindingPolicy",
    "UnverifiedSdJwt",
    "VerifiedKeyBinding",
    "VerifiedSdJwt",
    "add_key_binding",
    "build_sd_payload",
    "create_kb_jwt",
    "digest_of",
    "issue_sd_jwt",
    "unpack_disclosures",
    "verify_sd_jwt",
]
