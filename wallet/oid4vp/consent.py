"""What the consent page offers and what the learner's choices send (OpenID4VP 1.0 §6.4, §7, §14.1).

The learner's credentials are matched against the DCQL query with
:func:`credentials.dcql.match`. The page is built of:

- credential sets (§6.2): a set with alternatives, or an optional one, is a
  choice (an optional set defaults to sharing nothing from it); a set with one
  required option is simply asked;
- one card per requested credential query: its claims, each on its own line,
  *required* when every claim set of the query names it (or the query has no
  claim sets), else *optional* and unticked by default (when no claim set can
  be met by the required claims alone, the first set's other claims start
  ticked, since one of the combinations is needed); and the held credentials
  that answer it — a radio each, or checkboxes when the query allows
  ``multiple`` — with their standing (the stored badge, checked again first
  when stale: :mod:`wallet.freshness`): a revoked, suspended, expired or
  otherwise failed credential carries a plain warning (the verifier will be
  told it is not valid) and is never chosen by default; the learner may
  still pick it on purpose (to show a verifier the revocation, say), never
  unknowingly. One whose status is not known says so; a valid one is chosen
  first.

:func:`choose` turns the submitted form into what to present: per query, the
chosen credentials and, for SD-JWT VCs, the claim paths of the claim set that
best fits the ticked claims (§6.4.1: the wallet MUST NOT send selectively
disclosable claims beyond one claim set). Whole credentials (JWT VC, LDP VC,
Europass EDC) are matched on their JSON and presented whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from credentials.credential_types import sd_jwt_vc_type
from credentials.dcql import (
    FORMAT_JWT_VC_JSON,
    FORMAT_LDP_VC,
    FORMAT_SD_JWT_VC,
    Candidate,
    CredentialQuery,
    DcqlQuery,
    describe_path,
    match,
)
from credentials.dcql import ClaimPath as QueryPath  # may hold None (every element); disclosed paths never do
from credentials.errors import InvalidInput
from credentials.jose import IMPORTED_FORMAT_ALGS, UnverifiedJws
from credentials.microcredential import CLAIM_LABELS
from credentials.sd_jwt import ClaimPath, HolderSdJwt
from wallet.annex import FORMAT_EDC, FORMAT_JWT_VC
from wallet.annex import FORMAT_LDP_VC as WALLET_LDP_VC
from wallet.annex import FORMAT_SD_JWT_VC as WALLET_SD_JWT
from wallet.checking import STATUS_EXPIRED, STATUS_REVOKED, STATUS_SUSPENDED, STATUS_VALID, status_of

__all__ = ["ClaimLine", "Offer", "QueryCard", "SetChoice", "ConsentPage", "Chosen", "candidate_of", "standing",
           "build_page", "choose"]

#: The DCQL format each stored format answers as (whole credentials go in a holder-signed VP).
DCQL_FORMAT = {WALLET_SD_JWT: FORMAT_SD_JWT_VC, FORMAT_JWT_VC: FORMAT_JWT_VC_JSON, WALLET_LDP_VC: FORMAT_LDP_VC,
               FORMAT_EDC: FORMAT_LDP_VC}
NONE_CHOSEN = "none"
STATUS_WARNINGS = _WARNINGS = {
    STATUS_REVOKED: "Revoked by its issuer: not valid, and the verifier will be told so.",
    STATUS_SUSPENDED: "Suspended by its issuer: not valid now, and the verifier will be told so.",
    STATUS_EXPIRED: "Expired: no longer valid, and the verifier will see so.",
}


@dataclass(frozen=True)
class ClaimLine:
    index: int  # position in the query's claims: the form value
    label: str
    required: bool
    ticked: bool
    allowed: str | None  # "one of 5, 6" when the query restricts the values


@dataclass(frozen=True)
class Offer:
    credential_id: int
    title: str
    issuer_name: str
    registry_name: str | None
    kind: str
    seen: tuple[tuple[str, str], ...]  # what the verifier would see with the default ticks
    warning: str | None  # revoked, suspended, expired, a failed check: never chosen by default
    note: str | None  # status not known (not checked, could not check, being checked)
    chosen: bool  # chosen by default


@dataclass(frozen=True)
class QueryCard:
    id: str
    heading: str
    multiple: bool
    whole: bool  # no claims asked: the credential itself (its always-visible part, or whole)
    claims: tuple[ClaimLine, ...]
    offers: tuple[Offer, ...]
    reason: str | None  # why nothing answers it


@dataclass(frozen=True)
class SetChoice:
    index: int
    required: bool
    options: tuple[tuple[tuple[str, str], ...], ...]  # per option: (query id, heading) …
    satisfiable: tuple[bool, ...]
    default: str  # an option index, or NONE_CHOSEN


@dataclass(frozen=True)
class ConsentPage:
    sets: tuple[SetChoice, ...]  # only the sets that are a choice
    cards: tuple[QueryCard, ...]
    answerable: bool
    missing_reason: str | None


@dataclass(frozen=True)
class Chosen:
    query_id: str
    row: Mapping[str, Any]
    paths: tuple[ClaimPath, ...] | None  # SD-JWT VC: what to disclose; None: the whole credential


def _json_document(row: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        if row["format"] == FORMAT_JWT_VC:
            payload = UnverifiedJws.parse(row["raw"], what="JWT VC", allowed_algs=IMPORTED_FORMAT_ALGS).payload
            return payload["vc"] if isinstance(payload.get("vc"), dict) else payload
        document = json.loads(row["raw"])
        if row["format"] == FORMAT_EDC and isinstance(document, dict) and isinstance(document.get("payload"), str):
            document = json.loads(document["payload"])
    except (InvalidInput, ValueError):
        return None
    return document if isinstance(document, dict) else None


def candidate_of(row: Mapping[str, Any]) -> Candidate | None:
    """The matcher's view of a stored credential; None for one that is never presented (unverified, unknown)."""
    fmt = DCQL_FORMAT.get(row["format"])
    if fmt is None or not row["verified"]:
        return None
    if fmt == FORMAT_SD_JWT_VC:
        return Candidate(ref=str(row["id"]), format=fmt, type_values=(row["vct"],),
                         claims=HolderSdJwt.parse(row["raw"]).all_claims)
    document = _json_document(row)
    if document is None:
        return None
    types = document.get("type")
    types = (types,) if isinstance(types, str) else tuple(t for t in types or () if isinstance(t, str))
    return Candidate(ref=str(row["id"]), format=fmt, type_values=types, claims=document,
                     holder_binding=bool(row["subject_bound"]))


