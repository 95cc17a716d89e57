"""``microcred devnet|deploy|accredit``: the ledger's command line (click 8).

``accredit transfer|accept|cancel-transfer`` hand an entry's control (the
root's too: DID ``root``) to another address in two steps, as the
TrustRegistry's ``proposeController`` / ``acceptController`` do.

``microcred/cli.py`` loads the three objects named in ``__all__`` lazily.
Settings come from the environment (:mod:`ledger.config`); every failure is
one line on stderr and exit code 1 (2 for bad usage, as click does), never a
traceback; a Ctrl-C is exit 130, one line the ``microcred`` group writes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from eth_utils import is_hex_address

from credentials.errors import MicrocredError
from ledger.artifacts import Role
from ledger.config import LedgerSettings
from ledger.devnet import Devnet
from ledger.errors import LedgerError

if TYPE_CHECKING:  # ledger.deployment loads web3: imported by the commands that use the chain
    from ledger.deployment import Deployment

__all__ = ["devnet", "deploy", "accredit"]

_ROLES = {"issuer": Role.ISSUER, "tao": Role.TAO}

#: Stands for the root of trust's DID in the controller-transfer commands.
ROOT_ALIAS = "root"


def fail_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our errors into one line on stderr and exit status 1 (every ``microcred`` ledger command, did too)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MicrocredError as exc:
            click.echo(f"error: {exc}", err=True)
            click.get_current_context().exit(1)

    return wrapper


def _settings() -> LedgerSettings:
    return LedgerSettings.from_env()


def _parse_time(text: str, *, now: int, allow_never: bool = False) -> int | None:
    """Epoch seconds, ISO 8601 date or date-time (UTC unless an offset is given), 'now', or 'never'."""
    value = text.strip().lower()
    if value == "now":
        return now
    if value == "never" and allow_never:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        expected = "epoch seconds, an ISO 8601 date/date-time, 'now'" + (" or 'never'" if allow_never else "")
        raise click.BadParameter(f"expected {expected}, found {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def _fmt_time(value: int | None) -> str:
    if value is None:
        return "never"
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ devnet


@click.group()
def devnet() -> None:
    """Start, stop or inspect the local Anvil chain (state under the data dir)."""


@devnet.command("start")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--fresh", is_flag=True, help="Discard the saved chain state and start from block 0.")
@fail_cleanly
def devnet_start(port: int | None, fresh: bool) -> None:
    """Start Anvil on 127.0.0.1 and wait until it answers."""
    settings = _settings()
    chain_state = settings.data_dir / "anvil" / "state.json"
    if fresh:
        chain_state.unlink(missing_ok=True)
    record = Devnet(settings.data_dir).start(port=port)
    click.echo(f"devnet running: {record.url} (pid {record.pid}, state {record.state_path})")
    if settings.deployment_path.exists():
        click.echo(f"deployment file: {settings.deployment_path} (run `microcred deploy` if the chain was reset)")


@devnet.command("stop")
@fail_cleanly
def devnet_stop() -> None:
    """Stop the devnet (its state is saved for the next start)."""
    record = Devnet(_settings().data_dir).stop()
    click.echo("no devnet was running" if record is None else f"devnet stopped (pid {record.pid}, {record.url})")


@devnet.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@fail_cleanly
def devnet_status(as_json: bool) -> None:
    """Say whether a devnet runs, where, and what is deployed on it."""
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger.deployment import Deployment
    settings = _settings()
    status = Devnet(settings.data_dir).status()
    deployment = Deployment.load(settings.deployment_path) if settings.deployment_path.exists() else None
    report = {
        "running": status.alive,
        "answering": status.answering,
        "url": status.record.url if status.record else None,
        "pid": status.record.pid if status.record else None,
        "chain_id": status.chain_id,
        "block_number": status.block_number,
        "data_dir": str(settings.data_dir),
        "deployment": deployment.as_json() if deployment else None,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if status.record is None:
        click.echo(f"devnet: not running (no record in {settings.data_dir})")
    elif not status.alive:
        click.echo(f"devnet: not running (pid {status.record.pid} has exited; `microcred devnet start`)")
    elif not status.answering:
        click.echo(f"devnet: pid {status.record.pid} runs but {status.record.url} does not answer")
    else:
        click.echo(f"devnet: running at {status.record.url} (pid {status.record.pid}), "
                   f"chain {status.chain_id}, block {status.block_number}")
    if deployment is not None:
        click.echo(f"deployment: {_registries(deployment)} on chain {deployment.chain_id} "
                   f"(block {deployment.deployment_block}), root {deployment.root_did}")
    else:
        click.echo(f"deployment: none ({settings.deployment_path} missing)")


def _registries(deployment: Deployment) -> str:
    """'TrustRegistry 0x…, StatusRegistry 0x…, IssuanceRegistry 0x…, DidRegistry 0x…': each that ``deploy`` deploys,
    or for an older deployment which it lacks."""
    named = [("TrustRegistry", deployment.trust_registry), ("StatusRegistry", deployment.status_registry),
             ("IssuanceRegistry", deployment.issuance_registry), ("DidRegistry", deployment.did_registry)]
    text = ", ".join(f"{name} {ref.address}" for name, ref in named if ref is not None)
    if deployment.missing_registries:
        text += (", " + ", ".join(f"no {name}" for name in deployment.missing_registries)
                 + " (made by an older microcred: `microcred deploy`)")
    return text


# ------------------------------------------------------------------ deploy


@click.command()
@click.option("--root-did", default=None, help="DID of the root of trust (default: a demo did:web).")
@click.option("--root-name", default=None, help="Legal name of the root of trust.")
@click.option("--root-country", default=None, help="Country code of the root of trust (default EU).")
@click.option("--root-key-file", type=click.Path(path_type=Path), default=None,
              help="Key of the root's controller (default: <data dir>/keys/root.key, or Anvil's first account).")
@click.option("--force", is_flag=True, help="Deploy new contracts even if a working deployment exists.")
@fail_cleanly
def deploy(root_did: str | None, root_name: str | None, root_country: str | None,
           root_key_file: Path | None, force: bool) -> None:
    """Deploy the TrustRegistry, StatusRegistry, IssuanceRegistry and DidRegistry; write <data dir>/deployment.json."""
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger import deployment as deployment_module
    from ledger.chain import Chain
    from ledger.keys import default_root_account, load_key_file

    settings = _settings()
    chain = Chain(settings.resolve_rpc_url(), confirmations=settings.confirmations)
    if settings.deployment_path.exists() and not force:
        try:
            existing = deployment_module.open_ledger(settings).deployment
        except LedgerError:
            existing = None
        if existing is not None and existing.missing_registries:
            click.echo(f"the deployment on chain {existing.chain_id} lacks {', '.join(existing.missing_registries)} "
                       "(made by an older microcred); deploying again")
            existing = None
        if existing is not None:
            click.echo(f"already deployed on chain {existing.chain_id}: {_registries(existing)} "
                       "(use --force to deploy new contracts)")
            return
    root = load_key_file(root_key_file) if root_key_file else default_root_account(chain, settings.data_dir)
    result = deployment_module.deploy(
        chain, root,
        root_did=root_did or deployment_module.DEFAULT_ROOT_DID,
        root_name=root_name or deployment_module.DEFAULT_ROOT_NAME,
        root_country=root_country or deployment_module.DEFAULT_ROOT_COUNTRY,
    )
    result.save(settings.deployment_path)
    click.echo(f"TrustRegistry  {result.trust_registry.address}")
    click.echo(f"StatusRegistry {result.status_registry.address}")
    if result.issuance_registry is not None:
        click.echo(f"IssuanceRegistry {result.issuance_registry.address}")
    if result.did_registry is not None:
        click.echo(f"DidRegistry    {result.did_registry.address}")
    click.echo(f"chain {result.chain_id}, block {result.deployment_block}, root {result.root_did} "
               f"({result.root_address}); wrote {settings.deployment_path}")


# ---------------------------------------------------------------- accredit


def _open(key_file: Path | None):
    """The ledger with the signing account: ``key_file`` or the default root account."""
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger.deployment import open_ledger
    from ledger.keys import default_root_account, load_key_file

    settings = _settings()
    ledger = open_ledger(settings)
    signer = load_key_file(key_file) if key_file else default_root_account(ledger.chain, settings.data_dir)
    return settings, ledger, signer


_KEY_FILE_OPTION = click.option(
    "--key-file", type=click.Path(path_type=Path), default=None,
    help="Key of the acting controller (default: the root's).",
)


def _controller_address(value: str, param_hint: str) -> str:
    """An address (EIP-55 checksum checked when mixed-case) or a key file, created (mode 0600) if missing."""
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger.keys import load_or_create_key_file
    from ledger.trust import check_address

    if value.lower().startswith("0x") or is_hex_address(value):
        try:
            return check_address(value)
        except MicrocredError as exc:
            raise click.BadParameter(f"{exc}; or give a key file", param_hint=param_hint) from None
    account, created = load_or_create_key_file(Path(value))
    if created:
        click.echo(f"created controller key {value} ({account.address})")
    return account.address


def _did_or_root(ledger, did: str) -> str:
    """``did``, or the registry's root DID for the word ``root``."""
    return ledger.trust.root_did() if did == ROOT_ALIAS else did


