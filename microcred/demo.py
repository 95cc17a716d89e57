"""``microcred demo``: the whole system on this machine, in one command.

Starts (or reuses) the Anvil devnet, deploys the contracts, sets up the trust
chain ministry → quality assurance agency → two universities, gives the demo
learner a wallet account holding micro-credentials from both, and serves the
two issuers, the wallet and the verifier until Ctrl-C. State stays in
``var/`` (``MICROCRED_DATA_DIR``) for the next run, which reuses it.

``--lan`` serves on the machine's LAN address over HTTPS with a certificate
made on first run, so a phone on the same network can open the wallet and
use its camera. ``--story`` only tells the credential story in the terminal.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import click

from microcred.story import tell_story
from microcred.system import LEARNER, UNIVERSITIES, DemoSystem, issue_to_learner, issuer_port, prepare

__all__ = ["demo", "start_system", "RunningSystem"]

@dataclass
class _Served:
    label: str
    url: str
    server: object
    thread: threading.Thread


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _serve(label: str, app, host: str, port: int, scheme: str, tls: ssl.SSLContext | None) -> _Served:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # keep the walk-through readable
    server = make_server(host, port, app, threaded=True, ssl_context=tls)
    thread = threading.Thread(target=server.serve_forever, name=f"serve-{label}", daemon=True)
    thread.start()
    return _Served(label, f"{scheme}://{host}:{port}/", server, thread)


@dataclass
class RunningSystem:
    """The served demo: its servers, URLs and the ledger state they share."""

    system: DemoSystem
    served: list[_Served]
    wallet_url: str
    verifier_url: str
    issuer_urls: dict[str, str]
    verifier_app: object
    wallet_app: object

    def stop(self) -> None:
        for item in reversed(self.served):
            item.server.shutdown()
            item.server.server_close()
        self.served.clear()
        if self.system.started_devnet:
            from ledger.devnet import Devnet

            Devnet(self.system.data_dir).stop()


def start_system(data_dir: Path, *, host: str = "127.0.0.1", wallet_port: int, verifier_port: int,
                 issuer_ports: dict[str, int] | None = None, tls: ssl.SSLContext | None = None,
                 say=lambda line: None) -> RunningSystem:
    """Prepare ``data_dir`` (see :mod:`microcred.system`), serve every app, and give the learner credentials.

    Sets ``MICROCRED_DATA_DIR`` to ``data_dir`` for this process: the apps and
    the ledger clients read it.
    """
    os.environ["MICROCRED_DATA_DIR"] = str(data_dir)
    system = prepare(data_dir, say=say, issuer_ports=issuer_ports)
    scheme = "https" if tls else "http"
    served: list[_Served] = []
    try:
        from issuer.web import create_app as issuer_app
        from verifier import create_app as verifier_app
        from wallet import create_app as wallet_app

        issuer_urls = {}
        for university in UNIVERSITIES:
            app = issuer_app({"DATA_DIR": str(data_dir), "ISSUER": university.name})
            item = _serve(university.legal_name, app, "127.0.0.1", issuer_port(data_dir, university.name), "http", None)
            served.append(item)
            issuer_urls[university.name] = item.url.rstrip("/")
        # Development: the services fetch from each other on this machine (the issuers' status lists over
        # http on loopback), which the strict fetcher allows only with DEV_LOOPBACK; on a LAN, also from the
        # LAN address, trusting the demo's own certificate.
        fetching = {"DEV_LOOPBACK": True, "FETCH_ALLOW_PRIVATE": host != "127.0.0.1",
                    "FETCH_CA_FILE": str(data_dir / "tls" / "demo-cert.pem") if tls else None}
        verifier_url = f"{scheme}://{host}:{verifier_port}"
        verifier = verifier_app({
            "DATA_DIR": str(data_dir),
            "VERIFIER_PUBLIC_URL": verifier_url,
            **fetching,
        })
        served.append(_serve("verifier", verifier, host, verifier_port, scheme, tls))
        wallet_url = f"{scheme}://{host}:{wallet_port}"
        wallet = wallet_app({
            "DATA_DIR": str(data_dir),
            "PUBLIC_URL": wallet_url,
            "SESSION_COOKIE_SECURE": tls is not None,
            **fetching,
        })
        served.append(_serve("wallet", wallet, host, wallet_port, scheme, tls))
        issue_to_learner(data_dir, system.learner_account, wallet.config["TRUST_CHECK"], say=say)
    except BaseException:
        RunningSystem(system, served, "", "", {}, None, None).stop()
        raise
    return RunningSystem(system, served, wallet_url, verifier_url, issuer_urls, verifier, wallet)


@click.command()
@click.option("--lan", is_flag=True, help="Serve on this machine's LAN address over HTTPS, for a phone.")
@click.option("--wallet-port", default=5020, show_default=True, envvar="MICROCRED_DEMO_WALLET_PORT",
              type=click.IntRange(1, 65535), help="Port of the wallet (env MICROCRED_DEMO_WALLET_PORT).")
@click.option("--verifier-port", default=5030, show_default=True, envvar="MICROCRED_DEMO_VERIFIER_PORT",
              type=click.IntRange(1, 65535), help="Port of the verifier (env MICROCRED_DEMO_VERIFIER_PORT).")
@click.option("--story", is_flag=True, help="Only tell the credential story in the terminal (no chain, no servers).")
def demo(lan: bool, wallet_port: int, verifier_port: int, story: bool) -> None:
    """Run issuers, wallet and verifier on a local chain, until Ctrl-C."""
    if story:
        tell_story()
        return
    started = time.monotonic()
    data_dir = Path(os.environ.get("MICROCRED_DATA_DIR") or "var").resolve()
    host, tls = "127.0.0.1", None
    if lan:
        from microcred.tls import ensure_certificate, lan_address

        host = lan_address() or ""
        if not host:
            raise click.ClickException("no LAN address found for this machine; run without --lan")
        cert, key = ensure_certificate(data_dir / "tls", host)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)

    ports = {f"issuer {u.name}": (u.port, "the issuer's --url at `microcred issuer init`", "-") for u in UNIVERSITIES}
    ports["wallet"] = (wallet_port, "--wallet-port", "MICROCRED_DEMO_WALLET_PORT")
    ports["verifier"] = (verifier_port, "--verifier-port", "MICROCRED_DEMO_VERIFIER_PORT")
    for bind_host in {"127.0.0.1", host}:
        for label, (port, option, env) in ports.items():
            if _port_taken(bind_host, port):
                raise click.ClickException(
                    f"port {port} on {bind_host} ({label}) is taken; choose another with {option}"
                    + (f" or the environment variable {env}" if env != "-" else "")
                )

    running = start_system(data_dir, host=host, wallet_port=wallet_port, verifier_port=verifier_port, tls=tls,
                           say=lambda line: click.echo(f"  {line}"))
    try:
        _announce(running.served, running.wallet_url, running.verifier_url, lan, data_dir, time.monotonic() - started)
        _wait_for_interrupt()
    finally:
        click.echo("\nstopping…")
        running.stop()
        if running.system.started_devnet:
            click.echo("  stopped the devnet (its state is kept for the next run)")


def _announce(served: list[_Served], wallet_url: str, verifier_url: str, lan: bool, data_dir: Path, took: float) -> None:
    click.secho("\nmicrocred demo is running", bold=True)
    for item in served:
        click.echo(f"  {item.label:<42} {item.url}")
    click.echo(f"\n  demo sign-in for the wallet: user {LEARNER['username']!r}, password {LEARNER['password']!r}")
    click.echo(f"\n  A walk through, in five steps:\n"
               f"  1. Open the wallet {wallet_url}/ and sign in: four micro-credentials from two universities.\n"
               f"  2. Open one, press Share, keep title, ECTS and two learning outcomes, and show the QR code.\n"
               f"  3. Open the verifier {verifier_url}/ in another window and scan the QR (or paste its link):\n"
               f"     verified — signature, holder binding, accreditation chain, not revoked — with exactly those claims.\n"
               f"  4. In the registrar page of {served[0].url} revoke that credential: one anchoring transaction.\n"
               f"  5. Share again and scan again: not verified, revoked. Or start from the verifier's\n"
               f"     'Ask for a credential' page and answer its OpenID4VP QR with the wallet.")
    if lan:
        from microcred.tls import certificate_fingerprint

        cert = data_dir / "tls" / "demo-cert.pem"
        click.echo(f"\n  On the phone: open {wallet_url}/ and accept the self-signed certificate "
                   f"(SHA-256 {certificate_fingerprint(cert)[:23]}…). Scan this to open it:")
        import segno

        segno.make(f"{wallet_url}/", error="m").terminal(compact=True)
    click.echo(f"\n  ready in {took:.1f} s; state in {data_dir}. Press Ctrl-C to stop everything.")


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    # Both set explicitly: a shell starts background jobs with SIGINT ignored.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
