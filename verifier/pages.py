"""The employer's pages: scan (camera, photo, paste) and the result with its receipt.

The camera is read in the browser by the scanner shared with the wallet
(:mod:`infra.assets`: ``scan.js`` and the vendored jsQR); a photo is decoded
here with zxing-cpp. The result
page shows one big verdict, every check in plain words, the credential laid
out like a certificate — its Annex I view (:class:`credentials.annex_view.AnnexView`,
the same for every format: learner, title, awarding body, … and a collapsible
"More details" with every other field), multilingual values in the page's
language (English, else the first the credential has); for a type without a
view, the disclosed claims with the labels of
:data:`credentials.microcredential.CLAIM_LABELS` — and a printable receipt.
A stack (several credentials in one QR link or paste, or one OpenID4VP
answer; :mod:`credentials.stack`) gets :func:`render_stack_result`: the stack's
line first ("3 of 3 verified · 14 ECTS · EQF 6–7"), what the answer as a whole
lacks, the sums with each credential's stackability, then one verdict per
credential with its certificate and checks.
Views are a few lines: the work is in :mod:`verifier.service` and the core.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from credentials.annex_view import ANNEX_LABELS, AnnexView, AwardingBody, Sourced
from credentials.errors import InvalidInput
from credentials.microcredential import CLAIM_LABELS, MICROCRED_CLAIMS
from credentials.stack import StackResult, stack_result
from credentials.verification_model import FAILED, PASSED, SKIPPED, UNAVAILABLE, VerificationResult
from infra.i18n import N_, content_languages, translate
from verifier.api import count_members, is_sd_jwt
from verifier.context import current_service
from verifier.evidence import offer_evidence
from verifier.wording import NOTHING_TO_CHECK, humane, not_credential_verdict
from verifier.wording import verdict_of as plain_verdict

__all__ = ["bp", "CHECK_TITLES", "PAGE_LANGUAGES", "verdict_of", "certificate_of", "annex_certificate", "render_result",
           "render_stack_result", "stack_verdict", "decode_qr_photo"]

bp = Blueprint("pages", __name__)

#: Each check as an employer would ask it.
CHECK_TITLES = {
    "format": N_("Is it a credential this verifier reads?"),
    "signature": N_("Is it signed by its issuer?"),
    "disclosures": N_("Are the shown facts the ones the issuer signed?"),
    "holder_binding": N_("Is it presented by the person it was issued to?"),
    "replay": N_("Is it fresh, not a copy of an earlier presentation?"),
    "validity_period": N_("Is it within its validity period?"),
    "issuer_trust": N_("Is the issuer an accredited provider?"),
    "revocation": N_("Is it still valid (not revoked)?"),
    "schema": N_("Are the facts well-formed?"),
    "issuance_anchor": N_("Was its issuance recorded on the ledger?"),
}
_STATUS_WORDS = {PASSED: ("✔", N_("Yes")), FAILED: ("✘", N_("No")), SKIPPED: ("–", N_("Not checked")),
                 UNAVAILABLE: ("?", N_("Could not check"))}
_TITLE_CLAIMS = ("title", "learner")
#: A phone photo is larger than any presentation; this route alone accepts up to this many bytes.
PHOTO_MAX_BYTES = 12 * 1024 * 1024
#: The most pixels a photo may have, read from its header before anything is decoded: a few KB of PNG may
#: declare hundreds of millions.
PHOTO_MAX_PIXELS = 40_000_000


def verdict_of(result: VerificationResult) -> dict[str, str]:
    """The page's headline for one result, in plain words (:func:`verifier.wording.verdict_of`)."""
    return plain_verdict(result, {check: translate(title) for check, title in CHECK_TITLES.items()})


def _void(result: VerificationResult, verdict: dict[str, str]) -> str | None:
    """Why a certificate shown is not valid (its banner), or None when it is, or nothing is decided yet."""
    if result.verified or verdict["kind"] == "undecided":
        return None
    return verdict["word"]


def _text(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [_text(v) if not isinstance(v, list) else ", ".join(map(str, v)) for v in value]  # type: ignore[misc]
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v not in (None, ""))
    return str(value)


def certificate_of(claims: dict[str, Any]) -> dict[str, Any] | None:
    """The disclosed claims as a certificate: title, learner, then each fact with its label, Annex I order."""
    if not claims:
        return None
    learner = claims.get("learner")
    if not isinstance(learner, dict):
        learner = {}
    name = " ".join(str(learner[k]) for k in ("given_name", "family_name") if learner.get(k))
    facts: list[tuple[str, Any]] = []
    for key in ("birth_date", "student_id"):
        if learner.get(key):
            facts.append((CLAIM_LABELS[f"learner.{key}"], str(learner[key])))
    ordered = [k for k in MICROCRED_CLAIMS if k in claims] + sorted(k for k in claims if k not in MICROCRED_CLAIMS)
    for key in ordered:
        if key in _TITLE_CLAIMS:
            continue
        facts.append((CLAIM_LABELS.get(key, key), _text(claims[key])))
    return {"kind": N_("Micro-credential"), "title": claims.get("title"), "learner": name, "facts": facts, "more": []}


