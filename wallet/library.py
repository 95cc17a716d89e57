"""Reading stored credentials back for pages: cards, rows, and the stack summary, all through one Annex I view.

Every format is shown through :func:`wallet.annex.view_of` (the core's
:class:`~credentials.annex_view.AnnexView`): the list's cards, the detail
page and the stack summary. The summary adds up ECTS with
:func:`credentials.annex_view.stack_summary` over the credentials that
count (:func:`standing` ``valid``): signature verified on import (not kept as
unverified), the last status check passed (or the wallet has no trust
registry: "not checked"), not revoked, suspended or expired, not being
checked again right now (issue 13 §7); it says how many it left out and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from credentials.annex_view import AnnexView, StackSummary, stack_summary
from wallet.annex import FORMAT_NAMES, known_view, shown_day, view_of
from wallet.checking import BADGE_FAILED, BADGE_UNCHECKED, BADGE_VERIFIED, STATUS_UNKNOWN, status_of

__all__ = ["CARD_COLUMNS", "Card", "standing", "LEFT_OUT", "list_cards", "load_row", "stack_of"]

CARD_COLUMNS = ("id, account_id, title, issuer_name, registry_name, ects, eqf_level, issued_on, badge, badge_detail, "
                "format, imported_at, raw_sha256, verified, subject_bound, checked_at, status_events, "
                "status_events_seen")
_RAW_BATCH = 500  # ids per query when reading the raw text of credentials not seen yet (SQLite's variable limit)

#: Why a card is left out of the total, in the order the summary says it, with the words it uses.
LEFT_OUT = {
    "revoked": "revoked",
    "suspended": "suspended",
    "expired": "expired",
    "problem": "with a problem found",
    "unavailable": "could not be checked,",
    "checking": "being checked,",
    "unverified": "not verified (no signature)",
}



def standing(row: dict[str, Any], *, checking: bool = False) -> str:
    """``valid`` when a credential counts in the stack summary, else why not (a key of :data:`LEFT_OUT`)."""
    if not row["verified"]:
        return "unverified"
    if checking:
        return "checking"
    if row["badge"] in (BADGE_VERIFIED, BADGE_UNCHECKED):
        return "valid"
    if row["badge"] != BADGE_FAILED:
        return "unavailable"
    detail = row["badge_detail"]
    checks = (json.loads(detail) if isinstance(detail, str) else detail).get("checks") or ()
    status = status_of(row["badge"], checks)
    return "problem" if status == STATUS_UNKNOWN else status


class _once:  # noqa: N801  # a decorator, named like functools.cached_property
    """A property worked out on first use and kept on the instance: cached_property without its lock (a card
    belongs to one request)."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.name = func.__name__

    def __get__(self, card: Any, owner: Any = None) -> Any:
        if card is None:
            return self
        value = card.__dict__[self.name] = self.func(card)
        return value


@dataclass(frozen=True)
class Card:
    """One card of the list: the stored row (badge, names) and its Annex I view, in the page's languages.

    What it shows is worked out once per card (the page and the summary ask several times).
    """

    row: dict[str, Any]
    view: AnnexView
    languages: Sequence[str]
    checking: bool = False  # its status is being checked again: the stored badge is out of date

    @_once
    def id(self) -> int:
        return int(self.row["id"])

    @_once
    def title(self) -> str:
        return self.view.title.text(self.languages) if self.view.title else str(self.row["title"])

    @_once
    def kind_name(self) -> str:
        return FORMAT_NAMES.get(self.view.kind, self.view.kind)

    @_once
    def ects(self) -> Decimal | None:
        return self.view.ects_value

    @_once
    def workload(self) -> str | None:
        return self.view.workload.text(self.languages) if self.view.workload else None

    @_once
    def eqf_level(self) -> int | None:
        return self.view.eqf_level_value

    @_once
    def issued_on(self) -> str | None:
        if not self.view.issued_on:
            return None
        text = self.view.issued_on.text(self.languages)
        return shown_day(text)[:40]  # a card shows the day, as the page's language writes it

    @_once
    def standing(self) -> str:
        return standing(self.row, checking=self.checking)

    @_once
    def counted(self) -> bool:
        return self.standing == "valid"

    def __getattr__(self, name: str) -> Any:  # badge, registry_name, issuer_name, verified… as on the row
        try:
            return self.__dict__["row"][name]
        except KeyError:
            raise AttributeError(name) from None


