"""Decoding raw ``eth_getLogs`` entries with a contract's event ABI (Solidity ABI spec, "Events").

A log's ``topics[0]`` is keccak256 of the event signature; indexed arguments
follow in ``topics[1:]`` (value types as 32-byte words; dynamic types only as
their hash), the others are ABI-encoded together in ``data``. Used by the
clients so that one raw request fetches every change of a registry since a
block, instead of one web3.py filter per event type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from ledger.artifacts import abi_types

__all__ = ["ContractClient", "DecodedLog", "EventDecoder"]


@dataclass(frozen=True)
class DecodedLog:
    """One event, its arguments by name, and where it happened."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    transaction_hash: str


def _to_python(value: Any, param: Mapping[str, Any]) -> Any:
    kind = param["type"]
    if kind == "address":
        return to_checksum_address(value)
    if kind == "tuple":
        return {c["name"]: _to_python(v, c) for v, c in zip(value, param["components"], strict=True)}
    if kind.endswith("[]"):
        element = dict(param, type=kind[:-2])
        return [_to_python(v, element) for v in value]
    return value


class EventDecoder:
    """Decodes the events of one ABI; ``topic(name)`` gives an event's topic 0."""

    def __init__(self, abi: Sequence[Mapping[str, Any]]):
        self._events: dict[bytes, Mapping[str, Any]] = {}
        self._topics: dict[str, bytes] = {}
        for item in abi:
            if item.get("type") != "event":
                continue
            signature = f"{item['name']}({','.join(abi_types(item['inputs']))})"
            topic = keccak(text=signature)
            self._events[topic] = item
            self._topics[item["name"]] = topic

    def topic(self, name: str) -> bytes:
        return self._topics[name]

    def decode(self, log: Mapping[str, Any]) -> DecodedLog | None:
        """The decoded event, or None for a log this ABI does not describe."""
        topics = [bytes.fromhex(t[2:]) for t in log.get("topics", [])]
        event = self._events.get(topics[0]) if topics else None
        if event is None:
            return None
        indexed = [p for p in event["inputs"] if p.get("indexed")]
        plain = [p for p in event["inputs"] if not p.get("indexed")]
        args: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=True):
            if param["type"] in ("string", "bytes") or param["type"].endswith("]") or param["type"] == "tuple":
                args[param["name"]] = topic  # only the hash is in the topic
            else:
                (args[param["name"]],) = abi_decode([param["type"]], topic)
        values = abi_decode(abi_types(plain), bytes.fromhex(log["data"][2:]))
        args.update({p["name"]: v for p, v in zip(plain, values, strict=True)})
        args = {name: _to_python(value, next(p for p in event["inputs"] if p["name"] == name))
                for name, value in args.items()}
        return DecodedLog(
            name=event["name"], args=args, block_number=int(log["blockNumber"], 16),
            log_index=int(log["logIndex"], 16), transaction_hash=log["transactionHash"],
        )


class ContractClient:
    """What every registry client holds: the chain, the deployed contract, the
    default signing account, and a decoder for the contract's events."""

    def __init__(self, chain: Any, contract: Any, *, account: Any = None):
        self.chain = chain
        self.contract = contract
        self.account = account
        self._decoder = EventDecoder(contract.abi)

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def event_topic(self, name: str) -> bytes:
        """``topics[0]`` of the contract's event ``name`` (for ``eth_getLogs`` filters)."""
        return self._decoder.topic(name)

    def decode_log(self, log: Mapping[str, Any]) -> DecodedLog | None:
        """One raw log of this contract decoded, or None when its ABI does not describe it."""
        return self._decoder.decode(log)
