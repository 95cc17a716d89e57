"""``microcred issuer …``: identity, batch issuing, status changes, publishing, the service.

Exit codes: 0 done; 1 refused (bad input, unknown id, missing issuer — one
clear line each, or one line per problem); 2 bad usage (click); 3 done
locally but the status list is not anchored yet (ledger down or refusing;
``microcred issuer publish`` retries; until then verifiers are served the
last anchored version: the change takes effect when its anchor is
confirmed); 4 the disk is full, read-only or failing (one line naming it and
what was saved); 130 interrupted (Ctrl-C; what was saved is kept, and the
same command finishes it).

``issuer issue`` is idempotent: a batch's id is the SHA-256 of its rows (or
``--batch-id``); running the same export again finishes an interrupted batch
or, once it is delivered, says "already issued" and issues nothing unless
``--again``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from credentials.dids import resolve_public_key
from credentials.errors import InvalidCredentialData, MicrocredError
from credentials.eudi_learning import EUDI_LEARNING_VCT
from credentials.jose import PublicKey, json_loads_object
from credentials.microcredential import EQF_TO_QF_EHEA_CYCLE, MICRO_CREDENTIAL_VCT, load_schema
from infra.serving import options_from_click, serve_options
from infra.serving import serve as run
from issuer import batch as batch_format
from issuer.archive import BATCH_DELIVERED, KIND_MICROCRED, Archive, BatchRecord, StorageError
from issuer.batch import BatchDefaults, batch_digest, parse_batch
from issuer.bulk_revocation import MAX_CSV_BYTES, apply_plan, asked, plan_revocation
from issuer.delivery import BatchFolder
from issuer.did_keys import (
    NEXT_KEY_FILE,
    register_did,
    resign_status_lists,
    restore_lost_rotation,
    rotate_signing_key,
    stale_status_lists,
)
from issuer.fault_hook import fault_point
from issuer.identity import DEFAULT_BASE_URL, IssuerHome, create_issuer, interrupted_init, load_issuer
from issuer.issuance import IssuanceOutcome
from issuer.ledger_link import LedgerStatusAnchor
from issuer.oid4vci import offer_page_url, offer_uri
from issuer.service import AnchorOutcome, IssuerService, StatusChangeRefused
from issuer.signing_pool import available_cores
from issuer.staff_cli import audit_command_line, chosen_issuer, staff
from issuer.twins import PRIMARY_KINDS, TWIN_KINDS
from issuer.web import create_app
from ledger.config import data_dir

__all__ = ["issuer", "EXIT_REFUSED", "EXIT_ANCHOR_PENDING", "EXIT_STORAGE", "EXIT_INTERRUPTED"]

EXIT_REFUSED = 1
EXIT_ANCHOR_PENDING = 3
EXIT_STORAGE = 4
EXIT_INTERRUPTED = 130
ENV_ISSUER = "MICROCRED_ISSUER"
ENV_WORKERS = "MICROCRED_ISSUER_WORKERS"
_PROGRESS_FROM = 200
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _fail(message: str, lines: Sequence[str] = ()) -> None:
    click.echo(f"Error: {message}", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    sys.exit(EXIT_REFUSED)


def _handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidCredentialData as exc:
            _fail(f"{len(exc.errors)} problem(s) found; nothing was signed:", exc.errors)
        except StatusChangeRefused as exc:
            _fail("nothing was changed:", exc.errors)
        except StorageError as exc:
            click.echo(f"Error: {exc}: nothing was changed", err=True)
            sys.exit(EXIT_STORAGE)
        except MicrocredError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:  # the commands that know more (issue, status changes, rotate-key) say it first
            click.echo("interrupted: what was saved is kept; run the same command again (or `microcred issuer "
                       "publish` for anchors) to finish", err=True)
            sys.exit(EXIT_INTERRUPTED)
    return wrapper


def _home(ctx: click.Context) -> IssuerHome:
    root = data_dir()
    return load_issuer(root, chosen_issuer(ctx, root))


def _service(ctx: click.Context, *, anchor: bool = True) -> IssuerService:
    home = _home(ctx)
    return IssuerService(
        home.identity, Archive(home.archive_path), home.signing_key(),
        anchor=LedgerStatusAnchor(home) if anchor else None, workers=_workers(),
    )


def _workers() -> int:
    raw = os.environ.get(ENV_WORKERS)
    if not raw:
        return available_cores()
    if not raw.isdigit() or int(raw) < 1:
        raise click.UsageError(f"{ENV_WORKERS} must be a whole number >= 1, found {raw!r}")
    return int(raw)


def _report_issuance(outcomes: Sequence[IssuanceOutcome]) -> bool:
    """Print where each issuance tree stands; True when one is still not anchored."""
    for outcome in outcomes:
        if outcome.anchored:
            sent = f", tx {outcome.tx}" if outcome.tx else ""
            click.echo(f"anchored issuance batch root {outcome.root[:16]}… ({outcome.size} credential(s), "
                       f"block {outcome.block}{sent})")
        else:
            click.echo(f"NOT anchored: issuance batch root {outcome.root[:16]}… ({outcome.size} credential(s)): "
                       f"{outcome.error}", err=True)
    return any(not o.anchored for o in outcomes)


def _report_anchors(outcomes: Sequence[AnchorOutcome], issuance: Sequence[IssuanceOutcome] = ()) -> None:
    issuance_pending = _report_issuance(issuance)
    if issuance_pending:
        click.echo("Until its batch root is anchored, a credential's issuance proof does not verify; "
                   "`microcred issuer publish` anchors it.", err=True)
    pending = [o for o in outcomes if not o.anchored]
    for outcome in outcomes:
        if not outcome.anchored:
            continue
        if outcome.made_version is not None:
            click.echo(f"status list {outcome.list_id} version {outcome.made_version} is held by version "
                       f"{outcome.version}, anchored (block {outcome.block}): this change is anchored")
        elif outcome.tx:
            click.echo(f"anchored status list {outcome.list_id} version {outcome.version} "
                       f"(block {outcome.block}, tx {outcome.tx})")
        else:
            click.echo(f"status list {outcome.list_id} version {outcome.version} is anchored (block {outcome.block})")
    for outcome in pending:
        click.echo(f"NOT anchored: status list {outcome.list_id} version {outcome.version}: {outcome.error}", err=True)
    if pending:
        click.echo("The change is saved, but verifiers are still served the last anchored status list, which "
                   "does not hold it (a credential revoked now still verifies; one on a list never anchored does "
                   "not verify yet): the change takes effect for verifiers when its anchor is confirmed. Fix the "
                   "cause above (ledger unreachable, issuer not accredited…) and run `microcred issuer publish` "
                   "(`microcred issuer serve` retries by itself).", err=True)
        sys.exit(EXIT_ANCHOR_PENDING)
    if issuance_pending:
        sys.exit(EXIT_ANCHOR_PENDING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--issuer", "issuer_name", envvar=ENV_ISSUER, metavar="NAME",
              help=f"Which issuer under $MICROCRED_DATA_DIR/issuers (default: the only one; env {ENV_ISSUER}).")
@click.pass_context
def issuer(ctx: click.Context, issuer_name: str | None) -> None:
    """Issuer identity, batch issuing, revocation and the issuer service.

    State lives in $MICROCRED_DATA_DIR/issuers/NAME (default ./var/issuers/NAME).
    Exit codes: 0 done, 1 refused, 2 bad usage, 3 saved but not yet anchored,
    4 the disk is full, read-only or failing (nothing half-written), 130
    interrupted (what was saved is kept).
    """
    ctx.ensure_object(dict)
    ctx.obj["issuer"] = issuer_name


@issuer.command()
@click.argument("name")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code of the issuer's country, e.g. IT.")
@click.option("--legal-name", required=True, help="The institution's legal name (the awarding body by default).")
@click.option("--did-method", type=click.Choice(["key", "jwk", "mcr"]), default="key", show_default=True,
              help="did:key or did:jwk for the issuer's ES256 key, or did:mcr: registered on the ledger's "
                   "DidRegistry with the controller account, so the key can be rotated (`issuer rotate-key`).")
@click.option("--url", "base_url", default=DEFAULT_BASE_URL, show_default=True,
              help="Public base URL of `microcred issuer serve` (status lists and offers live there).")
@_handle_errors
def init(name: str, country: str, legal_name: str, did_method: str, base_url: str) -> None:
    """Create issuer NAME: an ES256 key and its DID, and a controller account (keys 0600)."""
    if interrupted_init(data_dir(), name):
        click.echo(f"finishing the `issuer init` interrupted earlier (its keys in {name}'s folder are kept)")
    home = create_issuer(data_dir(), name, legal_name=legal_name, country=country,
                         did_method=did_method, base_url=base_url,
                         register_did=register_did if did_method == "mcr" else None)
    identity = home.identity
    click.echo(f"issuer {name} created in {home.path}")
    click.echo(f"DID:        {identity.did}")
    click.echo(f"controller: {identity.controller_address}")
    click.echo("Next, have it accredited (root or TAO):")
    click.echo(f"  microcred accredit grant {identity.did} --type {MICRO_CREDENTIAL_VCT} "
               f"--name '{identity.legal_name}' --country {identity.country} "
               f"--controller {identity.controller_address}")


@issuer.command("rotate-key")
@click.pass_context
@_handle_errors
def rotate_key(ctx: click.Context) -> None:
    """Rotate a did:mcr issuer's signing key: a new key, added on chain as the old one ends, in one transaction.

    Credentials signed before keep verifying where their issuance anchor predates the rotation; restart
    `issuer serve` afterwards so that it signs with the new key. Run again after an interruption, it finishes
    that rotation instead of starting another (once the lists are signed again with the new key the rotation
    is done: a run stopped while anchoring them leaves them to `issuer publish`, and running this again
    rotates once more).
    """
    home = _home(ctx)
    ctx.obj["issuer"] = home.identity.name
    pending = (home.path / NEXT_KEY_FILE).exists()
    stale = [] if pending else stale_status_lists(_service(ctx, anchor=False))
    try:
        restored = restore_lost_rotation(home)
        finish_only = bool(stale) or restored is not None  # the key in place: sign and anchor, no new rotation
        if restored is not None:
            click.echo(f"the chain does not list the issuer's key {home.identity.kid} (blocks lost since its "
                       f"rotation?): rotated to it again from {restored[0]} at block {restored[1]}; the key is not "
                       "rotated again (run the command once more for a new rotation)")
        elif pending or stale:
            click.echo("finishing the key rotation interrupted earlier"
                       + (f" (its new key is in {NEXT_KEY_FILE})" if pending else
                          f": {len(stale)} status list(s) are still signed with the old key; the key is not "
                          "rotated again (run the command once more for a new rotation)"))
        if not finish_only:
            old_kid, new_kid, block = rotate_signing_key(home)
            fault_point("key-replaced")
            click.echo(f"rotated the signing key of {home.identity.did} at block {block}")
            click.echo(f"old key: {old_kid} (valid until block {block})")
            click.echo(f"new key: {new_kid}")
        service = _service(ctx)
        count, outcomes = resign_status_lists(service, now=int(time.time()))
    except KeyboardInterrupt:
        under_way = (home.path / NEXT_KEY_FILE).exists() or stale_status_lists(_service(ctx, anchor=False))
        click.echo("interrupted: " + ("the rotation is under way; run `microcred issuer rotate-key` again to "
                                      "finish it (it does not rotate twice)" if under_way else "nothing was changed"),
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    click.echo(f"signed {count} status list(s) again with the new key")
    _report_anchors(outcomes)


def _check_batch_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _BATCH_ID.fullmatch(value):
        raise click.BadParameter(f"expected 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or "
                                 f"digit, found {value!r}")
    return value


def _find_batch(archive: Archive, base_id: str, content: str, *, named: bool,
                again: bool) -> tuple[str, BatchRecord | None]:
    """The batch id to use and its record if the archive has it (``--again``: the first not delivered)."""
    batch = archive.batch(base_id)
    if batch is not None and named and batch.content_sha256 != content:
        raise StatusChangeRefused([f"batch {base_id} was issued from other rows; choose another --batch-id"])
    if not again or batch is None or batch.state != BATCH_DELIVERED:
        return base_id, batch
    number = 2
    while True:
        candidate = f"{base_id}-{number}"
        batch = archive.batch(candidate)
        if batch is None or batch.state != BATCH_DELIVERED:
            return candidate, batch
        number += 1


def _already_issued(batch: BatchRecord) -> None:
    click.echo(f"already issued (batch {batch.id}, {batch.size} credentials, files in {batch.out_dir}); "
               "nothing was signed. Use --again to issue these rows once more.")


def _deliver(service: IssuerService, batch: BatchRecord) -> tuple[BatchFolder, list[IssuanceOutcome]]:
    """Sign what the batch's folder lacks, seal and anchor its issuance tree, write each file's proof and the
    manifest, publish the folder, mark it delivered; the issuance trees' outcomes."""
    folder = BatchFolder(Path(batch.out_dir or ""), batch.id)
    folder.prepare()
    show = batch.size >= _PROGRESS_FROM
    with click.progressbar(length=batch.size, label="Signing", file=sys.stderr) if show else _NoBar() as bar:
        service.sign_batch(batch.id, deliver=folder.write, delivered=folder.holds, progress=bar.update)
    fault_point("batch-signed")
    # One Merkle tree over the batch, its root anchored in one transaction (a ledger failure leaves it pending:
    # `issuer publish` or the next run anchors it); each file then gets its proof beside it.
    service.seal_issuance(batch.id, now=int(time.time()))
    issuance = service.converge_issuance()
    records = service.archive.batch_credentials(batch.id)
    proofs = service.issuance_proofs([r.id for r in records if r.holder_jwk])
    if proofs:
        folder.write_proofs(records, proofs)
    elif any(r.holder_jwk for r in records):
        click.echo("no ledger deployment with an IssuanceRegistry is known: the files carry no issuance proof "
                   "(run `microcred deploy`, then `microcred issuer publish`)", err=True)
    folder.write_manifest(records, service.identity, proofs)
    folder.publish()
    fault_point("batch-delivered")
    service.finish_batch(batch.id, now=int(time.time()), out_dir=str(folder.final))
    return folder, issuance


