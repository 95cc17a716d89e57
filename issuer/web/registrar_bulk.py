"""The registrar's bulk revocation page (issue 14, §4): upload a CSV, see what it changes, confirm.

The file is the one ``microcred issuer revoke --from FILE.csv`` reads
(:mod:`issuer.bulk_revocation`): uploaded or pasted, checked whole, and
previewed ("312 credentials in 2 lists (300 revoked, 12 suspended)") with a
confirmation form that carries the file back (base64, so no browser rewrites
its line ends) with its SHA-256. Confirming
checks the file again against the archive as it is then (someone may have
changed a status meanwhile) and applies it only if it is still the file
previewed, with the reason the registrar gives (kept in the audit log with who and
when, :mod:`issuer.staff`). Bad rows are listed by line (400); only a registrar
account (or, with none yet, this machine: :mod:`issuer.web.staff`) reaches it; every POST carries the
foundation's ``csrf_token``; a request body over :data:`MAX_UPLOAD_BYTES`
is refused with 413.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from credentials.errors import InvalidInput, StatusChangeRefused
from infra.i18n import gettext
from issuer.bulk_revocation import COLUMNS, RevocationPlan, apply_plan, plan_revocation
from issuer.staff import MAX_REASON_LENGTH, check_reason
from issuer.web.context import get_service, now
from issuer.web.registrar import public_anchor_error
from issuer.web.staff import current_actor, record_change, require_staff

__all__ = ["bp", "MAX_UPLOAD_BYTES"]

bp = Blueprint("registrar_bulk", __name__, url_prefix="/registrar/bulk")
MAX_UPLOAD_BYTES = 1024 * 1024
_PREVIEW_ROWS = 50


@bp.before_request
def _local_and_small() -> None:
    require_staff(change=True)  # a registrar account (or, with no staff account yet, this machine)
    request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024  # the form's other fields and multipart framing
    request.max_form_memory_size = MAX_UPLOAD_BYTES + 16 * 1024


def _form(errors: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("bulk.html", identity=get_service().identity, columns=COLUMNS, errors=errors or [],
                           limit=MAX_UPLOAD_BYTES), status


def _uploaded() -> tuple[bytes, str]:
    """The CSV sent (a file, else the pasted text) and a name for the archive's log."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        content = upload.read(MAX_UPLOAD_BYTES + 1)
        name = "".join(c for c in upload.filename if c.isprintable())[-100:] or "upload.csv"
        return content, name
    return request.form.get("csv_text", "").encode("utf-8", "surrogatepass"), "pasted.csv"


@bp.get("/")
def form() -> tuple[str, int]:
    return _form()


@bp.post("/")
def preview() -> tuple[str, int]:
    content, name = _uploaded()
    if not content.strip():
        return _form(["choose a CSV file or paste its text"], 400)
    if len(content) > MAX_UPLOAD_BYTES:
        return _form([f"the file is larger than {MAX_UPLOAD_BYTES} bytes; use `microcred issuer revoke --from`"], 413)
    service = get_service()
    try:
        plan = plan_revocation(service.archive, content, now=now(), source=name)
    except StatusChangeRefused as exc:
        return _form(exc.errors, 400)
    return _preview(plan, base64.b64encode(content).decode("ascii"), name), 200


def _preview(plan: RevocationPlan, encoded: str, name: str, *, error: str | None = None, reason: str = "") -> str:
    archive = get_service().archive
    shown = [(archive.credential(entry.credential_id), entry) for entry in plan.log[:_PREVIEW_ROWS]]
    return render_template("bulk_preview.html", identity=get_service().identity, plan=plan, shown=shown,
                           more=len(plan.log) - len(shown), encoded=encoded, name=name, error=error, reason=reason)


@bp.post("/confirm")
def confirm() -> tuple[str, int] | Response:
    digest = request.form.get("digest", "")
    name = "".join(c for c in request.form.get("name", "") if c.isprintable())[-100:] or "upload.csv"
    try:
        content = base64.b64decode(request.form.get("csv_b64", ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content or len(content) > MAX_UPLOAD_BYTES:
        return _form(["the confirmation carries no file, or one too large; upload it again"], 400)
    service = get_service()
    actor, _role = current_actor()
    try:
        plan = plan_revocation(service.archive, content, now=now(), source=f"{name}, by {actor}")
    except StatusChangeRefused as exc:
        return _form(["the archive changed since the preview:", *exc.errors], 409)
    if not hmac.compare_digest(plan.digest, digest):
        return _form(["the file is not the one previewed; upload it again"], 400)
    try:
        reason = check_reason(request.form.get("reason", ""))
    except InvalidInput as exc:
        return _preview(plan, base64.b64encode(content).decode("ascii"), name, error=str(exc),
                        reason=request.form.get("reason", "")[:MAX_REASON_LENGTH]), 400
    subject = f"{plan.summary()}; {name}, SHA-256 {plan.digest[:16]}…"
    try:  # the audit entry is written once the change is saved, before anchoring (a worker killed there keeps it)
        result = apply_plan(service, plan, now=now(),
                            on_saved=lambda changed: record_change("changed from a CSV file", subject, len(changed),
                                                                   reason))
    except StatusChangeRefused as exc:  # a status changed between this check and the change itself
        return _form(["the archive changed since the preview:", *exc.errors], 409)
    pending = [o for o in result.anchors if not o.anchored]
    if pending:
        flash(gettext("Changed %(summary)s, but the status lists are NOT anchored yet (%(error)s): verifiers still "
                      "see these credentials as before. The changes take effect for verifiers when their anchor is "
                      "confirmed; fix the cause and run `microcred issuer publish` (the issuer service also retries "
                      "by itself).", summary=plan.summary(), error=public_anchor_error(pending[0].error)), "warning")
    else:
        flash(gettext("Changed %(summary)s; the status lists are anchored.", summary=plan.summary()), "ok")
    return redirect(url_for("registrar.index"))
