"""A batch's folder: the signed SD-JWT VC files and ``manifest.csv`` that ``issuer issue`` delivers.

Each credential is one file named by its id: ``<id>.sd-jwt`` for an SD-JWT VC
(microcred's or the EUDI learning credential), ``<id>.jwt`` for an Open
Badge twin (``vc+jwt``); ``manifest.csv`` has a line for each, its ``kind``
and, for a twin, the credential it is a twin of (``twin_of``). Beside each
signed file, ``<id>.with-proof.json`` holds the same credential with its
issuance proof (issue 14: the batch's Merkle root anchored on the
IssuanceRegistry), as one object of the OpenID4VCI credential response:
``{"credential": "<the file's text>", "issuance_proof": {…}}`` — the file to
give a wallet, which keeps the proof and presents it (``manifest.csv``'s
``with_proof`` column names it; empty when no ledger deployment is known).

Files are written so that a crash at any moment leaves nothing the archive
does not know and nothing a re-run cannot finish (:mod:`issuer.service`
archives every credential, with its status list slot, before signing it):

1. files go to a hidden staging folder ``.batch-<batch id>`` beside the final
   one, each written under a temporary name and renamed into place (a file is
   whole or absent), one chunk at a time, *before* the chunk's SHA-256s are
   recorded in the archive;
2. a re-run treats a credential as delivered only when its file is there and
   its SHA-256 is the one recorded; any other is signed again (same id, same
   slot) and its file replaced;
3. ``manifest.csv`` is written last, from the archive's rows, and the staging
   folder is renamed to the final one; the batch is then marked delivered.

Nothing here deletes signed output. A full or read-only disk comes out as
:class:`issuer.archive.StorageError` naming the batch folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from credentials.errors import InvalidInput
from issuer.archive import KIND_MICROCRED, KIND_OB3, CredentialRecord, storage_error
from issuer.identity import IssuerIdentity
from issuer.oid4vci import offer_page_url, offer_uri
from issuer.service import IssuedCredential

__all__ = ["MANIFEST_FILE", "BatchFolder"]

MANIFEST_FILE = "manifest.csv"
_WHERE = "the batch folder"


@contextmanager
def _disk_errors() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        translated = storage_error(exc, where=_WHERE)
        if translated is None or translated is exc:
            raise
        raise translated from exc


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class BatchFolder:
    """The final folder of one batch and its staging folder."""

    def __init__(self, final: Path, batch_id: str):
        self.final = Path(final)
        self.staging = self.final.parent / f".batch-{batch_id}"

    @property
    def published(self) -> bool:
        return (self.final / MANIFEST_FILE).is_file()

    @property
    def work_dir(self) -> Path:
        return self.final if self.published else self.staging

    def prepare(self) -> None:
        """Create the staging folder (0700) unless the batch's folder is already published."""
        if self.published:
            return
        with _disk_errors():
            self.staging.mkdir(mode=0o700, parents=True, exist_ok=True)

    @staticmethod
    def file_name(credential_id: str, kind: str = KIND_MICROCRED) -> str:
        return f"{credential_id}.jwt" if kind == KIND_OB3 else f"{credential_id}.sd-jwt"

    def holds(self, record: CredentialRecord) -> bool:
        """True if the credential's file is there and is the SD-JWT whose SHA-256 the archive recorded."""
        if record.sd_jwt_sha256 is None:
            return False
        try:
            text = (self.work_dir / self.file_name(record.id, record.kind)).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return False
        return hashlib.sha256(text.encode("ascii")).hexdigest() == record.sd_jwt_sha256

    def write(self, issued: Sequence[IssuedCredential]) -> None:
        """Write the signed files of a chunk (each whole or not at all)."""
        directory = self.work_dir
        with _disk_errors():
            for item in issued:
                if item.sd_jwt is not None:
                    _write_atomically(directory / self.file_name(item.credential_id, item.kind), item.sd_jwt + "\n")

    @staticmethod
    def proof_file_name(credential_id: str) -> str:
        return f"{credential_id}.with-proof.json"

    def write_proofs(self, records: Sequence[CredentialRecord], proofs: Mapping[str, Mapping[str, Any]]) -> None:
        """``<id>.with-proof.json`` for each signed credential that has an issuance proof (each whole or absent)."""
        directory = self.work_dir
        with _disk_errors():
            for record in records:
                proof = proofs.get(record.id)
                if proof is None or not record.holder_jwk:
                    continue
                credential = (directory / self.file_name(record.id, record.kind)).read_text(encoding="ascii").strip()
                bundle = {"credential": credential, "issuance_proof": dict(proof)}
                _write_atomically(directory / self.proof_file_name(record.id), json.dumps(bundle, indent=1) + "\n")

    def write_manifest(self, records: Sequence[CredentialRecord], identity: IssuerIdentity,
                       proofs: Mapping[str, Any] | None = None) -> None:
        """``manifest.csv``: row, student id, credential id, file or offer links, kind, twin of (from the archive),
        and the file with its issuance proof."""
        lines: list[list[str]] = [["row", "student_id", "credential_id", "file", "offer_uri", "offer_page", "kind",
                                   "twin_of", "with_proof"]]
        for record in records:
            file_name = self.file_name(record.id, record.kind) if record.holder_jwk else ""
            offer = offer_uri(identity, record.offer_id) if record.offer_id else ""
            page = offer_page_url(identity, record.offer_id) if record.offer_id else ""
            with_proof = self.proof_file_name(record.id) if file_name and proofs and record.id in proofs else ""
            lines.append([str(record.batch_row or ""), record.student_id, record.id, file_name, offer, page,
                          record.kind, record.twin_of or "", with_proof])
        with _disk_errors():
            self.work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_atomically(self.work_dir / MANIFEST_FILE, _csv_text(lines))

    def publish(self) -> None:
        """Rename the staging folder to the final one (nothing to do once published)."""
        if self.work_dir == self.final:
            return
        with _disk_errors():
            if self.final.exists():
                if any(self.final.iterdir()):
                    raise InvalidInput(f"expected {self.final} to be empty, found files in it; "
                                       f"the batch's files are in {self.staging}")
                self.final.rmdir()
            os.replace(self.staging, self.final)


def _csv_text(lines: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue()
