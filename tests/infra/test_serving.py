"""Production serving (issue 10, E): the real ``microcred … serve`` processes on the default server (granian).

Each test starts the service as an operator would, on a free loopback port:
background work runs in the workers after the fork and never in the server's
master (no thread beyond the server's own), several wallet workers share one SQLite
database and one session secret, a foreign ``Host`` gets 400 from the real
server, TLS and ``--dev`` serve, and SIGTERM stops gracefully (exit 0).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.waiting import wait_for

_START_S = 60.0


# ------------------------------------------------------------------ helpers


class Served:
    """A ``python -m microcred … serve`` process (its own process group), logging to a file."""

    def __init__(self, arguments: list[str], env: dict[str, str], log_path: Path, url: str):
        self.url = url
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own CLI)
                [sys.executable, "-m", "microcred", *arguments], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, *, host: str | None = None, data: bytes | None = None,
            cookies: bool = False) -> tuple[int, dict, bytes]:
        """One request (redirects followed; with ``cookies``, the cookies they set kept along the way)."""
        request = urllib.request.Request(self.url + path, data=data, headers={"Host": host} if host else {})
        context = ssl._create_unverified_context() if self.url.startswith("https:") else None  # noqa: S323
        handlers = [urllib.request.HTTPSHandler(context=context)] if context else []
        if cookies:
            handlers.append(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        try:
            with urllib.request.build_opener(*handlers).open(request, timeout=10) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def wait_answering(self) -> None:
        def answering() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"the service exited with {self.process.returncode} while starting:\n{self.log()[-3000:]}")
            try:
                return self.get("/healthz")[0] == 200
            except OSError:
                return False

        wait_for(answering, within=_START_S, step=0.1,
                 what=lambda: f"the service to answer /healthz; its log:\n{self.log()[-3000:]}")

    def workers(self) -> list[int]:
        return [pid for pid in _pids() if _stat(pid)[1] == self.process.pid]

    def stop(self) -> int:
        """SIGTERM (gunicorn's graceful stop); the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _stat(pid: int) -> tuple[str, int]:
    """(state, parent pid) of a process; ("X", 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return "X", 0
    return fields[0], int(fields[1])


def _threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def _server() -> str:
    """The production server a ``serve`` of these tests runs (``MICROCRED_SERVER``, else the default)."""
    from infra.serving import DEFAULT_SERVER, SERVER_VARIABLE

    return os.environ.get(SERVER_VARIABLE, "").strip().lower() or DEFAULT_SERVER


def _master_threads(workers: int) -> int:
    """The threads of a master that runs no background work: gunicorn's has one; granian's also one per worker,
    each waiting on its worker process."""
    return 1 + (workers if _server() == "granian" else 0)


@pytest.fixture
def serve(tmp_path):
    """``serve(arguments, env, port, scheme="http")`` → a started :class:`Served`; all stopped at teardown."""
    from ledger.devnet import free_port

    started: list[Served] = []

    def start(arguments: list[str], env: dict[str, str], port: int | None = None, *, scheme: str = "http") -> Served:
        port = port or free_port()
        served = Served([*arguments, "--port", str(port)], {**os.environ, **env},
                        tmp_path / f"serve-{len(started)}.log", f"{scheme}://127.0.0.1:{port}")
        started.append(served)
        served.wait_answering()
        return served

    yield start
    for served in started:
        served.stop()


def _ledger_copy(ledger_data_dir: Path, target: Path) -> Path:
    """A data dir of its own that uses the session's deployment (deployment.json, devnet.json)."""
    from ledger.config import DEPLOYMENT_FILE, DEVNET_FILE

    target.mkdir(parents=True, exist_ok=True)
    for name in (DEPLOYMENT_FILE, DEVNET_FILE):
        (target / name).write_bytes((ledger_data_dir / name).read_bytes())
    return target


# ------------------------------------------------------------------ issuer: anchor retry in a worker


@pytest.mark.integration
def test_issuer_serve_retries_pending_anchors_in_a_worker_never_in_the_master(
        serve, tmp_path, ledger_data_dir, ledger, anvil, chain, root_account, new_account, unique_did):
    from credentials.jose import PrivateKey, json_dumps
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from issuer.archive import Archive
    from issuer.batch import BatchDefaults, parse_json
    from issuer.identity import create_issuer
    from issuer.ledger_link import LedgerStatusAnchor
    from issuer.service import IssuerService
    from ledger.artifacts import Role
    from ledger.devnet import free_port
    from ledger.keys import DEVNET_FUNDING_WEI

    data_dir = _ledger_copy(ledger_data_dir, tmp_path / "var")
    port = free_port()
    home = create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT",
                         base_url=f"http://127.0.0.1:{port}")
    env = {"MICROCRED_DATA_DIR": str(data_dir), "MICROCRED_RPC_URL": anvil.url, "MICROCRED_CONFIRMATIONS": "0"}

    # Issued before the issuer is accredited: the anchor is refused and stays pending.
    row = {"title": "Serving in production", "ects": 2, "eqf_level": 6, "qf_ehea_cycle": "first",
           "learning_outcomes": ["Run gunicorn"],
           "assessment_type": "Project", "participation": "online", "quality_assurance": "Internal QA",
           "learner": {"given_name": "Ada", "family_name": "Serve", "birth_date": "2000-01-01", "student_id": "S-1"},
           "holder_jwk": PrivateKey.generate("ES256").public_key().to_jwk()}
    archive = Archive(home.archive_path)
    service = IssuerService(home.identity, archive, home.signing_key(), anchor=LedgerStatusAnchor(home))
    defaults = BatchDefaults(home.identity.country, home.identity.awarding_body(), "2026-05-01")
    result = service.issue_batch(parse_json(json_dumps([row]), defaults), now=int(time.time()))
    archive.close()
    assert not any(outcome.anchored for outcome in result.anchors)

    served = serve(["issuer", "--issuer", "uni", "serve", "--workers", "2"],
                   {**env, "MICROCRED_ANCHOR_RETRY_SECONDS": "0.3"}, port)
    assert served.get("/healthz", host="evil.example")[0] == 400
    assert served.get("/.well-known/openid-credential-issuer")[0] == 200

    now = chain.block_timestamp()
    tao, tao_account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name="Agenzia di prova", country="IT", valid_from=now - 3600, valid_until=None,
                          controller=tao_account.address)
    ledger.trust.accredit(tao, home.identity.did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name=home.identity.legal_name, country="IT", valid_from=now - 60, valid_until=None,
                          controller=home.identity.controller_address, account=tao_account)
    chain.transfer(root_account, home.identity.controller_address, DEVNET_FUNDING_WEI)

    def anchored() -> bool:
        check = Archive(home.archive_path)
        try:
            return not any(record.anchor_pending for record in check.status_lists())
        finally:
            check.close()

    wait_for(anchored, within=30, what="the served issuer to anchor the pending list by itself")
    list_id = result.anchors[0].list_id
    assert [event.version for event in ledger.status.anchor_events(home.identity.did, list_id)] == [1]
    assert _threads(served.process.pid) == _master_threads(2), "the master must not run the retry thread"
    wait_for(lambda: len(served.workers()) == 2, within=30, what="two issuer workers")
    assert served.stop() == 0


