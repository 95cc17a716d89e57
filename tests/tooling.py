"""What a test does when a tool it needs (Anvil, solc, Chromium) is missing.

``make test`` installs every tool, so a missing one means the set-up broke: the
test fails, saying so, rather than skipping quietly and letting CI pass with
parts untested. Set ``MICROCRED_SKIP_MISSING_TOOLS=1`` to skip instead, e.g.
when running a part of the suite on a machine without a browser.
"""

import os

import pytest

__all__ = ["missing_tool"]


def missing_tool(message: str) -> None:
    """Fail (or, when allowed, skip) because a required tool is not installed."""
    if os.environ.get("MICROCRED_SKIP_MISSING_TOOLS") == "1":
        pytest.skip(message)
    pytest.fail(f"{message} — `make test` installs it; set MICROCRED_SKIP_MISSING_TOOLS=1 to skip instead",
                pytrace=False)
