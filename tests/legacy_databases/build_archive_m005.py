"""Rebuild ``archive-m005.sql``: an issuer archive at schema m005 (before ``anchored_token``), with status lists
in each state (anchored and in sync, pending, never signed, a Bitstring list).

Run with the archive code of 03a7e34 first on the path, e.g.::

    git worktree add /tmp/m005 03a7e34
    PYTHONPATH=/tmp/m005 .venv/bin/python tests/legacy_databases/build_archive_m005.py /tmp/a.sqlite \
        tests/legacy_databases/archive-m005.sql
"""

import sqlite3
import sys
from pathlib import Path

from issuer.archive import ARCHIVE_MIGRATIONS, Archive

path = Path(sys.argv[1])
archive = Archive(path)
assert list(ARCHIVE_MIGRATIONS.names)[-1] == "m005_issuance_anchors", ARCHIVE_MIGRATIONS.names
db = archive.db
with archive.transaction():
    lists = [
        # anchored and in sync: its token is the anchored one
        {"id": "L1", "size": 131072, "bits": 2, "created_at": 1700000000, "used": 2, "version": 2,
         "token": "eyJ.v2-of-L1.sig", "token_sha256": "a1" * 32, "signed_at": 1700000200, "anchored_version": 2,
         "anchored_tx": "0xabc", "anchored_block": 412, "anchor_error": None, "kind": "ietf"},
        # a newer version waiting for its anchor: the anchored version's token was never kept
        {"id": "L2", "size": 131072, "bits": 2, "created_at": 1700000100, "used": 1, "version": 3,
         "token": "eyJ.v3-of-L2; 'quoted'.sig", "token_sha256": "b2" * 32, "signed_at": 1700000300,
         "anchored_version": 2, "anchored_tx": "0xdef", "anchored_block": 415, "anchor_error": "node said: no; retry",
         "kind": "ietf"},
        # never signed
        {"id": "L3", "size": 131072, "bits": 2, "created_at": 1700000400, "used": 0, "version": 0, "token": None,
         "token_sha256": None, "signed_at": None, "anchored_version": 0, "anchored_tx": None,
         "anchored_block": None, "anchor_error": None, "kind": "ietf"},
        # a Bitstring list, anchored and in sync
        {"id": "B1", "size": 131072, "bits": 1, "created_at": 1700000500, "used": 1, "version": 1,
         "token": "eyJ.v1-of-B1.sig", "token_sha256": "c3" * 32, "signed_at": 1700000500, "anchored_version": 1,
         "anchored_tx": "0x123", "anchored_block": 420, "anchor_error": None, "kind": "bitstring"},
    ]
    db["status_lists"].insert_all(lists)
archive.close()
connection = sqlite3.connect(str(path))
version = connection.execute("PRAGMA user_version").fetchone()[0]
lines = [f"PRAGMA user_version={version};", *connection.iterdump()]
connection.close()
Path(sys.argv[2]).write_text("\n".join(lines) + "\n", encoding="utf-8")
