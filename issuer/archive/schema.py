"""The archive's schema: sqlite-utils migrations (:mod:`infra.migrations`), set ``issuer-archive``.

The archive had no schema version until issue 11. Its first two migrations
are the table code it had before (issue 17 added ``batches`` and
``credentials.batch_row`` by an ad-hoc check at start-up), so they make only
what is missing: an unversioned archive of any earlier state — made before
batches, made with them, or cut short between two ``CREATE TABLE``s (each
was its own transaction then) — is upgraded by running them. Migrations
after these two change what they find unconditionally, like any migration.
Never edit a released migration: register a new one.
"""

from __future__ import annotations

from sqlite_utils import Database

from infra.migrations import Migrations

__all__ = ["ARCHIVE_MIGRATIONS"]

ARCHIVE_MIGRATIONS = Migrations("issuer-archive")


@ARCHIVE_MIGRATIONS()
def m001_credentials_lists_offers_nonces(db: Database) -> None:
    """Credentials, status lists, OpenID4VCI offers and nonces, as the archive was first made."""
    tables = set(db.table_names())
    if "credentials" not in tables:
        db.table("credentials").create({
            "id": str, "batch_id": str, "student_id": str, "given_name": str, "family_name": str,
            "title": str, "claims": str, "holder_jwk": str, "list_id": str, "idx": int, "status": str,
            "delivery": str, "issued_at": int, "sd_jwt_sha256": str, "replaces": str, "replaced_by": str,
            "offer_id": str,
        }, pk="id", not_null={"claims", "list_id", "idx", "status"})
        db.table("credentials").create_index(["list_id", "idx"], unique=True)
        db.table("credentials").create_index(["student_id"])
        db.table("credentials").create_index(["batch_id"])
    if "status_lists" not in tables:
        db.table("status_lists").create({
            "id": str, "size": int, "bits": int, "created_at": int, "used": int, "version": int,
            "token": str, "token_sha256": str, "signed_at": int, "anchored_version": int,
            "anchored_tx": str, "anchored_block": int, "anchor_error": str,
        }, pk="id", defaults={"version": 0, "anchored_version": 0, "used": 0})
    if "offers" not in tables:
        db.table("offers").create({
            "id": str, "credential_id": str, "pre_authorized_code": str, "created_at": int, "expires_at": int,
            "redeemed_at": int, "access_token_sha256": str, "token_expires_at": int,
        }, pk="id")
        db.table("offers").create_index(["pre_authorized_code"], unique=True)
        db.table("offers").create_index(["access_token_sha256"])
    if "nonces" not in tables:
        db.table("nonces").create({"value": str, "expires_at": int}, pk="value")


@ARCHIVE_MIGRATIONS()
def m002_batches(db: Database) -> None:
    """Resumable batches (issue 17): the ``batches`` table and each credential's row in its batch."""
    if "batch_row" not in db.table("credentials").columns_dict:
        db.table("credentials").add_column("batch_row", int)
    if "batches" not in db.table_names():
        db.table("batches").create({
            "id": str, "content_sha256": str, "state": str, "out_dir": str, "created_at": int, "size": int,
            "delivered_at": int,
        }, pk="id", not_null={"content_sha256", "state"})


@ARCHIVE_MIGRATIONS()
def m003_twins(db: Database) -> None:
    """Twins (issue 12): each credential's ``kind`` (``microcred``, ``eudi-learning``, ``ob3``) and the
    credential it is a twin of; each status list's ``kind`` (``ietf`` Token Status List, ``bitstring``
    W3C Bitstring Status List)."""
    credentials = db.table("credentials")
    credentials.add_column("kind", str, not_null_default="microcred")
    credentials.add_column("twin_of", str)
    credentials.create_index(["twin_of"])
    db.table("status_lists").add_column("kind", str, not_null_default="ietf")


@ARCHIVE_MIGRATIONS()
def m004_status_changes(db: Database) -> None:
    """Bulk status changes (issue 14, §4): why each credential was revoked or suspended, from which file and
    line, and when — the reasons stay in the archive, never on chain."""
    db.table("status_changes").create({
        "id": int, "credential_id": str, "status": str, "reason": str, "source": str, "line": int,
        "changed_at": int,
    }, pk="id", not_null={"credential_id", "status", "changed_at"})
    db.table("status_changes").create_index(["credential_id"])


@ARCHIVE_MIGRATIONS()
def m005_issuance_anchors(db: Database) -> None:
    """Issuance anchored in Merkle batches (issue 14, §1): each signed credential's leaf input (the SHA-256
    of its issuer-signed JWT) and the tree it was sealed into; each tree's root and what the chain holds."""
    db.table("issuance_leaves").create({
        "credential_id": str, "batch_id": str, "jwt_sha256": str, "root": str, "idx": int,
    }, pk="credential_id", not_null={"jwt_sha256"})
    db.table("issuance_leaves").create_index(["root", "idx"])
    db.table("issuance_leaves").create_index(["batch_id"])
    db.table("issuance_trees").create({
        "root": str, "batch_id": str, "size": int, "leaves": bytes, "created_at": int, "anchored_block": int,
        "anchored_tx": str, "anchored_by": str, "anchor_error": str,
    }, pk="root", not_null={"size", "leaves", "created_at"})


@ARCHIVE_MIGRATIONS()
def m006_anchored_tokens(db: Database) -> None:
    """Each status list's anchored token (round 3, C5): while a newer version waits for its anchor, verifiers are
    served the version the StatusRegistry holds. A list in sync keeps its latest token as the anchored one; for a
    list left pending by an older archive the anchored token was never kept, so its newest is served, as before."""
    db.table("status_lists").add_column("anchored_token", str)
    db.execute("UPDATE status_lists SET anchored_token = token WHERE version > 0 AND anchored_version = version")
