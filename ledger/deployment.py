"""Deploying the registries and finding them again: ``<data dir>/deployment.json``.

:func:`deploy` deploys the TrustRegistry (with the root of trust) and the
StatusRegistry that asks it, and returns a :class:`Deployment`, which
:meth:`Deployment.save` writes as JSON::

    {"format": 1, "chain_id": 31337, "rpc_url": "http://127.0.0.1:8545",
     "deployment_block": 2, "deployed_at": 1700000000,
     "root": {"address": "0xf39F…", "did": "did:web:…"},
     "contracts": {"TrustRegistry": {"address": "0x…", "artifact": "contracts/artifacts/TrustRegistry.json",
                                     "abi_sha256": "…"}, "StatusRegistry": {…}}}

:func:`open_ledger` reads it back (from the settings in :mod:`ledger.config`),
checks that the node is the same chain and holds code at both addresses, and
returns a :class:`Ledger` with both typed clients. The artifact's ABI must
have the recorded hash, so a client never talks to a contract with the wrong
ABI: after changing the contracts, deploy again.

Registries added later (the DidRegistry and the IssuanceRegistry of issue 14)
are optional in the file: an older deployment still opens, its
:attr:`Deployment.missing_registries` names what it lacks, and
``microcred deploy`` (without ``--force``) and the demo deploy again when it
lacks any, as they do when a deployment does not answer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.artifacts import DID_REGISTRY, ISSUANCE_REGISTRY, STATUS_REGISTRY, TRUST_REGISTRY, load_artifact
from ledger.chain import Chain
from ledger.config import LedgerSettings
from ledger.did_registry import DidRegistryClient
from ledger.errors import DeploymentNotFound, InvalidDeployment
from ledger.issuance import IssuanceRegistryClient
from ledger.status import StatusRegistryClient
from ledger.trust import TrustRegistryClient, check_did_syntax

__all__ = [
    "DEPLOYMENT_FORMAT",
    "DEFAULT_ROOT_DID",
    "ContractRef",
    "Deployment",
    "Ledger",
    "deploy",
    "open_ledger",
    "attach",
]

DEPLOYMENT_FORMAT = 1

#: The demo root of trust's DID when none is given (any DID can be used).
DEFAULT_ROOT_DID = "did:web:root.microcred.localhost"
DEFAULT_ROOT_NAME = "microcred demo root of trust"
DEFAULT_ROOT_COUNTRY = "EU"


@dataclass(frozen=True)
class ContractRef:
    """Where a deployed contract is and which ABI it was deployed with."""

    address: str
    artifact: str
    abi_sha256: str


@dataclass(frozen=True)
class Deployment:
    """What ``deployment.json`` holds."""

    chain_id: int
    rpc_url: str
    deployment_block: int
    deployed_at: int
    root_address: str
    root_did: str
    trust_registry: ContractRef
    status_registry: ContractRef
    #: The did:mcr registry (issue 14); None in a deployment made before it existed.
    did_registry: ContractRef | None = None
    #: The registry of issuance batch roots (issue 14); None in a deployment made before it existed.
    issuance_registry: ContractRef | None = None

    @property
    def missing_registries(self) -> tuple[str, ...]:
        """The registries of these sources that this (older) deployment lacks: deploy again to have them."""
        return tuple(name for name, ref in ((DID_REGISTRY, self.did_registry),
                                            (ISSUANCE_REGISTRY, self.issuance_registry)) if ref is None)

    def as_json(self) -> dict[str, Any]:
        optional = {DID_REGISTRY: vars(self.did_registry).copy()} if self.did_registry else {}
        if self.issuance_registry:
            optional[ISSUANCE_REGISTRY] = vars(self.issuance_registry).copy()
        return {
            "format": DEPLOYMENT_FORMAT,
            "chain_id": self.chain_id,
            "rpc_url": self.rpc_url,
            "deployment_block": self.deployment_block,
            "deployed_at": self.deployed_at,
            "root": {"address": self.root_address, "did": self.root_did},
            "contracts": {
                TRUST_REGISTRY: vars(self.trust_registry).copy(),
                STATUS_REGISTRY: vars(self.status_registry).copy(),
                **optional,
            },
        }

    def save(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeploymentNotFound(f"expected a deployment file at {path}; run `microcred deploy` first") from None
        except (OSError, ValueError) as exc:
            raise InvalidDeployment(f"the deployment file {path} is not readable JSON: {exc}") from None
        try:
            if data["format"] != DEPLOYMENT_FORMAT:
                raise InvalidDeployment(
                    f"expected deployment format {DEPLOYMENT_FORMAT} in {path}, found {data['format']}")
            contracts = data["contracts"]
            return cls(
                chain_id=int(data["chain_id"]), rpc_url=str(data["rpc_url"]),
                deployment_block=int(data["deployment_block"]), deployed_at=int(data["deployed_at"]),
                root_address=str(data["root"]["address"]), root_did=str(data["root"]["did"]),
                trust_registry=ContractRef(**contracts[TRUST_REGISTRY]),
                status_registry=ContractRef(**contracts[STATUS_REGISTRY]),
                did_registry=ContractRef(**contracts[DID_REGISTRY]) if DID_REGISTRY in contracts else None,
                issuance_registry=(ContractRef(**contracts[ISSUANCE_REGISTRY])
                                   if ISSUANCE_REGISTRY in contracts else None),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidDeployment(f"the deployment file {path} lacks or garbles {exc}") from None


@dataclass(frozen=True)
class Ledger:
    """A chain connection with the deployment and a client for each registry."""

    chain: Chain
    deployment: Deployment
    trust: TrustRegistryClient
    status: StatusRegistryClient
    #: The did:mcr registry's client; None when the deployment has none.
    dids: DidRegistryClient | None = None
    #: The issuance batch roots' client; None when the deployment has none.
    issuance: IssuanceRegistryClient | None = None


def _ref(name: str, address: str) -> ContractRef:
    artifact = load_artifact(name)
    return ContractRef(address=address, artifact=f"contracts/artifacts/{artifact.file_name}",
                       abi_sha256=artifact.abi_sha256)


def deploy(chain: Chain, root_account: LocalAccount, *, root_did: str = DEFAULT_ROOT_DID,
           root_name: str = DEFAULT_ROOT_NAME, root_country: str = DEFAULT_ROOT_COUNTRY) -> Deployment:
    """Deploy both registries with ``root_account`` as the root's controller."""
    check_did_syntax(root_did)
    trust_artifact = load_artifact(TRUST_REGISTRY)
    status_artifact = load_artifact(STATUS_REGISTRY)
    trust_tx = chain.transact(
        chain.contract(trust_artifact).constructor(root_did, root_name, root_country, root_account.address),
        root_account, action="deploy the TrustRegistry",
    )
    status_tx = chain.transact(
        chain.contract(status_artifact).constructor(trust_tx.contract_address),
        root_account, action="deploy the StatusRegistry",
    )
    did_tx = chain.transact(chain.contract(load_artifact(DID_REGISTRY)).constructor(), root_account,
                            action="deploy the DidRegistry")
    issuance_tx = chain.transact(chain.contract(load_artifact(ISSUANCE_REGISTRY)).constructor(), root_account,
                                 action="deploy the IssuanceRegistry")
    return Deployment(
        chain_id=chain.chain_id(), rpc_url=chain.rpc_url, deployment_block=trust_tx.block_number,
        deployed_at=chain.block_timestamp(trust_tx.block_number), root_address=root_account.address,
        root_did=root_did,
        trust_registry=_ref(TRUST_REGISTRY, str(trust_tx.contract_address)),
        status_registry=_ref(STATUS_REGISTRY, str(status_tx.contract_address)),
        did_registry=_ref(DID_REGISTRY, str(did_tx.contract_address)),
        issuance_registry=_ref(ISSUANCE_REGISTRY, str(issuance_tx.contract_address)),
    )


