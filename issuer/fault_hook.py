"""The issuer's name for the fault tests' hook, :mod:`infra.fault_hook` (``MICROCRED_FAULT_AT=<point>[:INT]``).

The hook lives in ``infra`` so that the ledger's commands (``ledger`` may not import ``issuer``) and the
``microcred`` group call the same one; its docstring lists every point.
"""

from __future__ import annotations

from infra.fault_hook import ENV_FAULT_AT, POINTS, fault_point

__all__ = ["ENV_FAULT_AT", "POINTS", "fault_point"]