def _expiry(row: Mapping[str, Any], candidate: Candidate) -> int | None:
    claims = candidate.claims
    if isinstance(claims.get("exp"), int):
        return int(claims["exp"])
    if row["format"] == FORMAT_JWT_VC:
        payload = UnverifiedJws.parse(row["raw"], what="JWT VC", allowed_algs=IMPORTED_FORMAT_ALGS).payload
        if isinstance(payload.get("exp"), int):
            return int(payload["exp"])
    for name in ("validUntil", "expirationDate"):
        if isinstance(claims.get(name), str):
            try:
                return int(datetime.fromisoformat(claims[name].replace("Z", "+00:00")).timestamp())
            except ValueError:
                return None
    return None


def standing(row: Mapping[str, Any], candidate: Candidate, now: int, *, checking: bool = False
             ) -> tuple[str | None, str | None]:
    """(warning, note) for a held credential: its stored badge in one word (:func:`wallet.checking.status_of`:
    valid, revoked, suspended, expired, unknown) and its own expiry. A warning marks one that is not valid;
    a note one whose status is not known. ``checking``: a re-check of its stale badge is still running."""
    if checking:
        return None, "Its status is being checked again; the verifier will check it too."
    try:
        checks = json.loads(row["badge_detail"] or "{}").get("checks") or []
    except (ValueError, AttributeError):
        checks = []
    status = status_of(row["badge"], [c for c in checks if isinstance(c, dict)])
    expires_at = _expiry(row, candidate)
    if status not in (STATUS_REVOKED, STATUS_SUSPENDED) and expires_at is not None and expires_at <= now:
        status = STATUS_EXPIRED
    if status in _WARNINGS:
        return _WARNINGS[status], None
    if status == STATUS_VALID:
        return None, None
    failed = next((c for c in checks if isinstance(c, dict) and c.get("status") == "failed"), None)
    if failed is not None:
        detail = str(failed.get("detail", ""))[:160]
        return f"A check failed{': ' + detail if detail else ''}; the verifier will see this.", None
    return None, "Its issuer and status are not confirmed here; the verifier will check them."


def _label(path: QueryPath) -> str:
    names = [p for p in path if isinstance(p, str)]
    label = CLAIM_LABELS.get(".".join(names)) or (CLAIM_LABELS.get(names[0]) if len(names) == 1 else None)
    if label is None:
        return describe_path(path)
    if any(p is None for p in path):
        return f"{label} (all)"
    index = next((p for p in path if isinstance(p, int)), None)
    return f"{label} {index + 1}" if index is not None else label