# ------------------------------------------------------------------ verifier: the chain watcher per worker


@pytest.mark.integration
def test_verifier_serve_watches_the_chain_in_its_workers(serve, ledger_data_dir, anvil, chain):
    from ledger.devnet import free_port

    port = free_port()
    served = serve(["verifier", "serve", "--workers", "2"],
                   {"MICROCRED_DATA_DIR": str(ledger_data_dir), "MICROCRED_RPC_URL": anvil.url,
                    "MICROCRED_VERIFIER_PUBLIC_URL": ""}, port)
    chain.w3.provider.make_request("evm_mine", [])
    target = chain.w3.eth.block_number

    def head() -> int:
        return json.loads(served.get("/healthz")[2]).get("ledger_head") or -1

    # No verification is ever asked for: only the watchers started after the fork can move the head.
    wait_for(lambda: all(head() >= target for _ in range(6)), within=30,
             what=f"every answering verifier worker to have processed block {target}")
    assert _threads(served.process.pid) == _master_threads(2), "the master must not run the watcher"

    # The real server refuses a foreign Host, and builds the OpenID4VP response_uri from its public URL.
    assert served.get("/openid4vp/new", host="evil.example", data=b"claim=title")[0] == 400
    status, _, page = served.get("/openid4vp/new", data=b"claim=title", cookies=True)
    assert status == 200
    assert f"http://127.0.0.1:{port}/openid4vp/request/".encode() in page.replace(b"%3A", b":") \
        .replace(b"%2F", b"/")
    assert served.stop() == 0


