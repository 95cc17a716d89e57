"""Anchors that converge: whatever killed a revoke, whatever the chain lost, the chain ends up holding the
archive's newest Status List Token and the service serving it (real Anvil, real child processes)."""

from __future__ import annotations

import hashlib
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from _crash_support import assert_archive_consistent, assert_nothing_left_behind, child_env, run, start, wait_until
from _issuer_support import make_csv, make_row
from click.testing import CliRunner

from issuer.archive import Archive
from issuer.cli import EXIT_ANCHOR_PENDING
from issuer.identity import load_issuer

pytestmark = pytest.mark.integration

#: The issue's promise: the service makes the chain agree with what it serves within 5 s.
CONVERGE_WITHIN_S = 5.0


def issue_three(home, tmp_path, env) -> list[str]:
    source = tmp_path / "batch.csv"
    source.write_text(make_csv([make_row(1), make_row(2), make_row(3)]), encoding="utf-8")
    result = run(["issuer", "--issuer", home.identity.name, "issue", "--from", str(source)], env)
    assert result.returncode == 0, result.stderr
    archive = Archive(home.archive_path)
    try:
        return [r.id for r in archive.credentials()]
    finally:
        archive.close()


def list_of(home) -> str:
    archive = Archive(home.archive_path)
    try:
        return archive.status_lists()[0].id
    finally:
        archive.close()


def served_sha256(port: int, list_id: str) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status/{list_id}", timeout=2) as response:  # noqa: S310
            return hashlib.sha256(response.read().strip()).digest()
    except (OSError, urllib.error.URLError):
        return None


def serve(home, env, port):
    return start(["issuer", "--issuer", home.identity.name, "serve", "--port", str(port)],
                 {**env, "MICROCRED_ANCHOR_RETRY_SECONDS": "1"})