def _claim_lines(query: CredentialQuery) -> tuple[ClaimLine, ...]:
    claims = query.claims or ()
    ids = [claim.id for claim in claims]
    options = [set(option) for option in query.claim_sets] if query.claim_sets else [set(filter(None, ids))]
    if not query.claim_sets:
        required = set(range(len(claims)))
        ticked: set[str] = set()
    else:
        common = set.intersection(*options)
        required = {i for i, claim_id in enumerate(ids) if claim_id in common}
        minimal = next((o for o in options if o <= common), None)
        ticked = set() if minimal is not None else options[0] - common
    return tuple(ClaimLine(index=i, label=_label(claim.path), required=i in required,
                           ticked=i in required or claim.id in ticked,
                           allowed=", ".join(map(str, claim.values)) if claim.values else None)
                 for i, claim in enumerate(claims))


def _type_name(value: str) -> str:
    known = sd_jwt_vc_type(value)
    if known is not None:
        return known.name[:1].upper() + known.name[1:]
    tail = value.rstrip("/#:").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    parts = tail.split(":")
    while len(parts) > 1 and parts[-1].isdigit():  # a version, as in urn:…:micro-credential:1
        parts.pop()
    return parts[-1][:80] or value[:80]


def _heading(query: CredentialQuery) -> str:
    """What is asked, for people: the type names (``Micro-credential``, ``OpenBadgeCredential``) or the format."""
    kinds = {FORMAT_SD_JWT_VC: "SD-JWT credential", FORMAT_JWT_VC_JSON: "JWT credential", FORMAT_LDP_VC: "credential"}
    types = " or ".join(" + ".join(_type_name(t) for t in alternative) for alternative in query.type_values or ())
    return types[:200] or f"Any {kinds.get(query.format, query.format)}"


def _with_claim_set(credential_query: CredentialQuery, option: tuple[str, ...] | None) -> DcqlQuery:
    """A query of this credential query alone, held to one claim set (or to all its claims)."""
    single = replace(credential_query, claim_sets=(option,) if option is not None else None)
    return DcqlQuery(credentials=(single,), credential_sets=None)


def _paths_for(credential_query: CredentialQuery, candidate: Candidate,
               ticked: set[str]) -> tuple[ClaimPath, ...] | None:
    """The paths to disclose from ``candidate``: with claim sets, the one that best fits the ticked claims."""
    options: Sequence[tuple[str, ...] | None] = credential_query.claim_sets or (None,)
    allowed = [o for o in options if o is None or set(o) <= ticked]
    allowed.sort(key=lambda o: -len(set(o or ()) & ticked))  # stable: verifier order among equals
    for option in allowed:
        found = match(_with_claim_set(credential_query, option), [candidate]).per_query[credential_query.id]
        if found:
            return _concrete(found[0].paths_to_disclose)
    return None


def _concrete(paths: Sequence[QueryPath]) -> tuple[ClaimPath, ...]:
    """The matcher's paths to disclose as SD-JWT claim paths (they name elements, never "every element")."""
    return tuple(tuple(step for step in path if step is not None) for path in paths)


def _expand(holder: HolderSdJwt, paths: Sequence[ClaimPath]) -> tuple[ClaimPath, ...]:
    """A path naming an object or array asks for all of it (§7): the disclosable claims inside it too."""
    found: list[ClaimPath] = []
    for path in paths:
        found.append(path)
        found.extend(p for p in holder.paths if len(p) > len(path) and p[:len(path)] == path)
    return tuple(dict.fromkeys(found))


def _default_ticks(credential_query: CredentialQuery) -> set[str]:
    lines = _claim_lines(credential_query)
    claims = credential_query.claims or ()
    return {claims[line.index].id or "" for line in lines if line.ticked}


