"""The verifier's imported trust list (verifier.imported_trust): written whole, never rolled back, and a
file the verifier cannot use stops it at start-up naming the file. No chain needed."""

from __future__ import annotations

import json
import time

import pytest

from credentials.errors import ConfigurationError, InvalidInput
from credentials.lote import SchemeInfo, TrustedEntry, build_lote
from verifier.imported_trust import TRUSTED_LIST_FILE, import_list
from verifier.service import VerifierService

NOW = int(time.time())
ROOT = TrustedEntry("did:web:ministry.example", "root", "Ministero", "IT", None, (), None, 0, None, None, None)


def _lote(sequence: int, *, next_update: int = NOW + 3600) -> bytes:
    scheme = SchemeInfo("Ministero", "IT", NOW - 60, next_update, sequence, 1, "0x" + "00" * 20)
    return json.dumps(build_lote([ROOT], scheme)).encode()


def _service(data_dir):
    return VerifierService({"DATA_DIR": str(data_dir), "RPC_URL": "http://127.0.0.1:9", "VERIFIER_RATE_LIMIT": "off"})


def test_the_imported_dids_are_the_roots_and_an_older_list_is_refused(tmp_path):
    path = tmp_path / TRUSTED_LIST_FILE
    import_list(_lote(7), path, now=NOW)

    with pytest.raises(InvalidInput, match="number 5 of Ministero, older than number 7 imported already"):
        import_list(_lote(5), path, now=NOW)

    service = _service(tmp_path)
    try:
        assert service.imported_roots == (ROOT.did,)
        assert service.policy().trusted_roots == frozenset({ROOT.did})
    finally:
        service.close()


def test_a_configured_root_is_kept_beside_the_imported_ones(tmp_path):
    import_list(_lote(1), tmp_path / TRUSTED_LIST_FILE, now=NOW)
    service = VerifierService({"DATA_DIR": str(tmp_path), "RPC_URL": "http://127.0.0.1:9",
                               "VERIFIER_TRUSTED_ROOTS": "did:web:own-root.example"})
    try:
        assert service.policy().trusted_roots == frozenset({ROOT.did, "did:web:own-root.example"})
    finally:
        service.close()


def test_a_corrupt_file_stops_start_up_naming_it(tmp_path):
    (tmp_path / TRUSTED_LIST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="trusted-list.json cannot be read"):
        _service(tmp_path)


def test_a_list_past_its_next_update_stops_start_up(tmp_path):
    import_list(_lote(1, next_update=NOW + 2), tmp_path / TRUSTED_LIST_FILE, now=NOW)
    with pytest.raises(ConfigurationError, match="was due to be replaced at .*import a fresh list"):
        VerifierService({"DATA_DIR": str(tmp_path), "RPC_URL": "http://127.0.0.1:9"}, clock=lambda: NOW + 3)
