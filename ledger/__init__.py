"""Chain access: the local Anvil devnet, deployment, and typed clients for the TrustRegistry and StatusRegistry.

Modules: :mod:`ledger.config` (environment), :mod:`ledger.devnet` (Anvil),
:mod:`ledger.compile` (solc → ``contracts/artifacts``), :mod:`ledger.artifacts`
(ABIs, enums, revert decoding), :mod:`ledger.chain` (one node connection),
:mod:`ledger.keys` (controller key files), :mod:`ledger.deployment`
(``deployment.json``, :func:`~ledger.deployment.open_ledger`),
:mod:`ledger.trust` and :mod:`ledger.status` (the typed clients),
:mod:`ledger.cli` (``microcred devnet|deploy|accredit``), :mod:`ledger.errors`.
"""
