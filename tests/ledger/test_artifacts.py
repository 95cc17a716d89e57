"""The committed contract artifacts are exactly what the pinned solc makes of the sources."""

from __future__ import annotations

import json
import shutil

import pytest

from ledger.artifacts import STATUS_REGISTRY, TRUST_REGISTRY, load_artifact
from ledger.compile import DEPLOYABLE, compile_contracts, pinned_solc_version, stale_artifacts
from ledger.config import repo_root
from tests.tooling import missing_tool

pytestmark = pytest.mark.integration  # compiles with the pinned solc (npm), like the chain tests need Anvil


@pytest.fixture(scope="module")
def compiled():
    if shutil.which("node") is None or not (repo_root() / "node_modules" / "solc").exists():
        missing_tool("node or the npm solc package is not installed (run `make deps`)")
    return compile_contracts()


def test_committed_artifacts_match_the_sources(compiled):
    assert stale_artifacts(compiled) == [], "contract artifacts are stale: run `make contracts` and commit them"
    expected = {f"{name}.json" for names in DEPLOYABLE.values() for name in names}
    assert set(compiled.files) == expected


def test_artifacts_record_the_pinned_compiler():
    pinned = pinned_solc_version()
    for name in (TRUST_REGISTRY, STATUS_REGISTRY):
        data = json.loads((repo_root() / "contracts" / "artifacts" / f"{name}.json").read_text(encoding="utf-8"))
        assert data["compiler"]["version"].startswith(pinned + "+")
        assert data["bytecode"].startswith("0x60")
        assert len(data["bytecode"]) > 1000


def test_every_revert_in_the_abi_has_words():
    from ledger.artifacts import _SENTENCES

    for name in (TRUST_REGISTRY, STATUS_REGISTRY):
        errors = {item["name"] for item in load_artifact(name).abi if item["type"] == "error"}
        assert errors <= set(_SENTENCES), f"no sentence for {errors - set(_SENTENCES)}"


def test_every_address_in_an_event_is_an_indexed_topic():
    """Logs can be filtered by who acted or who controls (eth_getLogs topics), without decoding every log."""
    from ledger.artifacts import NAIVE_REVOCATION_REGISTRY

    for name in (TRUST_REGISTRY, STATUS_REGISTRY, NAIVE_REVOCATION_REGISTRY):
        for event in (item for item in load_artifact(name).abi if item["type"] == "event"):
            unindexed = [p["name"] for p in event["inputs"] if p["type"] == "address" and not p["indexed"]]
            assert unindexed == [], f"{name}.{event['name']}: address parameters not indexed: {unindexed}"
            assert sum(p["indexed"] for p in event["inputs"]) <= 3


def test_filterable_hashes_stay_indexed():
    for name, event_name, key in ((TRUST_REGISTRY, "Accredited", "didHash"), (TRUST_REGISTRY, "Revoked", "didHash"),
                                  (TRUST_REGISTRY, "ControllerTransferred", "didHash"),
                                  (STATUS_REGISTRY, "StatusListAnchored", "issuerHash")):
        (event,) = [i for i in load_artifact(name).abi if i["type"] == "event" and i["name"] == event_name]
        (param,) = [p for p in event["inputs"] if p["name"] == key]
        assert param["indexed"], f"{event_name}.{key} must be the first topic"
        assert param == event["inputs"][0], f"{event_name}.{key} must be the first topic"
