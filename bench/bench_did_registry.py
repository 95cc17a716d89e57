"""Gas of the DidRegistry's transactions (did:mcr, issue 14): register, add a key, rotate, revoke, hand control over.

Starts its own Anvil, deploys the contracts, and for a P-256 and an Ed25519
issuer key measures ``register`` (the DID and its first key), ``addMethod``,
``rotate`` (the new key added and the old one ended in ONE transaction),
``revokeMethod`` and the two steps of a controller transfer. Then rotates one
DID up to its 64-key limit and compares the first and the last rotation.

Goals: a rotation costs the same whatever the DID's key history (the last
within 1 % of the first: the old key is found through an index, never by a
scan), and is one transaction. Exits 1 if a goal is missed. Gas is
deterministic, so no repetitions are needed; wall time is not measured.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account  # noqa: E402

from credentials.jose import PrivateKey  # noqa: E402
from ledger.chain import Chain  # noqa: E402
from ledger.deployment import attach, deploy  # noqa: E402
from ledger.devnet import ANVIL_DEV_KEYS, Devnet  # noqa: E402

MAX_METHODS = 64
GOAL_SPREAD = 0.01


def _row(label: str, gas: int) -> None:
    print(f"{label:<44} {gas:>10,}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as data_dir:
        devnet = Devnet(Path(data_dir))
        record = devnet.start(persist_state=False)
        try:
            chain = Chain(record.url)
            root = Account.from_key(ANVIL_DEV_KEYS[0])
            controller, successor = Account.from_key(ANVIL_DEV_KEYS[1]), Account.from_key(ANVIL_DEV_KEYS[2])
            ledger = attach(chain, deploy(chain, root), account=controller)
            dids = ledger.dids
            if dids is None:
                raise RuntimeError("the deployment has no DidRegistry")
            print(f"{'transaction':<44} {'gas':>10}")
            for alg, name in (("ES256", "P-256"), ("EdDSA", "Ed25519")):
                first = PrivateKey.generate(alg).public_key()
                created = dids.register(first)
                _row(f"register (DID + first {name} key)", created.transaction.gas_used)
                added = dids.add_method(created.did, PrivateKey.generate(alg).public_key())
                _row(f"addMethod ({name})", added.transaction.gas_used)
                rotated = dids.rotate(created.did, str(created.kid), PrivateKey.generate(alg).public_key())
                _row(f"rotate: add new + end old, one tx ({name})", rotated.transaction.gas_used)
                revoked = dids.revoke(created.did, str(rotated.kid))
                _row(f"revokeMethod ({name})", revoked.transaction.gas_used)
            proposed = dids.propose_controller(created.did, successor.address)
            _row("proposeController", proposed.gas_used)
            accepted = dids.accept_controller(created.did, account=successor)
            _row("acceptController", accepted.gas_used)

            history = dids.register(PrivateKey.generate().public_key())
            kid, rotations = str(history.kid), []
            for _ in range(MAX_METHODS - 1):
                change = dids.rotate(history.did, kid, PrivateKey.generate().public_key())
                rotations.append(change.transaction.gas_used)
                kid = str(change.kid)
        finally:
            devnet.stop()
    spread = abs(rotations[-1] - rotations[0]) / rotations[0]
    print(f"rotation 1 of {len(rotations)}: {rotations[0]:,} gas; rotation {len(rotations)} (key {MAX_METHODS} "
          f"of the DID): {rotations[-1]:,} gas; difference {spread:.2%} (goal <= {GOAL_SPREAD:.0%})")
    met = spread <= GOAL_SPREAD
    print("goals met" if met else "GOAL MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
