"""One connection to an Ethereum JSON-RPC node (web3.py 7/8 over HTTP).

:class:`Chain` wraps a ``Web3`` instance so that nothing above it sees a raw
``requests`` or web3 exception: an unreachable node becomes
:class:`~ledger.errors.LedgerUnavailable`, a revert becomes
:class:`~ledger.errors.TransactionReverted` with the custom error decoded
(:func:`ledger.artifacts.decode_revert`). Transactions are signed locally
(eth-account; install ``coincurve`` to make that ~15x faster), sent raw, and
waited for, plus ``confirmations`` further blocks (``MICROCRED_CONFIRMATIONS``,
0 on Anvil). Reads take a ``block``: a number, a tag, or a :class:`BlockRef`
that pins the read to one block *hash* (EIP-1898), so that a read never
silently answers from a block that replaced it in a reorganisation.

Reads on the verifier's path go through :class:`ledger._rpc.RawJsonRpc` and
honour :func:`deadline`: inside ``with deadline(5):`` no read of the thread
waits beyond the five seconds, however many it makes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    MismatchedABI,
    ProviderConnectionError,
    RequestTimedOut,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
    Web3TypeError,
    Web3ValidationError,
)
from web3.types import TxParams

from credentials.errors import InvalidInput
from ledger._rpc import RawJsonRpc, RpcErrorResponse, RpcTransportError, deadline, time_left
from ledger.artifacts import Artifact, abi_types, decode_revert
from ledger.errors import KeyFileError, LedgerError, LedgerUnavailable, TransactionReverted

__all__ = ["BlockId", "BlockRef", "BlockHeader", "TransactionResult", "Chain", "deadline", "time_left"]


@dataclass(frozen=True)
class BlockRef:
    """One block by number *and* hash: a read at it fails rather than answer from another fork."""

    number: int
    hash: str


@dataclass(frozen=True)
class BlockHeader:
    """What a reorganisation check needs of a block."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @property
    def ref(self) -> BlockRef:
        return BlockRef(self.number, self.hash)


#: A block number, one of the JSON-RPC tags ("latest", "safe", "finalized", …), or a pinned block.
BlockId = int | str | BlockRef

_REQUEST_TIMEOUT_S = 10.0
_RECEIPT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class TransactionResult:
    """A mined, successful transaction."""

    transaction_hash: str
    block_number: int
    gas_used: int
    logs: tuple[Any, ...]
    contract_address: str | None = None


def _block_param(block: BlockId) -> Any:
    if isinstance(block, BlockRef):  # EIP-1898: the node refuses if that block is not on its canonical chain
        return {"blockHash": block.hash, "requireCanonical": True}
    return hex(block) if isinstance(block, int) else block


def signer_of(account: LocalAccount | None, default: LocalAccount | None, *,
              expected: str = "an account to sign with") -> LocalAccount:
    """The account that signs: the one passed, else the client's own; KeyFileError if there is neither."""
    signer = account or default
    if signer is None:
        raise KeyFileError(f"expected {expected} (pass account= or give the client one)")
    return signer


