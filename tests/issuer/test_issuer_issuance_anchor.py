"""Issuance anchored in Merkle batches, against a real Anvil: `issuer issue` seals each batch into one RFC 9162
tree, anchors its root in ONE transaction, and writes each credential with its proof; a ledger that is down, a
process killed between signing and anchoring, and a root someone else anchored first all converge or say so."""

from __future__ import annotations

import csv
import json
import signal
from contextlib import contextmanager

import pytest
from _crash_support import assert_nothing_left_behind, child_env, run, start
from _issuer_support import jwk_cell, make_csv, make_row
from click.testing import CliRunner

from credentials.jose import PrivateKey
from credentials.merkle import IssuanceProof, credential_leaf, leaf_hash
from issuer.archive import Archive
from issuer.batch import BatchDefaults, parse_csv
from issuer.cli import EXIT_ANCHOR_PENDING
from issuer.ledger_link import LedgerStatusAnchor
from issuer.service import IssuerService
from microcred.cli import main

pytestmark = pytest.mark.integration


def cli(*args):
    return CliRunner().invoke(main, ["issuer", *args])


def export(tmp_path, count=5, *, offers=1, name="batch.csv"):
    """``count`` rows, the first ``count - offers`` bound to a learner's key, the rest offers."""
    keys = [PrivateKey.generate() for _ in range(count)]
    rows = [make_row(n, holder_jwk=jwk_cell(keys[n])) if n < count - offers else make_row(n) for n in range(count)]
    source = tmp_path / name
    source.write_text(make_csv(rows), encoding="utf-8")
    return source


@contextmanager
def _anchoring_service(home):
    """The issuer's archive and a service anchoring on the ledger; the archive closes after."""
    archive = Archive(home.archive_path)
    try:
        yield archive, IssuerService(home.identity, archive, home.signing_key(), anchor=LedgerStatusAnchor(home))
    finally:
        archive.close()


def _signed_batch_of_three(service, home, tmp_path):
    """A batch of three credentials bound to learners' keys, opened and signed (not yet sealed)."""
    defaults = BatchDefaults(issuer_country="IT", awarding_body=home.identity.awarding_body(), issued_on="2026-01-01")
    batch = service.open_batch(parse_csv(export(tmp_path, 3, offers=0).read_text(encoding="utf-8"), defaults),
                               now=1_780_000_000)
    service.sign_batch(batch.id)
    return batch


def _leaf_input(archive, credential_id):
    (row,) = archive.conn.execute("SELECT jwt_sha256 FROM issuance_leaves WHERE credential_id = ?", [credential_id])
    return row[0]


def batch_folder(home):
    (folder,) = [p for p in (home.path / "batches").iterdir() if not p.name.startswith(".")]
    return folder


def delivered_proofs(folder):
    """``{credential id: (credential text, proof JSON)}`` from the batch's ``*.with-proof.json`` files."""
    manifest = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    found = {}
    for row in manifest:
        if row["with_proof"]:
            bundle = json.loads((folder / row["with_proof"]).read_text(encoding="utf-8"))
            assert bundle["credential"] == (folder / row["file"]).read_text(encoding="ascii").strip()
            found[row["credential_id"]] = (bundle["credential"], bundle["issuance_proof"])
        else:
            assert not row["file"], row  # every signed file has its proof beside it
    return found


def test_a_batch_is_one_anchor_and_every_file_carries_a_proof_to_it(accredited_issuer, ledger, tmp_path):
    home, _ = accredited_issuer
    since = ledger.chain.block_number()
    result = cli("--issuer", home.identity.name, "issue", "--from", str(export(tmp_path, 6)), "--also", "ob3")
    assert result.exit_code == 0, result.output
    assert "anchored issuance batch root" in result.output
    events = ledger.issuance.anchor_events(home.identity.controller_address, from_block=since + 1)
    assert len(events) == 1  # one transaction for the whole batch, twins included
    (event,) = events
    proofs = delivered_proofs(batch_folder(home))
    assert len(proofs) == 2 * 5  # five key-bound rows, each with its Open Badge twin; the offer has no file yet
    assert event.size == 10
    for credential, document in proofs.values():
        proof = IssuanceProof.from_json(document)
        assert proof.root == event.root
        assert proof.proves(credential_leaf(credential))
        assert (proof.chain_id, proof.registry) == (ledger.deployment.chain_id, ledger.issuance.address)
    archive = Archive(home.archive_path)
    try:
        (tree,) = archive.issuance_trees()
        assert (tree.root, tree.size, tree.anchored_block) == (event.root.hex(), 10, event.block_number)
        assert tree.anchored_by == home.identity.controller_address
    finally:
        archive.close()
    assert "every issuance batch root is anchored" in cli("--issuer", home.identity.name, "publish").output


