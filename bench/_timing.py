"""The rate loop the benchmarks share: calls per second of an action over a time budget (one warm-up call first).

Machines are noisy (BASELINES.md): the scripts read ratios of figures measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``action`` over about ``seconds``, after one untimed call."""
    action()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed
