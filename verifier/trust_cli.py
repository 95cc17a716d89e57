"""``microcred trust export|import``: trust lists others can read, and trust seeded from one (issue 14, §3).

``export --format lote`` writes the TrustRegistry (every entry, its
accreditor, validity and status, read at one block) as an ETSI TS 119 602
List of Trusted Entities, JSON binding, checked against the vendored schema
before it is written; ``--format ebsi-accreditations`` as EBSI-style
Verifiable Accreditations, unsigned unless ``--sign-key`` gives the key of a
did:key / did:jwk root (the answer's ``proof`` and ``note`` say what was signed).

``import FILE`` checks a LoTE and writes what it trusts to the verifier's
trusted-list file (:mod:`verifier.imported_trust`), read at the verifier's
next start. Errors are one line on stderr (every schema violation with its
JSON path) and exit 1; nothing is written then.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from credentials._json import json_loads_object
from credentials.ebsi_accreditation import SigningKey
from credentials.errors import InvalidInput, MicrocredError
from credentials.jose import PrivateKey
from credentials.lote import MAX_LOTE_BYTES, schema_errors
from infra.settings import settings_from_env
from verifier.imported_trust import import_list, trusted_list_path
from verifier.settings import SETTINGS

__all__ = ["trust"]

FORMATS = ("lote", "ebsi-accreditations")


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
def trust() -> None:
    """Export the TrustRegistry as a trust list; import a list as the verifier's trusted roots."""


@trust.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="lote", show_default=True,
              help="lote: ETSI TS 119 602 List of Trusted Entities (JSON); ebsi-accreditations: EBSI-style "
                   "Verifiable Accreditations")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write here (default: standard output)")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="ebsi-accreditations only: the root's private JWK (its did:key / did:jwk must be the root's DID)")
@click.option("--distribution-point", default=None, help="lote only: the URL the list is published at")
def export(fmt: str, out: Path | None, sign_key: Path | None, distribution_point: str | None) -> None:
    """Write the TrustRegistry as a trust list (read from the chain at its latest block)."""
    # here, not at the top: these load web3 (seconds to import), only for the commands that use the chain
    from ledger.deployment import open_ledger
    from ledger.trust_export import accreditations_of, lote_of, registry_snapshot

    if sign_key is not None and fmt != "ebsi-accreditations":
        raise click.UsageError("--sign-key signs EBSI accreditations only (a LoTE is published unsigned here)")
    try:
        snapshot = registry_snapshot(open_ledger())
        if fmt == "lote":
            document = lote_of(snapshot, distribution_points=(distribution_point,) if distribution_point else ())
            problems = schema_errors(document)
            if problems:  # our own output breaking the published schema is a bug: say so, write nothing
                _fail("the list would break the ETSI TS 119 602 schema: " + "; ".join(problems[:5]))
        else:
            signer = None
            if sign_key is not None:
                key = PrivateKey.from_jwk(json_loads_object(sign_key.read_bytes(), what=str(sign_key)))
                signer = SigningKey.for_did(snapshot.root_did, key)
            document = accreditations_of(snapshot, signer=signer)
    except (MicrocredError, OSError) as exc:
        _fail(str(exc))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        count = len(document.get("LoTE", {}).get("TrustedEntitiesList", document.get("accreditations", [])))
        click.echo(f"wrote {out}: {count} entries as of block {snapshot.block}", err=True)
    if fmt == "ebsi-accreditations":
        click.echo(f"proof: {document['proof']} ({document['note']})", err=True)


@trust.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(source: Path) -> None:
    """Check the LoTE in SOURCE and make its granted DIDs the verifier's trusted roots (at its next start)."""
    try:
        settings = settings_from_env(SETTINGS)
        with source.open("rb") as handle:
            content = handle.read(MAX_LOTE_BYTES + 1)
        target = trusted_list_path(settings)
        record = import_list(content, target, now=int(time.time()))
    except (InvalidInput, MicrocredError, OSError) as exc:
        _fail(f"{source.name}: {exc}")
    listed = record.imported
    click.echo(f"imported list {listed.sequence} of {listed.operator_name}: {len(listed.trusted_dids)} trusted "
               f"DID(s), {len(listed.not_trusted)} withdrawn or suspended; wrote {target} "
               "(the verifier reads it at start-up)")