def open_ledger(settings: LedgerSettings | None = None, *, account: LocalAccount | None = None,
                check_code: bool = True) -> Ledger:
    """Connect to the configured node and the deployed registries; ``account`` signs changes."""
    settings = settings or LedgerSettings.from_env()
    deployment = Deployment.load(settings.deployment_path)
    chain = Chain(settings.resolve_rpc_url(), confirmations=settings.confirmations)
    return attach(chain, deployment, account=account, check_code=check_code)


def attach(chain: Chain, deployment: Deployment, *, account: LocalAccount | None = None,
           check_code: bool = True) -> Ledger:
    """Clients for ``deployment`` on ``chain``, after checking that they belong together."""
    if chain.chain_id() != deployment.chain_id:
        raise InvalidDeployment(
            f"the deployment is for chain {deployment.chain_id}, but the node at {chain.rpc_url} "
            f"is chain {chain.chain_id()}; run `microcred deploy` against this node"
        )
    contracts = {}
    refs = [(TRUST_REGISTRY, deployment.trust_registry), (STATUS_REGISTRY, deployment.status_registry)]
    if deployment.did_registry is not None:
        refs.append((DID_REGISTRY, deployment.did_registry))
    if deployment.issuance_registry is not None:
        refs.append((ISSUANCE_REGISTRY, deployment.issuance_registry))
    for name, ref in refs:
        artifact = load_artifact(name)
        if artifact.abi_sha256 != ref.abi_sha256:
            raise InvalidDeployment(
                f"{name} at {ref.address} was deployed with another ABI (sha256 {ref.abi_sha256[:12]}…, "
                f"the sources now give {artifact.abi_sha256[:12]}…); run `microcred deploy` again"
            )
        if check_code and not chain.code_at(ref.address):
            raise InvalidDeployment(
                f"no {name} contract at {ref.address} on {chain.rpc_url} (was the devnet restarted "
                "without its state?); run `microcred deploy` again"
            )
        contracts[name] = chain.contract(artifact, ref.address)
    return Ledger(
        chain=chain, deployment=deployment,
        trust=TrustRegistryClient(chain, contracts[TRUST_REGISTRY], account=account),
        status=StatusRegistryClient(chain, contracts[STATUS_REGISTRY], account=account),
        dids=DidRegistryClient(chain, contracts[DID_REGISTRY], account=account) if DID_REGISTRY in contracts else None,
        issuance=(IssuanceRegistryClient(chain, contracts[ISSUANCE_REGISTRY], account=account)
                  if ISSUANCE_REGISTRY in contracts else None),
    )