# ------------------------------------------------------------------ wallet: several workers, one database


def test_wallet_workers_share_the_database_and_sessions(serve, tmp_path):
    import requests

    data_dir = tmp_path / "wallet"
    served = serve(["wallet", "serve", "--workers", "3", "--data-dir", str(data_dir)], {"MICROCRED_PUBLIC_URL": ""})
    wait_for(lambda: len(served.workers()) == 3, within=30, what="three wallet workers")
    session = requests.Session()
    page = session.get(f"{served.url}/auth/signup", timeout=10)
    csrf = dict(_hidden_fields(page.text))
    signed_up = session.post(f"{served.url}/auth/signup", timeout=10, allow_redirects=False, data={
        **csrf, "username": "ada", "password": "correct horse battery staple",
        "password_again": "correct horse battery staple"})
    assert signed_up.status_code == 302, signed_up.text[:300]
    # Whichever worker answers, the session (signed with the one secret, kept in the one database) holds.
    answers = [session.get(f"{served.url}/credentials", timeout=10, allow_redirects=False).status_code
               for _ in range(30)]
    assert answers == [200] * 30
    assert served.get("/auth/signin", host="evil.example")[0] == 400
    assert served.stop() == 0


def _hidden_fields(html: str) -> list[tuple[str, str]]:
    import re
    from html import unescape

    return [(name, unescape(value)) for name, value in
            re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html)]


def test_wallet_serves_tls_with_certfile_and_keyfile(serve, tmp_path):
    from microcred.tls import ensure_certificate

    cert, key = ensure_certificate(tmp_path / "tls", "127.0.0.1")
    served = serve(["wallet", "serve", "--workers", "1", "--data-dir", str(tmp_path / "wallet"),
                    "--certfile", str(cert), "--keyfile", str(key)], {"MICROCRED_PUBLIC_URL": ""}, scheme="https")
    status, headers, _ = served.get("/healthz")
    assert status == 200
    assert {k.lower(): v for k, v in headers.items()}["server"].startswith(_server())


def test_dev_flag_serves_with_flasks_development_server(serve, tmp_path):
    served = serve(["wallet", "serve", "--dev", "--data-dir", str(tmp_path / "wallet")], {"MICROCRED_PUBLIC_URL": ""})
    status, headers, _ = served.get("/healthz")
    assert status == 200
    assert headers["Server"].startswith("Werkzeug")
    assert served.get("/healthz", host="evil.example")[0] == 400


def test_a_wildcard_bind_without_a_public_url_is_a_usage_error(tmp_path):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "microcred", "wallet", "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "MICROCRED_PUBLIC_URL": ""})
    assert result.returncode == 2, result.stderr
    assert "MICROCRED_PUBLIC_URL" in result.stderr, result.stderr