#: The page's language: multilingual values are shown in it when the credential has it (else English, else the first).
PAGE_LANGUAGES = ("en",)
_KIND_WORDS = {"microcred": "Micro-credential", "eudi-learning": "EUDI learning credential", "ob3": "Open Badge",
               "clr": "Comprehensive Learner Record", "elm": "European Digital Credential"}


def _annex_value(value: Any, languages: tuple[str, ...]) -> str | list[str]:
    if isinstance(value, tuple):
        texts = [_annex_value(v, languages) for v in value]
        return [t if isinstance(t, str) else "; ".join(t) for t in texts]
    if isinstance(value, AwardingBody):
        name = value.name.text(languages)
        return name + (f" ({value.country.text(languages)})" if value.country else "")
    return value.text(languages) if isinstance(value, Sourced) else str(value)


#: The learner's entries that are the person's name (each format's labels); the others (a date of birth, a student
#: number, a national id) are disclosed facts, not part of the name.
_FULL_NAME_LABELS = frozenset({"Full name", "Name"})
_NAME_PART_LABELS = ("Given name", "Given name(s)", "Family name", "Family name(s)")


def _learner_name(view: AnnexView, languages: tuple[str, ...]) -> tuple[str, list[tuple[str, Any]]]:
    """The person's name as the page's "awarded to" line reads it (a full name as stated, else given then family
    name(s)), and the learner's other entries as facts with their labels."""
    full = [item.text(languages) for item in view.learner if item.label in _FULL_NAME_LABELS]
    parts = sorted((item for item in view.learner if item.label in _NAME_PART_LABELS),
                   key=lambda item: _NAME_PART_LABELS.index(item.label) // 2)
    name = full[0] if full else " ".join(item.text(languages) for item in parts)
    others = [(item.label or ANNEX_LABELS["learner"], item.text(languages)) for item in view.learner
              if item.label not in _FULL_NAME_LABELS and item.label not in _NAME_PART_LABELS]
    return name, others


def annex_certificate(view: AnnexView, languages: tuple[str, ...] = PAGE_LANGUAGES) -> dict[str, Any]:
    """An Annex I view as the certificate the page shows: kind, title, learner (the name), facts (the learner's
    identifiers first), more details."""
    learner, facts = _learner_name(view, languages)
    for name, label in ANNEX_LABELS.items():
        value = getattr(view, name, None)
        if name in ("title", "learner", "more_details") or value in (None, ()):
            continue
        facts.append((label, _annex_value(value, languages)))
    return {"kind": _KIND_WORDS.get(view.kind, "Credential"),
            "title": view.title.text(languages) if view.title else None,
            "learner": learner,
            "facts": facts,
            "more": [(item.label or item.path, item.text(languages)) for item in view.more_details]}


def _checks(result: VerificationResult) -> list[dict[str, str]]:
    return [{"check": c.check, "status": c.status, "detail": humane(c.detail), "title": CHECK_TITLES[c.check],
             "mark": _STATUS_WORDS[c.status][0], "status_words": _STATUS_WORDS[c.status][1]} for c in result.checks]


def _certificate(result: VerificationResult) -> dict[str, Any] | None:
    if result.check("signature").status != PASSED:
        return None
    if result.annex is not None:
        return annex_certificate(result.annex, content_languages())
    return certificate_of(result.claims)


def _fingerprint(presentation: str) -> str:
    return hashlib.sha256(presentation.encode("utf-8", "replace")).hexdigest()[:32]


def _checked_at(now: int) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_result(result: VerificationResult, presentation: str, now: int):
    verdict = verdict_of(result)
    if verdict["kind"] in NOTHING_TO_CHECK:  # not a credential, or a dead link: one plain answer, no checks
        return render_template("not_credential.html", verdict=verdict), 400
    receipt = {"checked_at": _checked_at(now), "fingerprint": _fingerprint(presentation),
               "evidence_id": offer_evidence(result, presentation, now)}  # a signed file to download (issue 14)
    return render_template("result.html", result=result, verdict=verdict, checks=_checks(result),
                           certificate=_certificate(result), issuer=result.issuer, chain=result.trust_chain,
                           receipt=receipt, void=_void(result, verdict))


def stack_verdict(stack: StackResult) -> dict[str, str]:
    """The stack's verdict: verified only when every credential is and the answer meets its request."""
    if stack.verified:
        return {"kind": "verified", "word": "Verified",
                "sentence": "Every credential is authentic, from an accredited provider, not revoked, and presented "
                            "by its holder for this request."}
    if stack.undecided:
        return {"kind": "undecided", "word": "Cannot decide now",
                "sentence": "A check could not be completed for some credential; nothing failed so far. "
                            "Try again shortly."}
    failing = sum(1 for r in stack.results if not r.verified)
    sentence = (f"{failing} of {len(stack.results)} credentials did not pass; each is shown below with why."
                if failing else "The credentials verify, but the answer does not meet the request.")
    return {"kind": "rejected", "word": "Not verified", "sentence": sentence}


def render_stack_result(results: StackResult | Sequence[VerificationResult], presentations: Sequence[str], now: int,
                        *, problems: Sequence[str] = (), scanned: str | None = None):
    """The page for several credentials at once: a holder-shown stack, or an OpenID4VP answer with several.

    ``results``: a :class:`~credentials.stack.StackResult` (from
    ``VerifierService.verify_stack``), or each presentation's result in order (then the stack's integrity, each
    credential counted once, and the summary are worked out here, :func:`credentials.stack.stack_result`);
    ``presentations``: the texts, in the
    same order, for the receipt's fingerprints (none when unknown); ``problems``: what the answer as a whole
    lacks (plain words); ``scanned``: the text that led to the stack (a link), fingerprinted on the receipt.
    """
    stack = results if isinstance(results, StackResult) else stack_result(
        results, presentations=presentations if len(presentations) == len(results) else None)
    if problems:
        stack = StackResult(stack.results, stack.summary, (*stack.problems, *problems))
    texts: list[str | None] = [*presentations, *[None] * (len(stack.results) - len(presentations))]
    items = []
    for result, presentation in zip(stack.results, texts, strict=False):
        certificate = _certificate(result)
        verdict = verdict_of(result)
        items.append({"result": result, "verdict": verdict, "checks": _checks(result), "void": _void(result, verdict),
                      "certificate": certificate, "title": certificate.get("title") if certificate else None,
                      "fingerprint": _fingerprint(presentation) if presentation is not None else None})
    summary = stack.summary
    ects_total = summary.to_json()["ects_total"]
    return render_template("result_stack.html", stack=stack, summary=summary, ects_total=ects_total,
                           verdict=stack_verdict(stack), items=items,
                           receipt={"checked_at": _checked_at(now),
                                    "fingerprint": _fingerprint(scanned) if scanned is not None else None})


def _render_any(found: VerificationResult | StackResult, text: str, now: int):
    """One result's page, or a stack's (a link or paste that held one; each member counts against the limit)."""
    if isinstance(found, StackResult):
        count_members(found.results, answered=True)
        return render_stack_result(found, (), now, scanned=text)
    return render_result(found, text, now)


def decode_qr_photo(data: bytes) -> str:
    """The text of the first QR code in a photo (zxing-cpp); InvalidInput if there is none."""
    # Imported here: zxing-cpp and Pillow are large native libraries that only this route needs.
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only: the size is known before any pixel
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise InvalidInput("the photo is too large to scan")
            image.load()
            # The stub names BarcodeFormats only; the function documents (and takes) one BarcodeFormat too.
            found = zxingcpp.read_barcodes(image.convert("L"),
                                           formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
    except Image.DecompressionBombError:  # a header past Pillow's own limit: refused by Image.open itself
        raise InvalidInput("the photo is too large to scan") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput("the upload is not an image this verifier can read") from None
    texts = [code.text for code in found if code.valid and code.text]
    if not texts:
        raise InvalidInput("no QR code was found in the photo; try again closer and in focus")
    return texts[0]


@bp.get("/")
def index():
    return render_template("index.html")


@bp.post("/verify")
def verify():
    text = request.form.get("presentation", "")
    if not text.strip():
        raise InvalidInput("nothing was scanned or pasted")
    service = current_service()
    if is_sd_jwt(text) and len(text.encode("utf-8", "replace")) > service.settings.VERIFIER_MAX_BODY:
        raise RequestEntityTooLarge(f"an SD-JWT VC presentation may be at most {service.settings.VERIFIER_MAX_BODY} "
                                    "bytes")
    now = int(service.clock())
    return _render_any(service.verify_text(text, now=now), text, now)


@bp.post("/verify/photo")
def verify_photo():
    request.max_content_length = PHOTO_MAX_BYTES
    upload = request.files.get("photo")
    if upload is None:
        raise InvalidInput("no photo was uploaded")
    try:
        text = decode_qr_photo(upload.read())
    except InvalidInput as exc:  # no QR code, or no image: the same answer as garbage pasted
        return render_template("not_credential.html", verdict=not_credential_verdict(str(exc))), 400
    service = current_service()
    now = int(service.clock())
    return _render_any(service.verify_text(text, now=now), text, now)
