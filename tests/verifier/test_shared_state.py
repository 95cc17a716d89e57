"""Two verifier instances share replay records, OpenID4VP transactions and rate limits (issue 10, F).

``pair`` starts two real verifier servers (Werkzeug's, each in a thread, each
its own app and store object) on different loopback ports, sharing either a
real ``redis-server`` (each instance with its own data dir, so nothing is
shared but Redis) or one SQLite store file in a common data dir. Last, one
``microcred verifier serve --workers 2`` (gunicorn) on the SQLite store.
Before the store, each process had its own replay cache and its own pending
requests: a replay on the other worker passed, and an answer through the other
worker was "unknown state".
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from tests.verifier.openid4vp_wallet import fetch_request, post_answer, request_text
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

HTTP_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _data_dir(ledger_data_dir: Path, target: Path) -> Path:
    """A data dir of its own, with the session deployment in it."""
    target.mkdir(parents=True)
    for name in ("deployment.json", "devnet.json"):
        shutil.copy(ledger_data_dir / name, target / name)
    return target


@dataclass
class Instance:
    base: str
    app: object
    server: object

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.base + path, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.base + path, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs)

    def verify(self, presentation: str) -> dict:
        return self.post("/api/v1/verify", data=presentation.encode(), headers={"Content-Type": "text/plain"}).json()


@pytest.fixture(params=["redis", "sqlite"])
def pair(request, tmp_path, ledger_data_dir, anvil):
    """A factory: ``pair(**settings)`` → two running instances sharing the backend of the parameter."""
    from verifier import create_app, service_of

    redis_url = None
    if request.param == "redis":
        import redis

        redis_url = request.getfixturevalue("redis_server").rsplit("/", 1)[0] + "/1"  # db 1: these tests alone
        redis.Redis.from_url(redis_url).flushdb()
    started: list[Instance] = []

    def start(**settings) -> tuple[Instance, Instance]:
        for name in ("a", "b"):
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            data_dir = (_data_dir(ledger_data_dir, tmp_path / name) if redis_url
                        else tmp_path / "shared" if (tmp_path / "shared").exists()
                        else _data_dir(ledger_data_dir, tmp_path / "shared"))
            app = create_app({"DATA_DIR": str(data_dir), "RPC_URL": anvil.url, "REDIS_URL": redis_url,
                              "VERIFIER_PUBLIC_URL": base, "VERIFIER_FETCH_ALLOW_HTTP": True,
                              "VERIFIER_FETCH_ALLOW_LOOPBACK": True, "DEV_LOOPBACK": True,
                              "VERIFIER_POLL_INTERVAL": 0.05, **settings})
            server = make_server("127.0.0.1", port, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            started.append(Instance(base, app, server))
        if redis_url is None:
            assert service_of(started[-1].app).store.path == service_of(started[-2].app).store.path
        return started[-2], started[-1]

    yield start
    for instance in started:
        instance.server.shutdown()
        instance.server.server_close()
        service_of(instance.app).close()


def test_a_presentation_verified_on_a_is_a_replay_on_b(pair, make_issuer):
    a, b = pair()
    presentation = make_issuer().present()
    first = a.verify(presentation)
    assert first["verified"] is True, first["checks"]
    again = b.verify(presentation)
    replay = {c["check"]: c for c in again["checks"]}["replay"]
    assert again["verified"] is False, again["checks"]
    assert replay["status"] == "failed", again["checks"]


def _open_request(instance: Instance, *, fetch_through: Instance | None = None) -> tuple[str, dict, dict]:
    """A new request on ``instance``: its page path, the page's cookies, and the request a wallet fetched."""
    created = instance.post("/openid4vp/new", data={"claim": ["title", "ects"]})
    assert created.status_code == 303, created.text
    page_path, cookies = urlsplit(created.headers["Location"]).path, created.cookies
    page = instance.get(page_path, cookies=cookies).text
    return page_path, cookies, fetch_request(fetch_through or instance, request_text(page))


