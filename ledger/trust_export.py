"""The TrustRegistry read whole, at one block, for the trust lists others read (issue 14, §3).

Every DID the registry ever accredited is named by its ``Accredited`` events
(the root's too, emitted by the constructor); each entry is then read with
``entryOf`` at the same block, so the list is one consistent picture of that
block. :func:`registry_snapshot` returns it; :func:`lote_of` writes it as an
ETSI TS 119 602 List of Trusted Entities (:mod:`credentials.lote`),
:func:`accreditations_of` as EBSI-style Verifiable Accreditations
(:mod:`credentials.ebsi_accreditation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credentials.ebsi_accreditation import accreditation_credentials
from credentials.lote import SchemeInfo, TrustedEntry, build_lote
from ledger.trust import AccreditationLink

__all__ = ["RegistrySnapshot", "registry_snapshot", "lote_of", "accreditations_of", "DEFAULT_NEXT_UPDATE"]

#: Seconds from a list's issue to its NextUpdate (clause 6.3.15): a consumer fetches a fresh one within a day.
DEFAULT_NEXT_UPDATE = 24 * 3600


@dataclass(frozen=True)
class RegistrySnapshot:
    """Every entry of the registry as of ``block`` (its time ``timestamp``), root first."""

    chain_id: int
    registry: str
    block: int
    timestamp: int
    root_did: str
    entries: tuple[TrustedEntry, ...]

    @property
    def root(self) -> TrustedEntry:
        return next(e for e in self.entries if e.did == self.root_did)


def _entry(link: AccreditationLink) -> TrustedEntry:
    return TrustedEntry(did=link.did, role=link.role.label, legal_name=link.legal_name, country=link.country,
                        accredited_by=link.accredited_by, vcts=link.vcts, max_eqf_level=link.max_eqf_level,
                        valid_from=link.valid_from, valid_until=link.valid_until, suspended_at=link.suspended_at,
                        revoked_at=link.revoked_at)


def registry_snapshot(ledger: Any, *, block: int | None = None) -> RegistrySnapshot:
    """Read the whole registry at ``block`` (default: head − ``MICROCRED_CONFIRMATIONS``, as verifiers read)."""
    chain, trust, deployment = ledger.chain, ledger.trust, ledger.deployment
    if block is None:
        block = max(chain.block_number() - int(getattr(chain, "confirmations", 0) or 0), deployment.deployment_block)
    at = int(block)
    dids = dict.fromkeys(event.did for event in trust.events(from_block=deployment.deployment_block, to_block=at)
                         if event.name == "Accredited")
    root_did = trust.root_did(block=at)
    dids = {root_did: None, **dids}
    entries = [link for link in (trust.entry(did, block=at) for did in dids) if link is not None]
    return RegistrySnapshot(chain_id=deployment.chain_id, registry=deployment.trust_registry.address, block=at,
                            timestamp=chain.block_timestamp(at), root_did=root_did,
                            entries=tuple(_entry(link) for link in entries))


def lote_of(snapshot: RegistrySnapshot, *, next_update: int = DEFAULT_NEXT_UPDATE,
            distribution_points: Sequence[str] = ()) -> dict[str, Any]:
    """The registry as a TS 119 602 LoTE, published by its root; numbered by the block read."""
    root = snapshot.root
    scheme = SchemeInfo(operator_name=root.legal_name or root.did, territory=(root.country or "EU")[:2].upper(),
                        issued_at=snapshot.timestamp, next_update=snapshot.timestamp + next_update,
                        sequence=snapshot.block, chain_id=snapshot.chain_id, registry=snapshot.registry,
                        distribution_points=tuple(distribution_points))
    return build_lote(snapshot.entries, scheme)


def accreditations_of(snapshot: RegistrySnapshot, *, signer: Any = None) -> dict[str, Any]:
    """The registry as EBSI-style Verifiable Accreditations (unsigned JSON, or JWTs when ``signer`` is given)."""
    return accreditation_credentials(snapshot.entries, root_did=snapshot.root_did, chain_id=snapshot.chain_id,
                                     registry=snapshot.registry, block=snapshot.block, issued_at=snapshot.timestamp,
                                     signer=signer)
