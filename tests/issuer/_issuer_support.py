"""Helpers shared by the issuer tests: batch rows, CSV building, a recording anchor."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from credentials.jose import PrivateKey
from ledger.errors import LedgerUnavailable

NOW = 1_790_000_000
ISSUED_ON = "2026-09-21"

BASE_ROW = {
    "learner.given_name": "Ada",
    "learner.family_name": "Rossi",
    "learner.birth_date": "2001-04-12",
    "title": "Foundations of Data Science",
    "learning_outcomes": "Explain sampling bias|Fit and check a linear model",
    "ects": "5",
    "eqf_level": "6",
    "qf_ehea_cycle": "first",
    "assessment_type": "written exam",
    "participation": "online",
    "quality_assurance": "internal QA, ENQA-registered agency",
}


@dataclass
class RecordingAnchor:
    """A stand-in for the StatusRegistry client in unit tests: records calls, can be down."""

    calls: list[tuple[str, str, bytes, int]] = field(default_factory=list)
    down: bool = False

    def anchor(self, issuer_did: str, list_id: str, sha256: bytes, version: int,
               compressed_list: bytes | None = None) -> Any:
        if self.down:
            raise LedgerUnavailable("the node at http://127.0.0.1:1 did not answer")
        self.calls.append((issuer_did, list_id, sha256, version))
        return type("Result", (), {"transaction_hash": f"0x{len(self.calls):064x}", "block_number": len(self.calls)})()


def make_row(number: int, **overrides: str) -> dict[str, str]:
    row = {**BASE_ROW, "learner.student_id": f"S{number:05d}", **overrides}
    return {name: value for name, value in row.items() if value is not None}


def make_csv(rows: list[dict[str, str]], *, delimiter: str = ",") -> str:
    columns: list[str] = []
    for row in rows:
        columns += [name for name in row if name not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def jwk_cell(key: PrivateKey) -> str:
    return json.dumps(key.public_key().to_jwk())