def test_an_openid4vp_request_made_on_a_is_answered_through_b(pair, make_issuer):
    a, b = pair()
    issuer = make_issuer()
    page, cookies, request = _open_request(a, fetch_through=b)
    assert b.get(f"{page}/status", cookies=cookies).json() == {"state": "opened"}
    presentation = issuer.present(paths=[("title",), ("ects",)], nonce=request["nonce"],
                                  audience=request["client_id"])
    answered = post_answer(b, request, {"microcredential": [presentation]})
    assert answered.status_code == 200
    assert "/openid4vp/done?response_code=" in answered.json()["redirect_uri"]
    assert a.get(f"{page}/status", cookies=cookies).json() == {"state": "answered"}
    result = unescape(a.get(f"{page}/result", cookies=cookies).text)
    assert 'data-verified="true"' in result
    twice = post_answer(a, request, {"microcredential": [presentation]})
    assert twice.status_code == 400
    assert twice.json()["error"] == "invalid_request"


def test_rate_limits_count_across_both_instances(pair):
    a, b = pair(VERIFIER_RATE_LIMIT="4/60", VERIFIER_OPENID4VP_RATE_LIMIT="2/60")
    codes = [instance.post("/api/v1/verify", data=b"x~", headers={"Content-Type": "text/plain"}).status_code
             for instance in (a, b, a, b)]
    assert codes == [400] * 4
    for instance in (a, b):
        refused = instance.post("/api/v1/verify", data=b"x~", headers={"Content-Type": "text/plain"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert a.post("/openid4vp/new", data={"claim": ["title"]}).status_code == 303
    assert b.post("/openid4vp/new", data={"claim": ["title"]}).status_code == 303
    assert a.post("/openid4vp/new", data={"claim": ["title"]}).status_code == 429


# ------------------------------------------------------------- one verifier, two workers (granian, gunicorn)

@pytest.fixture(params=["granian", "gunicorn"])
def two_workers(request, tmp_path, ledger_data_dir, anvil):
    """``microcred verifier serve --workers 2`` on a SQLite store in its own data dir, on each production server."""
    port = _free_port()
    env = {**os.environ, "MICROCRED_SERVER": request.param,
           "MICROCRED_DATA_DIR": str(_data_dir(ledger_data_dir, tmp_path / "var")),
           "MICROCRED_RPC_URL": anvil.url, "MICROCRED_VERIFIER_FETCH_ALLOW_HTTP": "true",
           "MICROCRED_VERIFIER_FETCH_ALLOW_LOOPBACK": "true", "MICROCRED_DEV_LOOPBACK": "1",
           "MICROCRED_VERIFIER_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("MICROCRED_REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "microcred", "verifier", "serve", "--workers", "2",
                                "--port", str(port)], env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    def answering() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the verifier exited while starting: {process.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            return requests.get(base + "/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(answering, within=60, step=0.2, what="the verifier to answer its scanning page")
        yield Instance(base, None, None)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_two_gunicorn_workers_accept_a_presentation_once(two_workers, make_issuer):
    presentation = make_issuer().present()
    with ThreadPoolExecutor(8) as pool:  # concurrent, so that both workers take some
        answers = list(pool.map(lambda _: two_workers.verify(presentation), range(8)))
    assert [a["verified"] for a in answers].count(True) == 1
    replays = [{c["check"]: c["status"] for c in a["checks"]}["replay"] for a in answers if not a["verified"]]
    assert replays == ["failed"] * 7


def test_two_gunicorn_workers_share_openid4vp_requests(two_workers, make_issuer):
    issuer = make_issuer()
    opened = [_open_request(two_workers) for _ in range(4)]  # created on whichever worker
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda one: post_answer(two_workers, one[2], {"microcredential": [issuer.present(
            paths=[("title",), ("ects",)], nonce=one[2]["nonce"], audience=one[2]["client_id"])]}), opened))
    assert [answer.status_code for answer in answers] == [200] * 4
    for page, cookies, _ in opened:
        assert 'data-verified="true"' in unescape(two_workers.get(f"{page}/result", cookies=cookies).text)


def test_the_default_worker_count_is_the_number_of_cores():
    import click

    from verifier.cli import serve

    workers = next(option for option in serve.params if option.name == "workers")
    assert workers.get_default(click.Context(serve), call=True) == (os.cpu_count() or 1)
