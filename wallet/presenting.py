"""Holder-shown presentations (ARCHITECTURE.md "Holder-shown QR" ⚑) and what can be chosen.

- :func:`choices` lists what the learner may disclose, one checkbox per claim
  (each learner member, each array element such as each learning outcome), in
  Annex I order with plain-language labels and minimal defaults.
- :func:`create_share` builds the SD-JWT+KB (RFC 9901 §4.3: fresh ``nonce``,
  ``aud`` = the wallet's share id, ``iat``) and decides the QR:
  inline when :func:`credentials.presentation_codec.fits_inline`, otherwise a
  one-time link ``<wallet>/p/<token>`` valid for ``SHARE_LIFETIME`` (5 min).
- :func:`create_whole_share` presents a credential that cannot disclose
  selectively (Europass EDC, Open Badge, JWT VC) whole, inside a
  Verifiable Presentation the holder signs
  (:func:`credentials.presentation_vp.present_whole`: ``jwt_vp_json`` or
  ``ldp_vp``, fresh ``nonce``, audience the share id), inline or, as these
  are large, through the one-time link.
- :func:`create_stack_share` shares several credentials as one stack
  (:mod:`credentials.stack`): each SD-JWT VC with the claims chosen for it and
  its own KB-JWT, each whole credential in its own holder-signed VP, all bound
  to one fresh ``nonce`` and the audience of the one share id; always by the
  one-time link, which answers ``{"presentations": [...]}``
  (:func:`credentials.presentation_codec.stack_text`).
- :func:`redeem_link` serves a link once, with its presentation's format.

A credential the issuer delivered with its issuance proof (issue 14) is
presented with it: :func:`holder_of` gives the stored SD-JWT VC with the
proof, which goes into each KB-JWT as the claim ``issuance_proof``; a whole
JWT credential's VP carries it as ``issuanceProof``
(:mod:`credentials.issuance_anchor`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import segno
from sqlite_utils import Database

from credentials.errors import InvalidInput
from credentials.jose import PrivateKey, json_dumps
from credentials.microcredential import CLAIM_LABELS, MICROCRED_CLAIMS
from credentials.presentation_codec import fits_inline, stack_text
from credentials.presentation_vp import present_whole
from credentials.sd_jwt import ClaimPath, HolderSdJwt

__all__ = [
    "gone_link",
    "MODE_INLINE",
    "MODE_LINK",
    "MODE_OPENID4VP",
    "SHARE_AUDIENCE_PREFIX",
    "DEFAULT_DISCLOSED",
    "Choice",
    "choices",
    "parse_paths",
    "preview",
    "qr_svg",
    "Share",
    "create_share",
    "create_whole_share",
    "STACK_PRESENTATION",
    "StackMember",
    "create_stack_share",
    "redeem_link",
    "holder_of",
    "issuance_proof_of",
]

MODE_INLINE, MODE_LINK, MODE_OPENID4VP = "inline", "link", "openid4vp"
#: The ``presentation_format`` of a selective SD-JWT VC share (SD-JWT + KB-JWT).
SD_JWT_PRESENTATION = "dc+sd-jwt"
#: The ``presentation_format`` of a stack share: its link answers ``{"presentations": [...]}`` as JSON.
STACK_PRESENTATION = "stack"
SHARE_AUDIENCE_PREFIX = "urn:microcred:wallet-share:"
#: Claims ticked by default: what a desk needs to know what the credential is, and whose it is (the
#: learner's name; not the date of birth or the student number).
DEFAULT_DISCLOSED = frozenset({"title", "awarding_body", "issued_on", "ects", "eqf_level"})
DEFAULT_DISCLOSED_PATHS = frozenset({("learner", "given_name"), ("learner", "family_name")})
#: The label of one item of a list claim: the item's own value tells it apart from the others (no "Awarding body 1").
ITEM_LABELS = {"learning_outcomes": "Learning outcome", "issuer_country": "Country of the issuer",
               "awarding_body": "Awarding body"}
_MAX_PATHS = 256


def issuance_proof_of(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The issuance proof the wallet keeps for a stored credential (a ``credentials`` row), or None."""
    text = row.get("issuance_proof")
    if not text:
        return None
    proof = json.loads(text)
    return proof if isinstance(proof, dict) else None