def test_the_chain_down_leaves_the_root_pending_until_publish(accredited_issuer, ledger, tmp_path, monkeypatch,
                                                             ledger_env):
    home, _ = accredited_issuer
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    down = cli("--issuer", home.identity.name, "issue", "--from", str(export(tmp_path, 4)))
    assert down.exit_code == EXIT_ANCHOR_PENDING, down.output
    assert "NOT anchored: issuance batch root" in down.output
    proofs = delivered_proofs(batch_folder(home))  # the proofs are final before the anchor: the tree is sealed
    root = bytes.fromhex(next(iter(proofs.values()))[1]["root"])
    assert ledger.issuance.anchor_of(root) is None
    monkeypatch.setenv("MICROCRED_RPC_URL", ledger_env["MICROCRED_RPC_URL"])
    published = cli("--issuer", home.identity.name, "publish")
    assert published.exit_code == 0, published.output
    assert "anchored issuance batch root" in published.output
    anchor = ledger.issuance.anchor_of(root)
    assert (anchor.issuer, anchor.size) == (home.identity.controller_address, 3)


@pytest.mark.parametrize("point", ["batch-signed", "issuance-sealed", "issuance-anchoring", "issuance-anchor-sent"])
def test_killed_between_signing_and_anchoring_the_same_command_converges(point, accredited_issuer, ledger,
                                                                         ledger_data_dir, anvil, tmp_path):
    home, _ = accredited_issuer
    since = ledger.chain.block_number()
    args = ["issuer", "--issuer", home.identity.name, "issue", "--from", str(export(tmp_path, 5))]
    killed = start(args, child_env(ledger_data_dir, fault=point, rpc_url=anvil.url))
    assert_nothing_left_behind(killed)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    again = run(args, child_env(ledger_data_dir, rpc_url=anvil.url))
    assert again.returncode == 0, again.stderr
    events = ledger.issuance.anchor_events(home.identity.controller_address, from_block=since + 1)
    assert len(events) == 1  # anchored once: a root mined before the kill is found on chain, not sent again
    proofs = delivered_proofs(batch_folder(home))
    assert len(proofs) == 4
    assert {IssuanceProof.from_json(p).root for _, p in proofs.values()} == {events[0].root}
    assert all(IssuanceProof.from_json(p).proves(credential_leaf(c)) for c, p in proofs.values())
    archive = Archive(home.archive_path)
    try:
        assert [t.anchored_block for t in archive.issuance_trees()] == [events[0].block_number]
    finally:
        archive.close()


def test_a_root_someone_else_anchored_first_is_reported_never_accepted(accredited_issuer, ledger, ledger_env,
                                                                      new_account, tmp_path):
    home, _ = accredited_issuer
    with _anchoring_service(home) as (archive, service):
        batch = _signed_batch_of_three(service, home, tmp_path)
        root = service.seal_issuance(batch.id, now=1_780_000_000)
        stranger = new_account()
        ledger.issuance.anchor_batch(bytes.fromhex(root), 3, account=stranger)
        (outcome,) = service.converge_issuance()
        assert not outcome.anchored
        assert f"anchored by {stranger.address}, not by this issuer's account" in outcome.error
        assert archive.issuance_tree(root).anchor_error == outcome.error
        assert not archive.issuance_tree(root).anchored


def test_a_credential_signed_again_leaves_its_tree_for_a_new_one(accredited_issuer, ledger_env, tmp_path):
    home, _ = accredited_issuer
    with _anchoring_service(home) as (archive, service):
        batch = _signed_batch_of_three(service, home, tmp_path)
        first = service.seal_issuance(batch.id, now=1_780_000_000)
        ids = [r.id for r in archive.batch_credentials(batch.id)]
        service.sign_batch(batch.id, delivered=lambda record: record.id != ids[1])  # its file was lost
        second = service.seal_issuance(batch.id, now=1_780_000_001)
        assert first != second
        assert archive.leaf_of(ids[1]) == (second, 0)
        assert len(archive.tree_leaves(first)) == 3  # a sealed tree never changes
        outcomes = service.converge_issuance()
        assert sorted(o.root for o in outcomes if o.anchored) == sorted([first, second])
        proofs = service.issuance_proofs(ids)
        assert IssuanceProof.from_json(proofs[ids[1]]).size == 1
        for credential_id in (ids[0], ids[2]):  # the others' proofs still lead to the first, anchored root
            proof = IssuanceProof.from_json(proofs[credential_id])
            assert (proof.root.hex(), proof.size) == (first, 3)
            assert proof.proves(leaf_hash(bytes.fromhex(_leaf_input(archive, credential_id))))
