"""Serve a microcred Flask app for real: granian by default, gunicorn on request, Flask's dev server with ``--dev``.

``microcred wallet serve``, ``microcred issuer serve`` and ``microcred
verifier serve`` all end in :func:`serve`, with the same flags
(:func:`serve_options`): ``--host --port --workers --threads --timeout
--access-log --certfile --keyfile --dev``; ``MICROCRED_SERVER`` (``granian``,
the default, or ``gunicorn``) chooses the production server. bench/http_servers.py
measures the candidates under the same load (issue 16): granian answers the
verifier's ``POST /api/v1/verify`` with less CPU per request and a far lower
latency under load than gunicorn's workers, for about the same memory.

Both servers: ``--workers`` processes, each with ``--threads`` threads running
the app; SIGTERM stops gracefully (requests in flight get
``GRACEFUL_TIMEOUT_S``), SIGINT at once; the access log is off unless
``--access-log FILE`` (``-``: standard error); TLS with ``--certfile/--keyfile``
(granian: TLS 1.2 or later, a PKCS#8 key, as ``microcred.tls`` writes). Neither
trusts ``X-Forwarded-*`` itself: forwarded headers are honoured only through
``MICROCRED_TRUSTED_PROXIES`` (:mod:`infra.hosts`). No control socket.

- granian (https://github.com/emmett-framework/granian): a Rust HTTP/1.1 server
  calling the WSGI app from ``--threads`` blocking threads per worker; a worker
  that dies is replaced. It has no watchdog for a worker that hangs: ``--timeout``
  applies to gunicorn only.
- gunicorn (https://docs.gunicorn.org/en/stable/settings.html): ``gthread``
  workers; a worker silent for ``--timeout`` seconds is replaced.
  ``forwarded_allow_ips`` is empty.

Fork model: the app is built once in the master, to fail early on bad
settings and to create its files (database, secrets) before workers race for
them, and then again in every worker (no ``preload_app``), so no connection,
lock or thread crosses a fork. Background work an app needs (the issuer's
anchor retry, the verifier's chain watcher) is registered with
:func:`on_worker_start` and started in each serving process after the fork
(granian's worker loader, gunicorn's ``post_worker_init``), or lazily by the
first request under any other WSGI server; never in the master.
:class:`MachineLock` lets one worker of several do a job that must run once per machine.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Response
from werkzeug.serving import is_running_from_reloader

from credentials.errors import ConfigurationError

__all__ = ["ServeOptions", "serve", "serve_options", "options_from_click", "default_public_url", "on_worker_start",
           "start_worker_tasks", "MachineLock", "add_health_route", "HEALTH_PATH", "GRACEFUL_TIMEOUT_S", "SERVERS",
           "DEFAULT_SERVER", "SERVER_VARIABLE", "gunicorn_settings", "granian_settings"]

GRACEFUL_TIMEOUT_S = 10
#: The production servers (``--server`` / ``MICROCRED_SERVER``); the first is the default (bench/http_servers.py).
SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = SERVERS[0]
SERVER_VARIABLE = "MICROCRED_SERVER"
DEFAULT_THREADS = 4
DEFAULT_TIMEOUT_S = 60
_KEEPALIVE_S = 5
_TASKS = "microcred_worker_tasks"
HEALTH_PATH = "/healthz"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # infra.web.LOG_FORMAT (which imports this module)
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """How to serve one app; the same for the three services."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = DEFAULT_THREADS
    timeout: int = DEFAULT_TIMEOUT_S
    access_log: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    dev: bool = False
    server: str = DEFAULT_SERVER

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise ConfigurationError(f"expected MICROCRED_SERVER to be one of {', '.join(SERVERS)}, "
                                     f"found {self.server!r}")
        if (self.certfile is None) != (self.keyfile is None):
            raise ConfigurationError("expected both --certfile and --keyfile for TLS, found only one")
        for path in (self.certfile, self.keyfile):
            if path is not None and not Path(path).is_file():
                raise ConfigurationError(f"expected a readable file for TLS, found nothing at {path}")
        if self.workers < 1 or self.threads < 1 or self.timeout < 1:
            raise ConfigurationError(f"expected workers, threads and timeout >= 1, found {self.workers}, "
                                     f"{self.threads} and {self.timeout}")

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"

    @property
    def bind(self) -> str:
        return f"{_url_host(self.host)}:{self.port}"


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def default_public_url(options: ServeOptions) -> str:
    """``scheme://host:port`` as bound; refused for a wildcard bind, which names no host a client can use."""
    try:
        wildcard = ipaddress.ip_address(options.host).is_unspecified
    except ValueError:
        wildcard = options.host == ""
    if wildcard:
        raise ConfigurationError(f"--host {options.host or '(empty)'} listens on every interface, so it names no "
                                 "public URL; set this service's public URL (see the README's configuration table)")
    return f"{options.scheme}://{options.bind}"


