"""Rebuild the SQL dumps of earlier wallet and archive schemas from the git history.

Run from the repository root (it needs the history): ``python tests/legacy_databases/build.py``.
Each database is made by the project's own code as it was at that commit
(``git show COMMIT:PATH``, loaded as a module), filled with rows that touch
every table and column (a ``;`` and quotes inside literals, non-ASCII text,
NULLs, a BLOB), and written as ``<name>.sql`` (``sqlite3``'s ``.dump`` form,
``PRAGMA user_version`` first). The migration tests load these dumps; see
``SOURCE.md`` for which commit made which.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

TRICKY = "Semicolons; 'quotes' and \"double\" -- not a comment; END; Università ∑"


def _module_at(commit: str, path: str, name: str) -> ModuleType:
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="legacy-"))
    file = folder / f"{name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _dump(path: Path, out: Path) -> None:
    connection = sqlite3.connect(str(path))
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        lines = [f"PRAGMA user_version={version};", *connection.iterdump()]
    finally:
        connection.close()
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


# ------------------------------------------------------------------ wallet

def _wallet_rows(db, version: int) -> None:
    db.execute("INSERT INTO accounts VALUES (1, 'ada', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 1700000000)")
    db.execute("INSERT INTO accounts VALUES (2, 'Grace; Hopper', '$argon2id$x', 1700000100)")
    db.execute("INSERT INTO holder_keys VALUES (1, 1, 'thumb-1', '{\"kty\":\"EC\",\"crv\":\"P-256\"}', ?, 1700000001)",
               [bytes(range(256))])
    db.execute("INSERT INTO holder_keys VALUES (2, 2, 'thumb-2', '{}', X'00ff3b27', 1700000101)")
    if version == 1:
        db.execute("INSERT INTO sessions VALUES ('s1', 1, 1700000002)")
    else:
        db.execute("INSERT INTO sessions VALUES ('s1', 1, 1700000002, 1700000500, 1700000003)")
    credential = [1, 1, 1, "dc+sd-jwt", "eyJ~" + TRICKY, "sha-1", "did:key:z1", "urn:microcred:vct:micro-credential:1",
                  TRICKY, "Università di Prova", 5.5, 6, "2026-05-01", "verified", "all checks passed",
                  1700000010, 1700000009]
    other = [2, 2, 2, "vc+jwt", "eyJ.x.y", "sha-2", "did:jwk:e30", "VerifiableCredential", "Plain", "Issuer",
             None, None, None, "unchecked", "", 1700000110, 1700000109]
    if version >= 2:
        credential.append("Registry name; with 'quotes'")
        other.append(None)
    for row in (credential, other):
        db.execute(f"INSERT INTO credentials VALUES ({', '.join('?' for _ in row)})", row)
    db.execute("INSERT INTO shares VALUES ('sh1', 1, 1, 'inline', 'https://verifier.example', '[\"title\"]', "
               "'eyJ~kb', 'QR;text', 'tok-sha', 1700000020, 1700000320, NULL, NULL)")
    db.execute("INSERT INTO shares VALUES ('sh2', 1, 1, 'link', 'aud', '[]', NULL, NULL, NULL, 1700000021, "
               "1700000321, 1700000030, 1700000031)")
    db.execute("INSERT INTO signin_attempts VALUES (1, 'ada', '203.0.113.7', 1700000040)")
    db.execute("INSERT INTO used_forms VALUES ('form-1', 1700000041)")
    db.execute("INSERT INTO vp_requests VALUES ('vp1', 1, '{\"nonce\":\"n;1\"}', 1700000050, 1700000650, NULL)")
    db.conn.commit()


def build_wallet(commit: str, version: int, name: str) -> None:
    module = _module_at(commit, "wallet/db.py", f"legacy_wallet_{version}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wallet.sqlite3"
        db = module.open_database(path)
        assert module.migrate(db) == version
        _wallet_rows(db, version)
        db.close()
        _dump(path, HERE / f"{name}.sql")


# ------------------------------------------------------------------ issuer archive

def _archive_rows(archive, *, batches: bool) -> None:
    credentials = [
        {"id": "c1", "batch_id": "b1", "student_id": "S-1", "given_name": "Ada", "family_name": "Lovelace; Byron",
         "title": TRICKY, "claims": '{"title":"Semicolons; quotes"}', "holder_jwk": '{"kty":"EC"}',
         "list_id": "L1", "idx": 88123, "status": "valid", "delivery": "file", "issued_at": 1700000000,
         "sd_jwt_sha256": "ab" * 32, "replaces": None, "replaced_by": "c2", "offer_id": None},
        {"id": "c2", "batch_id": "b1", "student_id": "S-1", "given_name": "Ada", "family_name": "Lovelace",
         "title": "Re-issued", "claims": "{}", "holder_jwk": None, "list_id": "L1", "idx": 7,
         "status": "revoked", "delivery": "offer", "issued_at": 1700000100, "sd_jwt_sha256": None,
         "replaces": "c1", "replaced_by": None, "offer_id": "o1"},
    ]
    if batches:
        credentials[0]["batch_row"] = 1
        credentials[1]["batch_row"] = None
    db = archive.db
    with archive.transaction():
        db["credentials"].insert_all(credentials)
        db["status_lists"].insert({"id": "L1", "size": 131072, "bits": 2, "created_at": 1700000000, "used": 2,
                                   "version": 3, "token": "eyJ.list.sig", "token_sha256": "cd" * 32,
                                   "signed_at": 1700000200, "anchored_version": 2, "anchored_tx": "0xabc",
                                   "anchored_block": 412, "anchor_error": "node said: no; retry"})
        db["status_lists"].insert({"id": "L2", "size": 131072, "bits": 2, "created_at": 1700000300})
        db["offers"].insert({"id": "o1", "credential_id": "c2", "pre_authorized_code": "code;1",
                             "created_at": 1700000100, "expires_at": 1700086500, "redeemed_at": None,
                             "access_token_sha256": None, "token_expires_at": None})
        db["nonces"].insert({"value": "nonce-1", "expires_at": 1700000400})
        if batches:
            db["batches"].insert({"id": "b1", "content_sha256": "ef" * 32, "state": "delivered",
                                  "out_dir": "/srv/out; autumn", "created_at": 1700000000, "size": 1,
                                  "delivered_at": 1700000050})


def build_archive(commit: str, name: str, *, batches: bool, upgraded_by: str | None = None) -> None:
    module = _module_at(commit, "issuer/archive.py", f"legacy_archive_{name.replace('-', '_')}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive.sqlite"
        archive = module.Archive(path)
        _archive_rows(archive, batches=batches)
        archive.close()
        if upgraded_by:
            later = _module_at(upgraded_by, "issuer/archive.py", f"legacy_archive_{name.replace('-', '_')}_later")
            later.Archive(path).close()
        _dump(path, HERE / f"{name}.sql")


def main() -> None:
    sys.path.insert(0, str(ROOT))  # the old modules import credentials.errors
    build_wallet("feb2182", 1, "wallet-v1")
    build_wallet("bb1c766", 2, "wallet-v2")
    build_wallet("bab2dfc", 2, "wallet-m002")
    build_archive("8f3995b", "archive-8f3995b", batches=False)
    build_archive("8f3995b", "archive-8f3995b-opened-by-751cd67", batches=False, upgraded_by="751cd67")
    build_archive("751cd67", "archive-751cd67", batches=True)


if __name__ == "__main__":
    main()
