"""Helpers for the crash tests: the real ``microcred`` command in a child process, and the
invariants every fault must leave intact (archive integrity, no signed credential the
archive does not know, no learner issued twice, no process left behind).

``MICROCRED_FAULT_AT=<point>[:INT]`` is the issuer's test hook (:mod:`issuer.fault_hook`):
the child SIGKILLs (or Ctrl-Cs) itself at that named point.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.waiting import poll

MICROCRED = str(Path(sys.executable).with_name("microcred"))
CHECKOUT = str(Path(__file__).resolve().parents[2])


def child_env(data_dir: Path, *, fault: str | None = None, rpc_url: str | None = "http://127.0.0.1:9",
              **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env["PYTHONPATH"] = CHECKOUT  # this checkout's packages, whatever the installed distribution lists
    env["MICROCRED_DATA_DIR"] = str(data_dir)
    if rpc_url:
        env["MICROCRED_RPC_URL"] = rpc_url
    if fault:
        env["MICROCRED_FAULT_AT"] = fault
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """``microcred ARGS`` in its own session (so that whatever it leaves behind can be found)."""
    return subprocess.Popen([MICROCRED, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    process = start(args, env)
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def session_members(sid: int) -> list[int]:
    """Pids of live processes (zombies excepted) whose session id is ``sid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            members.append(int(entry.name))
    return members


def wait_until(condition, timeout: float, step: float = 0.05):
    """``condition()``'s first truthy value within ``timeout`` seconds, else its last (falsy) one."""
    return poll(condition, within=timeout, step=step)


def assert_nothing_left_behind(process: subprocess.Popen) -> None:
    process.wait(timeout=30)
    gone = wait_until(lambda: not session_members(process.pid), timeout=5)
    left = session_members(process.pid)
    for pid in left:  # ours: started by this test; do not leave them to the next one
        os.kill(pid, signal.SIGKILL)
    assert gone, f"processes of the killed command still run: {left}"


def _payload(sd_jwt: str) -> dict:
    jwt = sd_jwt.strip().split("~", 1)[0]
    body = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def signed_files(*roots: Path) -> list[Path]:
    """Every signed credential file: SD-JWT VCs (``.sd-jwt``) and Open Badge twins (``.jwt``)."""
    found: list[Path] = []
    for root in roots:
        if root.exists():
            found += [p for pattern in ("*.sd-jwt", "*.jwt") for p in root.rglob(pattern) if p.is_file()]
    return found


def _status_slot(path: Path) -> tuple[str, int]:
    """(list id, index) a signed file names: the IETF ``status`` claim or the Bitstring ``credentialStatus``."""
    payload = _payload(path.read_text())
    if path.suffix == ".jwt":
        entry = payload["credentialStatus"]
        return entry["statusListCredential"].rsplit("/", 1)[-1], int(entry["statusListIndex"])
    status = payload["status"]["status_list"]
    return status["uri"].rsplit("/", 1)[-1], status["idx"]


def assert_archive_consistent(archive_path: Path, *roots: Path) -> dict[str, int]:
    """Integrity, no unknown signed credential, every file's (list, idx) its own, no learner twice.

    Returns how many credentials each student id has.
    """
    conn = sqlite3.connect(archive_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sql = "SELECT id, list_id, idx, student_id, twin_of FROM credentials"
        rows = {row[0]: row[1:] for row in conn.execute(sql)}
    finally:
        conn.close()
    for path in signed_files(*roots):
        credential_id = path.name.removesuffix(".sd-jwt").removesuffix(".jwt")
        assert credential_id in rows, f"{path} is a signed credential the archive does not know"
        list_id, idx, _, _ = rows[credential_id]
        assert _status_slot(path) == (list_id, idx), path
    for twin, (_, _, student, twin_of) in rows.items():
        if twin_of is not None:
            assert twin_of in rows, f"twin {twin} of an unknown credential {twin_of}"
            assert rows[twin_of][2] == student, f"twin {twin} is of another learner's credential"
    per_student = Counter(student for _, _, student, twin_of in rows.values() if twin_of is None)
    twice = {s: n for s, n in per_student.items() if n > 1}
    assert not twice, f"learners issued more than once: {twice}"
    return dict(per_student)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_text(encoding="ascii").strip().encode("ascii")).hexdigest()
