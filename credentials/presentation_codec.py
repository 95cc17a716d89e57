"""What a holder-shown QR code carries (ARCHITECTURE.md, "Holder-shown QR" ⚑).

Two forms, told apart by their first characters:

- **inline**: the SD-JWT+KB presentation itself (``<JWT>~<D>~…~<KB-JWT>``),
  used when it fits a QR code a phone camera reads reliably
  (:data:`INLINE_QR_MAX_CHARS`);
- **link**: a short-lived, one-time ``https://`` URL on the wallet that
  returns the presentation (``http://`` only for loopback hosts, so the local
  demo works). The verifier fetches it under strict rules; this module only
  classifies and checks the text.

Also recognised, so a scanning page can route them: an OpenID4VP request
(``openid4vp://…``) and an OpenID4VCI credential offer
(``openid-credential-offer://…``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from credentials.errors import FormatError

__all__ = [
    "INLINE_QR_MAX_CHARS",
    "MAX_SCANNED_CHARS",
    "KIND_INLINE",
    "KIND_LINK",
    "KIND_OPENID4VP",
    "KIND_CREDENTIAL_OFFER",
    "Scanned",
    "fits_inline",
    "is_loopback_host",
    "classify_scanned",
]

#: Presentations up to this many characters go into the QR code itself
#: (≈ QR version 25 at level L; BASELINES.md: larger codes are slow to draw
#: and hard for a phone camera to read). Longer ones go by link.
INLINE_QR_MAX_CHARS = 1200
#: A scanned text longer than this is refused outright (QR v40-L holds 2,953 bytes).
MAX_SCANNED_CHARS = 4096

KIND_INLINE = "inline"
KIND_LINK = "link"
KIND_OPENID4VP = "openid4vp"
KIND_CREDENTIAL_OFFER = "credential_offer"

_OPENID4VP_SCHEMES = ("openid4vp://", "eudi-openid4vp://", "haip://")
_OFFER_SCHEME = "openid-credential-offer://"


@dataclass(frozen=True)
class Scanned:
    """A classified QR text: ``kind`` is one of the ``KIND_*`` constants."""

    kind: str
    value: str


def fits_inline(presentation: str) -> bool:
    """True when ``presentation`` should be shown as an inline QR code."""
    return len(presentation) <= INLINE_QR_MAX_CHARS


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (where plain http is tolerated)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def classify_scanned(text: str) -> Scanned:
    """Classify what a QR code (or a pasted string) holds; FormatError if nothing known."""
    if not isinstance(text, str):
        raise FormatError("the scanned code must be text")
    text = text.strip()
    if not text:
        raise FormatError("the scanned code is empty")
    if len(text) > MAX_SCANNED_CHARS:
        raise FormatError(
            f"the scanned code holds {len(text)} characters, more than a QR code can ({MAX_SCANNED_CHARS})")
    lowered = text.lower()
    if lowered.startswith(_OPENID4VP_SCHEMES):
        return Scanned(KIND_OPENID4VP, text)
    if lowered.startswith(_OFFER_SCHEME):
        return Scanned(KIND_CREDENTIAL_OFFER, text)
    if lowered.startswith(("https://", "http://")):
        parts = urlsplit(text)
        if not parts.hostname:
            raise FormatError("the scanned link has no host")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise FormatError("the scanned link must use https (plain http only for this machine)")
        if parts.username or parts.password:
            raise FormatError("the scanned link must not carry a user name or password")
        return Scanned(KIND_LINK, text)
    if "~" in text and text.count(".") >= 2:
        return Scanned(KIND_INLINE, text)
    raise FormatError("the scanned code is neither a presentation, a presentation link, nor an OpenID request or offer")
