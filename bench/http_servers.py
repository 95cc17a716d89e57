"""Benchmark the WSGI servers that can serve microcred's verifier (issue 16 §2), each under the same load.

For each server (``gunicorn`` sync and gthread, ``granian``, ``uwsgi``, ``bjoern``, ``waitress``; one not
installed is skipped and said so; :data:`UNFIT` says why ``pyruvate`` and ``meinheld`` are not among them), two
worker processes serve ``verifier.create_app()`` on loopback (bench/_http_serve.py) and ``wrk`` (a C load
generator, one thread) sends ``POST /api/v1/verify`` with a new SD-JWT VC + KB-JWT presentation per
request (12 claims, 6 disclosed, trust and status from the chain: the world of bench/bench_verify.py): one
credential shown again, each time with a new KB-JWT (the verifier's memo serves its issuer signature, as in
bench_verify's "shown again" line; the KB-JWT signature, replay, trust, status and schema run every time). Per
server:

- capacity: verified presentations per second, unpaced (16 connections, bounded time), and the same for the
  trivial ``GET /healthz`` (what the server and the framework cost alone);
- latency p50 / p99 at 50 % and 90 % of that capacity (wrk paced per request through its ``delay()`` hook,
  64 connections; latency from the request's write to its answer), the server's CPU per request at that pace,
  and "BEHIND" when the server answered fewer than 97 % of what was sent: on a shared machine 90 % of the
  capacity measured a minute before may be more than the machine gives now, and the latency is then the queue's.
  Beside each CPU figure, the time the server's threads were runnable but waiting for a CPU (the kernel's
  schedstat): what other threads took from it (on a shared machine mostly the others' work; also wrk and the
  server's own threads, more runnable than cores when saturated);
  The CPU per request is higher paced than flat out: the same Python code, run in short bursts between idle
  gaps, meets cold caches (bench/http_overhead.py times this in one process);
- CPU of the server per request (and the capacity two whole cores would give at that cost: on a shared machine
  the measured rate is what other work left), and of the load generator (seen not to starve the server);
- memory per worker (RSS, and PSS: a page shared by forked workers counted once);
- a graceful stop (SIGTERM) and how long it took.

The bound: ``cryptography`` ES256 verifications per second on one core of this run, ÷ 2 (two signatures per
presentation) × 2 cores: every figure is printed as a ratio to it (goal ≥ 0.3). Then the shipped default server
again with the Redis store (a real ``redis-server`` on loopback, ``MICROCRED_REDIS_URL``) against the embedded
SQLite store, and each store's replay-check operation (``add_once``) timed in process.

Nothing here is asserted: machines are noisy (BASELINES.md), read the ratios.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _loopback import LOOPBACK_HOST, loopback_fetcher  # noqa: E402
from bench_verify import World, es256_bound  # noqa: E402

SERVERS = ("gunicorn-sync", "gunicorn-gthread", "granian", "uwsgi", "bjoern", "waitress")
MODULES = {"gunicorn-sync": "gunicorn", "gunicorn-gthread": "gunicorn", "granian": "granian", "uwsgi": "uwsgi",
           "bjoern": "bjoern", "waitress": "waitress"}
#: Candidates that cannot serve the app, and why (tried in this run's kind of machine, 2026-11).
UNFIT = {"pyruvate": "hands CONTENT_LENGTH to the app as an int (PEP 3333: a str), which werkzeug refuses: every "
                     "POST is a 500",
         "meinheld": "does not build on Python 3.11 (its greenlet < 0.5 dependency fails to compile)"}
SECONDS = 4
CONNECTIONS = 16
PACED_CONNECTIONS = 64
VERIFY = "/api/v1/verify"

_LUA = r"""
local bodies, i, path = {}, 0, "/"
ok, bad, exhausted = 0, 0, 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  path = args[2]
  %(init_rate)s
end
function request()
  if #bodies == 0 then return wrk.format("GET", path) end
  i = i + 1
  if i > #bodies then exhausted = exhausted + 1; i = 1 end
  return wrk.format("POST", path, {["Content-Type"] = "text/plain"}, bodies[i])