def holder_of(row: Mapping[str, Any]) -> HolderSdJwt:
    """A stored SD-JWT VC as its holder presents it: with its issuance proof, when the wallet keeps one."""
    return replace(HolderSdJwt.parse(row["raw"]), issuance_proof=issuance_proof_of(row))


@dataclass(frozen=True)
class Choice:
    """One checkbox: the claim path (JSON in the form), its label and shown value."""

    path: ClaimPath
    label: str
    value: str
    default: bool

    @property
    def key(self) -> str:
        return json.dumps(list(self.path), separators=(",", ":"))


def show_value(value: Any) -> str:
    """A claim value as plain text for a person."""
    if isinstance(value, dict):
        if "name" in value:
            extra = ", ".join(str(value[k]) for k in ("country", "id") if k in value)
            return f"{value['name']} ({extra})" if extra else str(value["name"])
        return "; ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(show_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _label(path: ClaimPath) -> str:
    names = [p for p in path if isinstance(p, str)]
    dotted = ".".join(names)
    if not names:
        return "claim"
    if any(isinstance(step, int) for step in path) and names[0] in ITEM_LABELS:
        return ITEM_LABELS[names[0]]
    return CLAIM_LABELS.get(dotted) or CLAIM_LABELS.get(names[0], names[0])


def _ticked_by_default(path: ClaimPath) -> bool:
    return str(path[0]) in DEFAULT_DISCLOSED or tuple(path) in DEFAULT_DISCLOSED_PATHS


def choices(holder: HolderSdJwt) -> list[Choice]:
    """The leaf claims the learner can tick, in Annex I order."""
    paths = set(holder.paths)
    leaves = [p for p in paths if not any(other != p and other[: len(p)] == p for other in paths)]
    order = {name: i for i, name in enumerate(MICROCRED_CLAIMS)}
    label_order = {name: i for i, name in enumerate(CLAIM_LABELS)}  # learner members in their natural order

    def position(path: ClaimPath) -> tuple:
        dotted = ".".join(str(step) for step in path if isinstance(step, str))
        return (order.get(str(path[0]), len(order)), label_order.get(dotted, len(label_order)),
                [str(step).zfill(6) for step in path])

    leaves.sort(key=position)
    found = []
    for path in leaves:
        value: Any = holder.all_claims
        for step in path:
            value = value[step]
        found.append(Choice(path, _label(path), show_value(value), _ticked_by_default(path)))
    return found


def parse_paths(keys: Iterable[str], holder: HolderSdJwt) -> list[ClaimPath]:
    """Form values back to claim paths; each must be one of :func:`choices`."""
    allowed = {c.key: c.path for c in choices(holder)}
    paths = []
    for key in list(keys)[:_MAX_PATHS]:
        if key not in allowed:
            raise InvalidInput("a chosen claim is not part of this credential; reload the page")
        paths.append(allowed[key])
    if not paths:
        raise InvalidInput("choose at least one claim to share")
    return paths


def preview(holder: HolderSdJwt, paths: Iterable[ClaimPath]) -> list[tuple[str, str]]:
    """(label, value) of exactly what the verifier will see, beside the always-visible issuer."""
    chosen = {tuple(p) for p in paths}
    return [(c.label, c.value) for c in choices(holder) if c.path in chosen]


def qr_svg(text: str, *, inline: bool) -> str:
    """An SVG QR code (level L for a long inline presentation, M for a short link)."""
    code = segno.make(text, error="l" if inline else "m", boost_error=False, micro=False)
    return code.svg_inline(scale=4, border=4, omitsize=True, title="QR code to show the verifier")


@dataclass(frozen=True)
class Share:
    id: str
    mode: str
    qr_text: str
    presentation: str
    expires_at: int


