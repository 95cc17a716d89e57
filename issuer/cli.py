"""``microcred issuer …``: identity, batch issuing, status changes, publishing, the service.

Exit codes: 0 done; 1 refused (bad input, unknown id, missing issuer — one
clear line each, or one line per problem); 2 bad usage (click); 3 done
locally but the status list is not anchored yet (ledger down or refusing;
``microcred issuer publish`` retries).
"""

from __future__ import annotations

import csv
import functools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from credentials.dids import resolve_public_key
from credentials.errors import InvalidCredentialData, MicrocredError
from credentials.jose import PublicKey, json_loads_object
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from infra.serving import serve_options
from issuer.archive import Archive
from issuer.batch import BatchDefaults, parse_batch
from issuer.identity import DEFAULT_BASE_URL, IssuerHome, create_issuer, data_dir, list_issuers, load_issuer
from issuer.oid4vci import offer_page_url, offer_uri
from issuer.service import AnchorOutcome, IssuedCredential, IssuerService, StatusChangeRefused
from issuer.signing_pool import available_cores

__all__ = ["issuer", "EXIT_REFUSED", "EXIT_ANCHOR_PENDING"]

EXIT_REFUSED = 1
EXIT_ANCHOR_PENDING = 3
ENV_ISSUER = "MICROCRED_ISSUER"
MANIFEST_FILE = "manifest.csv"
_PROGRESS_FROM = 200


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
        except MicrocredError as exc:
            _fail(str(exc))
    return wrapper


def _home(ctx: click.Context) -> IssuerHome:
    name = ctx.obj.get("issuer")
    root = data_dir()
    if not name:
        names = list_issuers(root)
        if len(names) != 1:
            found = ", ".join(names) if names else "none"
            raise click.UsageError(f"expected --issuer NAME (or {ENV_ISSUER}); issuers under {root}: {found}")
        name = names[0]
    return load_issuer(root, name)


def _service(ctx: click.Context, *, anchor: bool = True) -> IssuerService:
    home = _home(ctx)
    from issuer.ledger_link import LedgerStatusAnchor

    return IssuerService(
        home.identity, Archive(home.archive_path), home.signing_key(),
        anchor=LedgerStatusAnchor(home) if anchor else None, workers=available_cores(),
    )


def _report_anchors(outcomes: Sequence[AnchorOutcome]) -> None:
    pending = [o for o in outcomes if not o.anchored]
    for outcome in outcomes:
        if outcome.anchored:
            click.echo(f"anchored status list {outcome.list_id} version {outcome.version} "
                       f"(block {outcome.block}, tx {outcome.tx})")
    for outcome in pending:
        click.echo(f"NOT anchored: status list {outcome.list_id} version {outcome.version}: {outcome.error}", err=True)
    if pending:
        click.echo("The change is saved and the new status list is served, but verifiers will not trust it "
                   "until it is anchored. Fix the cause above (ledger unreachable, issuer not accredited…) "
                   "and run `microcred issuer publish`.", err=True)
        sys.exit(EXIT_ANCHOR_PENDING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--issuer", "issuer_name", envvar=ENV_ISSUER, metavar="NAME",
              help=f"Which issuer under $MICROCRED_DATA_DIR/issuers (default: the only one; env {ENV_ISSUER}).")
@click.pass_context
def issuer(ctx: click.Context, issuer_name: str | None) -> None:
    """Issuer identity, batch issuing, revocation and the issuer service.

    State lives in $MICROCRED_DATA_DIR/issuers/NAME (default ./var). Exit
    codes: 0 done, 1 refused, 2 bad usage, 3 saved but not yet anchored.
    """
    ctx.ensure_object(dict)
    ctx.obj["issuer"] = issuer_name


@issuer.command()
@click.argument("name")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code of the issuer's country, e.g. IT.")
@click.option("--legal-name", required=True, help="The institution's legal name (the awarding body by default).")
@click.option("--did-method", type=click.Choice(["key", "jwk"]), default="key", show_default=True,
              help="did:key or did:jwk for the issuer's ES256 key.")
@click.option("--url", "base_url", default=DEFAULT_BASE_URL, show_default=True,
              help="Public base URL of `microcred issuer serve` (status lists and offers live there).")