@click.group()
def accredit() -> None:
    """Accredit, suspend, reinstate or revoke an issuer or TAO on the TrustRegistry.

    Works for any DID, including one this project did not create. Control of an
    entry, the root's too, changes hands in two steps: `transfer`, then `accept`.
    """


@accredit.command("grant")
@click.argument("did")
@click.option("--type", "vcts", multiple=True, required=True, help="Credential type (vct) granted; repeatable.")
@click.option("--name", "legal_name", required=True, help="Legal name of the accredited organisation.")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 country code.")
@click.option("--role", type=click.Choice(sorted(_ROLES)), default="issuer", show_default=True,
              help="Accredit an issuer, or an accreditation organisation (TAO).")
@click.option("--by", "accreditor", default=None, help="DID of the accreditor (default: the root).")
@click.option("--max-eqf", type=click.IntRange(1, 8), default=None,
              help="Highest EQF level granted (default: no limit).")
@click.option("--valid-from", default="now", show_default=True, help="Start: epoch seconds, ISO 8601 or 'now'.")
@click.option("--valid-until", default=None,
              help="End: epoch, ISO 8601 or 'never' (default: the accreditor's own end).")
@click.option("--controller", required=True,
              help="Address controlling the entry, or a key file "
                   "(created, mode 0600, if missing; funded on a devnet).")
