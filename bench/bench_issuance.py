"""Gas of anchoring issuance: one Merkle batch root versus one anchor per credential (issue 14 §1).

Starts its own Anvil (block gas limit raised so 10,000 single anchors fit in
few blocks), deploys the registries, and for batches of n = 1, 100 and 10,000
credentials (random stand-ins for the SHA-256 of issuer-signed JWTs):

* ``batch``         one ``IssuanceRegistry.anchorBatch(root, n)`` of the batch's
                    RFC 9162 Merkle root (:mod:`credentials.merkle`);
* ``per credential`` n ``anchorBatch(leaf, 1)`` transactions, one per
                    credential (all sent, all mined; gas summed from the blocks).

Prints the gas of each, the gas per credential, and the ratio per-credential /
batch. Goals: the batch's gas does not depend on n (up to the size's calldata
bytes: 12 gas per non-zero byte), and at n = 10,000 one credential costs
under 10 gas in a batch. Exits 1 if a goal is missed. Gas is deterministic,
so no repetitions are needed; wall time is not measured.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gas import RawRpc, gas_devnet, mined_gas, signed_copies  # noqa: E402

from credentials.merkle import MerkleTree, leaf_hash  # noqa: E402
from ledger.chain import Chain  # noqa: E402

NS = (1, 100, 10_000)
GOAL_N = 10_000
GOAL_GAS_PER_CREDENTIAL = 10
#: The size's calldata: at most 8 bytes that can go from zero to non-zero, 12 gas each.
SIZE_CALLDATA_SLACK = 8 * 12


def leaves(n: int, salt: str) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(f"{salt}-credential-{i}".encode()).digest()) for i in range(n)]


def per_credential_gas(chain: Chain, rpc: RawRpc, registry, account, batch_leaves: list[bytes]) -> int:
    """One ``anchorBatch(leaf, 1)`` per credential (a tree of one: its root is its leaf); their total gas."""
    raw = signed_copies(chain, account, registry.functions.anchorBatch(b"\1" * 32, 1), len(batch_leaves),
                        lambda template, i: template[:10] + batch_leaves[i].hex() + template[74:])
    return mined_gas(chain, rpc, raw, "single anchors")


def main() -> int:
    with gas_devnet() as (chain, rpc, root, issuer, ledger):
        print(f"{'credentials':>11} {'batch':>8} {'gas/cred.':>10} {'per credential (n tx)':>22} "
              f"{'gas/cred.':>10} {'ratio':>9}")
        results = {}
        for n in NS:
            batch_leaves = leaves(n, f"batch-{n}")
            tree = MerkleTree(batch_leaves)
            batch_gas = ledger.issuance.anchor_batch(tree.root, n, account=issuer).gas_used
            single = per_credential_gas(chain, rpc, ledger.issuance.contract, issuer, leaves(n, f"single-{n}"))
            results[n] = (batch_gas, single)
            print(f"{n:>11,} {batch_gas:>8,} {batch_gas / n:>10,.2f} {single:>22,} {single / n:>10,.0f} "
                  f"{single / batch_gas:>9,.1f}")
    batches = [gas for gas, _ in results.values()]
    independent = max(batches) - min(batches) <= SIZE_CALLDATA_SLACK
    per_credential = results[GOAL_N][0] / GOAL_N
    print(f"batch gas independent of its size: {'yes' if independent else 'no'} "
          f"(min {min(batches):,}, max {max(batches):,}; the size's calldata bytes differ)")
    print(f"at n = {GOAL_N:,}: {per_credential:.2f} gas per credential in a batch (goal < {GOAL_GAS_PER_CREDENTIAL}), "
          f"one anchor per credential costs {results[GOAL_N][1] / results[GOAL_N][0]:,.0f} times more")
    met = independent and per_credential < GOAL_GAS_PER_CREDENTIAL
    print("goals met" if met else "GOAL MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
