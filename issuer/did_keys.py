"""An issuer whose DID is a did:mcr (:mod:`credentials.did_mcr`): registering it, and rotating its signing key.

``microcred issuer init NAME --did-method mcr`` registers a ``did:mcr`` on the
ledger's DidRegistry with the issuer's new signing key, the issuer's
controller account (``controller.key``) being the DID's controller, so the
same account anchors status lists and controls the keys. Its ``kid`` is
``<did>#<RFC 7638 thumbprint>``.

``microcred issuer rotate-key`` (:func:`rotate_signing_key`) makes a new key,
rotates on chain (the new key added and the old one ended in one transaction)
and only then puts the new key in place of the old one (``issuer.private.jwk``,
0600) and the new ``kid`` in ``issuer.json``; a failure on chain changes
nothing on disk. Then :func:`resign_status_lists` signs every status list
again with the new key and anchors them (a verifier checks a did:mcr's list
with the key valid now, which the old key no longer is). Credentials signed before the rotation keep verifying where
their issuance anchor predates it; a running ``issuer serve`` must be
restarted to sign with the new key.

On a devnet the controller is funded from the root for its transactions
(as ``microcred accredit grant`` does).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from credentials.did_mcr import DID_MCR_METHOD
from credentials.errors import ConfigurationError, InvalidInput
from credentials.jose import PrivateKey, PublicKey
from issuer.identity import IDENTITY_FILE, IssuerHome, write_secret_file
from issuer.service import AnchorOutcome, IssuerService
from ledger.config import LedgerSettings

__all__ = ["NEXT_KEY_FILE", "register_did", "rotate_signing_key", "resign_status_lists"]

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


def rotate_signing_key(home: IssuerHome, *, settings: LedgerSettings | None = None) -> tuple[str, str, int]:
    """Rotate the issuer's did:mcr signing key: (old kid, new kid, block of the rotation)."""
    from ledger.errors import TransactionReverted  # here: web3, see _ledger
    from ledger.keys import load_key_file

    identity = home.identity
    if not identity.did.startswith(f"did:{DID_MCR_METHOD}:"):
        raise ConfigurationError(f"issuer {identity.name} signs as {identity.did[:60]}, whose key is fixed by the "
                                 "DID itself; only a did:mcr issuer can rotate its key (issuer init --did-method mcr)")
    next_path = home.path / NEXT_KEY_FILE
    if next_path.exists():
        raise ConfigurationError(f"{next_path} is left from an interrupted rotation: check `microcred did show "
                                 f"{identity.did}`; if its newest key is this file's, move it over "
                                 f"{home.signing_key_path.name}, else delete it, then try again")
    controller = load_key_file(home.controller_key_path)
    dids = _ledger(controller, settings).dids
    new_key = PrivateKey.generate(identity.alg)
    write_secret_file(next_path, json.dumps(new_key.to_jwk()) + "\n")
    try:
        change = dids.rotate(identity.did, identity.kid, new_key.public_key())
    except (TransactionReverted, InvalidInput):
        next_path.unlink(missing_ok=True)  # refused, nothing changed on chain: the old key stays in force
        raise
    # any other failure (the node stopped answering, an interruption) leaves the next key in place: the
    # transaction may have been mined, and then that key is the DID's (the message above says what to do)
    os.replace(next_path, home.signing_key_path)
    updated = replace(identity, kid=str(change.kid))
    temporary = home.path / (IDENTITY_FILE + ".tmp")
    temporary.write_text(json.dumps(asdict(updated), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, home.path / IDENTITY_FILE)
    return identity.kid, updated.kid, change.transaction.block_number


def resign_status_lists(service: IssuerService, *, now: int) -> tuple[int, list[AnchorOutcome]]:
    """Sign every status list of ``service`` (built with the new key) again, then anchor them: (lists, outcomes)."""
    with service.archive.transaction():
        records = list(service.archive.status_lists())
        for record in records:
            service.lists.sign(record.id, now=now)
    return len(records), service.converge_anchors()
