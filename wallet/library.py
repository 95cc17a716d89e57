"""Reading stored credentials back for pages: rows, claims in Annex I order, the stack summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from credentials.errors import InvalidInput
from credentials.jose import UnverifiedJws
from credentials.microcredential import ANNEX_I_ELEMENTS, CLAIM_LABELS, MICROCRED_CLAIMS
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import NEVER_DISCLOSABLE
from wallet.importing import FORMAT_SD_JWT_VC
from wallet.presenting import show_value

__all__ = ["CARD_COLUMNS", "Field", "list_cards", "load_row", "stored_claims", "annex_fields", "stack_summary"]

CARD_COLUMNS = "id, title, issuer_name, registry_name, ects, eqf_level, issued_on, badge, format, imported_at"


@dataclass(frozen=True)
class Field:
    """One line of the detail page: Annex I number (or None), label, value(s)."""

    element: int | None
    label: str
    values: tuple[str, ...]


def list_cards(db: Database, account_id: int) -> list[dict[str, Any]]:
    cursor = db.execute(
        f"SELECT {CARD_COLUMNS} FROM credentials WHERE account_id = ? ORDER BY imported_at DESC, id DESC", [account_id]
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def load_row(db: Database, account_id: int, credential_id: int) -> dict[str, Any] | None:
    cursor = db.execute("SELECT * FROM credentials WHERE account_id = ? AND id = ?", [account_id, credential_id])
    row = cursor.fetchone()
    if row is None:
        return None
    found = dict(zip([d[0] for d in cursor.description], row))
    found["badge_detail"] = json.loads(found["badge_detail"])
    return found


def stored_claims(row: dict[str, Any]) -> dict[str, Any]:
    """The claims of a stored (already verified) credential, registered claims left out."""
    if row["format"] == FORMAT_SD_JWT_VC:
        claims = HolderSdJwt.parse(row["raw"]).all_claims
        return {k: v for k, v in claims.items() if k not in NEVER_DISCLOSABLE and k != "_sd_alg"}
    payload = UnverifiedJws.parse(row["raw"], what="JWT VC").payload
    credential = payload.get("vc")
    if not isinstance(credential, dict):
        credential = payload
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InvalidInput("the stored credential has no credentialSubject object")
    return {k: v for k, v in subject.items() if k != "id"}


def annex_fields(claims: dict[str, Any]) -> list[Field]:
    """Every Annex I element present, in order, in plain language; then anything else."""
    fields: list[Field] = []
    for name in MICROCRED_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if name == "learner" and isinstance(value, dict):
            order = list(CLAIM_LABELS)
            members = sorted(value.items(), key=lambda item: order.index(f"learner.{item[0]}")
                             if f"learner.{item[0]}" in order else len(order))
            for member, member_value in members:
                label = CLAIM_LABELS.get(f"learner.{member}") or str(member)
                fields.append(Field(ANNEX_I_ELEMENTS[name], label, (show_value(member_value),)))
            continue
        values = tuple(show_value(v) for v in value) if isinstance(value, list) else (show_value(value),)
        fields.append(Field(ANNEX_I_ELEMENTS.get(name), CLAIM_LABELS.get(name, name), values))
    for name, value in claims.items():
        if name not in MICROCRED_CLAIMS:
            fields.append(Field(None, name, (show_value(value),)))
    return fields


def stack_summary(db: Database, account_id: int) -> dict[str, Any]:
    """Total ECTS, and ECTS and counts by EQF level and by issuer (name, from the registry?, count, ECTS)."""
    total = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(ects), 0) FROM credentials WHERE account_id = ?", [account_id]
    ).fetchone()
    by_level = db.execute(
        "SELECT eqf_level, COUNT(*), COALESCE(SUM(ects), 0) FROM credentials WHERE account_id = ? "
        "GROUP BY eqf_level ORDER BY eqf_level IS NULL, eqf_level",
        [account_id],
    ).fetchall()
    by_issuer = db.execute(  # the registry's name where known, else the issuer's own (flagged: 0)
        "SELECT COALESCE(registry_name, issuer_name), registry_name IS NOT NULL, COUNT(*), COALESCE(SUM(ects), 0) "
        "FROM credentials WHERE account_id = ? GROUP BY 1, 2 ORDER BY 4 DESC, 1",
        [account_id],
    ).fetchall()
    return {"count": total[0], "ects": total[1], "by_level": by_level, "by_issuer": by_issuer}
