"""An issuer whose DID is a did:mcr (:mod:`credentials.did_mcr`): registering it, and rotating its signing key.

``microcred issuer init NAME --did-method mcr`` registers a ``did:mcr`` on the
ledger's DidRegistry with the issuer's new signing key, the issuer's
controller account (``controller.key``) being the DID's controller, so the
same account anchors status lists and controls the keys. Its ``kid`` is
``<did>#<RFC 7638 thumbprint>``.

``microcred issuer rotate-key`` (:func:`rotate_signing_key`) makes a new key,
rotates on chain (the new key added and the old one ended in one transaction)
and only then puts the new ``kid`` in ``issuer.json`` and the new key in place
of the old one (``issuer.private.jwk``, 0600); a refusal on chain changes
nothing on disk. Then :func:`resign_status_lists` signs every status list
again with the new key and anchors them (a verifier checks a did:mcr's list
with the key valid now, which the old key no longer is). Credentials signed before the rotation keep verifying where
their issuance anchor predates it; a running ``issuer serve`` must be
restarted to sign with the new key.

A rotation killed or interrupted at any step is finished by running the
command again, never repeated: the next key file (``issuer.private.next.jwk``)
stays until the key is in place, and the rotation is sent only when the chain
does not hold it yet (then with that same key); lists still signed with the
old key (:func:`stale_status_lists`) are signed again before any new rotation;
a rotation the chain lost after it was done (:func:`restore_lost_rotation`) is
sent again.

On a devnet the controller is funded from the root for its transactions
(as ``microcred accredit grant`` does).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from credentials.did_mcr import DID_MCR_METHOD, key_id_of
from credentials.errors import ConfigurationError, InvalidInput
from credentials.jose import PrivateKey, PublicKey, UnverifiedJws, b64url_encode, json_loads_object
from issuer.fault_hook import fault_point
from issuer.identity import IDENTITY_FILE, IssuerHome, read_secret_file, write_secret_file
from issuer.service import AnchorOutcome, IssuerService
from ledger.config import LedgerSettings

__all__ = ["NEXT_KEY_FILE", "register_did", "rotate_signing_key", "resign_status_lists", "stale_status_lists",
           "restore_lost_rotation"]

#: The new signing key while a rotation is under way (removed or moved into place when it ends).
NEXT_KEY_FILE = "issuer.private.next.jwk"


def _ledger(controller: Any, settings: LedgerSettings | None) -> Any:
    # here, not at the top: these load web3 (seconds to import), only for an issuer that uses the chain for its DID
    from ledger.deployment import open_ledger
    from ledger.keys import default_root_account, fund_if_devnet

    settings = settings or LedgerSettings.from_env()
    ledger = open_ledger(settings, account=controller)
    if ledger.dids is None:
        raise ConfigurationError("the ledger's deployment has no DidRegistry; run `microcred deploy --force` to "
                                 "deploy the current contracts")
    try:
        funder = default_root_account(ledger.chain, settings.data_dir)
    except ConfigurationError:
        funder = None  # not a devnet: the controller pays for itself
    if funder is not None:
        fund_if_devnet(ledger.chain, funder, controller.address)
    return ledger


def register_did(public_key: PublicKey, controller_key_path: Path, *,
                 settings: LedgerSettings | None = None) -> tuple[str, str]:
    """Register a did:mcr with ``public_key``, controlled by the account in ``controller_key_path``: (DID, kid)."""
    from ledger.keys import load_key_file  # here: web3, see _ledger

    controller = load_key_file(controller_key_path)
    change = _ledger(controller, settings).dids.register(public_key)
    return change.did, str(change.kid)


def _rotated_at(dids: Any, did: str, key: PublicKey) -> int | None:
    """The block from which ``key`` is ``did``'s key in force on chain (a rotation to it was mined), else None."""
    record = dids.record(did)
    key_id = key_id_of(key)
    for method in record.methods if record is not None else ():
        if method.key_id == key_id and method.valid_until_block is None and method.revoked_at_block is None:
            return int(method.valid_from_block)
    return None


def _ended_at(dids: Any, did: str, block: int | None) -> str:
    """The kid of ``did``'s key that ended at ``block`` (the key a rotation replaced)."""
    record = dids.record(did)
    for method in record.methods if record is not None and block is not None else ():
        if method.valid_until_block == block:
            return f"{did}#{b64url_encode(method.key_id)}"
    return "unknown"


def _in_force_unless_listed(dids: Any, did: str, kid: str) -> str:
    """``kid``, the key a rotation ends; or, when the DID's record does not list it at all (the chain lost the
    rotation that made it), the key the chain holds in force."""
    record = dids.record(did)
    fragment = kid.partition("#")[2]
    if record is None or any(b64url_encode(m.key_id) == fragment for m in record.methods):
        return kid
    in_force = [m for m in record.methods if m.valid_until_block is None and m.revoked_at_block is None]
    return f"{did}#{b64url_encode(in_force[-1].key_id)}" if in_force else kid