@_handle_errors
def init(name: str, country: str, legal_name: str, did_method: str, base_url: str) -> None:
    """Create issuer NAME: an ES256 key and its DID, and a controller account (keys 0600)."""
    home = create_issuer(data_dir(), name, legal_name=legal_name, country=country,
                         did_method=did_method, base_url=base_url)
    identity = home.identity
    click.echo(f"issuer {name} created in {home.path}")
    click.echo(f"DID:        {identity.did}")
    click.echo(f"controller: {identity.controller_address}")
    click.echo("Next, have it accredited (root or TAO):")
    click.echo(f"  microcred accredit grant {identity.did} --type {MICRO_CREDENTIAL_VCT} "
               f"--name '{identity.legal_name}' --country {identity.country} --controller {identity.controller_address}")


def _write_delivery(out_tmp: Path, service: IssuerService, issued: Sequence[IssuedCredential]) -> None:
    identity = service.identity
    with (out_tmp / MANIFEST_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "student_id", "credential_id", "file", "offer_uri", "offer_page"])
        for item in issued:
            file_name = ""
            if item.sd_jwt is not None:
                file_name = f"{item.credential_id}.sd-jwt"
                (out_tmp / file_name).write_text(item.sd_jwt + "\n", encoding="ascii")
            offer = offer_uri(identity, item.offer_id) if item.offer_id else ""
            page = offer_page_url(identity, item.offer_id) if item.offer_id else ""
            writer.writerow([item.row, item.student_id, item.credential_id, file_name, offer, page])


def _publish_dir(tmp: Path, final: Path) -> None:
    if final.exists():
        if any(final.iterdir()):
            raise click.ClickException(f"{final} is not empty")
        final.rmdir()
    os.replace(tmp, final)