end
function response(status, headers, body)
  if status == 200 and (#bodies == 0 or string.find(body, '"verified":true', 1, true)) then ok = ok + 1
  else bad = bad + 1 end
end
%(delay)s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local o, b, e = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad"); e = e + t:get("exhausted") end
  local errors = summary.errors
  io.write(string.format('RESULT {"ok": %%d, "bad": %%d, "exhausted": %%d, "seconds": %%f, "p50_us": %%d, '
    .. '"p99_us": %%d, "errors": %%d}\n', o, b, e, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
"""
# Paced: requests of the (single) wrk thread evenly spaced at `rate`/s, whichever connection is free sends.
_PACED = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
local ts = ffi.new("bench_ts")
local function now_ms() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
local next_at = nil
function delay()
  local t = now_ms()
  if next_at == nil then next_at = t end
  next_at = next_at + interval
  if next_at > t then return next_at - t end
  return 0
end
"""


def _script(directory: Path, rate: float | None) -> Path:
    path = directory / ("paced.lua" if rate else "unpaced.lua")
    path.write_text(_LUA % {"init_rate": "interval = 1000 / tonumber(args[3])" if rate else "",
                            "delay": _PACED if rate else ""})
    return path


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    found, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _waited(pids: list[int]) -> float:
    """Seconds the threads of ``pids`` spent runnable but waiting for a CPU (/proc/PID/task/TID/schedstat, its
    second field): what other threads took from it, the machine's other work, wrk and the server's own."""
    total = 0
    for pid in pids:
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            parts = line.split()
            if parts and parts[0] in ("Rss:", "Pss:"):
                values[parts[0]] = int(parts[1])
    except OSError:
        pass
    return values.get("Rss:", 0), values.get("Pss:", 0)


def loopback_request(port: int, method: str, path: str, body: str | None = None, *,
                     timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of one request to a server this bench started on 127.0.0.1, through the strict fetcher
    (:mod:`bench._loopback`: no other host is ever asked)."""
    headers = {"Content-Type": "text/plain"} if body is not None else {}
    response = loopback_fetcher(timeout).request(method, f"http://{LOOPBACK_HOST}:{port}{path}", headers,
                                                 None if body is None else body.encode("utf-8"), what="bench server")
    return response.status, response.body


class Served:
    def __init__(self, server: str, world: World, directory: Path, extra_env: dict[str, str] | None = None):
        from ledger.devnet import free_port

        self.server, self.port = server, free_port()
        config = {**world.config(), "VERIFIER_RATE_LIMIT": "off", "VERIFIER_OPENID4VP_RATE_LIMIT": "off",
                  "VERIFIER_PUBLIC_URL": f"http://127.0.0.1:{self.port}"}
        env = {**os.environ, **{f"MICROCRED_{k}": json.dumps(v) if not isinstance(v, str) else v
                                for k, v in config.items()}, **(extra_env or {})}
        self.log = (directory / f"{server}.log").open("wb")
        self.process = subprocess.Popen([sys.executable, str(HERE / "_http_serve.py"), server, str(self.port),
                                         "verifier"], env=env, cwd=HERE.parent, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{server} did not start (log {self.log.name})")
            time.sleep(0.2)

    def _healthy(self) -> bool:
        try:
            return loopback_request(self.port, "GET", "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        tree = _tree(self.process.pid)
        # the processes that serve: leaves of the tree (uwsgi's and gunicorn's master, granian's, are parents)
        return [pid for pid in tree if pid != self.process.pid and not any(
            _parent(other) == pid for other in tree)] or [self.process.pid]

    def stop(self) -> float:
        """SIGTERM; seconds until the process exited (graceful stop), then whatever is left is killed."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
            took = time.monotonic() - started
        except subprocess.TimeoutExpired:
            took = float("inf")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()
        return took


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return 0


def wrk(port: int, directory: Path, path: str, bodies: list[str], seconds: float, connections: int,
        rate: float | None = None) -> dict:
    data = directory / "bodies.txt"
    data.write_text("".join(body + "\n" for body in bodies))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    answer = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(_script(directory, rate)),
         f"http://127.0.0.1:{port}{path}", "--", str(data), path, str(rate or 0)],
        capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((line for line in answer.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {answer.stdout[-500:]} {answer.stderr[-500:]}")
    result = json.loads(line[len("RESULT "):])
    result["rate"] = result["ok"] / result["seconds"]
    result["wrk_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def verify_run(served: Served, world: World, directory: Path, seconds: float, connections: int,
               expected: float, rate: float | None = None) -> dict:
    """wrk on the verify endpoint with presentations never sent before (new KB-JWTs); repeated with more if the
    bodies ran out."""
    count = int((rate or expected) * seconds * 1.3) + 200
    while True:
        bodies = world.presentations(count)
        pids = _tree(served.process.pid)
        cpu, waited = _cpu(pids), _waited(pids)
        result = wrk(served.port, directory, VERIFY, bodies, seconds, connections, rate)
        result["server_cpu"] = _cpu(pids) - cpu
        result["server_waited"] = _waited(pids) - waited
        if not result["exhausted"]:
            return result
        count *= 2


def measure(server: str, world: World, directory: Path, expected: float, bound2: float,
            extra_env: dict[str, str] | None = None, label: str | None = None) -> float | None:
    label = label or server
    try:
        served = Served(server, world, directory, extra_env)
    except RuntimeError as exc:
        print(f"{label}: skipped: {exc}")
        return None
    try:
        for warm in world.presentations(16):  # each worker opens the ledger, warms its caches
            loopback_request(served.port, "POST", VERIFY, warm, timeout=30)
        trivial = wrk(served.port, directory, "/healthz", [], 2, CONNECTIONS)
        cap = verify_run(served, world, directory, SECONDS, CONNECTIONS, expected)
        capacity = cap["rate"]
        requests = cap["ok"] + cap["bad"]
        per_request = cap["server_cpu"] / max(requests, 1)
        print(f"{label}: {capacity:,.0f} verified/s = {capacity / bound2:.2f} of the two-core bound "
              f"({cap['bad']} not verified, {cap['errors']} errors); GET /healthz {trivial['rate']:,.0f}/s; "
              f"wrk CPU {cap['wrk_cpu'] / cap['seconds'] * 100:.0f} % of a core")
        # On a shared machine the rate above is what the others' load left; the CPU the server spent per request
        # says what two whole cores would serve.
        print(f"{label}: server CPU {per_request * 1e6:,.0f} us/request (its threads waited "
              f"{cap['server_waited'] / max(requests, 1) * 1e6:,.0f} us/request for a CPU) -> CPU-bound capacity "
              f"{2 / per_request:,.0f}/s = {2 / per_request / bound2:.2f} of the two-core bound (goal >= 0.3)")
        for share in (0.5, 0.9):
            sent = capacity * share
            paced = verify_run(served, world, directory, SECONDS, PACED_CONNECTIONS, capacity, rate=sent)
            answered = paced["ok"] + paced["bad"]
            # A shared machine may give the server less in these seconds than when its capacity was measured: then
            # requests queue and the latency printed is mostly the queue's, not the server's (issue 16, round 2).
            behind = (f"; BEHIND: {answered / paced['seconds']:,.0f}/s answered of {sent:,.0f}/s sent, the "
                      "latency is mostly queueing (the machine gave less than at the capacity run)"
                      if answered < 0.97 * sent * paced["seconds"] else "")
            print(f"{label}: at {share:.0%} of capacity ({sent:,.0f}/s sent paced): "
                  f"p50 {paced['p50_us'] / 1000:.1f} ms, p99 {paced['p99_us'] / 1000:.1f} ms "
                  f"({paced['bad']} not verified, {paced['errors']} errors); server CPU "
                  f"{paced['server_cpu'] / max(answered, 1) * 1e6:,.0f} us/request, waiting for a CPU "
                  f"{paced['server_waited'] / max(answered, 1) * 1e6:,.0f} us/request{behind}")
        memory = [_memory_kib(pid) for pid in served.workers()]
        master = _memory_kib(served.process.pid) if served.process.pid not in served.workers() else (0, 0)
        print(f"{label}: memory per worker RSS {', '.join(f'{r / 1024:.0f}' for r, _ in memory)} MiB, "
              f"PSS {', '.join(f'{p / 1024:.0f}' for _, p in memory)} MiB; master RSS {master[0] / 1024:.0f} MiB")
    finally:
        took = served.stop()
        print(f"{label}: SIGTERM -> exited in {took:.1f} s")
    return capacity


def _installed(server: str) -> bool:
    module = MODULES[server]
    if module == "uwsgi":
        return (Path(sys.executable).parent / "uwsgi").exists()
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def store_costs(redis_url: str, directory: Path) -> None:
    from infra.store import open_store

    for name, store in (("sqlite", open_store(directory / "store-bench", None)),
                        ("redis", open_store(directory / "store-bench", redis_url))):
        count, start, cpu = 0, time.perf_counter(), time.thread_time()
        while time.perf_counter() - start < 1.0:
            store.add_once("bench", f"{name}-{count}", 600)
            count += 1
        print(f"store: {name} add_once (the replay check of each verification) "
              f"{(time.perf_counter() - start) / count * 1e6:,.0f} us wall, "
              f"{(time.thread_time() - cpu) / count * 1e6:,.0f} us CPU of the caller")


def main() -> None:
    from infra.serving import DEFAULT_SERVER
    from ledger.devnet import free_port

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    raw = es256_bound()
    bound2 = raw  # (raw ÷ 2 presentations per core) × 2 cores
    print(f"bound: cryptography ES256 verify {raw:,.0f}/s on one core -> {bound2:,.0f} presentations/s on two cores")
    chosen = list(sys.argv[1:] or SERVERS)
    for server, why in UNFIT.items():
        print(f"{server}: not measured: {why}")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        world = World(work)
        try:
            expected = 2000.0
            for server in chosen:
                if not _installed(server):
                    print(f"{server}: skipped: not installed in this environment")
                    continue
                expected = measure(server, world, work, expected, bound2) or expected
            default = "gunicorn-gthread" if DEFAULT_SERVER == "gunicorn" else DEFAULT_SERVER
            redis_server = shutil.which("redis-server")
            if redis_server is None:
                print("redis: skipped: redis-server is not installed")
                return
            port = free_port()
            redis = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
            try:
                time.sleep(0.5)
                url = f"redis://127.0.0.1:{port}/0"
                store_costs(url, work)
                measure(default, world, work, expected, bound2, {"MICROCRED_REDIS_URL": url},
                        label=f"{default} + Redis store")
            finally:
                redis.terminate()
                redis.wait()
        finally:
            world.close()


if __name__ == "__main__":
    main()