@_KEY_FILE_OPTION
@fail_cleanly
def accredit_grant(did, vcts, legal_name, country, role, accreditor, max_eqf, valid_from, valid_until,
                   controller, key_file) -> None:
    """Accredit DID for the given credential types."""
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger.keys import default_root_account, fund_if_devnet

    settings, ledger, signer = _open(key_file)
    accreditor = accreditor or ledger.trust.root_did()
    now = ledger.chain.block_timestamp()
    start = _parse_time(valid_from, now=now)
    if valid_until is None:
        accreditor_entry = ledger.trust.entry(accreditor)
        end = accreditor_entry.valid_until if accreditor_entry else None
    else:
        end = _parse_time(valid_until, now=now, allow_never=True)
    controller_address = _controller_address(controller, "--controller")
    entry = ledger.trust.entry(did)
    if entry is not None and _same_grant(entry, accreditor, _ROLES[role], vcts, legal_name, country,
                                         controller_address, max_eqf):
        # a run of this very grant was stopped after its transaction was mined (before the funding below)
        click.echo(f"already accredited: {did} as {role} by {accreditor} for {', '.join(vcts)} from "
                   f"{_fmt_time(entry.valid_from)} until {_fmt_time(entry.valid_until)}; nothing to do")
        result = None
    else:
        result = ledger.trust.accredit(
            accreditor, did, role=_ROLES[role], vcts=list(vcts), legal_name=legal_name, country=country,
            valid_from=start, valid_until=end, controller=controller_address, max_eqf_level=max_eqf, account=signer,
        )
    funder = default_root_account(ledger.chain, settings.data_dir)
    if fund_if_devnet(ledger.chain, funder, controller_address):
        click.echo(f"funded {controller_address} from the root {funder.address} (devnet)")
    if result is not None:
        click.echo(f"accredited {did} as {role} by {accreditor} for {', '.join(vcts)} from {_fmt_time(start)} "
                   f"until {_fmt_time(end)} (block {result.block_number}, gas {result.gas_used})")


def _same_grant(entry: Any, accreditor: str, role: Role, vcts: tuple[str, ...], legal_name: str, country: str,
                controller: str, max_eqf: int | None) -> bool:
    """Whether the registry's ``entry`` is the grant asked for (its times aside: 'now' moves between runs)."""
    return (entry.accredited_by == accreditor and entry.role == role and set(entry.vcts) == set(vcts)
            and entry.legal_name == legal_name and entry.country == country and entry.max_eqf_level == max_eqf
            and entry.controller.lower() == controller.lower() and entry.revoked_at is None)


def _change_command(name: str, verb: str, leaves: str):
    @accredit.command(name, help=f"{name.capitalize()} the accreditation of DID (its grantor or the root).")
    @click.argument("did")
    @_KEY_FILE_OPTION
    @fail_cleanly
    def command(did: str, key_file: Path | None) -> None:
        _, ledger, signer = _open(key_file)
        entry = ledger.trust.entry(did)
        if entry is not None and entry.status == leaves:
            # a run of this very change was stopped after its transaction was mined; anything else (an unknown
            # DID, a revoked entry asked to be suspended or reinstated) goes to the registry, which refuses it
            since = entry.revoked_at if leaves == "revoked" else entry.suspended_at
            click.echo(f"already {leaves}: {did}" + (f" (since {_fmt_time(since)})" if since else "")
                       + "; nothing to do")
            return
        result = getattr(ledger.trust, name)(did, account=signer)
        click.echo(f"{verb} {did} (block {result.block_number})")

    return command


