"""``microcred verifier serve`` and ``microcred verify FILE|-``.

``verify`` prints the result JSON of ARCHITECTURE.md ("Verifier HTTP API" ⚑)
and exits 0 verified, 1 not verified, 2 could not decide (ledger or status
list unreachable, bad usage or settings). A stack file (``{"presentations":
[...]}``, or a link that answers one) prints the stack's answer and exits 0
only when every credential is verified, 1 when any failed, 2 when nothing
failed but a check could not be completed. Settings are the service's
(``MICROCRED_VERIFIER_*``, ``MICROCRED_DATA_DIR``, ``MICROCRED_RPC_URL``),
read and checked as the service reads them (:mod:`verifier.settings`).
Input that is not UTF-8 text is not verified (1), like any other garbage. In
the demo's data dir (:data:`infra.settings.DEMO_MARKER_FILE`) ``verify`` takes
the demo's development setting ``DEV_LOOPBACK``, so the demo's own http share
links verify as its web verifier verifies them (and says so on stderr).
``verify --evidence FILE [--jwks JWKS]`` checks a result page's evidence file
again against the chain instead (:mod:`verifier.evidence_check`; the same exit
codes: 0 still valid, 1 changed for the worse or a bad signature, 2 cannot say).
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial

import click

from credentials.errors import CHECKS, ConfigurationError, InvalidInput, MicrocredError
from credentials.verification_model import FAILED, SKIPPED, CheckResult, VerificationResult
from infra.serving import default_public_url, options_from_click, serve_options
from infra.serving import serve as run
from infra.settings import DEMO_MARKER_FILE, default_data_dir
from ledger.config import LedgerSettings
from ledger.errors import DeploymentNotFound, InvalidDeployment
from verifier import create_app
from verifier.evidence_check import recheck_file, report_lines, verifier_keys
from verifier.service import VerifierService
from verifier.terminal import ledger_problem, services_log_muted
from verifier.wording import LINK_REASON_PREFIX, NOT_READABLE

__all__ = ["verifier", "verify", "EXIT_VERIFIED", "EXIT_NOT_VERIFIED", "EXIT_UNDECIDED"]

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_UNDECIDED = 0, 1, 2
_MAX_INPUT = 2 * 1024 * 1024  # a whole credential (a Europass EDC is about 0.5 MB), as the API reads


@click.group()
def verifier() -> None:
    """The employer's verifier service."""


@verifier.command()
@serve_options(8003)
@click.option("--workers", default=lambda: min(os.cpu_count() or 1, 64), show_default="the number of cores, at most 64",
              type=click.IntRange(1, 64),
              help="Worker processes; replay records, OpenID4VP requests and rate limits are shared "
                   "through the store (SQLite in the data dir, or Redis with MICROCRED_REDIS_URL)")
def serve(host: str, port: int, workers: int, threads: int, timeout: int, access_log: str | None,
          certfile: str | None, keyfile: str | None, dev: bool) -> None:
    """Serve the verifier (API, scanning pages, OpenID4VP) on granian (MICROCRED_SERVER=gunicorn: gunicorn).

    Its public URL (the OpenID4VP response_uri, the only host it answers) is
    MICROCRED_VERIFIER_PUBLIC_URL, by default the address it binds.
    """
    options = options_from_click(host, port, workers, threads, timeout, access_log, certfile, keyfile, dev)
    config = {}
    if not os.environ.get("MICROCRED_VERIFIER_PUBLIC_URL"):
        try:
            config["VERIFIER_PUBLIC_URL"] = default_public_url(options)
        except ConfigurationError as exc:
            raise click.UsageError(f"{exc} (MICROCRED_VERIFIER_PUBLIC_URL)") from None
    public_url = config.get("VERIFIER_PUBLIC_URL") or os.environ["MICROCRED_VERIFIER_PUBLIC_URL"]
    run(lambda: create_app(config), options, name="verifier",
        banner=f"verifier on {options.scheme}://{options.bind}/ (public URL {public_url}; API: POST /api/v1/verify)")


@click.command()
@click.argument("source", type=click.File("rb"), required=False)
@click.option("--nonce", default=None, help="the nonce the Key Binding JWT must carry")
@click.option("--audience", default=None, help="the aud the Key Binding JWT must carry")
@click.option("--evidence", type=click.File("rb"), default=None,
              help="instead of a presentation: an evidence file from a verifier's result page, checked again "
                   "against the chain now (0 still valid, 1 changed for the worse or a bad signature, 2 cannot say)")
@click.option("--jwks", type=click.File("rb"), default=None,
              help="with --evidence: the verifier's keys (its /.well-known/jwks.json); default: this machine's "
                   "verifier key in the data dir")
