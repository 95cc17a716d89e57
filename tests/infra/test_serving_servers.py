"""Each production server of ``MICROCRED_SERVER`` (issue 16 §2: granian, the default, and gunicorn) serves each
of the three apps as ``microcred … serve`` does: ``/healthz``, every security header on pages, API answers and
error pages, a foreign ``Host`` refused, the ``--workers`` asked for, and a clean stop on SIGTERM (exit 0, no
worker left). Speed is measured by bench/http_servers.py, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.infra.test_serving import _ledger_copy, _stat, serve  # noqa: F401 (serve is a fixture)
from tests.waiting import wait_for

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options",
                    "cross-origin-opener-policy", "permissions-policy")
SERVERS = ("granian", "gunicorn")


def _lower(headers: dict) -> dict:
    return {name.lower(): value for name, value in headers.items()}


def _app(name: str, tmp_path, ledger_data_dir, anvil, port: int) -> tuple[list[str], dict[str, str], str]:
    """(arguments, environment, a page of the app) for ``microcred <name> … serve``."""
    if name == "wallet":
        return ["wallet", "serve", "--data-dir", str(tmp_path / "wallet")], {"MICROCRED_PUBLIC_URL": ""}, "/auth/signin"
    data_dir = _ledger_copy(ledger_data_dir, tmp_path / "var")
    env = {"MICROCRED_DATA_DIR": str(data_dir), "MICROCRED_RPC_URL": anvil.url}
    if name == "verifier":
        return ["verifier", "serve"], {**env, "MICROCRED_VERIFIER_PUBLIC_URL": ""}, "/"
    from issuer.identity import create_issuer

    create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT", base_url=f"http://127.0.0.1:{port}")
    return ["issuer", "--issuer", "uni", "serve"], env, "/"


@pytest.mark.integration
@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", ["wallet", "verifier", "issuer"])
def test_each_server_serves_each_app_with_its_headers_and_health_and_stops_cleanly(
        serve, server, name, tmp_path, ledger_data_dir, anvil):  # noqa: F811 (the fixture)
    from ledger.devnet import free_port

    port = free_port()
    arguments, env, page = _app(name, tmp_path, ledger_data_dir, anvil, port)
    served = serve([*arguments, "--workers", "2"], {**env, "MICROCRED_SERVER": server}, port)

    status, headers, body = served.get("/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    assert _lower(headers)["server"].startswith(server)
    assert _lower(headers)["cache-control"] == "no-store"
    for path, expected in (("/healthz", 200), (page, 200), ("/no-such-page", 404)):
        status, headers, _ = served.get(path)
        assert status == expected, path
        missing = [header for header in SECURITY_HEADERS if header not in _lower(headers)]
        assert missing == [], f"{path} under {server} lacks {missing}"
    assert _lower(served.get("/healthz")[1])["x-frame-options"] == "DENY"
    assert served.get("/healthz", host="evil.example")[0] == 400

    wait_for(lambda: len(served.workers()) == 2, within=30, what=f"two {name} workers under {server}")
    workers = served.workers()
    assert served.stop() == 0
    assert [pid for pid in workers if _stat(pid)[0] not in ("X", "Z")] == [], "a worker outlived its master"


def test_an_unknown_server_is_a_usage_error_naming_the_setting(tmp_path):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "microcred", "wallet", "serve", "--data-dir", str(tmp_path)], capture_output=True,
        text=True, timeout=60, env={**os.environ, "MICROCRED_PUBLIC_URL": "", "MICROCRED_SERVER": "bjoern"})
    assert result.returncode == 2, result.stderr
    assert "MICROCRED_SERVER" in result.stderr
    assert "granian, gunicorn" in result.stderr


def test_granian_is_the_default_and_is_given_the_serving_options(tmp_path):
    from granian.constants import Interfaces, SSLProtocols

    from infra.serving import DEFAULT_SERVER, GRACEFUL_TIMEOUT_S, ServeOptions, granian_settings
    from microcred.tls import ensure_certificate

    assert DEFAULT_SERVER == "granian"
    assert ServeOptions().server == "granian"
    settings = granian_settings(ServeOptions(host="::1", port=8080, workers=3, threads=5), "wallet")
    assert (settings["address"], settings["port"], settings["workers"], settings["blocking_threads"]) == \
        ("::1", 8080, 3, 5)
    assert settings["interface"] == Interfaces.WSGI
    assert settings["workers_kill_timeout"] == GRACEFUL_TIMEOUT_S
    assert settings["respawn_failed_workers"] is True
    assert settings["log_access"] is False
    assert "ssl_cert" not in settings
    cert, key = ensure_certificate(tmp_path / "tls", "127.0.0.1")
    tls = granian_settings(ServeOptions(certfile=str(cert), keyfile=str(key), access_log=str(tmp_path / "a.log")), "x")
    assert (tls["ssl_cert"], tls["ssl_key"], tls["ssl_protocol_min"]) == (cert, key, SSLProtocols.tls12)
    assert tls["log_access"] is True
    assert tls["log_dictconfig"]["handlers"]["access"]["filename"] == str(tmp_path / "a.log")


@pytest.mark.parametrize("server", SERVERS)
def test_each_server_writes_the_access_log_asked_for(serve, server, tmp_path):  # noqa: F811 (the fixture)
    log = tmp_path / "access.log"
    served = serve(["wallet", "serve", "--workers", "1", "--data-dir", str(tmp_path / "wallet"), "--access-log",
                    str(log)], {"MICROCRED_PUBLIC_URL": "", "MICROCRED_SERVER": server})
    assert served.get("/healthz?probe=access-log")[0] == 200
    assert served.stop() == 0
    assert "/healthz" in log.read_text()