def create_share(
    db: Database,
    *,
    account_id: int,
    credential_id: int,
    holder: HolderSdJwt,
    holder_key: PrivateKey,
    paths: list[ClaimPath],
    link_base: str,
    now: int,
    lifetime: int,
    audience: str | None = None,
    nonce: str | None = None,
    mode: str | None = None,
    random_token: Callable[[int], str] = secrets.token_urlsafe,
) -> Share:
    """Build the presentation and record the share (caller holds the transaction)."""
    share_id = random_token(12)
    audience = audience or SHARE_AUDIENCE_PREFIX + share_id
    presentation = holder.present_with_key_binding(
        paths, holder_key, audience=audience, nonce=nonce or random_token(16), iat=now
    )
    disclosed = [{"label": label, "value": value} for label, value in preview(holder, paths)]
    return _record_share(db, share_id=share_id, account_id=account_id, credential_id=credential_id,
                         presentation=presentation, presentation_format=SD_JWT_PRESENTATION, audience=audience,
                         disclosed=disclosed, link_base=link_base, now=now, lifetime=lifetime, mode=mode,
                         random_token=random_token)


def create_whole_share(
    db: Database,
    *,
    account_id: int,
    credential_id: int,
    credential: str | dict[str, Any],
    holder_key: PrivateKey,
    disclosed: list[dict[str, str]],
    link_base: str,
    now: int,
    lifetime: int,
    audience: str | None = None,
    nonce: str | None = None,
    mode: str | None = None,
    random_token: Callable[[int], str] = secrets.token_urlsafe,
    issuance_proof: Mapping[str, Any] | None = None,
) -> Share:
    """A whole credential inside a holder-signed VP (nonce fresh and audience the share id unless given, as an
    OpenID4VP answer gives them), with its ``issuance_proof`` when kept; record the share."""
    share_id = random_token(12)
    audience = audience or SHARE_AUDIENCE_PREFIX + share_id
    vp_format, vp = present_whole(credential, holder_key, audience=audience, nonce=nonce or random_token(16), iat=now,
                                  lifetime=lifetime, issuance_proof=issuance_proof)
    presentation = vp if isinstance(vp, str) else json_dumps(vp)
    return _record_share(db, share_id=share_id, account_id=account_id, credential_id=credential_id,
                         presentation=presentation, presentation_format=vp_format, audience=audience,
                         disclosed=disclosed, link_base=link_base, now=now, lifetime=lifetime, mode=mode,
                         random_token=random_token)


@dataclass(frozen=True)
class StackMember:
    """One credential of a stack: an SD-JWT VC (``holder`` and the chosen ``paths``) or a whole
    ``credential``, the key it is bound to, and what the share history lists for it."""

    credential_id: int
    title: str
    holder_key: PrivateKey
    disclosed: list[dict[str, str]]
    holder: HolderSdJwt | None = None
    paths: list[ClaimPath] | None = None
    credential: str | dict[str, Any] | None = None
    #: A whole credential's issuance proof (an SD-JWT VC's travels in its ``holder``).
    issuance_proof: dict[str, Any] | None = None


def create_stack_share(
    db: Database,
    *,
    account_id: int,
    members: Sequence[StackMember],
    link_base: str,
    now: int,
    lifetime: int,
    random_token: Callable[[int], str] = secrets.token_urlsafe,
) -> Share:
    """Present every member for one fresh nonce and the audience of one share id; record the stack (link mode)."""
    if not members:
        raise InvalidInput("choose at least one credential for the stack")
    share_id = random_token(12)
    audience, nonce = SHARE_AUDIENCE_PREFIX + share_id, random_token(16)
    presentations = []
    for member in members:
        if member.holder is not None and member.paths:
            presentations.append(member.holder.present_with_key_binding(member.paths, member.holder_key,
                                                                        audience=audience, nonce=nonce, iat=now))
        elif member.holder is None and member.credential is not None:
            _, vp = present_whole(member.credential, member.holder_key, audience=audience, nonce=nonce, iat=now,
                                  lifetime=lifetime, issuance_proof=member.issuance_proof)
            presentations.append(vp if isinstance(vp, str) else json_dumps(vp))
        else:
            raise InvalidInput(f"choose at least one claim to show of {member.title[:80]}")
    disclosed = [{"label": member.title, "value": "; ".join(item["label"] for item in member.disclosed)[:300],
                  "credential_id": str(member.credential_id)} for member in members]
    return _record_share(db, share_id=share_id, account_id=account_id, credential_id=members[0].credential_id,
                         presentation=stack_text(presentations), presentation_format=STACK_PRESENTATION,
                         audience=audience, disclosed=disclosed, link_base=link_base, now=now, lifetime=lifetime,
                         mode=MODE_LINK, random_token=random_token)


