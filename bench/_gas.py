"""Gas of many transactions at once, for the gas benches (bench_ledger.py, bench_issuance.py).

Thousands of pre-signed transactions (EIP-1559, consecutive nonces) are sent in
batched JSON-RPC calls with Anvil's automine off, then mined; their gas is summed
from the blocks, after checking that every one was mined and none reverted.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _loopback import loopback_fetcher
from eth_account import Account

from ledger.chain import Chain
from ledger.deployment import attach, deploy
from ledger.devnet import ANVIL_DEV_KEYS, Devnet

#: Transactions (or receipts) per JSON-RPC batch.
BATCH = 500
#: Anvil's block gas limit, raised so thousands of transactions fit in few blocks.
GAS_LIMIT = 2_000_000_000


class RawRpc:
    """Batched JSON-RPC on one persistent connection, for sending thousands of transactions."""

    def __init__(self, url: str):
        # The bench's own Anvil on 127.0.0.1, through the strict fetcher (bench._loopback): never another host.
        self.url = url
        self.fetcher = loopback_fetcher(120.0, 256 * 1024 * 1024)
        self.fetcher.check_url(url, what="the bench's own node")

    def batch(self, calls: list[tuple[str, list]]) -> list:
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
        answer = self.fetcher.request("POST", self.url, {"Content-Type": "application/json"}, body.encode("utf-8"),
                                      what="the bench's own node")
        if answer.status != 200:
            raise RuntimeError(f"the node answered HTTP {answer.status}")
        answers = sorted(json.loads(answer.body), key=lambda a: a["id"])
        errors = [a["error"] for a in answers if "error" in a]
        if errors:
            raise RuntimeError(f"JSON-RPC errors: {errors[:3]}")
        return [a["result"] for a in answers]

    def call(self, method: str, params: list | None = None):
        return self.batch([(method, params or [])])[0]


def signed_copies(chain, account, function, n: int, calldata: Callable[[str, int], str]) -> list[str]:
    """``n`` transactions of ``account`` at consecutive nonces, shaped like ``function`` (a bound contract call).

    The i-th carries ``calldata(template, i)``, ``template`` being ``function``'s own calldata (hex):
    callers keep its selector and replace the arguments' words.
    """
    nonce = chain.w3.eth.get_transaction_count(account.address, "pending")
    gas_price = int(chain.w3.eth.gas_price) * 4 + 1
    template = function.build_transaction(
        {"from": account.address, "nonce": nonce, "chainId": chain.chain_id(), "gas": 100_000,
         "maxFeePerGas": gas_price, "maxPriorityFeePerGas": 1})
    return ["0x" + bytes(account.sign_transaction(
        dict(template, nonce=nonce + i, data=calldata(template["data"], i))).raw_transaction).hex() for i in range(n)]


def mined_gas(chain, rpc: RawRpc, raw: list[str], what: str) -> int:
    """Send the signed transactions ``raw``, mine them all, return their total gas (each must succeed)."""
    start_block = chain.block_number()
    rpc.call("evm_setAutomine", [False])
    try:
        for first in range(0, len(raw), BATCH):
            rpc.batch([("eth_sendRawTransaction", [tx]) for tx in raw[first:first + BATCH]])
        while int(rpc.call("txpool_status")["pending"], 16) > 0:
            rpc.call("evm_mine")
    finally:
        rpc.call("evm_setAutomine", [True])
    end_block = chain.block_number()
    blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(start_block + 1, end_block + 1)])
    hashes = [h for b in blocks for h in b["transactions"]]
    if len(hashes) != len(raw):
        raise RuntimeError(f"expected {len(raw)} {what} mined, found {len(hashes)}")
    receipts = [r for first in range(0, len(hashes), BATCH)
                for r in rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes[first:first + BATCH]])]
    if any(r["status"] != "0x1" for r in receipts):
        raise RuntimeError(f"one of the {what} reverted")
    return sum(int(b["gasUsed"], 16) for b in blocks)


@contextmanager
def gas_devnet() -> Iterator[tuple[Chain, RawRpc, Any, Any, Any]]:
    """A fresh Anvil (block gas limit :data:`GAS_LIMIT`) with the registries deployed; stopped after.

    Yields the chain, a :class:`RawRpc` to it, the root's and an issuer's dev accounts, and the ledger.
    """
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as data_dir:
        devnet = Devnet(Path(data_dir))
        record = devnet.start(persist_state=False, extra_args=["--gas-limit", str(GAS_LIMIT)])
        try:
            chain = Chain(record.url)
            root = Account.from_key(ANVIL_DEV_KEYS[0])
            issuer = Account.from_key(ANVIL_DEV_KEYS[2])
            yield chain, RawRpc(record.url), root, issuer, attach(chain, deploy(chain, root), account=root)
        finally:
            devnet.stop()
