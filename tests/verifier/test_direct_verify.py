"""``POST /api/v1/verify`` answered at the WSGI level (verifier.api.DirectVerify, issue 16: per-request cost).

An ordinary request (a ``Content-Length`` within the cap, no query string) is
answered without Flask's request machinery, with the same bytes, status and
headers as the Flask view; a request with a query string goes to the view
(how these tests reach it). Errors met on the direct path are answered by the
app's own handlers, and a request is counted once against the client's limit
whichever path answers it.
"""

from __future__ import annotations

import socket

import pytest
from flask import request_started
from werkzeug.test import EnvironBuilder

NOT_A_PRESENTATION = "hello~"
PATH = "/api/v1/verify"
VIA_FLASK = "/api/v1/verify?via=flask"


@pytest.fixture
def make_app(tmp_path):
    from verifier import create_app, service_of

    made: list = []

    def make(**config):
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / f"app{len(made)}"),
                          "RPC_URL": "http://127.0.0.1:9", "VERIFIER_TRUSTED_ROOTS": "did:example:root",
                          "VERIFIER_RATE_LIMIT": "off", **config})
        made.append(app)
        return app

    yield make
    for app in made:
        service_of(app).close()


def _flask_requests(app) -> list:
    """Requests the Flask app itself handled (its ``request_started`` signal), appended as they come."""
    started: list = []
    request_started.connect(lambda sender, **_: started.append(sender), app, weak=False)
    return started


