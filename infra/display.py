"""Showing text that a credential's issuer or holder wrote: bidirectional controls made visible.

Unicode Technical Standard #39 / UAX #9 and CVE-2021-42574 ("Trojan Source"):
the explicit directional formatting characters reorder what a reader sees, so
a name holding U+202E (RIGHT-TO-LEFT OVERRIDE) displays as another name, and
one left open flips the text that follows it on the page. Every page of the
wallet, the verifier and the issuer passes each ``{{ … }}`` it prints through
:func:`neutralise_bidi` (Jinja's ``finalize``), which replaces each such
character by a visible ``[U+202E]``; templates may also use the
``bidi_safe`` filter by name. Long unbroken strings are the stylesheets' job
(``overflow-wrap: anywhere``).
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

__all__ = ["BIDI_CONTROLS", "neutralise_bidi", "init_jinja"]

#: LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM; ALM.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + ["\u200e", "\u200f", "\u061c"]
)
_VISIBLE = {ord(ch): f"[U+{ord(ch):04X}]" for ch in BIDI_CONTROLS}
#: One search in C instead of a Python loop over every character: pages print thousands of values.
_ANY_CONTROL = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def neutralise_bidi(value: Any) -> Any:
    """``value`` with every bidi control replaced by a visible ``[U+XXXX]``; non-strings unchanged.

    Markup stays Markup (the replacement holds no HTML-special character), so
    it can run on everything a template prints, escaped or not.
    """
    if not isinstance(value, str) or _ANY_CONTROL.search(value) is None:
        return value
    shown = str.translate(value, _VISIBLE)
    return Markup(shown) if isinstance(value, Markup) else shown


def init_jinja(app: Any) -> None:
    """Register the ``bidi_safe`` filter and neutralise every printed expression of ``app``'s templates."""
    app.jinja_env.filters["bidi_safe"] = neutralise_bidi
    previous = app.jinja_env.finalize

    def finalize(value: Any) -> Any:
        return neutralise_bidi(previous(value) if previous is not None else value)

    app.jinja_env.finalize = finalize
