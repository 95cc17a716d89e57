"""Fixtures for the issuer tests: a fresh data dir and issuer, a service, batch defaults."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from _issuer_support import ISSUED_ON, RecordingAnchor, make_csv

# This folder is called ``issuer`` like the package and has no __init__.py; with the
# tests folder on sys.path it would import as a namespace package named ``issuer``
# that shadows the real one (Flask then cannot locate its templates). A regular
# package wins over a namespace portion, and pytest's ``pythonpath = ["."]``
# (pyproject.toml) puts the checkout's root on sys.path, so the imports below find it.
from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from issuer.archive import Archive
from issuer.batch import BatchDefaults
from issuer.identity import IssuerHome, create_issuer
from issuer.service import IssuerService


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    directory = tmp_path / "var"
    directory.mkdir()
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(directory))
    monkeypatch.delenv("MICROCRED_ISSUER", raising=False)
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")  # nothing listens: ledger down
    return directory


@pytest.fixture
def home(data_dir) -> IssuerHome:
    return create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT")


@pytest.fixture
def anchor() -> RecordingAnchor:
    return RecordingAnchor()


@pytest.fixture
def service(home, anchor) -> IssuerService:
    archive = Archive(home.archive_path)
    yield IssuerService(home.identity, archive, home.signing_key(), anchor=anchor)
    archive.close()


@pytest.fixture
def defaults(home) -> BatchDefaults:
    return BatchDefaults(home.identity.country, home.identity.awarding_body(), ISSUED_ON)


@pytest.fixture
def holder_key() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
def csv_of() -> Callable[..., str]:
    return make_csv


_names = itertools.count(1)


@pytest.fixture
def accredited_issuer(ledger_env, ledger_data_dir, ledger, chain, root_account, new_account, unique_did):
    from ledger.artifacts import Role
    from ledger.keys import DEVNET_FUNDING_WEI

    home = create_issuer(ledger_data_dir, f"anchoring-{next(_names)}", legal_name="Università di Prova", country="IT")
    now = chain.block_timestamp()
    tao, tao_account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name="Agenzia di prova", country="IT", valid_from=now - 3600, valid_until=None,
                          controller=tao_account.address)
    ledger.trust.accredit(tao, home.identity.did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name=home.identity.legal_name, country="IT", valid_from=now - 60, valid_until=None,
                          controller=home.identity.controller_address, account=tao_account)
    chain.transfer(root_account, home.identity.controller_address, DEVNET_FUNDING_WEI)
    return home, tao_account