def test_an_ordinary_request_is_answered_without_flask_and_one_with_a_query_by_the_view(make_app):
    app = make_app()
    started = _flask_requests(app)
    client = app.test_client()
    direct = client.post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain")
    assert direct.status_code == 400
    assert direct.get_json()["checks"]
    assert started == []
    assert client.post(VIA_FLASK, data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 400
    assert started == [app]
    assert client.get(PATH).status_code == 405  # any other method: the app
    assert started == [app, app]


_STACK_OF_17 = '{"presentations": [' + ", ".join(['"a~"'] * 17) + "]}"
BODIES = [
    (NOT_A_PRESENTATION, "text/plain"),
    (NOT_A_PRESENTATION, "Application/DC+SD-JWT; charset=utf-8"),
    ("", "text/plain"),
    ("   ", "text/plain"),
    (b"\xff\xfe~", "text/plain"),
    ('{"presentation": 5}', "application/json"),
    ('{"presentation": "a~", "nonce": 3}', "application/json"),
    ('{"presentation": "a~", "extra": 1}', "application/json"),
    ('{"presentation": "a~", "presentation": "b~"}', "application/json"),
    ("[1]", "application/json"),
    ("{", "application/json"),
    ('{"presentations": ["a~", 7]}', "application/json"),
    ('{"presentations": "a~"}', "application/json"),
    (_STACK_OF_17, "application/json"),
    ("a" * 70_000 + "~", "text/plain"),
    ("<x/>", "application/xml"),
    (NOT_A_PRESENTATION, None),
]


@pytest.mark.parametrize(("body", "content_type"), BODIES)
def test_the_direct_answer_is_the_flask_view_s_to_the_byte(make_app, body, content_type):
    client = make_app().test_client()
    headers = {"Content-Type": content_type} if content_type else {}
    direct = client.post(PATH, data=body, headers=headers)
    via_flask = client.post(VIA_FLASK, data=body, headers=headers)
    assert direct.status_code == via_flask.status_code
    assert direct.status_code in (400, 413)
    assert direct.status == via_flask.status
    assert direct.get_data() == via_flask.get_data()
    assert sorted(direct.headers.items()) == sorted(via_flask.headers.items())
    assert direct.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in direct.headers["Content-Security-Policy"]


def _post_raw(app, body: bytes, content_length: str) -> tuple[str, bytes]:
    """A POST whose ``Content-Length`` says ``content_length`` (a client that sends less, then goes away)."""
    environ = EnvironBuilder(path=PATH, method="POST", data=body, content_type="text/plain",
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()  # as the test client
    environ["CONTENT_LENGTH"] = content_length
    statuses: list[str] = []
    answer = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], answer


class _Trickle:
    """A request body that arrives a few bytes per read, as a socket may hand it over."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = self.data[:min(size, 7)], self.data[min(size, 7):]
        return chunk


def test_a_body_read_in_pieces_is_read_whole(make_app):
    app = make_app()
    started = _flask_requests(app)
    body = b'{"presentation": "' + b"x" * 500 + b'~"}'
    environ = EnvironBuilder(path=PATH, method="POST", data=body, content_type="application/json",
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    environ["wsgi.input"] = _Trickle(body)
    statuses: list[str] = []
    answer = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses == ["400 BAD REQUEST"]
    assert b'"checks"' in answer
    assert started == []


def test_a_request_is_counted_once_against_the_limit_whichever_path_answers_it(make_app):
    app = make_app(VERIFIER_RATE_LIMIT="3/60")
    client = app.test_client()
    status, _ = _post_raw(app, b"hello", "100")  # read short on the direct path, answered by the app
    assert status.startswith("400")
    assert client.post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 400
    assert client.post(VIA_FLASK, data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 400
    refused = client.post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many verification requests" in refused.get_json()["error"]
    assert refused.headers["Cache-Control"] == "no-store"


def test_a_store_that_cannot_be_reached_is_the_app_s_503(make_app):
    with socket.socket() as bound_not_listening:  # connections to it are refused
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        app = make_app(VERIFIER_RATE_LIMIT="100/60", REDIS_URL=f"redis://127.0.0.1:{port}/0")
        answer = app.test_client().post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain")
    assert answer.status_code == 503
    assert answer.mimetype == "application/json"
    assert str(port) not in answer.get_data(as_text=True)


def test_a_bug_on_the_direct_path_is_a_500_with_a_reference_or_raised_under_test(make_app, monkeypatch):
    from verifier import service_of

    def broken(*_args, **_kwargs):
        raise RuntimeError("internal detail /srv/secret")

    quiet = make_app(PROPAGATE_EXCEPTIONS=False)
    monkeypatch.setattr(service_of(quiet), "verify_text", broken)
    answer = quiet.test_client().post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain")
    assert answer.status_code == 500
    assert "reference" in answer.get_json()["error"]
    assert "/srv/secret" not in answer.get_data(as_text=True)
    loud = make_app()
    monkeypatch.setattr(service_of(loud), "verify_text", broken)
    with pytest.raises(RuntimeError, match="internal detail"):
        loud.test_client().post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain")


def test_an_answer_that_cannot_be_written_as_json_is_a_500_with_a_reference(make_app, monkeypatch):
    """The direct path's encoder keeps no circular-reference bookkeeping: an answer holding a cycle (a bug) is
    still the app's logged 500, never a crash or an answer of the encoder's text."""
    from credentials.verification_model import VerificationResult
    from verifier import service_of

    app = make_app(PROPAGATE_EXCEPTIONS=False)
    looped: dict = {"verified": True}
    looped["self"] = looped

    def cyclic(self):
        return looped

    real = service_of(app).verify_text
    monkeypatch.setattr(VerificationResult, "to_json", cyclic)
    monkeypatch.setattr(service_of(app), "verify_text", lambda text, **kwargs: real(text, **kwargs))
    answer = app.test_client().post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain")
    assert answer.status_code == 500
    assert "reference" in answer.get_json()["error"]
    assert "recursion" not in answer.get_data(as_text=True).lower()


_DEEP_JSON_SCRIPT = """
import sys, tempfile, threading
sys.path.insert(0, sys.argv[1])
import ledger.chain  # what a serving worker loads when it opens the ledger (web3, eth_account)
from verifier import create_app
app = create_app({"TESTING": True, "DATA_DIR": tempfile.mkdtemp(), "RPC_URL": "http://127.0.0.1:9",
                  "VERIFIER_TRUSTED_ROOTS": "did:example:root", "VERIFIER_RATE_LIMIT": "off"})
depth = 90_000
body = b"[" * depth + b"]" * depth  # 180 KB, within the cap of a JSON body
answers = []
def post():
    answers.append(app.test_client().post("/api/v1/verify", data=body, content_type="application/json"))
threading.stack_size(2 * 1024 * 1024)  # a server thread's stack (granian's blocking threads: Rust's 2 MiB)
thread = threading.Thread(target=post)
thread.start()
thread.join()
print(answers[0].status_code, answers[0].get_json()["error"])
"""


def test_a_deeply_nested_json_body_is_a_400_not_a_dead_worker():
    """eth_account's py_ecc raises the interpreter's recursion limit to 100,000 when imported, so the C JSON
    parser's recursion guard no longer stopped before a server thread's stack ended: one 180 KB request killed
    the worker (a segmentation fault; granian respawned it, the requests in flight were lost)."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    run = subprocess.run([sys.executable, "-c", _DEEP_JSON_SCRIPT, root], capture_output=True, text=True,
                         timeout=120, cwd=root)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-400:]}"
    assert run.stdout.strip() == "400 the request body is not valid UTF-8 JSON"


def test_a_foreign_host_is_refused_before_the_direct_path(make_app):
    app = make_app(VERIFIER_PUBLIC_URL="https://verifier.example")
    started = _flask_requests(app)
    client = app.test_client()
    refused = client.post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert "checks" not in refused.get_data(as_text=True)
    assert started == []
    mine = client.post(PATH, data=NOT_A_PRESENTATION, content_type="text/plain",
                       headers={"Host": "verifier.example"})
    assert mine.get_json()["checks"]


def test_a_body_over_the_cap_is_the_app_s_413(make_app):
    app = make_app(VERIFIER_MAX_IMPORTED_BODY=100_000)
    answer = app.test_client().post(PATH, data="a" * 100_001, content_type="text/plain")
    assert answer.status_code == 413
    assert "limit" in answer.get_json()["error"]
