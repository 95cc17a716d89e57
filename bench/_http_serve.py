"""Serve one microcred app under a named WSGI server with two worker processes, for bench/http_servers.py.

``python bench/_http_serve.py SERVER PORT SERVICE`` (SERVICE: verifier, issuer or wallet; settings from the
``MICROCRED_*`` environment). Loopback only. The servers microcred ships (:mod:`infra.serving`) are started
exactly as ``microcred SERVICE serve`` starts them; the others as their documentation says for a multi-process
deployment: a socket bound once, then one forked process per worker that builds the app after the fork.
SIGTERM stops every one of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORKERS = 2
THREADS = int(os.environ.get("MICROCRED_BENCH_THREADS", "4"))  # per worker, as microcred serve --threads


def factory(service: str):
    if service == "verifier":
        from verifier import create_app
    elif service == "issuer":
        from issuer.web import create_app
    else:
        from wallet import create_app
    return create_app


def _forked(count: int, run_worker) -> None:
    """``count`` children each running ``run_worker()``; SIGTERM to this parent is passed on; waits for them."""
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            run_worker()
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        os.waitpid(child, 0)


def _bound(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    return sock


def main() -> None:
    server, port, service = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    make = factory(service)
    if server in ("gunicorn-sync", "gunicorn-gthread", "granian"):
        from infra import serving

        if server == "gunicorn-sync":  # microcred ships gthread; gunicorn's default worker, sync, is measured too
            shipped = serving.gunicorn_settings
            serving.gunicorn_settings = lambda *args: {**shipped(*args), "worker_class": "sync"}
        options = serving.ServeOptions(port=port, workers=WORKERS, threads=THREADS, server=server.split("-")[0])
        serving.serve(make, options, name=service)
    elif server == "uwsgi":
        entry = Path(__file__).resolve().parent / "_http_wsgi.py"
        uwsgi = str(Path(sys.executable).parent / "uwsgi")
        os.execv(uwsgi, [uwsgi, "--home", sys.prefix, "--http11-socket", f"127.0.0.1:{port}", "--master",
                         "--processes", str(WORKERS), "--lazy-apps", "--enable-threads", "--die-on-term", "--need-app",
                         "--disable-logging", "--wsgi-file", str(entry), "--env", f"MICROCRED_BENCH_SERVICE={service}",
                         "--chdir", str(entry.parent.parent)])
    elif server == "bjoern":
        import bjoern

        sock = _bound(port)
        sock.setblocking(False)
        _forked(WORKERS, lambda: bjoern.server_run(sock, make()))
    elif server == "waitress":
        from waitress import create_server

        sock = _bound(port)
        _forked(WORKERS, lambda: create_server(make(), sockets=[sock], threads=THREADS, ident="waitress").run())
    else:
        raise SystemExit(f"unknown server {server!r}")


if __name__ == "__main__":
    main()
