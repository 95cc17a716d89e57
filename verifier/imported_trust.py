"""Trusted roots from an imported ETSI TS 119 602 List of Trusted Entities (issue 14, §3).

``microcred trust import FILE`` checks a LoTE (:func:`credentials.lote.parse_lote`:
strict JSON, the vendored schema, dates, a NextUpdate still ahead) and writes
what it trusts to ``<DATA_DIR>/trusted-list.json`` (``MICROCRED_VERIFIER_TRUSTED_LIST``
names another file). The verifier reads that file once, at start-up:

* the DIDs it lists whose service is granted become trusted roots: a
  credential is trusted when its accreditation chain on this verifier's
  TrustRegistry ends at one of them;
* with ``MICROCRED_VERIFIER_TRUSTED_ROOTS`` set, they are added to those
  roots; without it they *replace* the default (the deployment's root), so a
  verifier seeded from a list trusts what the list says and nothing else;
* a file that cannot be read or does not hold a checked list stops start-up
  naming the file; a list whose NextUpdate has passed too (import a fresh one).

A list older than the one imported (lower ``LoTESequenceNumber`` from the same
scheme operator) is refused, so a replayed old list cannot undo a withdrawal.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credentials.errors import ConfigurationError, InvalidInput
from credentials.lote import ImportedList, iso_time, parse_lote

__all__ = ["TRUSTED_LIST_FILE", "FORMAT", "TrustedListFile", "trusted_list_path", "import_list", "load_imported"]

TRUSTED_LIST_FILE = "trusted-list.json"
FORMAT = "microcred-imported-lote/1"


@dataclass(frozen=True)
class TrustedListFile:
    """What an import wrote: the checked list's summary and the SHA-256 of the file it came from."""

    source_sha256: str
    imported_at: int
    imported: ImportedList

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "source_sha256": self.source_sha256, "imported_at": iso_time(self.imported_at),
                **self.imported.as_json()}


def trusted_list_path(settings: Any) -> Path:
    """``VERIFIER_TRUSTED_LIST`` if set, else ``<DATA_DIR>/trusted-list.json``."""
    configured = settings.VERIFIER_TRUSTED_LIST
    return Path(configured) if configured else Path(settings.DATA_DIR) / TRUSTED_LIST_FILE


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"the imported trusted list {path} cannot be read ({type(exc).__name__}); "
                                 "run `microcred trust import FILE` again") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigurationError(f"the imported trusted list {path} is not a {FORMAT} file; "
                                 "run `microcred trust import FILE` again")
    return data


def load_imported(path: Path, *, now: int) -> tuple[str, ...] | None:
    """The trusted DIDs of the list imported at ``path``; None when nothing was imported."""
    if not path.exists():
        return None
    data = _read(path)
    dids = data.get("trusted_dids")
    if not isinstance(dids, list) or not dids or not all(isinstance(d, str) for d in dids):
        raise ConfigurationError(f"the imported trusted list {path} names no trusted DID; import a list again")
    next_update = str(data.get("next_update"))
    if next_update <= iso_time(now):  # both YYYY-MM-DDThh:mm:ssZ: text order is time order
        raise ConfigurationError(f"the trusted list imported in {path} was due to be replaced at {next_update}; "
                                 "import a fresh list (`microcred trust import FILE`)")
    return tuple(dids)


def import_list(content: bytes, path: Path, *, now: int) -> TrustedListFile:
    """Check ``content`` (a LoTE) and write what it trusts to ``path``; InvalidInput saying why otherwise."""
    imported = parse_lote(content, now=now)
    if path.exists():
        try:
            previous = _read(path)
        except ConfigurationError:
            previous = {}
        if (previous.get("operator_name") == imported.operator_name
                and isinstance(previous.get("sequence"), int) and previous["sequence"] > imported.sequence):
            raise InvalidInput(f"the list is number {imported.sequence} of {imported.operator_name}, older than "
                               f"number {previous['sequence']} imported already; refusing to go back")
    record = TrustedListFile(hashlib.sha256(content).hexdigest(), now, imported)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(record.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)  # whole or not at all: the verifier never reads half a list
    return record