def _record_share(db: Database, *, share_id: str, account_id: int, credential_id: int, presentation: str,
                  presentation_format: str, audience: str, disclosed: list[dict[str, str]], link_base: str, now: int,
                  lifetime: int, mode: str | None, random_token: Callable[[int], str]) -> Share:
    token_sha256 = None
    if mode is None:
        mode = MODE_INLINE if fits_inline(presentation) else MODE_LINK
    if mode == MODE_LINK:
        token = random_token(24)
        qr_text = f"{link_base.rstrip('/')}/p/{token}"
        token_sha256 = hashlib.sha256(token.encode("ascii")).hexdigest()
    else:
        qr_text = presentation if mode == MODE_INLINE else ""
    db.execute(  # nothing presentable outlives its share
        "UPDATE shares SET presentation = NULL, qr_text = NULL WHERE account_id = ? AND expires_at <= ? "
        "AND presentation IS NOT NULL", [account_id, now],
    )
    db.execute(
        "INSERT INTO shares (id, account_id, credential_id, mode, audience, disclosed, presentation, qr_text, "
        "token_sha256, created_at, expires_at, presentation_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [share_id, account_id, credential_id, mode, audience, json.dumps(disclosed),
         presentation if mode != MODE_OPENID4VP else None, qr_text or None, token_sha256, now, now + lifetime,
         presentation_format],
    )
    return Share(share_id, mode, qr_text, presentation, now + lifetime)


def gone_link(db: Database, token: str, *, now: int) -> tuple[str, int] | None:
    """Why a link no longer serves its presentation: ``("used" | "withdrawn" | "expired", when)``; None if unknown.

    The verifier holding the link learns which (issue 15), never whose it is.
    """
    if not token or len(token) > 64:
        return None
    token_sha256 = hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
    row = db.execute("SELECT fetched_at, withdrawn_at, expires_at FROM shares WHERE token_sha256 = ? AND mode = ?",
                     [token_sha256, MODE_LINK]).fetchone()
    if row is None:
        return None
    fetched_at, withdrawn_at, expires_at = row
    if fetched_at is not None:
        return "used", fetched_at
    if withdrawn_at is not None:
        return "withdrawn", withdrawn_at
    return ("expired", expires_at) if expires_at <= now else None


_LIVE_LINK = ("SELECT id, presentation, presentation_format FROM shares WHERE token_sha256 = ? AND mode = ? "
              "AND fetched_at IS NULL AND withdrawn_at IS NULL AND expires_at > ?")


def redeem_link(db: Database, token: str, *, now: int, use_up: bool = True) -> tuple[str, str] | None:
    """``(presentation, its format)`` behind a live, unused link (then it is used up), else None.

    ``use_up=False`` looks without using it up: a HEAD request (a link preview, a proxy's check) must not spend
    the verifier's one fetch."""
    if not token or len(token) > 64:
        return None
    token_sha256 = hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
    with db.atomic():
        row = db.execute(_LIVE_LINK, [token_sha256, MODE_LINK, now]).fetchone()
        if row is None:
            return None
        if use_up:
            db.execute(
                "UPDATE shares SET fetched_at = ?, presentation = NULL, qr_text = NULL WHERE id = ?", [now, row[0]]
            )
    return row[1], row[2]