def list_cards(db: Database, account_id: int, languages: Sequence[str] = ("en",),
               checking: frozenset[int] = frozenset()) -> list[Card]:
    """The account's cards, newest first; those in ``checking`` are shown as being checked again.

    The raw text is read only for the credentials whose view this process has not made yet
    (:func:`wallet.annex.known_view`): a wallet of a thousand credentials is not copied out of SQLite per visit.
    """
    cursor = db.execute(
        f"SELECT {CARD_COLUMNS} FROM credentials WHERE account_id = ? ORDER BY imported_at DESC, id DESC", [account_id]
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    views = {row["id"]: known_view(row) for row in rows}
    unseen = [row for row in rows if views[row["id"]] is None]
    for start in range(0, len(unseen), _RAW_BATCH):
        batch = {row["id"]: row for row in unseen[start:start + _RAW_BATCH]}
        found = db.execute(f"SELECT id, raw FROM credentials WHERE account_id = ? AND id IN "
                           f"({', '.join('?' * len(batch))})", [account_id, *batch])
        for credential_id, raw in found.fetchall():
            views[credential_id] = view_of({**batch[credential_id], "raw": raw})
    order = tuple(languages)
    return [Card(row, views[row["id"]] or view_of({**row, "raw": ""}), order, row["id"] in checking)
            for row in rows]


def load_row(db: Database, account_id: int, credential_id: int) -> dict[str, Any] | None:
    cursor = db.execute("SELECT * FROM credentials WHERE account_id = ? AND id = ?", [account_id, credential_id])
    row = cursor.fetchone()
    if row is None:
        return None
    found = dict(zip([d[0] for d in cursor.description], row, strict=True))
    found["badge_detail"] = json.loads(found["badge_detail"])
    return found


@dataclass(frozen=True)
class Stack:
    """The list's summary: the core's totals over counted credentials, plus breakdowns by level and issuer."""

    summary: StackSummary
    count: int
    by_level: list[tuple[int | None, int, Decimal]]
    by_issuer: list[tuple[str, bool, int, Decimal]]
    left_out: tuple[tuple[str, int], ...] = ()  # (the words of LEFT_OUT, how many), in that order
    not_checked: int = 0  # counted, but no trust registry checked their status

    @property
    def ects(self) -> Decimal:
        return self.summary.total_ects

    @property
    def valid(self) -> int:
        return self.summary.counted + self.summary.without_ects


def stack_of(cards: Sequence[Card]) -> Stack:
    """ECTS total over the cards that count (:func:`counts`), by EQF level and by issuer."""
    summary = stack_summary((card.view, card.counted) for card in cards)
    levels: dict[int | None, list[Decimal]] = {}
    issuers: dict[tuple[str, bool], list[Decimal]] = {}
    for card in cards:
        if not card.counted:
            continue
        ects = card.ects if card.ects is not None else Decimal(0)
        levels.setdefault(card.eqf_level, []).append(ects)
        name = card.row["registry_name"] or card.row["issuer_name"]
        issuers.setdefault((name, card.row["registry_name"] is not None), []).append(ects)
    by_level = sorted(((level, len(v), sum(v, Decimal(0))) for level, v in levels.items()),
                      key=lambda item: (item[0] is None, item[0] or 0))
    by_issuer = sorted(((name, registry, len(v), sum(v, Decimal(0))) for (name, registry), v in issuers.items()),
                       key=lambda item: (-item[3], item[0]))
    reasons = [card.standing for card in cards]
    left_out = tuple((words, reasons.count(key)) for key, words in LEFT_OUT.items() if key in reasons)
    not_checked = sum(1 for card in cards if card.counted and card.row["badge"] == BADGE_UNCHECKED)
    return Stack(summary, len(cards), by_level, by_issuer, left_out, not_checked)
