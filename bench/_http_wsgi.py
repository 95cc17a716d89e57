"""The WSGI entry point uWSGI loads for bench/_http_serve.py (``--wsgi-file``): one app per worker (``--lazy-apps``)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _http_serve import factory  # noqa: E402

application = factory(os.environ.get("MICROCRED_BENCH_SERVICE", "verifier"))()