@issuer.command()
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A .csv or .json export; see `microcred issuer columns` for the CSV columns.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the signed files and manifest.csv (default: the issuer's batches/BATCH).")
@click.option("--batch-id", default=None, callback=_check_batch_id,
              help="Name the batch (default: the SHA-256 of its rows, so the same export is the same batch).")
@click.option("--again", is_flag=True, help="Issue rows whose batch was already delivered once more, as a new batch.")
@click.option("--vct", "main_kind", type=click.Choice(PRIMARY_KINDS), default=KIND_MICROCRED, show_default=True,
              help=f"Each row's credential: microcred's SD-JWT VC ({MICRO_CREDENTIAL_VCT}) or the EUDI learning "
                   f"credential ({EUDI_LEARNING_VCT}).")
@click.option("--also", "twin_kinds", type=click.Choice(TWIN_KINDS), multiple=True,
              help="Also issue each row as an Open Badges 3.0 OpenBadgeCredential (ob3: vc+jwt, W3C Bitstring "
                   "status entry) and/or the EUDI learning credential; twins are revoked with the credential. "
                   "Repeatable.")
@click.pass_context
@_handle_errors
def issue(ctx: click.Context, source: Path, out: Path | None, batch_id: str | None, again: bool, main_kind: str,
          twin_kinds: tuple[str, ...]) -> None:
    """Validate every row, then sign SD-JWT VCs (or make OpenID4VCI offers) and write them out.

    All row problems are listed with row numbers before anything is signed.
    --vct eudi-learning issues the EUDI learning credential instead of
    microcred's; --also ob3 / --also eudi-learning add twins made from the
    same row (files <id>.jwt / <id>.sd-jwt, or the same credential offer).
    Rows with holder_jwk / holder_did are bound to that key (cnf.jwk); the
    others get a credential offer link (manifest.csv lists both). The batch
    and its credentials are archived before anything is signed: if the run
    is interrupted, run the same command again to finish it; once the batch
    is delivered, running it again issues nothing (unless --again).
    """
    kinds = tuple(dict.fromkeys((main_kind, *twin_kinds)))
    if len(kinds) != 1 + len(twin_kinds):
        raise click.UsageError(f"--also {main_kind} repeats the --vct credential or another --also; each kind once")
    home = _home(ctx)
    service = _service(ctx)
    wanted: str | None = None
    try:
        now = int(time.time())
        defaults = BatchDefaults(
            issuer_country=service.identity.country, awarding_body=service.identity.awarding_body(),
            issued_on=datetime.fromtimestamp(now, UTC).date().isoformat(),
        )
        # Rows are checked here, not in the signing workers: shipping a row's claims to a worker and its
        # answer back costs this process as much as checking it (issue 16: 43 -> 47 us/row of this process's CPU
        # with 2 workers, plus 24 in theirs, and a slower wall clock).
        entries = parse_batch(source.read_text(encoding="utf-8-sig"), source.name, defaults, kinds=kinds)
        fault_point("batch-checked")
        content = batch_digest(entries, kinds=kinds)
        wanted, batch = _find_batch(service.archive, batch_id or content[:32], content,
                                    named=batch_id is not None, again=again)
        if batch is not None and batch.state == BATCH_DELIVERED:
            _already_issued(batch)
            _report_anchors(service.converge_anchors(), service.converge_issuance())
            return
        if batch is None:
            final = out.resolve() if out else (home.path / "batches" / wanted).resolve()
            if final.exists() and any(final.iterdir()):
                raise click.ClickException(f"--out {out or final} is not empty")
            batch = service.open_batch(entries, now=now, batch_id=wanted, content_sha256=content, out_dir=str(final),
                                       kinds=kinds)
        else:
            saved_at = datetime.fromtimestamp(batch.created_at, UTC)
            click.echo(f"resuming batch {batch.id} (saved at {saved_at:%Y-%m-%d %H:%M} UTC, files in {batch.out_dir})")
        folder, issuance = _deliver(service, batch)
    except KeyboardInterrupt:
        click.echo(f"interrupted: {_what_was_saved(service, wanted)}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except StorageError as exc:
        click.echo(f"Error: {exc}: {_what_was_saved(service, wanted)}", err=True)
        sys.exit(EXIT_STORAGE)
    records = service.archive.batch_credentials(batch.id)
    rows = [r for r in records if r.twin_of is None]
    files = sum(1 for r in rows if r.holder_jwk)
    twins = len(records) - len(rows)
    click.echo(f"batch {batch.id}: {len(rows)} credential(s), {files} signed file(s), "
               f"{len(rows) - files} offer(s)" + (f", {twins} twin(s)" if twins else "") + f" -> {folder.final}")
    _report_anchors(service.converge_anchors(), issuance)


def _what_was_saved(service: IssuerService, batch_id: str | None) -> str:
    try:
        saved = batch_id is not None and service.archive.batch(batch_id) is not None
    except Exception:  # noqa: BLE001 (an archive that cannot even be read saved nothing we can name)
        saved = False
    if not saved:
        return "nothing of this batch was saved"
    return f"batch {batch_id} is saved; run the same command again to finish it"


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


_REASON = click.option("--reason", default="", help="Why: kept, with who and when, in the audit log the registrar "
                                                   "page shows.")


class _StatusRun:
    """One status command's run: writes the audit log entry once its change is saved (before anchoring, so a
    run killed while anchoring keeps it), and on Ctrl-C says whether the change was saved (exit 130)."""

    def __init__(self, home: IssuerHome, action: str, subject: str, reason: str):
        self.home, self.action, self.subject, self.reason = home, action, subject, reason
        self.saved: int | None = None

    def on_saved(self, changed: Sequence[str]) -> None:
        self.saved = len(changed)
        audit_command_line(self.home.path, self.action, self.subject, len(changed), self.reason)

    def __enter__(self) -> _StatusRun:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            what = ("nothing was changed" if self.saved is None else
                    f"the change is saved ({self.saved} credential(s)) but maybe not anchored yet; run the same "
                    "command again (or `microcred issuer publish`) to anchor it")
            click.echo(f"interrupted: {what}", err=True)
            sys.exit(EXIT_INTERRUPTED)


def _finish_settled(service: IssuerService, wanted: dict[str, list[str]], said: str) -> bool:
    """When every credential ``wanted`` names already has its status (a run killed or interrupted after saving
    this change): say so and anchor what the chain lacks; False when something is left to change."""
    lists = service.settled(wanted)
    if lists is None:
        return False
    click.echo(f"{said}; nothing was changed (nothing is left to change); its status lists on the ledger:")
    _report_anchors(service.converge_anchors(report=lists))
    return True


def _set_status(ctx: click.Context, credential_ids: tuple[str, ...], status: str, reason: str) -> None:
    service, home = _service(ctx), _home(ctx)
    ids = list(dict.fromkeys(credential_ids))
    with _StatusRun(home, status, ", ".join(credential_ids), reason) as run_:
        if _finish_settled(service, {status: ids}, f"already {status}: {', '.join(ids)}"):
            return
        result = service.set_status(ids, status, now=int(time.time()), on_saved=run_.on_saved)
        click.echo(f"{status}: {', '.join(result.changed)}")
        _report_anchors(result.anchors)


def _status_command(name: str, status: str, verb: str) -> click.Command:
    @issuer.command(name, help=f"{verb} credentials by id: one new status list version, one anchoring "
                                "transaction per list, all or nothing.")
    @click.argument("credential_ids", nargs=-1, required=True)
    @_REASON
    @click.pass_context
    @_handle_errors
    def command(ctx: click.Context, credential_ids: tuple[str, ...], reason: str) -> None:
        _set_status(ctx, credential_ids, status, reason)

    return command


@issuer.command("revoke")
@click.argument("credential_ids", nargs=-1)
@click.option("--from", "from_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A CSV file: header credential_id,batch_id,reason[,note]; one of the ids per row, reason "
                   "revoked or suspended; every row checked first, nothing changed if any is bad.")
@click.option("--dry-run", is_flag=True, help="With --from: check the file and say what it would change.")
@_REASON
@click.pass_context
@_handle_errors
def revoke(ctx: click.Context, credential_ids: tuple[str, ...], from_csv: Path | None, dry_run: bool,
           reason: str) -> None:
    """Revoke credentials by id, or revoke / suspend those a CSV file names (--from): one new version per
    status list, all lists anchored in one transaction, all or nothing. Run again after an interruption, it
    says that nothing is left to change and anchors what the ledger lacks."""
    if from_csv is None:
        if not credential_ids or dry_run:
            raise click.UsageError("give credential ids, or --from FILE.csv (--dry-run only with --from)")
        _set_status(ctx, credential_ids, "revoked", reason)
        return
    if credential_ids:
        raise click.UsageError("give credential ids or --from FILE.csv, not both")
    service = _service(ctx, anchor=not dry_run)
    now = int(time.time())
    with from_csv.open("rb") as handle:
        content = handle.read(MAX_CSV_BYTES + 1)
    wanted = asked(service.archive, content)
    if not dry_run and wanted is not None and _finish_settled(
            service, wanted, f"{from_csv.name}: nothing to change, every credential it names has that status"):
        return
    plan = plan_revocation(service.archive, content, now=now, source=from_csv.name)
    click.echo(f"{from_csv.name}: {plan.summary()}")
    if dry_run:
        click.echo("dry run: nothing was changed")
        return
    subject = f"{plan.summary()}; {from_csv.name}, SHA-256 {plan.digest[:16]}…"
    with _StatusRun(_home(ctx), "changed from a CSV file", subject, reason or "as noted per line in the file") as run_:
        result = apply_plan(service, plan, now=now, on_saved=run_.on_saved)
        click.echo(f"changed {len(result.changed)} credential(s) (twins included); reasons kept in the archive")
        _report_anchors(result.anchors)


suspend = _status_command("suspend", "suspended", "Suspend")
reinstate = _status_command("reinstate", "valid", "Reinstate (un-suspend)")


@issuer.command()
@click.pass_context
@_handle_errors
def publish(ctx: click.Context) -> None:
    """Sign lists never signed and anchor every list version not yet on the ledger."""
    service = _service(ctx)
    outcomes = service.publish(now=int(time.time()))
    issuance = service.converge_issuance()
    if not outcomes:
        click.echo("every status list is anchored; nothing to do")
    if not issuance:
        click.echo("every issuance batch root is anchored; nothing to do")
    _report_anchors(outcomes, issuance)


@issuer.command()
@click.argument("credential_id")
@click.option("--holder-jwk", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File with the learner's new public JWK.")
@click.option("--holder-did", help="The learner's new did:key / did:jwk.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the new SD-JWT VC.")
@click.pass_context
@_handle_errors
def reissue(ctx: click.Context, credential_id: str, holder_jwk: Path | None, holder_did: str | None,
            out: Path | None) -> None:
    """Re-issue CREDENTIAL_ID's claims to a new key (or as a new offer) and revoke the old one."""
    if holder_jwk and holder_did:
        raise click.UsageError("give --holder-jwk or --holder-did, not both")
    key = None
    if holder_jwk:
        jwk = json_loads_object(holder_jwk.read_text(encoding="utf-8"), what=str(holder_jwk))
        key = PublicKey.from_jwk(jwk).to_jwk()
    elif holder_did:
        key = resolve_public_key(holder_did).to_jwk()
    service = _service(ctx)
    credential_id = _undelivered_reissue(service, credential_id, key, out)
    result = service.reissue(credential_id, key, now=int(time.time()))
    audit_command_line(_home(ctx).path, "revoked and re-issued", credential_id, 1, "re-issued to a new key or offer")
    new = result.issued[0]
    click.echo(f"revoked {credential_id}; re-issued as {new.credential_id}")
    issuance: list[IssuanceOutcome] = []
    if new.sd_jwt:
        target = out or Path(f"{new.credential_id}.sd-jwt")
        target.write_text(new.sd_jwt + "\n", encoding="ascii")
        click.echo(f"signed credential written to {target}")
        root = service.seal_issuance(credential_ids=[new.credential_id], now=int(time.time()))
        issuance = service.converge_issuance(roots=[root] if root else [])
        proof = service.issuance_proofs([new.credential_id]).get(new.credential_id)
        if proof is not None:
            bundle = target.with_name(f"{new.credential_id}.with-proof.json")
            bundle.write_text(json.dumps({"credential": new.sd_jwt, "issuance_proof": proof}, indent=1) + "\n",
                              encoding="utf-8")
            click.echo(f"with its issuance proof: {bundle}")
    else:
        click.echo(f"offer: {offer_uri(service.identity, new.offer_id or '')}")
        click.echo(f"page:  {offer_page_url(service.identity, new.offer_id or '')}")
    _report_anchors(result.anchors, issuance)


def _undelivered_reissue(service: IssuerService, credential_id: str, key: dict[str, str] | None,
                         out: Path | None) -> str:
    """The credential to re-issue: ``credential_id``, or, when an earlier run re-issued it to the same key and
    was stopped before writing the new credential's file (the file absent, the credential not sealed into an
    issuance tree, which follows the file), that undelivered credential: re-issued once more, it is revoked and
    a new one is written. Anything else is left to the refusal."""
    record = service.archive.credential(credential_id)
    if not record.replaced_by or key is None:
        return credential_id
    newer = service.archive.credential(record.replaced_by)
    if newer.status != "valid" or newer.replaced_by or newer.holder_jwk != key:
        return credential_id
    if (out or Path(f"{newer.id}.sd-jwt")).exists() or service.archive.leaf_of(newer.id)[0] is not None:
        return credential_id
    click.echo(f"finishing the re-issue of {credential_id} interrupted earlier: {newer.id} was saved but its file "
               f"was never written, so it is revoked and re-issued in its turn")
    return newer.id


@issuer.command("list")
@click.option("--search", default=None, help="Match a credential id, student id, name or title.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
@_handle_errors
def list_credentials(ctx: click.Context, search: str | None, limit: int) -> None:
    """List issued credentials, newest first, with their status (and, indented, their twins)."""
    home = _home(ctx)
    archive = Archive(home.archive_path)
    for record in archive.credentials(search=search, limit=limit):
        kind = "" if record.kind == KIND_MICROCRED else f"  ({record.kind})"
        click.echo(f"{record.id}  {record.status:9}  {record.delivery:8}  {record.student_id}  "
                   f"{record.family_name}, {record.given_name}  {record.title}{kind}")
        for twin in archive.twins(record.id):
            click.echo(f"  twin {twin.id}  {twin.kind}")


@issuer.command()
@click.pass_context
@_handle_errors
def lists(ctx: click.Context) -> None:
    """Show the status lists: size, use, signed version and anchored version."""
    home = _home(ctx)
    for record in Archive(home.archive_path).status_lists():
        state = "anchored" if not record.anchor_pending else f"PENDING ({record.anchor_error or 'not tried'})"
        if record.anchor_pending and record.anchored_token is not None:
            state += f"; verifiers are served version {record.anchored_version} until it is anchored"
        click.echo(f"{record.id}  {record.kind:9}  {record.used}/{record.size} used  version {record.version}  "
                   f"anchored {record.anchored_version}  {state}")


_REST_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_REST_LITERAL = re.compile(r"``([^`]+)``")


def _plain(doc: str) -> str:
    """A module docstring without its reST markup; in its tables each literal keeps its width."""
    lines: list[str] = []
    table_from, second = None, 0  # the line of the open table's top border; where its second column starts
    for number, line in enumerate(_REST_ROLE.sub(r"\1", doc).splitlines()):
        if line.startswith("===="):  # a top border, the header's underline (two lines down) or a bottom border
            table_from = number if table_from is None else (table_from if number == table_from + 2 else None)
            second = line.find(" =") + 1
        if table_from is not None and not line.startswith("===="):
            first = _REST_LITERAL.sub(r"\1", line[:second]).rstrip()
            line = (first.ljust(second) if first else " " * second) + line[second:]
        lines.append(_REST_LITERAL.sub(r"\1", line).rstrip())
    return "\n".join(lines)


def _required_columns() -> list[str]:
    """The columns every row needs: the schema's required claims, less those the batch fills in."""
    schema = load_schema()
    defaulted = set(batch_format._DEFAULTED)  # issuer_country, awarding_body, issued_on: filled in by the batch
    found: list[str] = []
    for claim in schema["required"]:
        if claim == "learner":
            found += [f"learner.{member}" for member in schema["properties"]["learner"]["required"]]
        elif claim not in defaulted:
            found.append(claim)
    return found


@issuer.command()
def columns() -> None:
    """Print the CSV columns `issue --from FILE.csv` accepts, with their meaning."""
    click.echo(_plain(batch_format.__doc__ or ""))
    cycles = ", ".join(f"{cycle} for {level}" for level, cycle in EQF_TO_QF_EHEA_CYCLE.items())
    click.echo(textwrap.fill(f"Required in every row: {', '.join(_required_columns())}; and qf_ehea_cycle when "
                             f"eqf_level is 5 to 8 ({cycles}). The others are optional or have the defaults above.",
                             width=78, break_on_hyphens=False))


@issuer.command()
@serve_options(5010)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (one of them retries pending anchors).")
@click.pass_context
@_handle_errors
def serve(ctx: click.Context, host: str, port: int, workers: int, threads: int, timeout: int,
          access_log: str | None, certfile: str | None, keyfile: str | None, dev: bool) -> None:
    """Serve status lists, metadata, OpenID4VCI and the registrar page (granian; --dev: Flask's reloader).

    Its public URL is the issuer's base URL (`issuer init --url`): the status
    URIs and offers carry it, and it is the only host the service answers.
    """
    options = options_from_click(host, port, workers, threads, timeout, access_log, certfile, keyfile, dev)
    home = _home(ctx)
    config = {"ISSUER": home.identity.name, "DATA_DIR": str(data_dir())}
    run(lambda: create_app(config), options, name=f"issuer-{home.identity.name}",
        banner=f"issuer {home.identity.name} serving on {options.scheme}://{options.bind} "
               f"(public URL {home.identity.base_url})")


issuer.add_command(staff)  # the registrar's staff accounts (issuer.staff_cli)
