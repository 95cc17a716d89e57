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

A **stack** (several credentials shown at once, :mod:`credentials.stack`) goes
by link only: the link answers ``application/json``
``{"presentations": ["<presentation>", …]}``, each entry an SD-JWT+KB text, a
JWT presentation, or a JSON presentation (as text or as an object), all bound
to the same nonce and audience. :func:`parse_stack` tells such an answer from a
single presentation; :func:`stack_presentations` checks the list (also for the
verifier API's ``presentations`` member); :func:`stack_text` writes one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from credentials._json import json_dumps, json_loads
from credentials.errors import FormatError, InvalidInput
from credentials.stack import MAX_STACK_PRESENTATIONS

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
    "STACK_MEMBER",
    "STACK_MEDIA_TYPE",
    "stack_presentations",
    "parse_stack",
    "stack_text",
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

#: The one member of a stack link's answer, and that answer's media type.
STACK_MEMBER = "presentations"
STACK_MEDIA_TYPE = "application/json"

_OPENID4VP_SCHEMES = ("openid4vp://", "haip-vp://", "eudi-openid4vp://", "haip://")  # haip-vp: HAIP 1.0 final
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


def stack_presentations(entries: Any) -> tuple[str, ...]:
    """The presentations of a stack's ``presentations`` list, each as text; FormatError saying what is wrong.

    1 to :data:`~credentials.stack.MAX_STACK_PRESENTATIONS` entries, each a
    non-empty string or a non-empty JSON object (a JSON presentation, kept as
    compact JSON text).
    """
    if not isinstance(entries, list):
        raise FormatError(f"'{STACK_MEMBER}' must be a list of presentations, found {type(entries).__name__}")
    if not entries:
        raise FormatError(f"'{STACK_MEMBER}' is empty; a stack holds 1 to {MAX_STACK_PRESENTATIONS} presentations")
    if len(entries) > MAX_STACK_PRESENTATIONS:
        raise FormatError(f"the stack holds {len(entries)} presentations, more than {MAX_STACK_PRESENTATIONS}")
    found = []
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and entry:
            try:
                found.append(json_dumps(entry))
            except InvalidInput as exc:
                raise FormatError(f"{STACK_MEMBER}[{index}] cannot be read as JSON: {exc}") from None
        elif isinstance(entry, str) and entry.strip():
            found.append(entry.strip())
        else:
            kind = "an empty one" if entry in ("", {}) or (isinstance(entry, str) and not entry.strip()) \
                else type(entry).__name__
            raise FormatError(f"{STACK_MEMBER}[{index}] must be a presentation (text) or a JSON presentation "
                              f"(object), found {kind}")
    return tuple(found)


def parse_stack(text: str) -> tuple[str, ...] | None:
    """The presentations of a stack's JSON text; None when ``text`` is not a stack (a single presentation).

    A JSON object with a ``presentations`` member is a stack, and must hold
    nothing else (FormatError otherwise, or when its list is not one).
    """
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped.startswith("{") or f'"{STACK_MEMBER}"' not in stripped:
        return None
    try:
        document = json_loads(stripped, what="the stack")
    except InvalidInput:
        return None  # not JSON: not a stack; the verifier reports what it is not
    if not isinstance(document, dict) or STACK_MEMBER not in document:
        return None
    others = sorted(k for k in document if k != STACK_MEMBER)
    if others:
        raise FormatError(f"a stack holds only '{STACK_MEMBER}'; found also {', '.join(map(repr, others))[:200]}")
    return stack_presentations(document[STACK_MEMBER])


def stack_text(presentations: Sequence[str]) -> str:
    """A stack's JSON text, as a stack link answers it."""
    return json_dumps({STACK_MEMBER: stack_presentations(list(presentations))})
