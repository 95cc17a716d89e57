"""The EVM node the integration tests run on, chosen by ``MICROCRED_TEST_NODE`` (issue 14, §6).

``anvil`` (the default): Foundry's Anvil, started through :class:`ledger.devnet.Devnet`,
the node the project ships. ``hardhat``: Hardhat Network (npm ``hardhat`` 2.29, its EDR
node, ``tests/hardhat/hardhat.config.cjs``), an independent node with its own JSON-RPC
server, mining, log filtering and state handling, run to show the ledger code relies on
standard Ethereum JSON-RPC only. Hardhat 3 is not used: it needs Node.js 22.13 or later
(Debian gives 20); Ganache 7.9 is not used: its newest rules are Shanghai, and the
contracts are compiled for Cancun (``ledger/compile.py``), so it stops at the first MCOPY
with "invalid opcode".

Both nodes take the same dev keys (the "test test … junk" mnemonic), chain id 31337, and
mine each transaction at once. What the tests need beyond standard JSON-RPC goes through
this module: :func:`mine` (``anvil_mine`` / ``hardhat_mine``), :class:`Fork` (a
reorganisation: ``anvil_reorg`` on Anvil; on Hardhat, which has no such call, a snapshot
taken where history forks, ``evm_revert`` to it and the replacing blocks mined: the same
heights get other blocks, which is what a reorganisation is to a reader).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from tests.tooling import missing_tool
from tests.waiting import poll

__all__ = ["ENV_TEST_NODE", "NODES", "Fork", "HardhatNode", "mine", "node_name", "running_node", "start_node"]

ENV_TEST_NODE = "MICROCRED_TEST_NODE"
NODES = ("anvil", "hardhat")

_ROOT = Path(__file__).resolve().parent.parent
_HARDHAT_CLI = _ROOT / "node_modules" / "hardhat" / "internal" / "cli" / "cli.js"
_HARDHAT_CONFIG = _ROOT / "tests" / "hardhat" / "hardhat.config.cjs"
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0


def node_name() -> str:
    """The node named by ``MICROCRED_TEST_NODE`` (``anvil`` when unset); another name stops the run."""
    name = os.environ.get(ENV_TEST_NODE, "").strip().lower() or "anvil"
    if name not in NODES:
        raise pytest.UsageError(f"{ENV_TEST_NODE} must be one of {', '.join(NODES)}, found {name!r}")
    return name


class HardhatNode:
    """Hardhat Network as a process: ``start()`` → a :class:`ledger.devnet.DevnetRecord`, ``stop()``.

    Run from the repository root (Hardhat refuses to run outside the project that installs
    it) with the config in ``tests/hardhat/``; its cache and log go to ``data_dir``.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._process: subprocess.Popen | None = None

    def start(self, *, persist_state: bool = False) -> Any:
        from ledger.devnet import DevnetRecord, free_port, rpc_request

        if persist_state:
            pytest.skip("Hardhat Network keeps no chain state across a restart (Anvil --state does)")
        if not _HARDHAT_CLI.is_file():
            missing_tool(f"Hardhat is not installed: expected {_HARDHAT_CLI.relative_to(_ROOT)} (npm ci)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = self.data_dir / "hardhat.log"
        env = dict(os.environ, MICROCRED_HARDHAT_WORK_DIR=str(self.data_dir / "hardhat"),
                   HARDHAT_DISABLE_TELEMETRY_PROMPT="true", DO_NOT_TRACK="1")
        with open(log_path, "ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 (fixed program and arguments)
                ["node", str(_HARDHAT_CLI), "--config", str(_HARDHAT_CONFIG), "node", "--hostname", "127.0.0.1",
                 "--port", str(port)], cwd=_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        process = self._process

        def answering() -> bool:
            if process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-800:]
                pytest.fail(f"Hardhat Network exited with {process.returncode} while starting on {url}: {tail}",
                            pytrace=False)
            try:
                rpc_request(url, "eth_chainId", timeout=1.0)
            except (OSError, ValueError):
                return False
            return True

        if not poll(answering, within=_START_TIMEOUT_S, step=0.1):
            self.stop()
            pytest.fail(f"Hardhat Network did not answer on {url} within {_START_TIMEOUT_S:.0f} s", pytrace=False)
        return DevnetRecord(pid=process.pid, host="127.0.0.1", port=port, url=url, binary=str(_HARDHAT_CLI),
                            state_path=None, log_path=str(log_path), started_at=int(time.time()))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_node(data_dir: Path, *, persist_state: bool = False) -> tuple[Any, Any]:
    """Start the selected node with its files in ``data_dir``: ``(the node object with stop(), its record)``."""
    if node_name() == "hardhat":
        node = HardhatNode(data_dir)
        return node, node.start(persist_state=persist_state)
    from ledger.devnet import Devnet, DevnetError, find_anvil

    try:
        find_anvil()
    except DevnetError as exc:
        missing_tool(f"Anvil is not installed: {exc}")
    devnet = Devnet(data_dir)
    record = devnet.start(persist_state=persist_state)
    return devnet, record


@contextmanager
def running_node(data_dir: Path, *, record_file: Path | None = None) -> Iterator[Any]:
    """The selected node for the length of the block (stopped on leaving, also on failure)."""
    node, record = start_node(data_dir)
    try:
        if record_file is not None:
            record_file.write_text(json.dumps(asdict(record)), encoding="utf-8")
        yield record
    finally:
        node.stop()


def _rpc(chain: Any, method: str, params: list) -> Any:
    with chain.guard(method):
        answer = chain.w3.provider.make_request(method, params)
    if "error" in answer:
        pytest.fail(f"{method} failed on the {node_name()} node: {answer['error']}", pytrace=False)
    return answer.get("result")


def mine(chain: Any, blocks: int = 1) -> None:
    """Mine ``blocks`` empty blocks at once."""
    _rpc(chain, "anvil_mine" if node_name() == "anvil" else "hardhat_mine", [hex(blocks)])


class Fork:
    """A reorganisation prepared at the current head: blocks mined after it are later replaced.

    ``fork = Fork(chain)`` where history will fork; mine or send as usual; then
    ``fork.replace([(raw_signed_tx, offset), …])`` replaces every block since the fork
    point by as many new ones, each transaction mined in the block at ``offset``
    (0 = the first replaced block).
    """

    def __init__(self, chain: Any):
        self.chain = chain
        self.base = int(chain.w3.eth.block_number)
        self._snapshot = None if node_name() == "anvil" else _rpc(chain, "evm_snapshot", [])

    def replace(self, transactions: Sequence[tuple[str, int]] = ()) -> None:
        depth = int(self.chain.w3.eth.block_number) - self.base
        if depth < 1:
            pytest.fail("nothing to replace: no block was mined since the fork point", pytrace=False)
        if any(not 0 <= offset < depth for _, offset in transactions):
            pytest.fail(f"a transaction's offset is outside the {depth} replaced block(s)", pytrace=False)
        if self._snapshot is None:
            _rpc(self.chain, "anvil_reorg", [depth, [[raw, offset] for raw, offset in transactions]])
            return
        if _rpc(self.chain, "evm_revert", [self._snapshot]) is not True:
            pytest.fail("the node did not revert to the fork point", pytrace=False)
        _rpc(self.chain, "evm_setAutomine", [False])
        try:
            for offset in range(depth):
                for raw, at in transactions:
                    if at == offset:
                        _rpc(self.chain, "eth_sendRawTransaction", [raw])
                _rpc(self.chain, "evm_mine", [])
        finally:
            _rpc(self.chain, "evm_setAutomine", [True])