class Chain:
    """A node at ``rpc_url``; every RPC goes through :meth:`guard`."""

    def __init__(self, rpc_url: str, *, confirmations: int = 0, timeout: float = _REQUEST_TIMEOUT_S):
        self.rpc_url = rpc_url
        self.confirmations = confirmations
        provider = HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.w3 = Web3(provider)
        self._rpc = RawJsonRpc(rpc_url, timeout=timeout)
        self._chain_id: int | None = None
        self._functions: dict[tuple[str, str], tuple[bytes, list[str], list[str]]] = {}

    # ------------------------------------------------------------ plumbing

    @contextmanager
    def guard(self, action: str) -> Iterator[None]:
        """Translate transport and revert exceptions raised inside into ledger errors."""
        try:
            yield
        except LedgerError:
            raise
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(getattr(exc, "data", None), action=action) from None
        except (requests.RequestException, ProviderConnectionError, RequestTimedOut, OSError) as exc:
            raise LedgerUnavailable(
                f"the Ethereum node at {self.rpc_url} did not answer while trying to {action} "
                f"({type(exc).__name__}); is it running? (`microcred devnet status`)"
            ) from None
        except TimeExhausted as exc:
            raise LedgerUnavailable(f"no receipt from {self.rpc_url} while trying to {action}: {exc}") from None
        except (Web3ValidationError, Web3TypeError, MismatchedABI) as exc:
            raise InvalidInput(f"cannot {action}: the arguments do not fit the contract ({str(exc)[:300]})") from None
        except Web3RPCError as exc:
            message = exc.rpc_response.get("error", {}).get("message") if exc.rpc_response else str(exc)
            raise LedgerError(f"the node at {self.rpc_url} refused to {action}: {message}") from None

    def contract(self, artifact: Artifact, address: str | None = None):
        """A web3 contract object for ``artifact`` (at ``address`` if given)."""
        if address is None:
            return self.w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=list(artifact.abi))

    # ---------------------------------------------------------------- reads

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._raw("eth_chainId", [], "read the chain id"), 16)
        return self._chain_id

    def _raw(self, method: str, params: list, action: str) -> Any:
        """One request on the lean read path, errors translated like :meth:`guard` does."""
        try:
            return self._rpc.request(method, params)
        except RpcTransportError as exc:
            raise LedgerUnavailable(
                f"the Ethereum node at {self.rpc_url} did not answer while trying to {action} ({exc}); "
                "is it running? (`microcred devnet status`)"
            ) from None
        except RpcErrorResponse as exc:
            if isinstance(exc.data, str) and exc.data.startswith("0x"):
                raise decode_revert(exc.data, action=action) from None
            raise LedgerError(f"the node at {self.rpc_url} refused to {action}: {exc.message}") from None

    def block_number(self) -> int:
        """The latest block number: the cheap thing to poll for cache invalidation."""
        return int(self._raw("eth_blockNumber", [], "read the latest block number"), 16)

    def block_header(self, block: BlockId = "latest") -> BlockHeader | None:
        """Number, hash, parent hash and time of ``block``; None if the node has no such block."""
        if isinstance(block, BlockRef):
            found = self._raw("eth_getBlockByHash", [block.hash, False], f"read block {block.number}")
        else:
            found = self._raw("eth_getBlockByNumber", [_block_param(block), False], f"read block {block}")
        if not found:
            return None
        try:
            return BlockHeader(int(found["number"], 16), str(found["hash"]), str(found["parentHash"]),
                               int(found["timestamp"], 16))
        except (KeyError, TypeError, ValueError):
            raise LedgerError(
                f"the node at {self.rpc_url} answered block {block} without number, hash and time") from None

    def block_timestamp(self, block: BlockId = "latest") -> int:
        header = self.block_header(block)
        if header is None:
            where = block.number if isinstance(block, BlockRef) else block
            raise LedgerError(f"block {where} does not exist on {self.rpc_url}")
        return header.timestamp

    def code_at(self, address: str, block: BlockId = "latest") -> bytes:
        found = self._raw("eth_getCode", [Web3.to_checksum_address(address), _block_param(block)],
                          f"read the code at {address}")
        if not isinstance(found, str) or not found.startswith("0x"):
            raise LedgerError(f"the node at {self.rpc_url} answered the code at {address} with {str(found)[:40]!r}")
        return bytes.fromhex(found[2:])

    def balance(self, address: str) -> int:
        with self.guard(f"read the balance of {address}"):
            return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    def get_logs(self, address: str, *, from_block: BlockId, to_block: BlockId,
                 topics: list[bytes | None] | None = None, action: str = "read events") -> list[dict[str, Any]]:
        """Raw ``eth_getLogs`` of one contract (decode with :class:`ledger._events.EventDecoder`)."""
        if isinstance(from_block, BlockRef):
            from_block = from_block.number
        if isinstance(to_block, BlockRef):
            to_block = to_block.number
        log_filter: dict[str, Any] = {"address": address, "fromBlock": _block_param(from_block),
                                      "toBlock": _block_param(to_block)}
        if topics:
            log_filter["topics"] = [None if t is None else "0x" + t.hex() for t in topics]
        return list(self._raw("eth_getLogs", [log_filter], action) or [])

    def call(self, contract, function_name: str, *args: Any, block: BlockId = "latest",
             action: str = "read the contract") -> tuple[Any, ...]:
        """``eth_call`` of ``function_name(*args)`` at ``block``; the decoded outputs as a tuple.

        Encodes and decodes with eth-abi and sends one raw request: ≈ 10x
        cheaper than a web3.py contract call (see :mod:`ledger._rpc`).
        """
        selector, input_types, output_types = self._function_abi(contract, function_name)
        try:
            data = selector + abi_encode(input_types, args)
        except (EncodingError, TypeError, ValueError) as exc:
            raise InvalidInput(f"cannot {action}: the arguments do not fit the contract ({exc})") from None
        result = self._raw("eth_call", [{"to": contract.address, "data": "0x" + data.hex()}, _block_param(block)],
                           action)
        payload = bytes.fromhex(result[2:]) if isinstance(result, str) and result.startswith("0x") else b""
        if not payload and output_types:
            raise LedgerError(f"no contract answered at {contract.address} on {self.rpc_url} while trying to {action}")
        try:
            return tuple(abi_decode(output_types, payload))
        except DecodingError as exc:
            raise LedgerError(f"the answer to {function_name} from {contract.address} does not decode: {exc}") from None

    def _function_abi(self, contract, function_name: str) -> tuple[bytes, list[str], list[str]]:
        key = (str(contract.address), function_name)
        if key not in self._functions:
            matches = [item for item in contract.abi
                       if item.get("type") == "function" and item["name"] == function_name]
            if len(matches) != 1:
                raise LedgerError(f"expected one function {function_name} in the ABI, found {len(matches)}")
            input_types = abi_types(matches[0]["inputs"])
            selector = keccak(text=f"{function_name}({','.join(input_types)})")[:4]
            self._functions[key] = (selector, input_types, abi_types(matches[0]["outputs"]))
        return self._functions[key]

    # --------------------------------------------------------- transactions

    def transact(self, function, account: LocalAccount, *, action: str = "send the transaction",
                 value: int = 0) -> TransactionResult:
        """Sign ``function`` (a bound contract function or constructor) with ``account``, send, wait."""
        with self.guard(action):
            params = {
                "from": account.address,
                "value": value,
                "chainId": self.chain_id(),
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            }
            transaction = function.build_transaction(params)  # estimates gas: reverts surface here
            return self._send(transaction, account, action)

    def send(self, contract, function_name: str, *args: Any, account: LocalAccount, action: str) -> TransactionResult:
        """Call ``function_name(*args)`` of ``contract`` in a transaction signed by ``account``."""
        with self.guard(action):  # arguments that do not fit the ABI fail here
            function = getattr(contract.functions, function_name)(*args)
        return self.transact(function, account, action=action)

    def transfer(self, account: LocalAccount, to: str, value_wei: int) -> TransactionResult:
        """Send ``value_wei`` from ``account`` to ``to`` (funding a controller on a devnet)."""
        action = f"fund {to}"
        with self.guard(action):
            transaction = {
                "from": account.address,
                "to": Web3.to_checksum_address(to),
                "value": value_wei,
                "chainId": self.chain_id(),
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                "gas": 21_000,
            }
            priority = int(self.w3.eth.max_priority_fee)
            base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
            transaction |= {"maxFeePerGas": 2 * base_fee + priority, "maxPriorityFeePerGas": priority}
            return self._send(transaction, account, action)

    def _send(self, transaction: dict, account: LocalAccount, action: str) -> TransactionResult:
        signed = account.sign_transaction(transaction)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self._wait_for_receipt(tx_hash)
        if receipt["status"] != 1:
            raise self._explain_failure(transaction, receipt, action)
        self._wait_for_confirmations(int(receipt["blockNumber"]))
        contract_address = receipt.get("contractAddress")
        return TransactionResult(
            transaction_hash="0x" + bytes(tx_hash).hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            logs=tuple(receipt["logs"]),
            contract_address=str(contract_address) if contract_address else None,
        )

    def _wait_for_receipt(self, tx_hash) -> Any:
        # Anvil automines, but the receipt may lag the send by a moment; poll fast
        # and back off rather than web3's fixed 0.1 s.
        deadline = time.monotonic() + _RECEIPT_TIMEOUT_S
        delay = 0.001
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                delay = min(delay * 2, 0.5)  # not mined yet
            if time.monotonic() > deadline:
                raise TimeExhausted(f"transaction {bytes(tx_hash).hex()} not mined after {_RECEIPT_TIMEOUT_S:.0f} s")
            time.sleep(delay)

    def _wait_for_confirmations(self, block_number: int) -> None:
        if self.confirmations <= 0:
            return
        target = block_number + self.confirmations
        delay = 0.05
        deadline = time.monotonic() + _RECEIPT_TIMEOUT_S * max(1, self.confirmations)
        while int(self.w3.eth.block_number) < target:
            if time.monotonic() > deadline:
                raise TimeExhausted(f"block {target} not reached for {self.confirmations} confirmations")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _explain_failure(self, transaction: dict, receipt, action: str) -> TransactionReverted:
        """Replay a mined but failed transaction as a call to learn its custom error."""
        replay = cast(TxParams, {k: transaction[k] for k in ("from", "to", "data", "value") if k in transaction})
        try:
            self.w3.eth.call(replay, block_identifier=int(receipt["blockNumber"]) - 1)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            return decode_revert(getattr(exc, "data", None), action=action)
        return TransactionReverted(f"{action} failed in block {receipt['blockNumber']} (status 0, no reason)")