accredit_suspend = _change_command("suspend", "suspended", "suspended")
accredit_reinstate = _change_command("reinstate", "reinstated", "active")
accredit_revoke = _change_command("revoke", "revoked", "revoked")


# ------------------------------------------------- two-step controller transfer

_DID_OR_ROOT = click.argument("did", metavar="DID|root")


@accredit.command("transfer")
@_DID_OR_ROOT
@click.option("--to", "to", required=True,
              help="Proposed controller: an address, or a key file "
                   "(created, mode 0600, if missing; funded on a devnet).")
@_KEY_FILE_OPTION
@fail_cleanly
def accredit_transfer(did: str, to: str, key_file: Path | None) -> None:
    """Propose a new controller for DID ('root': the root of trust). Step 1 of 2.

    Nothing changes hands until the proposed address runs `accredit accept`;
    until then the current controller stays in charge and may propose again or
    run `accredit cancel-transfer`, so a mistyped address locks nobody out.
    """
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger.keys import default_root_account, fund_if_devnet

    settings, ledger, signer = _open(key_file)
    did = _did_or_root(ledger, did)
    proposed = _controller_address(to, "--to")
    result = ledger.trust.propose_controller(did, proposed, account=signer)
    funder = default_root_account(ledger.chain, settings.data_dir)
    if fund_if_devnet(ledger.chain, funder, proposed):
        click.echo(f"funded {proposed} from {funder.address} (devnet)")
    click.echo(f"proposed {proposed} as the next controller of {did} (block {result.block_number}); "
               f"{signer.address} stays in charge until {proposed} runs `microcred accredit accept {did} "
               "--key-file …`")


@accredit.command("accept")
@_DID_OR_ROOT
@click.option("--key-file", type=click.Path(path_type=Path), required=True,
              help="Key of the proposed controller, which takes over.")
@fail_cleanly
def accredit_accept(did: str, key_file: Path) -> None:
    """Take control of DID ('root': the root of trust) as its proposed controller. Step 2 of 2."""
    _, ledger, signer = _open(key_file)
    did = _did_or_root(ledger, did)
    previous = ledger.trust.entry(did)
    result = ledger.trust.accept_controller(did, account=signer)
    click.echo(f"{signer.address} now controls {did}"
               + (f" instead of {previous.controller}" if previous else "") + f" (block {result.block_number})")


@accredit.command("cancel-transfer")
@_DID_OR_ROOT
@_KEY_FILE_OPTION
@fail_cleanly
def accredit_cancel_transfer(did: str, key_file: Path | None) -> None:
    """Withdraw the pending controller proposal for DID ('root': the root of trust)."""
    _, ledger, signer = _open(key_file)
    did = _did_or_root(ledger, did)
    pending = ledger.trust.pending_controller(did)
    result = ledger.trust.cancel_controller_transfer(did, account=signer)
    click.echo(f"cancelled the proposal of {pending} as controller of {did} (block {result.block_number})")


@accredit.command("show")
@_DID_OR_ROOT
@click.option("--type", "vct", default="", help="Ask about this credential type (default: any).")
@click.option("--at", "at_time", default="now", show_default=True, help="Time to ask about: epoch, ISO 8601 or 'now'.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@fail_cleanly
def accredit_show(did: str, vct: str, at_time: str, as_json: bool) -> None:
    """Show whether DID is accredited, and its chain of trust up to the root."""
    # here, not at the top: this loads web3 (seconds to import), only for the commands that use the chain
    from ledger.deployment import open_ledger

    ledger = open_ledger(_settings())
    did = _did_or_root(ledger, did)
    when = _parse_time(at_time, now=ledger.chain.block_timestamp())
    found = ledger.trust.lookup(did, vct, when)
    pending = ledger.trust.pending_controller(did) if found.chain else None
    if as_json:
        click.echo(json.dumps({"did": did, "vct": vct, "at": when, "accredited": found.accredited,
                               "standing": found.standing.name.lower(), "pending_controller": pending,
                               "chain": [link.as_dict() for link in found.chain]}, indent=2))
        return
    click.echo(f"{did}: {found.standing.words} at {_fmt_time(when)}" + (f" for {vct}" if vct else ""))
    for link in found.chain:
        extra = "" if link.status == "active" else f" ({link.status})"
        click.echo(f"  {link.role.label:<6} {link.did}  {link.legal_name} [{link.country}]  "
                   f"{_fmt_time(link.valid_from)} .. {_fmt_time(link.valid_until)}{extra}")
    if found.chain:
        click.echo(f"controller {found.chain[0].controller}"
                   + (f", transfer to {pending} proposed (not yet accepted)" if pending else ""))
