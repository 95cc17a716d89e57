"""Typed client for the TrustRegistry contract (``contracts/ITrustRegistry.sol``).

The registry imitates EBSI's Trusted Issuers Registry (RootTAO → TAO → TI).
The question a verifier asks is :meth:`TrustRegistryClient.accreditation_at`:
"was DID X accredited for credential type T at time t, and by whom, up to the
root?" It answers with the whole chain in one ``eth_call`` at any block, or
None when the DID was not accredited then. :meth:`TrustRegistryClient.lookup`
gives the reason as well (a :class:`~ledger.artifacts.Standing`).

DIDs are plain strings on chain (keyed by keccak256 of the string), so any
DID method is accepted; :func:`check_did_syntax` does the light W3C DID Core
1.0 §3.1 syntax check (``did:<method>:<method-specific-id>``) before sending.
An X.509-sealed organisation (a Europass EDC's seal) is accredited the same
way under its issuer identifier ``x509:org:<organizationIdentifier>`` (ETSI EN
319 412-1 §5.1.4) or ``x509:spki:sha256:<hex>``
(:func:`credentials.x509_trust.issuer_id_for`), which the check accepts too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import is_checksum_address, is_checksum_formatted_address, is_hex_address, to_checksum_address

from credentials.errors import InvalidDid, InvalidInput
from ledger._events import ContractClient
from ledger.artifacts import Role, Standing
from ledger.chain import BlockId, TransactionResult, signer_of

__all__ = [
    "UNLIMITED",
    "check_did_syntax",
    "check_address",
    "AccreditationLink",
    "Accreditation",
    "AccreditationLookup",
    "TrustEvent",
    "TrustRegistryClient",
]

#: ``validUntil`` meaning "no end" (the root's; also accepted for grants).
UNLIMITED = 2**64 - 1

_DID = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._:-]|%[0-9A-Fa-f]{2})*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})$")
_MAX_DID_LENGTH = 2048
#: X.509-sealed organisations (credentials.x509_trust.issuer_id_for).
_X509_ISSUER = re.compile(r"^x509:(?:org:(?:VAT|NTR|PSD|LEI|[A-Z]{2}:)[A-Z]{2}-[A-Za-z0-9./+_-]{1,64}"
                          r"|spki:sha256:[0-9a-f]{64})$")


def check_address(address: str) -> str:
    """``address`` in EIP-55 checksum form; InvalidInput when it is not a 20-byte hex address or
    is mixed-case with a wrong checksum (a typo the checksum exists to catch)."""
    if not isinstance(address, str) or not is_hex_address(address):
        raise InvalidInput(f"expected a 20-byte hex address (0x…), found {str(address)[:80]!r}")
    if is_checksum_formatted_address(address) and not is_checksum_address(address):
        raise InvalidInput(f"expected a 20-byte hex address with a valid EIP-55 checksum (mixed case), "
                           f"found {address!r}, whose checksum does not match: is it mistyped?")
    return to_checksum_address(address)


def check_did_syntax(did: str) -> str:
    """Return ``did`` if it has DID syntax (``did:<method>:<id>``) or is an X.509 organisation's identifier
    (``x509:org:…``, ``x509:spki:sha256:…``), else raise InvalidDid."""
    if not isinstance(did, str) or len(did) > _MAX_DID_LENGTH or not (_DID.match(did) or _X509_ISSUER.match(did)):
        raise InvalidDid(f"expected a DID of the form did:<method>:<id> or an X.509 organisation identifier "
                         f"x509:org:<organizationIdentifier>, found {str(did)[:80]!r}")
    return did


@dataclass(frozen=True)
class AccreditationLink:
    """One entry of the registry: a DID, who accredited it, for what and when."""

    did: str
    role: Role
    legal_name: str
    country: str
    accredited_by: str | None
    vcts: tuple[str, ...]
    max_eqf_level: int | None
    valid_from: int
    valid_until: int | None
    suspended_at: int | None
    revoked_at: int | None
    controller: str

    @classmethod
    def from_abi(cls, entry: Any) -> AccreditationLink:
        (did, legal_name, country, accredited_by, _by_hash, role, max_eqf, _depth,
         valid_from, valid_until, suspended_at, revoked_at, controller, vcts) = entry
        return cls(
            did=did, role=Role(role), legal_name=legal_name, country=country,
            accredited_by=accredited_by or None, vcts=tuple(vcts), max_eqf_level=max_eqf or None,
            valid_from=int(valid_from), valid_until=None if valid_until == UNLIMITED else int(valid_until),
            suspended_at=int(suspended_at) or None, revoked_at=int(revoked_at) or None,
            controller=to_checksum_address(controller),
        )

    @property
    def status(self) -> str:
        """``"revoked"``, ``"suspended"`` or ``"active"`` as of the block read (validity aside)."""
        return "revoked" if self.revoked_at else "suspended" if self.suspended_at else "active"

    def as_dict(self) -> dict[str, Any]:
        return {
            "did": self.did, "role": self.role.label, "legal_name": self.legal_name, "country": self.country,
            "accredited_by": self.accredited_by, "vcts": list(self.vcts), "max_eqf_level": self.max_eqf_level,
            "valid_from": self.valid_from, "valid_until": self.valid_until, "suspended_at": self.suspended_at,
            "revoked_at": self.revoked_at, "status": self.status, "controller": self.controller,
        }


@dataclass(frozen=True)
class Accreditation:
    """A positive answer: ``did`` was accredited for ``vct`` at ``at_time``; chain[0] is its own entry."""

    did: str
    vct: str
    at_time: int
    block: BlockId
    chain: tuple[AccreditationLink, ...]

    @property
    def entry(self) -> AccreditationLink:
        return self.chain[0]

    @property
    def legal_name(self) -> str:
        return self.entry.legal_name

    @property
    def country(self) -> str:
        return self.entry.country

    @property
    def accredited_by(self) -> str | None:
        return self.entry.accredited_by

    @property
    def root_did(self) -> str:
        return self.chain[-1].did


@dataclass(frozen=True)
class AccreditationLookup:
    """The registry's full answer: the standing (with its reason) and the chain, if any."""

    did: str
    vct: str
    at_time: int
    block: BlockId
    standing: Standing
    chain: tuple[AccreditationLink, ...]

    @property
    def accredited(self) -> bool:
        return self.standing is Standing.ACCREDITED

    @property
    def reason(self) -> str:
        return self.reason_at(self.at_time)

    def reason_at(self, at_time: int) -> str:
        """The reason of this standing, asked at ``at_time``."""
        return f"{self.did} was {self.standing.words} at {at_time}"


