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
import http.client
import json
import random
import sys
import tempfile
import zlib
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account  # noqa: E402

from ledger.artifacts import NAIVE_REVOCATION_REGISTRY, Role, load_artifact  # noqa: E402
from ledger.chain import Chain  # noqa: E402
from ledger.deployment import attach, deploy  # noqa: E402
from ledger.devnet import ANVIL_DEV_KEYS, Devnet  # noqa: E402

LIST_SIZE = 131_072
KS = (1, 100, 1_000, 10_000)
GOAL_K = 1_000
GOAL_RATIO = 500
VCT = "urn:microcred:vct:micro-credential:1"
ISSUER_DID = "did:web:bench-university.example"
LIST_ID = "https://bench-university.example/status/1"
BATCH = 500
GAS_LIMIT = 2_000_000_000


def compressed_status_list(revoked: set[int]) -> bytes:
    bits = bytearray(LIST_SIZE // 8)
    for index in revoked:
        bits[index // 8] |= 1 << (index % 8)  # draft-ietf-oauth-status-list: LSB first within a byte
    return zlib.compress(bytes(bits), 9)


class RawRpc:
    """Batched JSON-RPC on one persistent connection, for sending thousands of transactions."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)

    def batch(self, calls: list[tuple[str, list]]) -> list:
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
        self.connection.request("POST", "/", body, {"Content-Type": "application/json"})
        answers = sorted(json.loads(self.connection.getresponse().read()), key=lambda a: a["id"])
        errors = [a["error"] for a in answers if "error" in a]
        if errors:
            raise RuntimeError(f"JSON-RPC errors: {errors[:3]}")
        return [a["result"] for a in answers]

    def call(self, method: str, params: list | None = None):
        return self.batch([(method, params or [])])[0]


def naive_gas(chain: Chain, rpc: RawRpc, k: int, salt: int) -> int:
    """Deploy a naive registry, send k revocations (one transaction each), return their total gas."""
    naive_issuer = Account.from_key(ANVIL_DEV_KEYS[3])
    artifact = load_artifact(NAIVE_REVOCATION_REGISTRY)
    registry = chain.transact(chain.contract(artifact).constructor(), naive_issuer, action="deploy the naive registry")
    contract = chain.contract(artifact, registry.contract_address)
    nonce = chain.w3.eth.get_transaction_count(naive_issuer.address, "pending")
    chain_id = chain.chain_id()
    gas_price = int(chain.w3.eth.gas_price) * 4 + 1
    template = contract.functions.revoke(b"\0" * 32).build_transaction(
        {"from": naive_issuer.address, "nonce": nonce, "chainId": chain_id, "gas": 100_000,
         "maxFeePerGas": gas_price, "maxPriorityFeePerGas": 1})
    selector = template["data"][:10]
    raw = []
    for i in range(k):
        credential_id = hashlib.sha256(f"credential-{salt}-{i}".encode()).hexdigest()
        transaction = dict(template, nonce=nonce + i, data=selector + credential_id)
        raw.append("0x" + bytes(naive_issuer.sign_transaction(transaction).raw_transaction).hex())
    start_block = chain.block_number()
    rpc.call("evm_setAutomine", [False])
    try:
        for first in range(0, k, BATCH):
            rpc.batch([("eth_sendRawTransaction", [tx]) for tx in raw[first:first + BATCH]])
        while int(rpc.call("txpool_status")["pending"], 16) > 0:
            rpc.call("evm_mine")
    finally:
        rpc.call("evm_setAutomine", [True])
    end_block = chain.block_number()
    blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(start_block + 1, end_block + 1)])
    mined = sum(len(b["transactions"]) for b in blocks)
    if mined != k:
        raise RuntimeError(f"expected {k} naive revocations mined, found {mined}")
    receipts = rpc.batch([("eth_getTransactionReceipt", [h]) for b in blocks for h in b["transactions"][:1]])
    if any(r["status"] != "0x1" for r in receipts):
        raise RuntimeError("a naive revocation reverted")
    return sum(int(b["gasUsed"], 16) for b in blocks)


def main() -> int:
    rng = random.Random(20240616)
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as data_dir:
        devnet = Devnet(Path(data_dir))
        record = devnet.start(persist_state=False, extra_args=["--gas-limit", str(GAS_LIMIT)])
        try:
            chain = Chain(record.url)
            rpc = RawRpc(record.url)
            root = Account.from_key(ANVIL_DEV_KEYS[0])
            issuer = Account.from_key(ANVIL_DEV_KEYS[2])
            ledger = attach(chain, deploy(chain, root), account=root)
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
        finally:
            devnet.stop()
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
