"""``microcred wallet …``: serve the wallet web app."""

from __future__ import annotations

import os

import click

__all__ = ["wallet"]

DEFAULT_PORT = 5001


@click.group()
def wallet() -> None:
    """The learner's wallet web app."""


@wallet.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--data-dir", default=None, help="Where the wallet keeps its database and secret [MICROCRED_DATA_DIR or ./var].")
def serve(host: str, port: int, data_dir: str | None) -> None:
    """Serve the wallet on HOST:PORT (plain http: put TLS in front of it beyond this machine)."""
    from wallet import create_app

    config = {"DATA_DIR": data_dir or os.environ.get("MICROCRED_DATA_DIR", "./var")}
    if host in ("127.0.0.1", "localhost", "::1") and "MICROCRED_SESSION_COOKIE_SECURE" not in os.environ:
        config["SESSION_COOKIE_SECURE"] = False  # loopback http: browsers may drop Secure cookies here
    app = create_app(config)
    click.echo(f"wallet: http://{host}:{port}/ (data in {os.path.abspath(config['DATA_DIR'])})")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