def build_page(query: DcqlQuery, rows: Sequence[Mapping[str, Any]], *, now: int,
               preview: Callable[[HolderSdJwt, Sequence[ClaimPath]], Sequence[tuple[str, str]]],
               checking: frozenset[int] = frozenset()) -> ConsentPage:
    """The consent page's model. ``preview(holder, paths) -> [(label, value)]`` shows what would be disclosed;
    ``checking``: the ids whose stale badge is still being checked again."""
    candidates = {str(row["id"]): (row, c) for row in rows if (c := candidate_of(row)) is not None}
    result = match(query, [c for _, c in candidates.values()])
    headings = {q.id: _heading(q) for q in query.credentials}
    cards = []
    for credential_query in query.credentials:
        if credential_query.id not in result.requested:
            continue
        offers = []
        ticks = _default_ticks(credential_query)
        for found in result.per_query[credential_query.id]:
            row, candidate = candidates[found.ref]
            warning, note = standing(row, candidate, now, checking=int(row["id"]) in checking)
            seen: tuple[tuple[str, str], ...] = (("Shared whole", "everything the credential contains"),)
            if row["format"] == WALLET_SD_JWT:
                holder = HolderSdJwt.parse(row["raw"])
                paths = _paths_for(credential_query, candidate, ticks) or _concrete(found.paths_to_disclose)
                seen = tuple(preview(holder, _expand(holder, paths)))
            offers.append(Offer(credential_id=int(row["id"]), title=row["title"], issuer_name=row["issuer_name"],
                                registry_name=row["registry_name"], kind=row["format"], seen=seen, warning=warning,
                                note=note, chosen=False))
        first = next((i for i, offer in enumerate(offers) if offer.warning is None and offer.note is None),
                     next((i for i, offer in enumerate(offers) if offer.warning is None), None))
        offers = [replace(offer, chosen=i == first) for i, offer in enumerate(offers)]
        cards.append(QueryCard(id=credential_query.id, heading=headings[credential_query.id],
                               multiple=credential_query.multiple, whole=credential_query.claims is None,
                               claims=_claim_lines(credential_query), offers=tuple(offers),
                               reason=result.reasons.get(credential_query.id)))
    sets = []
    for index, item in enumerate(result.sets):
        if item.required and len(item.options) == 1:
            continue
        satisfiable = tuple(option in item.satisfiable_options for option in item.options)
        default = NONE_CHOSEN if not item.required or True not in satisfiable else str(satisfiable.index(True))
        sets.append(SetChoice(index=index, required=item.required, satisfiable=satisfiable, default=default,
                              options=tuple(tuple((q, headings[q]) for q in option) for option in item.options)))
    return ConsentPage(sets=tuple(sets), cards=tuple(cards), answerable=result.satisfiable,
                       missing_reason=result.missing_reason)


def _chosen_queries(query: DcqlQuery, form: Mapping[str, Sequence[str]]) -> list[str]:
    sets = query.credential_sets
    if sets is None:
        return [q.id for q in query.credentials]
    chosen: list[str] = []
    for index, item in enumerate(sets):
        picked = (form.get(f"set-{index}") or [""])[0]
        if item.required and len(item.options) == 1:
            picked = "0"
        if picked == NONE_CHOSEN and not item.required:
            continue
        if not picked.isdigit() or int(picked) >= len(item.options):
            raise InvalidInput("choose one of the options the verifier offers for every required part")
        chosen.extend(q for q in item.options[int(picked)] if q not in chosen)
    return chosen


def choose(query: DcqlQuery, rows: Mapping[int, Mapping[str, Any]], form: Mapping[str, Sequence[str]]
           ) -> list[Chosen]:
    """What the submitted consent form sends: per chosen query, the chosen credentials and their paths.

    ``rows``: the learner's credentials by id; ``form``: field name → values. Raises InvalidInput saying
    what to fix (nothing chosen, ticks that meet no claim set the verifier accepts).
    """
    picked: list[Chosen] = []
    for query_id in _chosen_queries(query, form):
        credential_query = query.query(query_id)
        values = list(form.get(f"credential-{query_id}") or ())
        if not values or (len(values) > 1 and not credential_query.multiple):
            raise InvalidInput("choose one of your credentials for every item the verifier asks for"
                               if not values else "the verifier asks for one credential here; choose one")
        claims = credential_query.claims or ()
        ticked = {claims[int(v)].id or "" for v in form.get(f"claim-{query_id}") or ()
                  if v.isdigit() and int(v) < len(claims)}
        ticked |= {claims[line.index].id or "" for line in _claim_lines(credential_query) if line.required}
        for value in dict.fromkeys(values):
            row = rows.get(int(value)) if value.isdigit() else None
            candidate = candidate_of(row) if row is not None else None
            if row is None or candidate is None:
                raise InvalidInput("that credential is not one of yours that can be shared; reload the page")
            paths = _paths_for(credential_query, candidate, ticked)
            if paths is None:
                sets = " or ".join("(" + ", ".join(o) + ")" for o in credential_query.claim_sets or ())
                raise InvalidInput(f"“{row['title']}” cannot answer with the claims you ticked"
                                   + (f"; the verifier accepts {sets}" if sets else ""))
            if row["format"] == WALLET_SD_JWT:
                picked.append(Chosen(query_id, row, _expand(HolderSdJwt.parse(row["raw"]), paths)))
            else:
                picked.append(Chosen(query_id, row, None))
    return picked
