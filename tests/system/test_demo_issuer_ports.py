"""`microcred demo --issuer-ports A,B` (MICROCRED_DEMO_ISSUER_PORTS): the two issuers' ports can be chosen when they
are made, as the wallet's and the verifier's can; before, a newcomer whose port 5010 was taken (another program,
another demo) could not run the demo at all. Their status list URLs carry the ports, so a demo whose issuers exist
keeps theirs: another choice needs --fresh, and says so before anything starts."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        yield held.getsockname()[1]


def _demo(tmp_path, monkeypatch, *args: str):
    from microcred.cli import main

    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path / "var"))
    return CliRunner().invoke(main, ["demo", *args])


def test_the_issuer_ports_are_two_different_ports(tmp_path, monkeypatch):
    for value in ("5010", "5010,5010", "5010,x", "5010,70000"):
        answer = _demo(tmp_path, monkeypatch, "--issuer-ports", value)
        assert answer.exit_code == 2, (value, answer.output)
        assert "expected two different ports" in answer.output, value


def test_a_taken_issuer_port_names_the_option_that_moves_it(tmp_path, monkeypatch, busy_port):
    answer = _demo(tmp_path, monkeypatch, "--issuer-ports", f"{busy_port},0")
    assert answer.exit_code == 2  # 0 is not a port
    answer = _demo(tmp_path, monkeypatch, "--issuer-ports", f"{busy_port},1")
    assert answer.exit_code == 1, answer.output
    assert f"port {busy_port} on 127.0.0.1 (issuer uni-esempio) is taken" in answer.output
    assert "--issuer-ports or the environment variable MICROCRED_DEMO_ISSUER_PORTS" in answer.output


def test_issuers_made_for_other_ports_need_fresh_to_move(tmp_path, monkeypatch):
    from issuer.identity import create_issuer

    for name, port in (("uni-esempio", 5010), ("tu-musterstadt", 5011)):
        create_issuer(tmp_path / "var", name, legal_name=name, country="IT", base_url=f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MICROCRED_DEMO_ISSUER_PORTS", "6010,6011")
    answer = _demo(tmp_path, monkeypatch)
    assert answer.exit_code == 1, answer.output
    assert "the demo's issuers were made for ports 5010, 5011" in answer.output
    assert "--fresh" in answer.output
    assert not (tmp_path / "var" / "devnet.json").exists()  # nothing was started


def test_the_ports_of_existing_issuers_are_kept_without_a_choice(tmp_path):
    from issuer.identity import create_issuer
    from microcred.system import demo_issuer_ports

    assert demo_issuer_ports(tmp_path, None) == {"uni-esempio": 5010, "tu-musterstadt": 5011}
    assert demo_issuer_ports(tmp_path, (6010, 6011)) == {"uni-esempio": 6010, "tu-musterstadt": 6011}
    create_issuer(tmp_path, "uni-esempio", legal_name="U", country="IT", base_url="http://127.0.0.1:7010")
    assert demo_issuer_ports(tmp_path, None) == {"uni-esempio": 7010, "tu-musterstadt": 5011}
