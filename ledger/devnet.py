"""The local devnet: a Foundry Anvil node (v1.7.1 from the npm package ``@foundry-rs/anvil``).

``Devnet(data_dir).start()`` launches the *native* Anvil binary (not the Node
wrapper in ``node_modules/.bin``, so that the recorded process id is Anvil's
own) on 127.0.0.1, on a free or a given port, with its chain state dumped to
``<data dir>/anvil/state.json`` every :data:`STATE_INTERVAL_S` second(s) and on
exit, and loaded on the next start — so a node killed with SIGKILL (or a
machine that loses power) comes back with at most the last second lost, and
the issuer re-anchors whatever that second held (:mod:`issuer.anchoring`
compares the chain with its archive). Anvil writes the file in place: a state
file cut short by a kill is set aside (``state.json.damaged``) and the copy
kept at the last good start (``state.json.previous``) is loaded instead. It waits
until the node answers ``eth_chainId`` and records what runs where in
``<data dir>/devnet.json``. ``stop()`` sends SIGTERM (so Anvil writes its state)
and waits; ``status()`` says whether the recorded node is alive and answering.

The binary is ``$MICROCRED_ANVIL`` if set, else
``node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`` (or the package for
this platform) under the repository root.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ledger.config import DEVNET_FILE, ENV_ANVIL, repo_root
from ledger.errors import DevnetError

__all__ = [
    "ANVIL_CHAIN_ID",
    "ANVIL_DEV_KEYS",
    "STATE_INTERVAL_S",
    "DevnetRecord",
    "DevnetStatus",
    "Devnet",
    "find_anvil",
    "free_port",
    "rpc_request",
]

#: Anvil's default chain id.
ANVIL_CHAIN_ID = 31337

#: The first private keys Anvil derives from its public default test mnemonic
#: ("test test … junk"); well known, worthless outside a devnet. Key 0 is the
#: default root of trust and funds new controller accounts.
ANVIL_DEV_KEYS: tuple[str, ...] = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
)

_HOST = "127.0.0.1"
#: Seconds between two dumps of the node's state (Anvil ``--state-interval``).
STATE_INTERVAL_S = 1
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class DevnetRecord:
    """What ``devnet.json`` holds about a started node."""

    pid: int
    host: str
    port: int
    url: str
    binary: str
    state_path: str | None
    log_path: str
    started_at: int

    @classmethod
    def load(cls, path: Path) -> DevnetRecord | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise DevnetError(f"expected a devnet record at {path}, found an unreadable file: {exc}") from exc


@dataclass(frozen=True)
class DevnetStatus:
    """The recorded node (if any), whether its process lives, and what it answers."""

    record: DevnetRecord | None
    alive: bool
    chain_id: int | None
    block_number: int | None

    @property
    def answering(self) -> bool:
        return self.chain_id is not None


def find_anvil() -> Path:
    """The native Anvil binary: ``$MICROCRED_ANVIL`` or the one npm installed."""
    override = os.environ.get(ENV_ANVIL)
    if override:
        path = Path(override)
        if not path.is_file():
            raise DevnetError(f"{ENV_ANVIL} names {path}, which is not a file")
        return path
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    path = repo_root() / "node_modules" / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil"
    if not path.is_file():
        raise DevnetError(f"expected the Anvil binary at {path}; run `make deps` (npm install) or set {ENV_ANVIL}")
    return path


def free_port(host: str = _HOST) -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def rpc_request(url: str, method: str, params: list | None = None, *, timeout: float = 2.0):
    """One raw JSON-RPC request (no web3); raises OSError or ValueError on failure."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL is ours)
        answer = json.loads(response.read())
    if "error" in answer:
        raise ValueError(f"{method} failed: {answer['error']}")
    return answer["result"]