@pytest.mark.parametrize(("service", "variable", "value"), [
    ("wallet", "MICROCRED_SESSION_IDLE_TIMEOUT", "soon"),
    ("verifier", "MICROCRED_DEV_LOOPBACK", "ture"),
])
def test_a_bad_setting_stops_serve_with_one_line_naming_it(tmp_path, service, variable, value):
    """The README's own examples of a bad value: one line naming the variable, no traceback.

    Before: `wallet serve` and `verifier serve` let the ConfigurationError out as a traceback
    (the issuer's command caught it).
    """
    from ledger.devnet import free_port

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "microcred", service, "serve", "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "MICROCRED_DATA_DIR": str(tmp_path), variable: value})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Error: {variable}: expected" in result.stderr


# ------------------------------------------------------------------ the pieces


def test_gunicorn_never_trusts_forwarded_headers_itself_and_has_no_control_socket():
    from infra.serving import ServeOptions, gunicorn_settings

    settings = gunicorn_settings(ServeOptions(port=8080, workers=3), "wallet")
    assert settings["forwarded_allow_ips"] == ""
    assert settings["secure_scheme_headers"] == {}
    assert settings["control_socket_disable"] is True
    assert settings["preload_app"] is False
    assert settings["bind"] == ["127.0.0.1:8080"]
    assert "accesslog" not in settings
    assert gunicorn_settings(ServeOptions(host="::1", port=1, access_log="-"), "x")["bind"] == ["[::1]:1"]


def test_machine_lock_is_held_by_one_process_until_it_exits(tmp_path):
    from infra.serving import MachineLock

    path = tmp_path / "job.lock"
    holder = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "import sys; from infra.serving import MachineLock; "
         f"print(MachineLock({str(path)!r}).acquire(), flush=True); sys.stdin.read()"],  # holds it until killed
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "True"
        assert MachineLock(path).acquire() is False  # another process holds it
    finally:
        holder.kill()
        holder.wait()
    assert MachineLock(path).acquire() is True  # taken over once the holder is gone


def _migrate_at(path: str, barrier) -> str:
    from wallet.db import migrate, open_database

    barrier.wait(timeout=30)
    db = open_database(path)
    try:
        return str(migrate(db))
    except Exception as exc:  # noqa: BLE001 (reported to the parent)
        return f"{type(exc).__name__}: {exc}"
    finally:
        db.close()


def test_wallet_workers_starting_together_migrate_one_fresh_database_once(tmp_path):
    """gunicorn workers (or two wallets on one data dir) open a fresh database at the same moment."""
    import multiprocessing

    from wallet.db import MIGRATIONS

    context = multiprocessing.get_context("spawn")
    for attempt in range(3):
        path = str(tmp_path / f"wallet-{attempt}.sqlite3")
        barrier = context.Manager().Barrier(6)
        with context.Pool(6) as pool:
            outcomes = pool.starmap(_migrate_at, [(path, barrier)] * 6)
        assert outcomes == [str(len(MIGRATIONS))] * 6, outcomes


@pytest.mark.parametrize("service", ["wallet", "verifier"])
@pytest.mark.parametrize("workers", ["0", "65"])
def test_every_serve_command_checks_the_range_of_workers_alike(tmp_path, service, workers):
    """`verifier serve --workers 65` started 65 workers (0 was a different message): all say the same now.

    Found by a newcomer: the wallet and issuer checked `--workers` with click's range (1..64), the verifier not.
    """
    from click.testing import CliRunner

    from microcred.cli import main

    result = CliRunner().invoke(main, [service, "serve", "--workers", workers],
                                env={"MICROCRED_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--workers': {workers} is not in the range 1<=x<=64." in result.output


def test_a_bad_setting_is_reported_before_any_banner(tmp_path):
    """`wallet serve` printed 'wallet: http://… (public URL …)' and then failed on a bad MICROCRED_* value.

    Found by a newcomer's walk: the settings are checked first; the output is the one error line.
    """
    from ledger.devnet import free_port

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "microcred", "wallet", "serve", "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_SESSION_IDLE_TIMEOUT": "soon"})
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Error: MICROCRED_SESSION_IDLE_TIMEOUT: expected")
