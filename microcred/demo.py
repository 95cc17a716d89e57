"""``microcred demo``: the whole system on this machine, in one command.

Starts (or reuses) the Anvil devnet, deploys the contracts, sets up the trust
chain ministry → quality assurance agency → two universities, gives the demo
learner a wallet account holding micro-credentials from both (and, in
``var/demo-imports/``, a sealed Europass EDC and an Open Badge to import:
:mod:`microcred.demo_imports`), gives the verifier an access certificate of
"Demo Employer GmbH" from a demo access CA the wallet trusts (OpenID4VP
``x509_hash``, :mod:`microcred.demo_access`), and serves the two issuers, the wallet and
the verifier until Ctrl-C, each on the production server (``microcred …
serve``: granian, :mod:`infra.serving`) in its own process, with its public
URL set. State stays in ``var/``
(``MICROCRED_DATA_DIR``) for the next run, which reuses it; each service logs
to ``var/logs/``.

``--fresh`` starts over (:mod:`microcred.demo_state`); a port taken by a
running demo is reported as such. ``--lan`` serves on the machine's LAN address over HTTPS with a certificate
made on first run, so a phone on the same network can open the wallet and
use its camera. ``--story`` only tells the credential story in the terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import segno

from infra.errors import ServiceFailed
from infra.fetch import FetchPolicy, StrictFetcher
from infra.serving import HEALTH_PATH
from infra.settings import default_data_dir
from issuer.identity import list_issuers
from ledger.devnet import Devnet
from microcred.demo_access import ACCESS_CA_NAME, VERIFIER_ORGANIZATION, ensure_access_pki
from microcred.demo_imports import BADGE_FILE, EDC_FILE, IMPORTS_DIR, SEAL_ORGANIZATION
from microcred.demo_state import (
    ENV_MAKE_STARTED,
    MARKER_FILE,
    forget_running,
    mark_demo_dir,
    port_problem,
    record_running,
    reset,
    timing_line,
)
from microcred.story import tell_story
from microcred.system import (
    LEARNER,
    UNIVERSITIES,
    DemoSystem,
    demo_issuer_ports,
    issue_to_learner,
    issuer_port,
    prepare,
)
from microcred.tls import certificate_fingerprint, ensure_certificate, lan_address
from wallet import create_app as wallet_app
from wallet.freshness import close_app

__all__ = ["demo", "start_system", "RunningSystem", "ServiceFailed"]

#: How long a service may take to answer after it was started (a shared machine can be slow).
START_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 20.0


@dataclass
class _Served:
    """One service, run by ``python -m microcred … serve`` (the production server) in its own process group."""

    label: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def exited(self) -> int | None:
        return self.process.poll()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _spawn(label: str, url: str, arguments: list[str], env: dict[str, str], log_dir: Path) -> _Served:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{label.split()[-1]}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (this interpreter running our own CLI)
            [sys.executable, "-m", "microcred", *arguments], stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return _Served(label, url, process, log_path)


def _health(url: str, ca_file: str | None = None, timeout: float = 2.0) -> dict:
    """GET ``url``/healthz through the strict fetcher: the demo's own services, on this machine (or its LAN
    address with ``--lan``), over TLS checked against the demo's certificate when it serves one."""
    fetcher = StrictFetcher(FetchPolicy(allow_http=True, allow_loopback=True, allow_private=True, ca_file=ca_file,
                                        timeout=timeout))
    answer = fetcher.get(url.rstrip("/") + HEALTH_PATH, accept="application/json", what="health check")
    return json.loads(answer.body)