# ---------------------------------------------------------------- command line


def serve_options(default_port: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The serving flags every ``serve`` command shares (``--workers`` is declared by each command)."""
    flags = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on."),
        click.option("--port", default=default_port, show_default=True, type=click.IntRange(1, 65535),
                     help="Port to listen on."),
        click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 256),
                     help="Threads per worker process."),
        click.option("--timeout", default=DEFAULT_TIMEOUT_S, show_default=True, type=click.IntRange(1, 3600),
                     help="Seconds before a silent worker is replaced."),
        click.option("--access-log", default=None, metavar="FILE",
                     help="Write an access log to FILE ('-': standard error); default: none."),
        click.option("--certfile", default=None, type=click.Path(dir_okay=False), help="TLS certificate (PEM)."),
        click.option("--keyfile", default=None, type=click.Path(dir_okay=False), help="TLS private key (PEM)."),
        click.option("--dev", is_flag=True,
                     help="Flask's development server with the reloader (no debugger), one process."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for flag in reversed(flags):
            command = flag(command)
        return command

    return decorate


def options_from_click(host: str, port: int, workers: int, threads: int, timeout: int, access_log: str | None,
                       certfile: str | None, keyfile: str | None, dev: bool) -> ServeOptions:
    """:class:`ServeOptions` from the flags of :func:`serve_options` and ``MICROCRED_SERVER``; a bad combination
    is a usage error."""
    try:
        return ServeOptions(host=host, port=port, workers=workers, threads=threads, timeout=timeout,
                            access_log=access_log, certfile=certfile, keyfile=keyfile, dev=dev,
                            server=os.environ.get(SERVER_VARIABLE, "").strip().lower() or DEFAULT_SERVER)
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from None


# ---------------------------------------------------------------- background work after the fork


def on_worker_start(app: Any, task: Callable[[], None]) -> None:
    """Run ``task`` once in each process that serves ``app`` (after any fork), never in gunicorn's master.

    The task should start its own daemon thread and return; an app never
    served (a command, a ``TESTING`` app's test client) never runs it.
    """
    app.extensions.setdefault(_TASKS, {"tasks": [], "pid": None, "lock": threading.Lock()})["tasks"].append(task)
    if len(app.extensions[_TASKS]["tasks"]) == 1:
        app.before_request(lambda: None if app.testing else start_worker_tasks(app))


def start_worker_tasks(app: Any) -> None:
    """Start the tasks of :func:`on_worker_start` in this process, once (a forked child starts its own)."""
    entry = app.extensions.get(_TASKS)
    if entry is None or entry["pid"] == os.getpid():
        return
    with entry["lock"]:
        if entry["pid"] == os.getpid():
            return
        entry["pid"] = os.getpid()
        for task in entry["tasks"]:
            task()


class MachineLock:
    """An exclusive ``flock`` on a file, held by at most one process of the machine until it exits.

    :meth:`acquire` never blocks: a worker asks again later, and takes over the
    job when the holder dies (the kernel releases its lock).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._pid: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None and self._pid == os.getpid():
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self._pid = fd, os.getpid()
        return True


def add_health_route(app: Any, details: Callable[[], dict[str, Any]] | None = None) -> None:
    """``GET /healthz``: ``{"status": "ok", …details}`` from the worker that answers (for probes and start-up)."""
    def health() -> Any:  # a plain Response: a probe may come often, Flask's jsonify costs more than the answer
        return Response(json.dumps({"status": "ok", **(details() if details else {})}), mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    app.add_url_rule(HEALTH_PATH, endpoint="microcred_health", view_func=health, methods=["GET"])


# ---------------------------------------------------------------- serving


def serve(factory: Callable[[], Any], options: ServeOptions, *, name: str, banner: str | None = None) -> None:
    """Serve the app ``factory`` builds on ``options.server`` until SIGTERM / SIGINT; ``--dev``: with the reloader.

    A setting that does not fit stops it with one line (``Error: MICROCRED_…: expected …``, exit 1);
    ``banner`` is printed once the app has been built, so a bad setting prints nothing else.
    """
    if banner is not None:
        factory = _announcing(factory, banner)
    try:
        if options.dev:
            _serve_dev(factory, options)
        elif options.server == "granian":
            _serve_granian(factory, options, name)
        else:
            _serve_gunicorn(factory, options, name)
    except ConfigurationError as exc:  # raised by the factory in this process, before any worker starts
        raise click.ClickException(str(exc)) from None


def _announcing(factory: Callable[[], Any], banner: str) -> Callable[[], Any]:
    """``factory``, printing ``banner`` after the first app it builds in this process (the master's)."""
    announced = False

    def build() -> Any:
        nonlocal announced
        app = factory()
        if not announced:
            announced = True
            click.echo(banner)
        return app

    return build


def _serve_dev(factory: Callable[[], Any], options: ServeOptions) -> None:
    app = factory()
    if is_running_from_reloader():  # the reloader's child serves; its parent only watches files
        start_worker_tasks(app)
    tls = (options.certfile, options.keyfile) if options.certfile else None
    app.run(host=options.host, port=options.port, debug=False, use_debugger=False, use_reloader=True,
            threaded=True, ssl_context=tls)


def gunicorn_settings(options: ServeOptions, name: str) -> dict[str, Any]:
    """The gunicorn settings :func:`serve` uses (https://docs.gunicorn.org/en/stable/settings.html)."""
    settings: dict[str, Any] = {
        "bind": [options.bind],
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "timeout": options.timeout,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": _KEEPALIVE_S,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": f"microcred-{name}",
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "control_socket_disable": True,
        "preload_app": False,
        "post_worker_init": _post_worker_init,
    }
    if options.access_log:
        settings["accesslog"] = options.access_log
    if options.certfile:
        settings.update(certfile=options.certfile, keyfile=options.keyfile)
    return settings


def _post_worker_init(worker: Any) -> None:
    start_worker_tasks(worker.wsgi)


def _serve_gunicorn(factory: Callable[[], Any], options: ServeOptions, name: str) -> None:
    from gunicorn.app.base import BaseApplication  # here: only serving needs gunicorn, never an app or a test

    factory()  # in the master: bad settings fail here, clearly, and files exist before the workers start
    settings = gunicorn_settings(options, name)

    class _Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in settings.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return factory()

    _Application().run()


# ---------------------------------------------------------------- granian


def granian_settings(options: ServeOptions, name: str) -> dict[str, Any]:
    """The granian server's arguments :func:`serve` uses (granian's ``Server``: the ``granian`` command's options)."""
    from granian.constants import HTTPModes, Interfaces, SSLProtocols  # here: only serving needs granian

    settings: dict[str, Any] = {
        "target": f"microcred-{name}",  # a label: the app comes from the loader, never from an import string
        "address": options.host,
        "port": options.port,
        "interface": Interfaces.WSGI,
        "http": HTTPModes.http1,
        "websockets": False,
        "workers": options.workers,
        "blocking_threads": options.threads,
        "backlog": 1024,
        "log_access": bool(options.access_log),
        "respawn_failed_workers": True,  # a worker that dies is replaced, as gunicorn does
        "workers_kill_timeout": GRACEFUL_TIMEOUT_S,  # SIGTERM: requests in flight get this long
    }
    # granian's own log and its access log (if any) on standard error, as gunicorn's error log; granian's format
    access = ({"class": "logging.FileHandler", "filename": options.access_log, "formatter": "access"}
              if options.access_log and options.access_log != "-" else
              {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "access"})
    settings["log_dictconfig"] = {
        "formatters": {"generic": {"()": "logging.Formatter", "fmt": _LOG_FORMAT},
                       "access": {"()": "logging.Formatter", "fmt": "%(message)s"}},
        "handlers": {"access": access, "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                                   "formatter": "generic"}}}
    if options.certfile:
        settings.update(ssl_cert=Path(options.certfile), ssl_key=Path(options.keyfile or ""),
                        ssl_protocol_min=SSLProtocols.tls12)
    return settings


def _serve_granian(factory: Callable[[], Any], options: ServeOptions, name: str) -> None:
    from granian.server import Server  # here: only serving needs granian, never an app or a test

    factory()  # in the master: bad settings fail here, clearly, and files exist before the workers start

    def load(_target: str) -> Any:  # in each worker, after the fork: its own app, its own background work
        app = factory()
        start_worker_tasks(app)
        return app

    Server(**granian_settings(options, name)).serve(target_loader=load)
