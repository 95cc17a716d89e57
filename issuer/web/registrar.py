"""The registrar's pages: issued credentials with their status, revoke with confirmation.

Server-rendered, one CSS file, no script (the foundation's CSP,
:mod:`infra.web`). The revoke form carries the foundation's per-session CSRF
token (``csrf_token``), checked on every POST of this blueprint. Who may see
and who may revoke is :mod:`issuer.web.staff`'s rule (staff accounts; this
machine only while there are none). A revocation takes a reason, kept with the
status change in the archive and, with who and when, in the audit log the page
shows (:mod:`issuer.staff`).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from credentials.errors import InvalidInput, UnknownCredential
from infra.i18n import gettext
from issuer.archive import StatusChangeRecord
from issuer.staff import MAX_REASON_LENGTH, check_reason
from issuer.web.context import get_service, now
from issuer.web.public import list_endpoint
from issuer.web.staff import current_actor, record_change, require_staff, staff_book

__all__ = ["bp"]

bp = Blueprint("registrar", __name__, url_prefix="/registrar")
log = logging.getLogger(__name__)
_PAGE = 100


#: What the pages say of a failed anchor: the ledger's own error names the node's URL (which may hold an API
#: key), server paths and exception texts, for the operator's log only.
ANCHOR_TROUBLE = "the ledger did not take the anchor; the issuer's log names the cause"


def public_anchor_error(message: str | None) -> str | None:
    """``message`` (an anchoring error), as staff pages may show it: :data:`ANCHOR_TROUBLE`, the detail logged."""
    if not message:
        return message
    log.warning("status list anchor failed: %s", message)
    return ANCHOR_TROUBLE


@bp.before_request
def _staff_only() -> None:
    # Everyone signed in (or, with no staff account yet, this machine) sees; revoking takes a registrar.
    require_staff(change=request.endpoint == "registrar.revoke")


#: A LIKE pattern of 70,000 characters made SQLite fail ("pattern too complex") and the page answer 500.
_MAX_SEARCH = 200
#: Pages beyond this would need an OFFSET larger than SQLite's integers.
_MAX_PAGE = 1_000_000
#: The latest audit log entries the page shows.
_AUDIT_SHOWN = 50


@bp.get("/")
def index() -> str:
    service = get_service()
    search = request.args.get("q", "").strip() or None
    if search is not None and len(search) > _MAX_SEARCH:
        abort(400, f"a search is at most {_MAX_SEARCH} characters, found {len(search)}")
    page = min(max(request.args.get("page", 1, type=int), 1), _MAX_PAGE)
    records = service.archive.credentials(search=search, limit=_PAGE, offset=(page - 1) * _PAGE)
    return render_template("registrar.html", identity=service.identity, records=records, search=search or "",
                           page=page, more=len(records) == _PAGE, counts=service.archive.count_credentials(),
                           lists=[replace(record, anchor_error=public_anchor_error(record.anchor_error))
                                  for record in service.archive.status_lists()], list_endpoint=list_endpoint,
                           audit=staff_book().audit(limit=_AUDIT_SHOWN))


@bp.route("/credentials/<credential_id>/revoke", methods=["GET", "POST"])
def revoke(credential_id: str) -> str | Response | tuple[str, int]:
    service = get_service()
    try:
        record = service.archive.credential(credential_id)
    except UnknownCredential:
        abort(404)
    if request.method == "GET":
        return render_template("confirm.html", identity=service.identity, record=record, reason="")
    try:
        reason = check_reason(request.form.get("reason", ""))
    except InvalidInput as exc:
        return render_template("confirm.html", identity=service.identity, record=record, error=str(exc),
                               reason=request.form.get("reason", "")[:MAX_REASON_LENGTH]), 400
    actor, _role = current_actor()
    log = [StatusChangeRecord(credential_id, "revoked", reason, f"registrar page, by {actor}", None, now())]
    try:  # the audit entry is written once the change is saved, before anchoring (a worker killed there keeps it)
        result = service.set_statuses({"revoked": [credential_id]}, now=now(), log=log,
                                      on_saved=lambda changed: record_change("revoked", credential_id, len(changed),
                                                                             reason))
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("registrar.index"))
    pending = [o for o in result.anchors if not o.anchored]
    if pending:
        flash(gettext("Revoked %(id)s, but the status list is NOT anchored yet (%(error)s): verifiers still see the "
                      "credential as valid. The revocation takes effect for verifiers when its anchor is confirmed; "
                      "fix the cause and run `microcred issuer publish` (the issuer service also retries by itself).",
                      id=credential_id, error=public_anchor_error(pending[0].error)), "warning")
    else:
        flash(gettext("Revoked %(id)s; the new status list is anchored.", id=credential_id), "ok")
    return redirect(url_for("registrar.index"))