@issuer.command()
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A .csv or .json export; see `microcred issuer columns` for the CSV columns.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the signed files and manifest.csv (default: the issuer's batches/BATCH).")
@click.pass_context
@_handle_errors
def issue(ctx: click.Context, source: Path, out: Path | None) -> None:
    """Validate every row, then sign SD-JWT VCs (or make OpenID4VCI offers) and write them out.

    All row problems are listed with row numbers before anything is signed.
    Rows with holder_jwk / holder_did are bound to that key (cnf.jwk); the
    others get a credential offer link (manifest.csv lists both).
    """
    service = _service(ctx)
    now = int(time.time())
    defaults = BatchDefaults(
        issuer_country=service.identity.country, awarding_body=service.identity.awarding_body(),
        issued_on=datetime.fromtimestamp(now, timezone.utc).date().isoformat(),
    )
    entries = parse_batch(source.read_text(encoding="utf-8-sig"), source.name, defaults, workers=service.workers)
    home = _home(ctx)
    parent = (out.parent if out else home.path / "batches").resolve()
    parent.mkdir(parents=True, exist_ok=True)
    if out is not None and out.exists() and any(out.iterdir()):
        raise click.ClickException(f"--out {out} is not empty")
    tmp = Path(tempfile.mkdtemp(prefix=".batch-", dir=parent))
    os.chmod(tmp, 0o700)
    show = len(entries) >= _PROGRESS_FROM
    try:
        with click.progressbar(length=len(entries), label="Signing", file=sys.stderr) if show else _NoBar() as bar:
            result = service.issue_batch(
                entries, now=now, progress=bar.update,
                deliver=lambda issued: _write_delivery(tmp, service, issued),
            )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = out.resolve() if out else parent / result.batch_id
    _publish_dir(tmp, final)
    files = sum(1 for i in result.issued if i.sd_jwt)
    click.echo(f"batch {result.batch_id}: {len(result.issued)} credential(s), {files} signed file(s), "
               f"{len(result.issued) - files} offer(s) -> {final}")
    _report_anchors(result.anchors)


class _NoBar:
    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


def _status_command(name: str, status: str, verb: str) -> click.Command:
    @issuer.command(name, help=f"{verb} credentials by id: one new status list version, one anchoring "
                                "transaction per list, all or nothing.")
    @click.argument("credential_ids", nargs=-1, required=True)
    @click.pass_context
    @_handle_errors
    def command(ctx: click.Context, credential_ids: tuple[str, ...]) -> None:
        result = _service(ctx).set_status(list(credential_ids), status, now=int(time.time()))
        click.echo(f"{status}: {', '.join(result.changed)}")
        _report_anchors(result.anchors)

    return command


revoke = _status_command("revoke", "revoked", "Revoke")
suspend = _status_command("suspend", "suspended", "Suspend")
reinstate = _status_command("reinstate", "valid", "Reinstate (un-suspend)")


@issuer.command()
@click.pass_context
@_handle_errors
def publish(ctx: click.Context) -> None:
    """Sign lists never signed and anchor every list version not yet on the ledger."""
    service = _service(ctx)
    outcomes = service.publish(now=int(time.time()))
    if not outcomes:
        click.echo("every status list is anchored; nothing to do")
    _report_anchors(outcomes)


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
        key = PublicKey.from_jwk(json_loads_object(holder_jwk.read_text(encoding="utf-8"), what=str(holder_jwk))).to_jwk()
    elif holder_did:
        key = resolve_public_key(holder_did).to_jwk()
    service = _service(ctx)
    result = service.reissue(credential_id, key, now=int(time.time()))
    new = result.issued[0]
    click.echo(f"revoked {credential_id}; re-issued as {new.credential_id}")
    if new.sd_jwt:
        target = out or Path(f"{new.credential_id}.sd-jwt")
        target.write_text(new.sd_jwt + "\n", encoding="ascii")
        click.echo(f"signed credential written to {target}")
    else:
        click.echo(f"offer: {offer_uri(service.identity, new.offer_id or '')}")
        click.echo(f"page:  {offer_page_url(service.identity, new.offer_id or '')}")
    _report_anchors(result.anchors)


@issuer.command("list")
@click.option("--search", default=None, help="Match a credential id, student id, name or title.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
@_handle_errors
def list_credentials(ctx: click.Context, search: str | None, limit: int) -> None:
    """List issued credentials, newest first, with their status."""
    home = _home(ctx)
    for record in Archive(home.archive_path).credentials(search=search, limit=limit):
        click.echo(f"{record.id}  {record.status:9}  {record.delivery:8}  {record.student_id}  "
                   f"{record.family_name}, {record.given_name}  {record.title}")


@issuer.command()
@click.pass_context
@_handle_errors
def lists(ctx: click.Context) -> None:
    """Show the status lists: size, use, signed version and anchored version."""
    home = _home(ctx)
    for record in Archive(home.archive_path).status_lists():
        state = "anchored" if not record.anchor_pending else f"PENDING ({record.anchor_error or 'not tried'})"
        click.echo(f"{record.id}  {record.used}/{record.size} used  version {record.version}  "
                   f"anchored {record.anchored_version}  {state}")


@issuer.command()
def columns() -> None:
    """Print the CSV columns `issue --from FILE.csv` accepts, with their meaning."""
    from issuer import batch

    click.echo(batch.__doc__ or "")


@issuer.command()
@serve_options(5010)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (one of them retries pending anchors).")
@click.pass_context
@_handle_errors
def serve(ctx: click.Context, host: str, port: int, workers: int, threads: int, timeout: int,
          access_log: str | None, certfile: str | None, keyfile: str | None, dev: bool) -> None:
    """Serve status lists, metadata, OpenID4VCI and the registrar page (gunicorn; --dev: Flask's reloader).

    Its public URL is the issuer's base URL (`issuer init --url`): the status
    URIs and offers carry it, and it is the only host the service answers.
    """
    from infra.serving import options_from_click
    from infra.serving import serve as run
    from issuer.web import create_app

    options = options_from_click(host, port, workers, threads, timeout, access_log, certfile, keyfile, dev)
    home = _home(ctx)
    config = {"ISSUER": home.identity.name, "DATA_DIR": str(data_dir())}
    click.echo(f"issuer {home.identity.name} serving on {options.scheme}://{options.bind} "
               f"(public URL {home.identity.base_url})")
    run(lambda: create_app(config), options, name=f"issuer-{home.identity.name}")
