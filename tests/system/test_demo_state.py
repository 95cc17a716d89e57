"""What `microcred demo` says and keeps (issue 15, §1 items 2 and 3): install time apart from ready time,
`--fresh` to start over, and a port taken by a running demo reported as such."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from microcred.demo_state import (
    MARKER_FILE,
    RUNNING_FILE,
    mark_demo_dir,
    port_problem,
    record_running,
    reset,
    running_demo,
    timing_line,
)


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        yield held.getsockname()[1]


def test_a_port_taken_by_a_running_demo_says_so_and_how_to_stop_it(tmp_path, busy_port):
    record_running(tmp_path, {"wallet": "http://127.0.0.1:5020", "verifier": "http://127.0.0.1:5030"})
    said = port_problem(tmp_path, "127.0.0.1", busy_port, "wallet", "--wallet-port")
    assert "a demo seems to be running already" in said
    assert f"kill {os.getpid()}" in said
    assert "Ctrl-C" in said
    assert "--wallet-port" in said
    assert "http://127.0.0.1:5020/" in said
    assert "issuer init" not in said


def test_a_port_taken_by_another_program_says_so(tmp_path, busy_port):
    said = port_problem(tmp_path, "127.0.0.1", busy_port, "verifier", "--verifier-port")
    assert "another program" in said
    assert "a demo seems" not in said


def test_a_record_of_a_demo_that_is_gone_is_forgotten(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    (tmp_path / RUNNING_FILE).write_text(f'{{"pid": {gone.stdout.strip()}, "urls": {{}}, "started_at": 1}}')
    assert running_demo(tmp_path) is None
    assert not (tmp_path / RUNNING_FILE).exists()


def test_fresh_empties_the_demo_state_but_keeps_the_lan_certificate(tmp_path):
    mark_demo_dir(tmp_path)
    (tmp_path / "issuers" / "uni").mkdir(parents=True)
    (tmp_path / "issuers" / "uni" / "archive.sqlite").write_text("x")
    (tmp_path / "devnet.json").write_text("{}")
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "demo-cert.pem").write_text("cert")
    stopped = []
    removed = reset(tmp_path, lambda: stopped.append(True))
    assert stopped == [True]
    assert set(removed) == {"issuers", "devnet.json", MARKER_FILE}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tls"]


def test_fresh_refuses_a_folder_that_is_not_the_demos_or_a_running_demo(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="does not look like the demo's state"):
        reset(tmp_path, lambda: None)
    assert (tmp_path / "thesis.tex").exists()
    mark_demo_dir(tmp_path)
    record_running(tmp_path, {})
    with pytest.raises(ValueError, match="a demo is running"):
        reset(tmp_path, lambda: None)
    assert (tmp_path / "thesis.tex").exists()


def test_install_time_is_said_apart_from_ready_time():
    assert timing_line(100.0, now=101.7, make_started=None) == "ready in 1.7 s"
    line = timing_line(100.0, now=101.7, make_started="58")
    assert "took 42.0 s" in line
    assert "ready in 1.7 s" in line
    assert "43.7 s after `make demo`" in line
    assert timing_line(100.0, now=101.7, make_started="not a time") == "ready in 1.7 s"


def test_install_time_is_measured_on_the_clock_make_uses():
    """`make demo` passes `date +%s`; the demo's start must be on that clock too.

    Before: the demo passed time.monotonic() (seconds since boot), so the start always looked
    earlier than make's and the install time the README promises was never said.
    """
    wall = time.time()
    line = timing_line(wall - 1.5, make_started=str(int(wall) - 30))
    assert line.startswith("installing and checking what the demo needs took")


def test_the_demo_command_offers_fresh_and_says_what_it_keeps():
    from click.testing import CliRunner

    from microcred.cli import main

    helped = CliRunner().invoke(main, ["demo", "--help"])
    assert "--fresh" in helped.output
    described = CliRunner().invoke(main, ["--help"])
    demo_line = next(line for line in described.output.splitlines() if line.strip().startswith("demo"))
    assert "Issue, present and verify" not in demo_line
    assert "wallet" in demo_line


def test_an_issuer_port_taken_by_a_running_demo_does_not_advise_issuer_init(tmp_path, busy_port):
    record_running(tmp_path, {"issuer unimi": "http://127.0.0.1:5010"})
    said = port_problem(tmp_path, "127.0.0.1", busy_port, "issuer unimi", "")
    assert "a demo seems to be running already" in said
    assert "two demos cannot run at once" in said
    assert "issuer init" not in said
