"""Backup and portability: passphrase-encrypted export, all-or-nothing restore on another
account or instance, no duplicates, wrong passphrase and damaged files refused."""

from __future__ import annotations

import io
import json

import pytest
from wallet_helpers import CLAIMS, WalletClient, db_rows

from credentials.errors import InvalidInput
from wallet.sealing import decrypt_backup, encrypt_backup

PASSPHRASE = "a long backup passphrase"


def _export(client) -> bytes:
    response = client.submit("/backup/export", "/backup/export",
                             {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data()


def _restore(client, data: bytes, passphrase: str = PASSPHRASE):
    client.get("/backup/restore")
    return client.post("/backup/restore", {"file": (io.BytesIO(data), "backup.json"), "passphrase": passphrase},
                       content_type="multipart/form-data")


def test_export_is_encrypted_and_restores_into_another_instance(app, held, issuer, tmp_path, clock):
    client, _ = held
    client.add(issuer.issue(client.holder_jwk(app), {**CLAIMS, "title": "Second"}))
    data = _export(client)
    assert b"Data Protection" not in data
    assert b'"d"' not in data
    header = json.loads(data)
    assert header["format"] == "microcred-wallet-backup"
    assert header["kdf"]["name"] == "scrypt"

    from wallet import create_app

    other_app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "other"), "CLOCK": clock,
                            "SESSION_COOKIE_SECURE": False, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8 * 1024,
                            "ARGON2_PARALLELISM": 1})
    other = WalletClient(other_app.test_client())
    other.signup("ana-on-new-phone")
    response = _restore(other, data)
    assert response.status_code == 302, other.last_page
    other.get("/credentials")
    assert "Restored 2 credentials" in other.last_page
    assert "Second" in other.last_page
    assert db_rows(other_app, "SELECT COUNT(*) FROM holder_keys")[0][0] == 2  # its own key and the restored one

    # the restored credential can be shared: its key came along
    credential_id = db_rows(other_app, "SELECT id FROM credentials ORDER BY id")[0][0]
    other.get(f"/credentials/{credential_id}/share")
    other.post(f"/credentials/{credential_id}/share/preview", {"claim": ['["title"]']})
    assert other.post(f"/credentials/{credential_id}/share", {"claim": ['["title"]']}).status_code == 302

    again = _restore(other, data)  # no duplicates
    assert again.status_code == 302
    other.get("/credentials")
    assert "2 you already had were skipped" in other.last_page
    assert db_rows(other_app, "SELECT COUNT(*) FROM credentials")[0][0] == 2


def test_wrong_passphrase_and_damaged_file(app, held):
    client, _ = held
    data = _export(client)
    assert _restore(client, data, "not the passphrase").status_code == 400
    assert "passphrase is wrong" in client.last_page
    document = json.loads(data)
    document["ciphertext"] = document["ciphertext"][:-4] + "AAAA"
    assert _restore(client, json.dumps(document).encode()).status_code == 400
    assert _restore(client, b"not json at all").status_code == 400
    assert "Nothing was restored" in client.last_page


def test_restore_is_all_or_nothing(app, held, issuer):
    from pathlib import Path

    from wallet.db import DB_FILE, open_database
    from wallet.holding import holder_keys, private_holder_key

    client, _ = held
    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        ana_key = private_holder_key(app.extensions["microcred_wallet_secret"], holder_keys(db, 1)[0])
    finally:
        db.close()
    good = db_rows(app, "SELECT raw FROM credentials")[0][0]
    someone_elses = issuer.issue(_foreign_jwk())
    contents = {"holder_keys": [ana_key.to_jwk()],
                "credentials": [{"format": "dc+sd-jwt", "raw": good}, {"format": "dc+sd-jwt", "raw": someone_elses}]}
    fresh = WalletClient(app.test_client())
    fresh.signup("bea")
    response = _restore(fresh, encrypt_backup(contents, PASSPHRASE).encode())
    assert response.status_code == 400
    assert "credential 2 of the backup" in fresh.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1  # only ana's own
    assert db_rows(app, "SELECT COUNT(*) FROM holder_keys")[0][0] == 2  # ana's and bea's; no key was added


def _foreign_jwk():
    from credentials.jose import PrivateKey

    return PrivateKey.generate("ES256").public_key().to_jwk()


def test_export_needs_matching_long_passphrase(held):
    client, _ = held
    assert client.submit("/backup/export", "/backup/export",
                         {"passphrase": "short", "passphrase_again": "short"}).status_code == 400
    assert "at least 10" in client.last_page
    assert client.submit("/backup/export", "/backup/export",
                         {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE + "x"}).status_code == 400


def test_restore_double_submit(app, held):
    client, _ = held
    data = _export(client)
    client.get("/backup/restore")
    tokens = client.form_tokens()
    payload = lambda: {**tokens, "file": (io.BytesIO(data), "b.json"), "passphrase": PASSPHRASE}  # noqa: E731
    assert client.client.post("/backup/restore", data=payload(), content_type="multipart/form-data").status_code == 302
    assert client.client.post("/backup/restore", data=payload(), content_type="multipart/form-data").status_code == 409


def test_sealing_round_trip_and_tamper():
    text = encrypt_backup({"credentials": []}, PASSPHRASE)
    assert decrypt_backup(text, PASSPHRASE) == {"credentials": []}
    document = json.loads(text)
    document["kdf"]["n"] = 2
    with pytest.raises(InvalidInput):
        decrypt_backup(json.dumps(document), PASSPHRASE)