def stop(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except Exception:  # noqa: BLE001 (make sure it goes)
            process.kill()
            process.wait(timeout=10)


def newest_sha256(home) -> bytes:
    archive = Archive(home.archive_path)
    try:
        return hashlib.sha256(archive.status_lists()[0].token.encode("ascii")).digest()
    finally:
        archive.close()


def converged(port, home, status_client) -> bool:
    """The chain holds the archive's newest version and the service serves it. (While the newest waits for its
    anchor the service serves the anchored one, so served == anchor alone holds before anything converged.)"""
    list_id = list_of(home)
    anchor = status_client.latest_anchor(home.identity.did, list_id)
    served = served_sha256(port, list_id)
    return anchor is not None and served is not None and served == anchor.sha256 == newest_sha256(home)


@pytest.mark.parametrize("point", ["status-saved", "anchoring", "anchor-sent"])
def test_a_revoke_killed_before_or_while_anchoring_is_anchored_by_the_service(
        point, accredited_issuer, ledger, ledger_env, tmp_path):
    from ledger.devnet import free_port

    home, _ = accredited_issuer
    env = child_env(ledger_env["MICROCRED_DATA_DIR"], rpc_url=ledger_env["MICROCRED_RPC_URL"])
    ids = issue_three(home, tmp_path, env)
    killed = start(["issuer", "--issuer", home.identity.name, "revoke", ids[0]], {**env, "MICROCRED_FAULT_AT": point})
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    assert_archive_consistent(home.archive_path, home.path)
    port = free_port()
    service = serve(home, env, port)
    try:
        assert wait_until(lambda: served_sha256(port, list_of(home)), timeout=30), "the service did not start"
        in_time = wait_until(lambda: converged(port, home, ledger.status), timeout=CONVERGE_WITHIN_S)
    finally:
        stop(service)
    assert in_time, f"the served token's SHA-256 is not the anchor on chain: {service.stderr.read()[-2000:]}"
    assert ledger.status.latest_anchor(home.identity.did, list_of(home)).version == 2


def test_publish_re_anchors_what_the_chain_lost(accredited_issuer, ledger, chain, tmp_path, ledger_env):
    home, _ = accredited_issuer
    env = child_env(ledger_env["MICROCRED_DATA_DIR"], rpc_url=ledger_env["MICROCRED_RPC_URL"])
    ids = issue_three(home, tmp_path, env)
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    revoked = run(["issuer", "--issuer", home.identity.name, "revoke", ids[1]], env)
    assert revoked.returncode == 0, revoked.stderr
    assert "version 2" in revoked.stdout, revoked.stderr
    chain.w3.provider.make_request("evm_revert", [snapshot])  # the node lost the blocks since
    list_id = list_of(home)
    assert ledger.status.latest_anchor(home.identity.did, list_id).version == 1
    published = run(["issuer", "--issuer", home.identity.name, "publish"], env)
    assert published.returncode == 0, published.stderr
    assert f"anchored status list {list_id} version 2" in published.stdout
    archive = Archive(home.archive_path)
    token = archive.status_list(list_id).token
    archive.close()
    anchor = ledger.status.latest_anchor(home.identity.did, list_id)
    assert anchor.version == 2
    assert anchor.sha256 == hashlib.sha256(token.encode()).digest()
    again = run(["issuer", "--issuer", home.identity.name, "publish"], env)
    assert again.stdout.startswith("every status list is anchored")


def test_a_superseded_revoke_reports_the_version_that_holds_it(accredited_issuer, ledger, tmp_path, ledger_env):
    """Two revokes at once: the first one's version 2 is overtaken by the second one's version 3."""
    from issuer.ledger_link import LedgerStatusAnchor
    from issuer.service import IssuerService

    home, _ = accredited_issuer
    env = child_env(ledger_env["MICROCRED_DATA_DIR"], rpc_url=ledger_env["MICROCRED_RPC_URL"])
    ids = issue_three(home, tmp_path, env)
    home = load_issuer(Path(ledger_env["MICROCRED_DATA_DIR"]), home.identity.name)

    class OvertakenAnchor(LedgerStatusAnchor):
        """The real anchor, but another revoke commits and anchors just before this one's transaction."""

        overtaken = False

        def anchor(self, *args, **kwargs):
            if not self.overtaken:
                self.overtaken = True
                other = run(["issuer", "--issuer", home.identity.name, "revoke", ids[2]], env)
                assert other.returncode == 0, other.stderr
                assert "version 3" in other.stdout, other.stderr
            return super().anchor(*args, **kwargs)

    archive = Archive(home.archive_path)
    try:
        service = IssuerService(home.identity, archive, home.signing_key(), anchor=OvertakenAnchor(home))
        result = service.set_status([ids[1]], "revoked", now=1_790_000_000)
        (outcome,) = result.anchors
        assert outcome.anchored, outcome
        assert outcome.version == 3, outcome
        assert outcome.made_version == 2, outcome
        record = archive.status_lists()[0]
        assert record.anchored_version == 3
        assert record.anchor_error is None
    finally:
        archive.close()
    report = CliRunner().invoke(_report_command(result.anchors), [])
    assert report.exit_code == 0
    assert "version 2 is held by version 3" in report.output


def _report_command(outcomes):
    import click

    from issuer.cli import _report_anchors

    @click.command()
    def report():
        _report_anchors(outcomes)

    return report


def test_the_service_follows_the_devnet_to_its_new_port_and_the_chain_survives_a_kill(tmp_path):
    """A durable devnet (state dumped every second), and ``issuer serve`` re-reading devnet.json."""
    from _devnet_world import DevnetIssuer

    world = DevnetIssuer.create(tmp_path / "var")
    port = world.free_port()
    service = None
    try:
        env = child_env(world.data_dir, rpc_url=None)
        ids = issue_three(world.home, tmp_path, env)
        service = serve(world.home, env, port)
        assert wait_until(lambda: served_sha256(port, list_of(world.home)), timeout=30)
        revoked = run(["issuer", "revoke", ids[0]], env)
        assert revoked.returncode == 0, revoked.stderr
        world.wait_until_state_saved()
        world.kill_node()
        world.start_node()
        assert world.status().latest_anchor(world.home.identity.did, list_of(world.home)).version == 2
        world.stop_node()
        pending = run(["issuer", "revoke", ids[1]], env)
        assert pending.returncode == EXIT_ANCHOR_PENDING, pending.stderr
        old_url = world.url
        world.start_node()
        assert world.url != old_url
        assert wait_until(lambda: converged(port, world.home, world.status()), timeout=CONVERGE_WITHIN_S + 2), \
            "the running service did not anchor on the node's new address"
        assert world.status().latest_anchor(world.home.identity.did, list_of(world.home)).version == 3
    finally:
        if service is not None:
            stop(service)
        world.close()


def test_a_state_file_cut_short_by_a_kill_falls_back_to_the_last_good_copy(tmp_path):
    """Anvil dumps its state in place: a kill during a dump must not keep the devnet from starting."""
    import os

    from ledger.devnet import Devnet, rpc_request

    devnet = Devnet(tmp_path)
    record = devnet.start()
    try:
        rpc_request(record.url, "evm_mine")
        devnet.stop()  # a clean exit: the state holds block 1
        record = devnet.start()  # starts from it, and keeps it as the last good copy
        rpc_request(record.url, "evm_mine")
        os.kill(record.pid, signal.SIGKILL)
        wait_until(lambda: not devnet.status().alive, timeout=10)
        state = tmp_path / "anvil" / "state.json"
        state.write_bytes(state.read_bytes()[:100])  # what a kill in the middle of a dump leaves
        record = devnet.start()
        assert int(rpc_request(record.url, "eth_blockNumber"), 16) >= 1
        assert (tmp_path / "anvil" / "state.json.damaged").exists()
    finally:
        devnet.stop()