def rotate_signing_key(home: IssuerHome, *, settings: LedgerSettings | None = None) -> tuple[str, str, int]:
    """Rotate the issuer's did:mcr signing key: (old kid, new kid, block of the rotation).

    A rotation left half-done (its next key file still there) is finished rather than started again: with the
    rotation mined, the files are brought in line; without, it is sent again with that same key.
    """
    from ledger.errors import TransactionReverted  # here: web3, see _ledger
    from ledger.keys import load_key_file

    identity = home.identity
    if not identity.did.startswith(f"did:{DID_MCR_METHOD}:"):
        raise ConfigurationError(f"issuer {identity.name} signs as {identity.did[:60]}, whose key is fixed by the "
                                 "DID itself; only a did:mcr issuer can rotate its key (issuer init --did-method mcr)")
    next_path = home.path / NEXT_KEY_FILE
    controller = load_key_file(home.controller_key_path)
    dids = _ledger(controller, settings).dids
    if next_path.exists():  # an interrupted rotation: finish it with its key
        new_key = PrivateKey.from_jwk(json_loads_object(read_secret_file(next_path), what=str(next_path)))
    else:
        new_key = PrivateKey.generate(identity.alg)
        write_secret_file(next_path, json.dumps(new_key.to_jwk()) + "\n")
    fault_point("key-rotating")
    new_kid = f"{identity.did}#{new_key.public_key().thumbprint()}"
    block = _rotated_at(dids, identity.did, new_key.public_key())
    old_kid = identity.kid if identity.kid != new_kid else _ended_at(dids, identity.did, block)
    if block is None:
        ending = old_kid = _in_force_unless_listed(dids, identity.did, identity.kid)
        try:
            block = dids.rotate(identity.did, ending, new_key.public_key()).transaction.block_number
        except (TransactionReverted, InvalidInput):
            block = _rotated_at(dids, identity.did, new_key.public_key())  # a rotation sent before may be mined
            if block is None:
                next_path.unlink(missing_ok=True)  # refused, nothing changed on chain: the old key stays in force
                raise
    # any other failure (the node stopped answering, an interruption) leaves the next key in place: the
    # transaction may have been mined; running the command again finishes the rotation either way
    fault_point("key-rotated")
    # the kid first, then the key: a run killed between the two still finds the next key file and finishes
    updated = replace(identity, kid=new_kid)
    temporary = home.path / (IDENTITY_FILE + ".tmp")
    temporary.write_text(json.dumps(asdict(updated), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, home.path / IDENTITY_FILE)
    os.replace(next_path, home.signing_key_path)
    return old_kid, new_kid, int(block)


def restore_lost_rotation(home: IssuerHome, *, settings: LedgerSettings | None = None) -> tuple[str, int] | None:
    """When the DID's record on chain does not list the issuer's signing key at all (a reorganisation, or a node
    restarted from an older state, lost the rotation to it): rotate from the key the chain holds in force to it
    again; (the kid ended, block). None when the chain lists the key (in force, ended or revoked: a key taken
    out on purpose is never put back) or the issuer is not a did:mcr."""
    identity = home.identity
    if not identity.did.startswith(f"did:{DID_MCR_METHOD}:") or (home.path / NEXT_KEY_FILE).exists():
        return None
    from ledger.keys import load_key_file  # here: web3, see _ledger

    dids = _ledger(load_key_file(home.controller_key_path), settings).dids
    key = home.signing_key().public_key()
    record = dids.record(identity.did)
    if record is None:
        raise ConfigurationError(f"the ledger does not know {identity.did} (was the chain started afresh?)")
    if any(method.key_id == key_id_of(key) for method in record.methods):
        return None
    in_force = [m for m in record.methods if m.valid_until_block is None and m.revoked_at_block is None]
    if not in_force:
        raise ConfigurationError(f"{identity.did} has no key in force on chain and does not list this issuer's key")
    ended = f"{identity.did}#{b64url_encode(in_force[-1].key_id)}"
    return ended, int(dids.rotate(identity.did, ended, key).transaction.block_number)


def stale_status_lists(service: IssuerService) -> list[str]:
    """Ids of the status lists whose newest token is signed with another key than the issuer's kid (a rotation
    interrupted before it signed them again)."""
    stale = []
    for record in service.archive.status_lists():
        if record.token and UnverifiedJws.parse(record.token, what="status list token").header.get("kid") \
                != service.identity.kid:
            stale.append(record.id)
    return stale


def resign_status_lists(service: IssuerService, *, now: int) -> tuple[int, list[AnchorOutcome]]:
    """Sign every status list of ``service`` (built with the new key) again, then anchor them: (lists, outcomes)."""
    with service.archive.transaction():
        records = list(service.archive.status_lists())
        for record in records:
            service.lists.sign(record.id, now=now)
    return len(records), service.converge_anchors()
