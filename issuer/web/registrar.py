"""The registrar's pages: issued credentials with their status, revoke with confirmation.

Server-rendered, one CSS file, no script (the foundation's CSP,
:mod:`infra.web`). The revoke form carries the foundation's per-session CSRF
token (``csrf_token``), checked on every POST of this blueprint; the pages answer loopback
clients only unless ``REGISTRAR_ALLOW_REMOTE`` is set (put real
authentication in front before exposing them).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from credentials.errors import InvalidInput, UnknownCredential
from issuer.web.context import get_service, now

__all__ = ["bp"]

bp = Blueprint("registrar", __name__, url_prefix="/registrar")
_LOOPBACK = {"127.0.0.1", "::1"}
_PAGE = 100


@bp.before_request
def _local_only() -> None:
    if request.remote_addr not in _LOOPBACK and not current_app.config.get("REGISTRAR_ALLOW_REMOTE"):
        abort(403)


#: A LIKE pattern of 70,000 characters made SQLite fail ("pattern too complex") and the page answer 500.
_MAX_SEARCH = 200
#: Pages beyond this would need an OFFSET larger than SQLite's integers.
_MAX_PAGE = 1_000_000


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
                           lists=service.archive.status_lists())


@bp.route("/credentials/<credential_id>/revoke", methods=["GET", "POST"])
def revoke(credential_id: str) -> str | Response:
    service = get_service()
    try:
        record = service.archive.credential(credential_id)
    except UnknownCredential:
        abort(404)
    if request.method == "GET":
        return render_template("confirm.html", identity=service.identity, record=record)
    try:
        result = service.set_status([credential_id], "revoked", now=now())
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("registrar.index"))
    pending = [o for o in result.anchors if not o.anchored]
    if pending:
        flash(f"Revoked {credential_id}, but the status list is NOT anchored yet ({pending[0].error}); "
              "fix the cause and run `microcred issuer publish`.", "warning")
    else:
        flash(f"Revoked {credential_id}; the new status list is anchored.", "ok")
    return redirect(url_for("registrar.index"))
