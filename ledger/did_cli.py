"""``microcred did create|add-key|rotate|revoke|show``: did:mcr DIDs on the ledger's DidRegistry (click 8).

A ``did:mcr`` (:mod:`credentials.did_mcr`) is controlled by one Ethereum
account, given as a key file (``--controller``, created mode 0600 if missing
and funded on a devnet, as ``microcred accredit grant`` does). Keys are given
as JWK files (a private JWK is read for its public part only). ``rotate``
adds the new key and ends the old one in one transaction; ``revoke`` ends a
key and marks it revoked: credentials signed with it verify only where their
issuance anchor predates the revocation. ``show`` prints the DID document at
the latest block (after ``MICROCRED_CONFIRMATIONS``).

An issuer made with ``microcred issuer init --did-method mcr`` rotates with
``microcred issuer rotate-key``, which also puts the new key in its place.
Exit codes: 0 done, 1 refused or failed (one line on stderr), 2 bad usage, 130
interrupted (Ctrl-C; the ``microcred`` group says what is kept).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click

from credentials.did_mcr import McrDid, did_document, did_document_metadata, key_id_of
from credentials.errors import InvalidDid, MicrocredError
from credentials.jose import PublicKey, json_loads_object
from infra.fault_hook import fault_point
from ledger.cli import fail_cleanly
from ledger.config import LedgerSettings
from ledger.errors import InvalidDeployment

__all__ = ["did"]

#: A JWK file is small; anything bigger is not one.
MAX_JWK_FILE_BYTES = 16 * 1024


def first_key_salt(key: PublicKey) -> bytes:
    """The salt ``did create`` registers with: derived from the first key, so that the same controller and key
    name the same DID (the registry's ``identifierFor``) when a run stopped once its registration was mined is
    run again, instead of registering a second one."""
    return hashlib.sha256(b"microcred did create\0" + key_id_of(key)).digest()


def _did_argument(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return McrDid(value).text
    except MicrocredError as exc:
        raise click.BadParameter(str(exc)) from None


def _public_key(path: Path) -> PublicKey:
    """The public key of the JWK in ``path`` (P-256 or Ed25519)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_JWK_FILE_BYTES:
        raise click.BadParameter(f"{path} is {len(data)} bytes; a JWK file is at most {MAX_JWK_FILE_BYTES}")
    try:
        key = PublicKey.from_jwk(json_loads_object(data.decode("utf-8"), what=str(path)))
    except (MicrocredError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path} does not hold a usable JWK: {exc}") from None
    if key.is_rsa:
        raise click.BadParameter(f"{path} holds an RSA key; a did:mcr key is P-256 or Ed25519")
    return key


def _open(controller: Path | None, *, create: bool = False) -> tuple[Any, Any]:
    """The ledger (its DidRegistry client signing as ``controller``) and the controller account."""
    # here, not at the top: these load web3 (seconds to import), only for the commands that use the chain
    from ledger.deployment import open_ledger
    from ledger.keys import default_root_account, fund_if_devnet, load_key_file, load_or_create_key_file

    settings = LedgerSettings.from_env()
    account = None
    if controller is not None:
        if create:
            account, created = load_or_create_key_file(controller)
            if created:
                click.echo(f"created controller key {controller} ({account.address})")
        else:
            account = load_key_file(controller)
    ledger = open_ledger(settings, account=account)
    if ledger.dids is None:
        raise InvalidDeployment("the deployment has no DidRegistry; run `microcred deploy --force` to deploy "
                                "the current contracts")
    if account is not None:
        try:
            funder = default_root_account(ledger.chain, settings.data_dir)
        except MicrocredError:
            funder = None  # not a devnet: the controller pays for itself
        if funder is not None and fund_if_devnet(ledger.chain, funder, account.address):
            click.echo(f"funded {account.address} from the root {funder.address} (devnet)")
    return ledger, account


_CONTROLLER = click.option("--controller", type=click.Path(dir_okay=False, path_type=Path), required=True,
                           help="Key file of the DID's controller account (mode 0600).")
_KEY_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def did() -> None:
    """did:mcr DIDs on the ledger: keys valid from/until a block, rotated or revoked by their controller.

    Exit codes: 0 done, 1 refused or failed, 2 bad usage, 130 interrupted (Ctrl-C).
    """


@did.command("create")
@click.option("--controller", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Key file of the controller account (created, mode 0600, if missing; funded on a devnet).")
@click.option("--public-key", "key_file", type=_KEY_FILE, required=True,
              help="JWK file of the first signing key (P-256 or Ed25519; only its public part is used).")
@fail_cleanly
def create(controller: Path, key_file: Path) -> None:
    """Register a new did:mcr with its first key, valid from the registration's block.

    The DID follows from the controller and the key: run again (after a stop once the registration was mined),
    it is found on the registry and printed ("already registered"), never registered twice.
    """
    key = _public_key(key_file)
    ledger, account = _open(controller, create=True)
    salt = first_key_salt(key)
    did_text = ledger.dids.did_for(account.address, salt)
    record = ledger.dids.record(did_text)
    if record is not None:
        valid_from = _still_first_key(record, key, account.address)
        click.echo(f"already registered: {did_text}; nothing to do")
    else:
        change = ledger.dids.register(key, salt=salt, account=account)
        fault_point("did-registered")
        valid_from = change.transaction.block_number
    click.echo(f"DID:        {did_text}")
    click.echo(f"key:        {did_text}#{key.thumbprint()} (valid from block {valid_from})")
    click.echo(f"controller: {account.address}")


def _still_first_key(record: Any, key: PublicKey, controller: str) -> int:
    """The block from which ``key`` is valid in ``record``, the DID an earlier ``did create`` of this controller
    and key registered; refused when that DID has changed hands or the key is no longer in force."""
    method = next((m for m in record.methods if m.fragment == key.thumbprint()), None)
    if record.controller.lower() != controller.lower():
        raise InvalidDid(f"{record.did} was registered with this key and controller and is now controlled by "
                         f"{record.controller}; to make another DID, use another key")
    if method is None or method.revoked_at_block is not None or method.valid_until_block is not None:
        raise InvalidDid(f"{record.did} was registered with this key and controller, and the key has since been "
                         "ended or revoked; to make another DID, use another key")
    return int(method.valid_from_block)


@did.command("add-key")
@click.argument("did_text", metavar="DID", callback=_did_argument)
@click.option("--public-key", "key_file", type=_KEY_FILE, required=True, help="JWK file of the key to add.")
@_CONTROLLER
@fail_cleanly
def add_key(did_text: str, key_file: Path, controller: Path) -> None:
    """Add a key to DID; its other keys stay valid."""
    key = _public_key(key_file)
    ledger, account = _open(controller)
    change = ledger.dids.add_method(did_text, key, account=account)
    click.echo(f"added {change.kid} (valid from block {change.transaction.block_number})")


@did.command("rotate")
@click.argument("did_text", metavar="DID", callback=_did_argument)
@click.option("--old", "old_kid", required=True, help="The key to end: DID#thumbprint or #thumbprint.")
@click.option("--new-key", "key_file", type=_KEY_FILE, required=True, help="JWK file of the key that replaces it.")
@_CONTROLLER
@fail_cleanly
def rotate(did_text: str, old_kid: str, key_file: Path, controller: Path) -> None:
    """Replace a key of DID: the new key is added and the old one ended in ONE transaction."""
    key = _public_key(key_file)
    ledger, account = _open(controller)
    change = ledger.dids.rotate(did_text, old_kid, key, account=account)
    block = change.transaction.block_number
    click.echo(f"rotated at block {block}: {old_kid} ended, {change.kid} valid from block {block}")


@did.command("revoke")
@click.argument("did_text", metavar="DID", callback=_did_argument)
@click.argument("kid")
@_CONTROLLER
@fail_cleanly
def revoke(did_text: str, kid: str, controller: Path) -> None:
    """Revoke the key KID of DID (DID#thumbprint or #thumbprint): it ends now and is marked revoked.

    Credentials signed with it verify only where their issuance anchor predates this block.
    """
    ledger, account = _open(controller)
    change = ledger.dids.revoke(did_text, kid, account=account)
    click.echo(f"revoked {change.kid} at block {change.transaction.block_number}")


@did.command("show")
@click.argument("did_text", metavar="DID", callback=_did_argument)
@click.option("--json", "as_json", is_flag=True, help="Print the DID document and its metadata as JSON.")
@fail_cleanly
def show(did_text: str, as_json: bool) -> None:
    """Print DID's document: every key with the blocks it is valid from / until, and whether it was revoked."""
    ledger, _ = _open(None)
    chain = ledger.chain
    block = max(0, chain.block_number() - chain.confirmations)
    record = ledger.dids.record(did_text, block=block)
    if record is None:
        raise InvalidDid(f"{did_text} is not registered in the DID registry (read at block {block})")
    document = did_document(record)
    metadata = did_document_metadata(record, chain.chain_id())
    if as_json:
        click.echo(json.dumps({"didDocument": document, "didDocumentMetadata": metadata}, indent=2))
        return
    click.echo(f"{record.did}  (read at block {record.read_at_block})")
    click.echo(f"controller: {metadata['controller']}, registered at block {record.registered_at_block}")
    for method in record.methods:
        until = ("no end" if method.valid_until_block is None
                 else f"until block {method.valid_until_block}")
        state = ("revoked at block " + str(method.revoked_at_block) if method.revoked_at_block is not None
                 else "valid now" if method.valid_at(record.read_at_block) else "ended")
        click.echo(f"  #{method.fragment}  from block {method.valid_from_block}, {until}  [{state}]")