def verify(source, nonce: str | None, audience: str | None, evidence, jwks) -> None:
    """Verify a presentation, or a stack of them, from SOURCE (a file, or '-' for standard input);
    or, with --evidence FILE, check a verifier's evidence file again."""
    if evidence is not None:
        if source is not None:
            raise click.UsageError("give a presentation (SOURCE) or --evidence FILE, not both")
        sys.exit(_recheck_evidence(evidence, jwks))
    if source is None:
        raise click.UsageError("expected SOURCE (a presentation file, or '-') or --evidence FILE")
    if jwks is not None:
        raise click.UsageError("--jwks goes with --evidence")
    raw = source.read(_MAX_INPUT + 1)
    if len(raw) > _MAX_INPUT:
        click.echo(f"error: the input is larger than {_MAX_INPUT} bytes", err=True)
        sys.exit(EXIT_UNDECIDED)
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:  # not a presentation, like any other garbage: not verified (1), not "cannot say"
        click.echo(json.dumps(_not_text().to_json(), indent=2, ensure_ascii=False))
        click.echo(f"hint: {NOT_READABLE}", err=True)
        sys.exit(EXIT_NOT_VERIFIED)
    _say_checking()
    config: dict[str, object] = {"VERIFIER_POLL_INTERVAL": 3600}
    data_dir = default_data_dir()
    if (data_dir / DEMO_MARKER_FILE).exists() and not os.environ.get("MICROCRED_DEV_LOOPBACK"):
        config["DEV_LOOPBACK"] = True  # as the demo's own verifier: its share links and status lists are http here
        click.echo(f"note: {data_dir} is the demo's, so this takes the demo's development setting "
                   "MICROCRED_DEV_LOOPBACK (links and status lists over http on this machine)", err=True)
    try:
        service = VerifierService(config)  # MICROCRED_* from the environment, checked
    except ConfigurationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNDECIDED)
    service.ledger_reason = partial(_ledger_problem, LedgerSettings.of(service.settings))
    with services_log_muted():
        result = service.verify_text(text, nonce=nonce, audience=audience)  # one presentation, or a stack
    click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    if isinstance(result, VerificationResult) and _refused_as_local(result):
        click.echo("hint: links to this machine over http are refused outside development; "
                   "MICROCRED_DEV_LOOPBACK=1 allows them (`make demo` runs its services so)", err=True)
    hint = _issued_file_hint(text, result) if not result.verified else None
    if hint is None and isinstance(result, VerificationResult) and _unreadable(result):
        hint = NOT_READABLE  # the JSON's format check says the parser's reason; this, what was expected
    if hint:
        click.echo(f"hint: {hint}", err=True)
    if result.verified:
        sys.exit(EXIT_VERIFIED)
    sys.exit(EXIT_UNDECIDED if result.undecided else EXIT_NOT_VERIFIED)


def _ledger_problem(settings: LedgerSettings, exc: MicrocredError) -> str:
    """Why the ledger cannot be opened, as ``verify --evidence`` says it (verifier.terminal)."""
    return ledger_problem(settings, answered=not isinstance(exc, ConnectionError),
                          no_record=isinstance(exc, DeploymentNotFound),
                          unusable_record=isinstance(exc, InvalidDeployment))


def _say_checking() -> None:
    """Tell a person at a terminal that the seconds to come are work (loading the ledger's client, reading the
    chain); a pipe or a log gets nothing, and standard output (the answer) is the same either way."""
    if sys.stderr.isatty():
        click.echo("checking… (a few seconds: the ledger is read)", err=True)


def _not_text() -> VerificationResult:
    """The answer for input that is not UTF-8 text: ``format`` failed, nothing else checked."""
    reason = "the input is not UTF-8 text, so it is no presentation"
    return VerificationResult(None, tuple(CheckResult(c, FAILED, reason) if c == "format"
                                          else CheckResult(c, SKIPPED, "nothing to verify") for c in CHECKS))


def _issued_file_hint(text: str, result: object) -> str | None:
    """What to do with a file an issuer wrote, given here instead of a holder's presentation."""
    if text.startswith("{"):
        try:
            bundle = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes: no issuer's file
            return None
        if isinstance(bundle, dict) and isinstance(bundle.get("credential"), str) and "issuance_proof" in bundle:
            return ("this is an issuer's <id>.with-proof.json (a credential with its issuance proof), not a "
                    "presentation: import it into a wallet, share it from there, and verify what the wallet shows")
        return None
    if (isinstance(result, VerificationResult) and text.endswith("~")
            and result.check("holder_binding").status == FAILED):
        return ("an SD-JWT VC without a Key Binding JWT is a credential as issued, not a presentation: "
                "import it into the holder's wallet and verify what the wallet shares (its QR or link)")
    return None


def _unreadable(result: VerificationResult) -> bool:
    """Whether ``result`` is text read as no presentation at all (not a dead link, nor one refused as local)."""
    format_check = result.check("format")
    return (format_check.status == FAILED and not format_check.detail.startswith(LINK_REASON_PREFIX)
            and not _refused_as_local(result))


def _refused_as_local(result: VerificationResult) -> bool:
    detail = result.check("format").detail
    return result.check("format").status == FAILED and ("must use https" in detail or "this machine" in detail)


def _recheck_evidence(evidence, jwks) -> int:
    """``verify --evidence``: print what changed since the evidence was made; the exit code."""
    _say_checking()
    try:
        service = VerifierService({"VERIFIER_POLL_INTERVAL": 3600})  # MICROCRED_* from the environment, checked
        keys = verifier_keys(jwks.read(_MAX_INPUT).decode("utf-8", "replace") if jwks else None, service.data_dir())
    except (ConfigurationError, InvalidInput) as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_UNDECIDED
    found, result = recheck_file(service, evidence.read(_MAX_INPUT + 1), keys, int(service.clock()))
    for line in report_lines(found, result):
        click.echo(line)
    return result.exit_code
