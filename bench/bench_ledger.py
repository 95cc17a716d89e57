"""Gas of revoking k credentials: one status-list anchor versus a naive per-credential registry.

Starts its own Anvil (block gas limit raised so the naive run fits in few
blocks), deploys the TrustRegistry, StatusRegistry and the baseline
``contracts/bench/NaiveRevocationRegistry.sol`` in the same run, accredits one
issuer, then for k = 1, 100, 1,000 and 10,000 changed credentials in a
131,072-entry, 1-bit IETF Token Status List (indices at random):

* ``anchor``        one ``StatusRegistry.anchor`` of the new list's SHA-256;
* ``anchor+list``   one ``anchorWithList`` that also carries the zlib list;
* ``naive``         k ``NaiveRevocationRegistry.revoke`` transactions (all sent,
                    all mined; gas summed from the blocks).

Prints gas for each and the ratio naive / anchor. Goals (from issue 3): the
anchor's gas does not depend on k, and at k = 1,000 it is at least 500 times
cheaper than the naive registry. Exits 1 if a goal is missed. Gas is
deterministic, so no repetitions are needed; wall time is not measured.
"""

from __future__ import annotations

import hashlib
import random
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gas import RawRpc, gas_devnet, mined_gas, signed_copies  # noqa: E402
from eth_account import Account  # noqa: E402

from ledger.artifacts import NAIVE_REVOCATION_REGISTRY, Role, load_artifact  # noqa: E402
from ledger.chain import Chain  # noqa: E402
from ledger.devnet import ANVIL_DEV_KEYS  # noqa: E402

LIST_SIZE = 131_072
KS = (1, 100, 1_000, 10_000)
GOAL_K = 1_000
GOAL_RATIO = 500
VCT = "urn:microcred:vct:micro-credential:1"
ISSUER_DID = "did:web:bench-university.example"
LIST_ID = "https://bench-university.example/status/1"


def compressed_status_list(revoked: set[int]) -> bytes:
    bits = bytearray(LIST_SIZE // 8)
    for index in revoked:
        bits[index // 8] |= 1 << (index % 8)  # draft-ietf-oauth-status-list: LSB first within a byte
    return zlib.compress(bytes(bits), 9)


def naive_gas(chain: Chain, rpc: RawRpc, k: int, salt: int) -> int:
    """Deploy a naive registry, send k revocations (one transaction each), return their total gas."""
    naive_issuer = Account.from_key(ANVIL_DEV_KEYS[3])
    artifact = load_artifact(NAIVE_REVOCATION_REGISTRY)
    registry = chain.transact(chain.contract(artifact).constructor(), naive_issuer, action="deploy the naive registry")
    contract = chain.contract(artifact, registry.contract_address)
    raw = signed_copies(chain, naive_issuer, contract.functions.revoke(b"\0" * 32), k, lambda template, i: (
        template[:10] + hashlib.sha256(f"credential-{salt}-{i}".encode()).hexdigest()))
    return mined_gas(chain, rpc, raw, "naive revocations")


def main() -> int:
    rng = random.Random(20240616)
    with gas_devnet() as (chain, rpc, root, issuer, ledger):
        now = chain.block_timestamp()
        ledger.trust.accredit(ledger.deployment.root_did, ISSUER_DID, role=Role.ISSUER, vcts=[VCT],
                              legal_name="Bench University", country="IT", valid_from=now - 1,
                              valid_until=None, controller=issuer.address)
        first = ledger.status.anchor(ISSUER_DID, LIST_ID, hashlib.sha256(b"empty").digest(), 1, account=issuer)
        print(f"first anchor of a new list (new storage slots): {first.gas_used:,} gas")
        print(f"{'k changed':>10} {'anchor':>10} {'anchor+list':>12} {'list bytes':>11} "
              f"{'naive (k tx)':>14} {'naive/anchor':>13} {'naive/anchor+list':>18}")
        version, results = 1, {}
        for k in KS:
            revoked = set(rng.sample(range(LIST_SIZE), k))
            compressed = compressed_status_list(revoked)
            # each anchor is of a new token (new iat, new signature): a new digest every time
            version += 1
            digest = hashlib.sha256(version.to_bytes(8, "big") + compressed).digest()
            anchor_gas = ledger.status.anchor(ISSUER_DID, LIST_ID, digest, version, account=issuer).gas_used
            version += 1
            digest = hashlib.sha256(version.to_bytes(8, "big") + compressed).digest()
            with_list_gas = ledger.status.anchor(ISSUER_DID, LIST_ID, digest, version, compressed,
                                                 account=issuer).gas_used
            naive = naive_gas(chain, rpc, k, salt=k)
            results[k] = (anchor_gas, with_list_gas, naive)
            print(f"{k:>10,} {anchor_gas:>10,} {with_list_gas:>12,} {len(compressed):>11,} "
                  f"{naive:>14,} {naive / anchor_gas:>13,.1f} {naive / with_list_gas:>18,.1f}")
    anchors = [r[0] for r in results.values()]
    independent = max(anchors) == min(anchors)
    goal_ratio = results[GOAL_K][2] / results[GOAL_K][0]
    print(f"anchor gas independent of k: {'yes' if independent else 'no'} "
          f"(min {min(anchors):,}, max {max(anchors):,})")
    print(f"at k = {GOAL_K:,}: naive / anchor = {goal_ratio:,.0f} (goal >= {GOAL_RATIO})")
    met = independent and goal_ratio >= GOAL_RATIO
    print("goals met" if met else "GOAL MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
