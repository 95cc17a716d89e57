"""What ``microcred demo`` keeps between runs, and says about it (issue 15, §1 items 2 and 3).

- :data:`RUNNING_FILE` in the data dir names the demo serving now (its
  process id and URLs), written once it is ready and removed when it stops;
  so a port taken by a running demo is reported as such, with how to stop it
  or pick other ports (:func:`port_problem`), rather than as any busy port.
- :func:`reset` is ``demo --fresh``: the devnet of the data dir is stopped
  and the demo's state removed (keeping ``tls/``, so a phone that accepted
  the LAN certificate need not again), so the walk starts over with nothing
  revoked; it refuses a folder that is not a demo's, or a running demo's.
- :func:`timing_line` says how long installing took (``make demo`` passes
  when it started in :data:`ENV_MAKE_STARTED`) apart from how long the demo
  took to be ready.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from infra.settings import DEMO_MARKER_FILE

__all__ = ["RUNNING_FILE", "MARKER_FILE", "ENV_MAKE_STARTED", "RunningDemo", "running_demo", "record_running",
           "forget_running", "mark_demo_dir", "port_problem", "reset", "timing_line"]

RUNNING_FILE = "demo-running.json"
#: Written in a data dir the demo made, so ``--fresh`` knows it may empty it (and ``microcred verify`` takes the
#: demo's development setting there).
MARKER_FILE = DEMO_MARKER_FILE
#: Set by ``make demo``: the Unix time make started, before installing anything.
ENV_MAKE_STARTED = "MICROCRED_DEMO_MAKE_STARTED"
_KEPT = {"tls"}
#: What an older demo left in a data dir before the marker existed.
_DEMO_SIGNS = ("demo-imports", "demo-pki")


@dataclass(frozen=True)
class RunningDemo:
    pid: int
    urls: dict[str, str]
    started_at: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def running_demo(data_dir: Path) -> RunningDemo | None:
    """The demo serving from ``data_dir`` now, if its process is alive (a stale record is removed)."""
    path = data_dir / RUNNING_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        found = RunningDemo(int(record["pid"]), dict(record["urls"]), int(record["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if found.pid == os.getpid() or _alive(found.pid):
        return found
    path.unlink(missing_ok=True)
    return None


def record_running(data_dir: Path, urls: dict[str, str]) -> None:
    (data_dir / RUNNING_FILE).write_text(json.dumps({"pid": os.getpid(), "urls": urls,
                                                     "started_at": int(time.time())}), encoding="utf-8")


def forget_running(data_dir: Path) -> None:
    (data_dir / RUNNING_FILE).unlink(missing_ok=True)


def mark_demo_dir(data_dir: Path) -> None:
    marker = data_dir / MARKER_FILE
    if not marker.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"made_at": int(time.time()), "by": "microcred demo"}), encoding="utf-8")


def _answers_microcred(host: str, port: int) -> bool:
    """Whether a microcred service answers ``/healthz`` there (a plain HTTP/1.0 GET, one second at most)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as connection:
            connection.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            answer = connection.recv(4096)
    except OSError:
        return False
    return b'"status"' in answer and b"200" in answer.split(b"\r\n", 1)[0]


def port_problem(data_dir: Path, host: str, port: int, label: str, option: str) -> str:
    """What to tell someone whose demo cannot have ``port``: a demo runs there, another microcred service, or
    another program; and what to do about it. ``option``: how to pick another port ("" when it is fixed, as the
    issuers' are: their status list URLs carry it)."""
    elsewhere = (f"pick other ports with {option}" if option
                 else "the demo's issuers always use their ports (their status list URLs carry them)")
    running = running_demo(data_dir)
    if running is not None:
        urls = ", ".join(f"{name} {url}/" for name, url in running.urls.items())
        beside = (f"to run another one beside it, {elsewhere} and another MICROCRED_DATA_DIR" if option
                  else f"two demos cannot run at once: {elsewhere}")
        return (f"port {port} on {host} ({label}) is taken: a demo seems to be running already from {data_dir} "
                f"(process {running.pid}; {urls}). Use it, or stop it with Ctrl-C in its terminal or "
                f"`kill {running.pid}`; {beside}.")
    if _answers_microcred(host, port):
        return (f"port {port} on {host} ({label}) is taken by a microcred service, probably a demo started from "
                f"another data dir or a `microcred … serve`: stop it (Ctrl-C in its terminal)"
                + (f", or {elsewhere}." if option else f"; {elsewhere}."))
    return (f"port {port} on {host} ({label}) is taken by another program; "
            + (f"choose another with {option}" if option else f"stop it: {elsewhere}"))


def reset(data_dir: Path, stop_devnet) -> list[str]:
    """``demo --fresh``: stop the data dir's devnet (``stop_devnet()``), then remove the demo's state; what was
    removed. Refuses (ValueError) a running demo's folder or one that is not a demo's."""
    if not data_dir.exists():
        return []
    running = running_demo(data_dir)
    if running is not None:
        raise ValueError(f"a demo is running from {data_dir} (process {running.pid}); stop it first "
                         f"(Ctrl-C in its terminal, or `kill {running.pid}`)")
    entries = [entry for entry in data_dir.iterdir() if entry.name not in _KEPT]
    if entries and not ((data_dir / MARKER_FILE).exists() or any((data_dir / sign).exists() for sign in _DEMO_SIGNS)):
        raise ValueError(f"{data_dir} does not look like the demo's state (no {MARKER_FILE}); "
                         "nothing was removed: empty it yourself, or point MICROCRED_DATA_DIR at the demo's folder")
    stop_devnet()
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return sorted(entry.name for entry in entries)


def timing_line(started: float, *, make_started: str | None, now: float | None = None) -> str:
    """``ready in 1.7 s`` — and, after ``make demo``, how long installing took before that.

    ``started`` and ``now`` (default: the time now) are on the wall clock, epoch seconds, as is
    ``make_started`` (``date +%s``), so the three can be compared.
    """
    took = (time.time() if now is None else now) - started
    try:
        before = started - float(make_started) if make_started else None
    except ValueError:
        before = None
    if before is None or before < 0:
        return f"ready in {took:.1f} s"
    return (f"installing and checking what the demo needs took {before:.1f} s, then the demo was ready in "
            f"{took:.1f} s ({before + took:.1f} s after `make demo`)")
