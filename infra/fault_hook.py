"""A test hook for the fault tests: ``MICROCRED_FAULT_AT=<point>[:INT]``.

The issuer's long operations (``issuer issue``, ``issuer revoke``, anchoring),
the ledger's commands and the ``microcred`` group call :func:`fault_point` at
named moments — between the steps whose order makes them crash-safe. When
the environment variable names that point, the process sends itself SIGKILL
(or SIGINT with ``:INT``, as Ctrl-C would) right there, so a test can crash it
at an exact step instead of guessing at timing.
Nothing but the test suite sets the variable; unset, the hook does nothing.

Points: ``batch-checked`` (rows validated, nothing saved), ``batch-saved``
(the batch and its credentials archived, nothing signed), ``batch-chunk-written``
(a chunk's files written, their hashes not yet recorded), ``batch-signed``
(every file written and recorded, the folder not yet published),
``batch-delivered`` (folder published, the batch not yet marked delivered),
``status-saving`` (a status change made in the archive's transaction, not
committed), ``status-saved`` (a status change committed, not anchored), ``anchoring``
(about to send an anchoring transaction), ``anchor-sent`` (the transaction
mined, the archive not yet told), ``issuance-sealed`` (a batch's Merkle tree
archived, its root not anchored), ``issuance-anchoring`` (about to send the
root's transaction), ``issuance-anchor-sent`` (mined, the archive not told),
``key-rotating`` (``issuer rotate-key``: the next key written, the rotation not
sent), ``key-rotated`` (the rotation mined, the issuer's files not updated),
``key-replaced`` (the new key and kid in place, the status lists not signed
again), ``issuer-keys-written`` (``issuer init``: the key files written, the
identity not), ``command-loading`` (``microcred``: a command's module about to
be imported, nothing done), ``did-registered`` (``did create``: the
registration mined, nothing printed).

It lives in ``infra`` (``issuer.fault_hook`` names it for the issuer) so that
``ledger`` and ``microcred`` call the same hook without importing ``issuer``.
"""

from __future__ import annotations

import os
import signal

__all__ = ["ENV_FAULT_AT", "POINTS", "fault_point"]

ENV_FAULT_AT = "MICROCRED_FAULT_AT"
POINTS = (
    "batch-checked", "batch-saved", "batch-chunk-written", "batch-signed", "batch-delivered",
    "status-saving", "status-saved", "anchoring", "anchor-sent", "issuance-sealed", "issuance-anchoring",
    "issuance-anchor-sent", "key-rotating", "key-rotated", "key-replaced",
    "issuer-keys-written", "command-loading", "did-registered",
)


def fault_point(name: str) -> None:
    """SIGKILL (or SIGINT) this process if ``MICROCRED_FAULT_AT`` names ``name``."""
    wanted = os.environ.get(ENV_FAULT_AT)
    if not wanted:
        return
    point, _, how = wanted.partition(":")
    if point == name:
        os.kill(os.getpid(), signal.SIGINT if how.upper() == "INT" else signal.SIGKILL)