def _reap_if_child(pid: int) -> bool:
    """Collect ``pid``'s exit status if it is our exited child; True if it was."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: someone else reaps it
        return False
    return reaped == pid


def _pid_alive(pid: int) -> bool:
    if _reap_if_child(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_anvil(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the record
    return b"anvil" in cmdline


def _is_json(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            json.load(handle)
    except (OSError, ValueError):
        return False
    return True


def _usable_state(state_path: Path) -> None:
    """Set a state file cut short (a kill during a dump) aside and fall back to the last good copy;
    keep a good one as that copy (``state.json.previous``) before the node starts writing again."""
    if not state_path.exists():
        return
    if _is_json(state_path):
        _keep_copy(state_path)
        return
    os.replace(state_path, state_path.with_name(state_path.name + ".damaged"))
    previous = state_path.with_name(state_path.name + ".previous")
    if previous.is_file() and _is_json(previous):
        shutil.copyfile(previous, state_path)


def _keep_copy(state_path: Path) -> None:
    """Copy a good state file to ``state.json.previous`` (whole or not at all)."""
    previous = state_path.with_name(state_path.name + ".previous")
    temporary = previous.with_name(previous.name + ".tmp")
    try:
        shutil.copyfile(state_path, temporary)
        os.replace(temporary, previous)
    except OSError:
        temporary.unlink(missing_ok=True)


class Devnet:
    """Start, stop and inspect the Anvil node whose state lives in ``data_dir``."""

    def __init__(self, data_dir: Path, *, binary: Path | None = None):
        self.data_dir = Path(data_dir)
        self._binary = binary

    @property
    def record_path(self) -> Path:
        return self.data_dir / DEVNET_FILE

    def status(self) -> DevnetStatus:
        record = DevnetRecord.load(self.record_path)
        if record is None:
            return DevnetStatus(None, False, None, None)
        alive = _pid_alive(record.pid)
        chain_id = block_number = None
        if alive:
            try:
                chain_id = int(rpc_request(record.url, "eth_chainId"), 16)
                block_number = int(rpc_request(record.url, "eth_blockNumber"), 16)
            except (OSError, ValueError):
                chain_id = block_number = None
        return DevnetStatus(record, alive, chain_id, block_number)

    def start(self, *, port: int | None = None, persist_state: bool = True,
              timeout: float = _START_TIMEOUT_S, extra_args: Sequence[str] = ()) -> DevnetRecord:
        """Start Anvil and wait until it answers; refuses if a recorded one still runs.

        ``extra_args`` go to Anvil as they are (e.g. ``["--gas-limit", "1000000000"]``).
        """
        current = self.status()
        if current.record is not None and current.alive:
            raise DevnetError(
                f"a devnet is already running (pid {current.record.pid}, {current.record.url}); "
                "stop it first with `microcred devnet stop`"
            )
        binary = self._binary or find_anvil()
        chosen_port = port if port is not None else free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        anvil_dir = self.data_dir / "anvil"
        anvil_dir.mkdir(exist_ok=True)
        state_path = anvil_dir / "state.json" if persist_state else None
        log_path = anvil_dir / "anvil.log"
        args = [str(binary), "--host", _HOST, "--port", str(chosen_port), "--chain-id", str(ANVIL_CHAIN_ID)]
        if state_path is not None:
            _usable_state(state_path)
            args += ["--state", str(state_path), "--state-interval", str(STATE_INTERVAL_S)]
        args += list(extra_args)
        with open(log_path, "ab") as log:
            try:
                process = subprocess.Popen(  # noqa: S603 (fixed binary and arguments)
                    args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise DevnetError(f"could not start Anvil at {binary}: {exc}") from exc
        url = f"http://{_HOST}:{chosen_port}"
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-800:]
                raise DevnetError(f"Anvil exited with {process.returncode} while starting on {url}: {tail.strip()}")
            try:
                rpc_request(url, "eth_chainId", timeout=1.0)
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    process.terminate()
                    process.wait(timeout=_STOP_TIMEOUT_S)
                    raise DevnetError(f"Anvil did not answer on {url} within {timeout:.0f} s") from None
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)
        record = DevnetRecord(
            pid=process.pid, host=_HOST, port=chosen_port, url=url, binary=str(binary),
            state_path=str(state_path) if state_path else None, log_path=str(log_path),
            started_at=int(time.time()),
        )
        self.record_path.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
        return record

    def stop(self, *, timeout: float = _STOP_TIMEOUT_S) -> DevnetRecord | None:
        """Stop the recorded node (SIGTERM, then SIGKILL after ``timeout``); None if none ran."""
        record = DevnetRecord.load(self.record_path)
        if record is None:
            return None
        if _pid_alive(record.pid) and _is_anvil(record.pid):
            os.kill(record.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _pid_alive(record.pid):
                if time.monotonic() > deadline:
                    os.kill(record.pid, signal.SIGKILL)
                    deadline = time.monotonic() + timeout
                time.sleep(0.02)
        self.record_path.unlink(missing_ok=True)
        return record