def _wait_answering(services: list[_Served], ca_file: str | None, within: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + within
    waiting = list(services)
    while waiting:
        for item in list(waiting):
            if item.exited() is not None:
                raise ServiceFailed(f"the {item.label} exited with {item.exited()} while starting; "
                                    f"its log {item.log_path} ends:\n{item.log_tail()}")
            try:
                if _health(item.url, ca_file).get("status") == "ok":
                    waiting.remove(item)
            except (OSError, ValueError):
                continue  # not answering (or not yet healthy): asked again on the next round, until the deadline
        if waiting and time.monotonic() > deadline:
            raise ServiceFailed(f"the {waiting[0].label} did not answer within {within:.0f} s; "
                                f"its log {waiting[0].log_path} ends:\n{waiting[0].log_tail()}")
        if waiting:
            time.sleep(0.1)


@dataclass
class RunningSystem:
    """The served demo: one process group per service, their URLs and the ledger state they share."""

    system: DemoSystem
    served: list[_Served]
    wallet_url: str
    verifier_url: str
    issuer_urls: dict[str, str]
    log_dir: Path | None = None
    ca_file: str | None = None  # the demo's own certificate when it serves TLS
    _stopped: bool = field(default=False, repr=False)

    def verifier_health(self) -> dict:
        """The verifier's ``/healthz`` (``ledger_head``: the block the answering worker has processed)."""
        return _health(self.verifier_url, self.ca_file)

    def exited(self) -> _Served | None:
        """A service that stopped by itself, if any."""
        return next((item for item in self.served if item.exited() is not None), None)

    def stop(self) -> None:
        """SIGTERM every service (its server stops gracefully), then SIGKILL what is left of its process group."""
        for item in reversed(self.served):
            if item.exited() is None:
                item.process.terminate()
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        for item in reversed(self.served):
            with contextlib.suppress(subprocess.TimeoutExpired):
                item.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(item.process.pid, signal.SIGKILL)  # workers of a master that did not stop
            if item.process.poll() is None:
                item.process.wait(timeout=5)
        self.served.clear()
        if self.system.started_devnet and not self._stopped:
            Devnet(self.system.data_dir).stop()
        self._stopped = True


def start_system(data_dir: Path, *, host: str = "127.0.0.1", wallet_port: int, verifier_port: int,
                 issuer_ports: dict[str, int] | None = None, certificate: tuple[Path, Path] | None = None,
                 say=lambda line: None) -> RunningSystem:
    """Prepare ``data_dir`` (:mod:`microcred.system`), serve every app (infra.serving), give the learner credentials.

    Each service is ``python -m microcred … serve`` in its own process group,
    logging to ``data_dir/logs/``, with its public URL set; the call returns
    once every one answers ``/healthz``. ``certificate`` (cert, key) serves
    wallet and verifier over HTTPS on ``host``. Sets ``MICROCRED_DATA_DIR`` to
    ``data_dir`` for this process too: the ledger clients read it.
    """
    os.environ["MICROCRED_DATA_DIR"] = str(data_dir)
    system = prepare(data_dir, say=say, issuer_ports=issuer_ports)
    # The verifier names itself by an access certificate (x509_hash) that the demo wallet can validate.
    access, made = ensure_access_pki(data_dir, host, now=int(time.time()))
    if made:
        say(f"verifier access PKI: made the {ACCESS_CA_NAME} and the certificate of {VERIFIER_ORGANIZATION[0]} "
            f"for {host} in {access.directory}")
    scheme = "https" if certificate else "http"
    tls_flags = ["--certfile", str(certificate[0]), "--keyfile", str(certificate[1])] if certificate else []
    log_dir = data_dir / "logs"
    # Development: the services fetch from each other on this machine (issuers' status lists over http on
    # loopback), which the strict fetcher allows only with MICROCRED_DEV_LOOPBACK; on a LAN, also from the
    # LAN address, trusting the demo's own certificate.
    base_env = {**os.environ, "MICROCRED_DATA_DIR": str(data_dir), "MICROCRED_DEV_LOOPBACK": "1"}
    if host != "127.0.0.1":
        base_env["MICROCRED_FETCH_ALLOW_PRIVATE"] = "1"
    if certificate:
        base_env["MICROCRED_FETCH_CA_FILE"] = str(certificate[0])
    # The wallet and the verifier trust the demo seal CA, so the sealed EDC of var/demo-imports verifies.
    anchors = {"MICROCRED_X509_TRUST_ANCHORS": str(system.pki.anchors_path)} if system.pki else {}
    served: list[_Served] = []
    running = RunningSystem(system, served, "", "", {}, log_dir, str(certificate[0]) if certificate else None)
    try:
        issuer_urls = {}
        for university in UNIVERSITIES:
            port = issuer_port(data_dir, university.name)
            url = f"http://127.0.0.1:{port}"
            served.append(_spawn(f"issuer {university.name}", url,
                                 ["issuer", "--issuer", university.name, "serve", "--port", str(port)],
                                 base_env, log_dir))
            issuer_urls[university.name] = url
        verifier_url = f"{scheme}://{host}:{verifier_port}"
        served.append(_spawn("verifier", verifier_url,
                             ["verifier", "serve", "--host", host, "--port", str(verifier_port), *tls_flags],
                             {**base_env, **anchors, **access.verifier_env(),
                              "MICROCRED_VERIFIER_PUBLIC_URL": verifier_url},
                             log_dir))
        wallet_url = f"{scheme}://{host}:{wallet_port}"
        wallet_env = {**base_env, **anchors, **access.wallet_env(), "MICROCRED_PUBLIC_URL": wallet_url,
                      "MICROCRED_SESSION_COOKIE_SECURE": "true" if certificate else "false"}
        served.append(_spawn("wallet", wallet_url, ["wallet", "serve", "--host", host, "--port", str(wallet_port),
                                                     "--data-dir", str(data_dir), *tls_flags], wallet_env, log_dir))
        running.wallet_url, running.verifier_url, running.issuer_urls = wallet_url, verifier_url, issuer_urls
        _wait_answering(served, running.ca_file)
        say(f"served: {len(served)} services on the production server (logs in {log_dir})")
        _issue_with_wallet_check(data_dir, system.learner_account, wallet_url, say)
    except BaseException:
        running.stop()
        raise
    return running


def _issue_with_wallet_check(data_dir: Path, account: int, wallet_url: str, say) -> None:
    """Issue to the learner with the wallet's own import check (the chain of ``data_dir``), built as the served
    wallet builds it, and closed afterwards: its ledger view stops watching the chain."""
    app = wallet_app({"DATA_DIR": str(data_dir), "PUBLIC_URL": wallet_url, "DEV_LOOPBACK": True})
    try:
        issue_to_learner(data_dir, account, app.config["TRUST_CHECK"], say=say)
    finally:
        close_app(app)


def _issuer_ports(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    """``--issuer-ports A,B``: two different ports, one per demo issuer."""
    if value is None:
        return None
    parts = [part.strip() for part in value.split(",")]
    ports = tuple(int(part) for part in parts if part.isdigit() and 1 <= int(part) <= 65535)
    if len(parts) != len(UNIVERSITIES) or len(ports) != len(parts) or len(set(ports)) != len(ports):
        raise click.BadParameter(f"expected two different ports separated by a comma (e.g. 6010,6011), found "
                                 f"{value[:40]!r}", ctx, param)
    return ports


@click.command()
@click.option("--lan", is_flag=True, help="Serve on this machine's LAN address over HTTPS, for a phone.")
@click.option("--wallet-port", default=5020, show_default=True, envvar="MICROCRED_DEMO_WALLET_PORT",
              type=click.IntRange(1, 65535), help="Port of the wallet (env MICROCRED_DEMO_WALLET_PORT).")
@click.option("--verifier-port", default=5030, show_default=True, envvar="MICROCRED_DEMO_VERIFIER_PORT",
              type=click.IntRange(1, 65535), help="Port of the verifier (env MICROCRED_DEMO_VERIFIER_PORT).")
@click.option("--issuer-ports", default=None, envvar="MICROCRED_DEMO_ISSUER_PORTS", callback=_issuer_ports,
              metavar="A,B", help="Ports of the two issuers when they are made (env MICROCRED_DEMO_ISSUER_PORTS; "
                                  "default 5010,5011). Their status list URLs carry them: later runs keep them "
                                  "(--fresh makes them anew).")
@click.option("--story", is_flag=True, help="Only tell the credential story in the terminal (no chain, no servers).")
@click.option("--fresh", is_flag=True,
              help="Start over: stop the devnet and remove the state of earlier runs (revocations, shares, the "
                   "wallet) from the data dir; the LAN certificate is kept. Without it, a run reuses that state.")
def demo(lan: bool, wallet_port: int, verifier_port: int, issuer_ports: tuple[int, ...] | None, story: bool,
         fresh: bool) -> None:
    """Run two issuers, a wallet and a verifier on a local chain, until Ctrl-C.

    State is kept in the data dir (./var) for the next run, revocations included;
    --fresh starts over.
    """
    if story:
        tell_story()
        return
    started = time.time()  # the clock of make's `date +%s` (MICROCRED_DEMO_MAKE_STARTED)
    data_dir = default_data_dir()
    if fresh:
        try:
            removed = reset(data_dir, lambda: Devnet(data_dir).stop())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"  --fresh: removed the state of earlier runs from {data_dir}" if removed
                   else f"  --fresh: {data_dir} held no earlier state")
    elif (data_dir / MARKER_FILE).exists():
        click.echo(f"  reusing the state of an earlier run in {data_dir} (what was revoked then is still revoked); "
                   "`microcred demo --fresh` starts over")
    host, certificate = "127.0.0.1", None
    if lan:
        host = lan_address() or ""
        if not host:
            raise click.ClickException("no LAN address found for this machine; run without --lan")
        certificate = ensure_certificate(data_dir / "tls", host)

    issuers = demo_issuer_ports(data_dir, issuer_ports)  # fixed once made: their status list URLs carry them
    if issuer_ports is not None and tuple(issuers.values()) != issuer_ports:
        raise click.ClickException(
            f"the demo's issuers were made for ports {', '.join(map(str, issuers.values()))} in {data_dir} (their "
            f"status list URLs carry them): add --fresh to make them anew on "
            f"{', '.join(map(str, issuer_ports))}, or leave out --issuer-ports / MICROCRED_DEMO_ISSUER_PORTS")
    made = bool(set(list_issuers(data_dir)) & set(issuers))
    ports = {f"issuer {name}": (port, "--fresh --issuer-ports" if made else "--issuer-ports",
                                "MICROCRED_DEMO_ISSUER_PORTS") for name, port in issuers.items()}
    ports["wallet"] = (wallet_port, "--wallet-port", "MICROCRED_DEMO_WALLET_PORT")
    ports["verifier"] = (verifier_port, "--verifier-port", "MICROCRED_DEMO_VERIFIER_PORT")
    for bind_host in {"127.0.0.1", host}:
        for label, (port, option, env) in ports.items():
            if _port_taken(bind_host, port):
                choice = option + (f" or the environment variable {env}" if env != "-" and option else "")
                raise click.ClickException(port_problem(data_dir, bind_host, port, label, choice))
    mark_demo_dir(data_dir)

    try:
        running = start_system(data_dir, host=host, wallet_port=wallet_port, verifier_port=verifier_port,
                               issuer_ports=issuers, certificate=certificate,
                               say=lambda line: click.echo(f"  {line}"))
    except ServiceFailed as exc:
        raise click.ClickException(str(exc)) from None
    try:
        record_running(data_dir, {item.label: item.url for item in running.served})
        _announce(running.served, running.wallet_url, running.verifier_url, lan, data_dir,
                  timing_line(started, make_started=os.environ.get(ENV_MAKE_STARTED)))
        failed = _wait_for_interrupt(running)
        if failed is not None:
            raise click.ClickException(f"the {failed.label} stopped by itself (exit code {failed.exited()}); "
                                       f"its log {failed.log_path} ends:\n{failed.log_tail()}")
    finally:
        click.echo("\nstopping…")
        forget_running(data_dir)
        running.stop()
        if running.system.started_devnet:
            click.echo("  stopped the devnet (its state is kept for the next run)")


def _announce(served: list[_Served], wallet_url: str, verifier_url: str, lan: bool, data_dir: Path,
              timing: str) -> None:
    click.secho("\nmicrocred demo is running", bold=True)
    for item in served:
        click.echo(f"  {item.label:<42} {item.url}/")
    click.echo(f"\n  demo sign-in for the wallet: user {LEARNER['username']!r}, password {LEARNER['password']!r}")
    imports = data_dir / IMPORTS_DIR
    click.echo(f"\n  A walk through, in six steps:\n"
               f"  1. Open the wallet {wallet_url}/ and sign in: four micro-credentials from two universities.\n"
               f"  2. Open one, press Share, keep title, ECTS and two learning outcomes, and show the QR code.\n"
               f"  3. Open the verifier {verifier_url}/ in another window and scan the QR (or paste its link):\n"
               f"     verified — signature, holder binding, accreditation chain, not revoked — "
               f"with exactly those claims.\n"
               f"  4. In the registrar page {served[0].url}/registrar/ revoke that credential: "
               f"one anchoring transaction.\n"
               f"  5. Share again and scan again: 'Revoked by' its university. Or start from the verifier's\n"
               f"     'Ask for a credential' page and answer its OpenID4VP QR with the wallet: the wallet\n"
               f"     names the asker {VERIFIER_ORGANIZATION[0]}, certified by the {ACCESS_CA_NAME}.\n"
               f"  6. Import {imports / EDC_FILE} and {imports / BADGE_FILE} in the wallet\n"
               f"     (Add → upload): a Europass EDC sealed by {SEAL_ORGANIZATION[0]} and an Open Badge,\n"
               f"     beside the others with the same Annex I view and ECTS total; share one whole and verify it.")
    if lan:
        cert = data_dir / "tls" / "demo-cert.pem"
        click.echo(f"\n  On the phone: open {wallet_url}/ and accept the self-signed certificate "
                   f"(SHA-256 {certificate_fingerprint(cert)[:23]}…). Scan this to open it:")
        segno.make(f"{wallet_url}/", error="m").terminal(compact=True)
    click.echo(f"\n  {timing}; state in {data_dir}, logs in {data_dir / 'logs'}.\n"
               "  The next run reuses this state (what you revoke stays revoked); `microcred demo --fresh` "
               "(or `make demo FRESH=1`) starts over.\n  Press Ctrl-C to stop everything.")


def _wait_for_interrupt(running: RunningSystem) -> _Served | None:
    """Until Ctrl-C / SIGTERM (None), or until a service stops by itself (that service)."""
    stop = threading.Event()
    # Both set explicitly: a shell starts background jobs with SIGINT ignored.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    while not stop.is_set():
        failed = running.exited()
        if failed is not None:
            return failed
        stop.wait(0.5)
    return None
