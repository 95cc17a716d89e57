"""``microcred wallet …``: serve the wallet web app (granian; ``--dev`` for Flask's reloader)."""

from __future__ import annotations

import os
from typing import Any

import click

from credentials.errors import ConfigurationError
from infra.serving import default_public_url, options_from_click, serve_options
from infra.serving import serve as run
from infra.settings import default_data_dir
from wallet import create_app

__all__ = ["wallet"]

DEFAULT_PORT = 5001
DEFAULT_WORKERS = 2


@click.group()
def wallet() -> None:
    """The learner's wallet web app."""


@wallet.command()
@serve_options(DEFAULT_PORT)
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (they share the SQLite database: WAL, busy timeout).")
@click.option("--data-dir", default=None,
              help="Where the wallet keeps its database and secret [MICROCRED_DATA_DIR or ./var].")
def serve(host: str, port: int, workers: int, threads: int, timeout: int, access_log: str | None,
          certfile: str | None, keyfile: str | None, dev: bool, data_dir: str | None) -> None:
    """Serve the wallet on HOST:PORT.

    Its public URL (share links, the only host it answers) is
    MICROCRED_PUBLIC_URL, by default the address it binds; without
    --certfile, put TLS in front of it beyond this machine.
    """
    options = options_from_click(host, port, workers, threads, timeout, access_log, certfile, keyfile, dev)
    config: dict[str, Any] = {"DATA_DIR": data_dir or default_data_dir()}
    if not os.environ.get("MICROCRED_PUBLIC_URL"):
        try:
            config["PUBLIC_URL"] = default_public_url(options)
        except ConfigurationError as exc:
            raise click.UsageError(f"{exc} (MICROCRED_PUBLIC_URL)") from None
    if options.scheme == "http" and host in ("127.0.0.1", "localhost", "::1") \
            and "MICROCRED_SESSION_COOKIE_SECURE" not in os.environ:
        config["SESSION_COOKIE_SECURE"] = False  # loopback http: browsers may drop Secure cookies here
    banner = (f"wallet: {options.scheme}://{options.bind}/ (public URL "
              f"{config.get('PUBLIC_URL') or os.environ['MICROCRED_PUBLIC_URL']}; "
              f"data in {os.path.abspath(config['DATA_DIR'])})")
    run(lambda: create_app(config), options, name="wallet", banner=banner)
