"""Chain access: the local Anvil devnet, deployment, and typed clients for the TrustRegistry and StatusRegistry.

Modules: :mod:`ledger.config` (environment), :mod:`ledger.devnet` (Anvil),
:mod:`ledger.compile` (solc → ``contracts/artifacts``), :mod:`ledger.artifacts`
(ABIs, enums, revert decoding), :mod:`ledger.chain` (one node connection),
:mod:`ledger.keys` (controller key files), :mod:`ledger.deployment`
(``deployment.json``, :func:`~ledger.deployment.open_ledger`),
:mod:`ledger.trust` and :mod:`ledger.status` (the typed clients),
:mod:`ledger.cli` (``microcred devnet|deploy|accredit``), :mod:`ledger.errors`.
"""

import contextlib as _contextlib
import sys as _sys

# eth_account (which web3 and this package's clients import) imports py_ecc, whose first import raises the
# interpreter's recursion limit to 100,000. That limit is what stops C code that recurses on its input (the JSON
# parser of a request body, ``re``) before a thread's stack ends: at 100,000 a JSON body nested 90,000 deep
# (180 KB) overflowed a server thread's 2 MiB stack and killed the worker. py_ecc is imported here, first, and
# the limit put back; its later imports find it loaded and change nothing (this package needs no deep recursion).
_RECURSION_LIMIT = _sys.getrecursionlimit()
with _contextlib.suppress(ImportError):  # a later eth_account without py_ecc: nothing raises the limit
    import py_ecc as _py_ecc  # noqa: F401
_sys.setrecursionlimit(_RECURSION_LIMIT)