@dataclass(frozen=True)
class TrustEvent:
    """One change in the registry, as emitted."""

    name: str
    did: str
    block_number: int
    log_index: int
    transaction_hash: str
    args: dict[str, Any]


class TrustRegistryClient(ContractClient):
    """Reads and changes a deployed TrustRegistry; ``account`` signs changes unless one is passed."""

    # ------------------------------------------------------------------ reads

    def root_did(self, *, block: BlockId = "latest") -> str:
        (did,) = self.chain.call(self.contract, "rootDid", block=block, action="read the root DID")
        return did

    def lookup(self, did: str, vct: str = "", at_time: int | None = None, *,
               block: BlockId = "latest") -> AccreditationLookup:
        """Standing of ``did`` for ``vct`` (empty: any type) at ``at_time`` (default: that block's time)."""
        check_did_syntax(did)
        when = self.chain.block_timestamp(block) if at_time is None else int(at_time)
        standing, entries = self.chain.call(
            self.contract, "accreditationAt", did, vct, when, block=block,
            action=f"look up the accreditation of {did}",
        )
        chain = tuple(AccreditationLink.from_abi(entry) for entry in entries)
        return AccreditationLookup(did, vct, when, block, Standing(standing), chain)

    def accreditation_at(self, did: str, vct: str, at_time: int, *, block: BlockId = "latest") -> Accreditation | None:
        """The accreditation chain if ``did`` was accredited for ``vct`` at ``at_time``, else None."""
        found = self.lookup(did, vct, at_time, block=block)
        if not found.accredited:
            return None
        return Accreditation(did, vct, found.at_time, block, found.chain)

    def entry(self, did: str, *, block: BlockId = "latest") -> AccreditationLink | None:
        """The stored entry for ``did``, or None."""
        check_did_syntax(did)
        (raw,) = self.chain.call(self.contract, "entryOf", did, block=block, action=f"read the entry of {did}")
        link = AccreditationLink.from_abi(raw)
        return None if link.role is Role.NONE else link

    def events(self, *, from_block: int = 0, to_block: BlockId = "latest") -> list[TrustEvent]:
        """Every change in ``[from_block, to_block]``, in chain order (for cache invalidation)."""
        last = self.chain.block_number() if to_block == "latest" else to_block
        if isinstance(last, int) and from_block > last:
            return []  # nothing newer yet (nodes refuse a range that starts after the head)
        raw_logs = self.chain.get_logs(self.address, from_block=from_block, to_block=last,
                                       action="read the trust registry's events")
        found = []
        for decoded in filter(None, map(self._decoder.decode, raw_logs)):
            found.append(TrustEvent(name=decoded.name, did=decoded.args["did"], block_number=decoded.block_number,
                                    log_index=decoded.log_index, transaction_hash=decoded.transaction_hash,
                                    args=decoded.args))
        found.sort(key=lambda e: (e.block_number, e.log_index))
        return found

    # ---------------------------------------------------------------- changes

    def accredit(self, accreditor_did: str, did: str, *, role: Role = Role.ISSUER, vcts: Sequence[str],
                 legal_name: str, country: str, valid_from: int, valid_until: int | None,
                 controller: str, max_eqf_level: int | None = None,
                 account: LocalAccount | None = None) -> TransactionResult:
        """``accreditor_did`` (controlled by the signing account) accredits ``did``."""
        check_did_syntax(accreditor_did)
        check_did_syntax(did)
        grant = (did, legal_name, country, int(role), list(vcts), int(max_eqf_level or 0), int(valid_from),
                 UNLIMITED if valid_until is None else int(valid_until), controller)
        return self._transact(f"accredit {did}", account, "accredit", accreditor_did, grant)

    def suspend(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        check_did_syntax(did)
        return self._transact(f"suspend {did}", account, "suspend", did)

    def reinstate(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        check_did_syntax(did)
        return self._transact(f"reinstate {did}", account, "reinstate", did)

    def revoke(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        check_did_syntax(did)
        return self._transact(f"revoke {did}", account, "revoke", did)

    def renew(self, did: str, valid_until: int | None, *, account: LocalAccount | None = None) -> TransactionResult:
        check_did_syntax(did)
        until = UNLIMITED if valid_until is None else int(valid_until)
        return self._transact(f"renew {did}", account, "renew", did, until)

    # Control changes hands in two steps (Ownable2Step style), so a mistyped
    # address leaves the old controller in charge; there is no one-step setter.

    def propose_controller(self, did: str, new_controller: str, *,
                           account: LocalAccount | None = None) -> TransactionResult:
        """Step 1: the entry's controller proposes ``new_controller`` (replacing any earlier proposal)."""
        check_did_syntax(did)
        return self._transact(f"propose {new_controller} as the controller of {did}", account,
                               "proposeController", did, check_address(new_controller))

    def cancel_controller_transfer(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        """The entry's controller withdraws its pending proposal."""
        check_did_syntax(did)
        return self._transact(f"cancel the controller transfer of {did}", account, "cancelControllerTransfer", did)

    def accept_controller(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        """Step 2: the proposed address (the signing account) takes control of ``did``."""
        check_did_syntax(did)
        return self._transact(f"accept control of {did}", account, "acceptController", did)

    def pending_controller(self, did: str, *, block: BlockId = "latest") -> str | None:
        """The address proposed as the next controller of ``did``, or None."""
        check_did_syntax(did)
        (pending,) = self.chain.call(self.contract, "pendingControllerOf", did, block=block,
                                     action=f"read the pending controller of {did}")
        return None if int(pending, 16) == 0 else to_checksum_address(pending)

    def _transact(self, action: str, account: LocalAccount | None, function_name: str, *args) -> TransactionResult:
        return self.chain.send(self.contract, function_name, *args, account=signer_of(account, self.account),
                               action=action)
