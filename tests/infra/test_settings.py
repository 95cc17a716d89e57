"""Settings parsed and checked once (issue 11, item 1): a bad ``MICROCRED_*`` value stops start-up,
naming the variable, what was expected and what was found; the data dir's default is the same everywhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from credentials.errors import ConfigurationError
from infra.settings import COMMON, Setting, parse_settings, settings_from_env
from infra.web import LOG_FORMAT


@pytest.fixture
def make_issuer(tmp_path):
    from issuer.identity import create_issuer

    def make(data_dir: Path) -> Path:
        create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT",
                      base_url="https://issuer.example")
        return data_dir

    return make


def _wallet(data_dir: Path, **extra):
    from wallet import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "CHAIN_CHECKS": False, **extra})


def _verifier(data_dir: Path, **extra):
    from verifier import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "VERIFIER_TRUSTED_ROOTS": "did:example:root",
                       "RPC_URL": "http://127.0.0.1:9", **extra})


def _issuer(data_dir: Path, **extra):
    from issuer.web import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "RPC_URL": "http://127.0.0.1:9",
                       **extra})


@pytest.mark.parametrize("service, variable", [
    ("wallet", "MICROCRED_SESSION_IDLE_TIMEOUT"),
    ("verifier", "MICROCRED_VERIFIER_FETCH_TIMEOUT"),
    ("issuer", "MICROCRED_ANCHOR_RETRY_SECONDS"),
])
def test_each_service_refuses_a_bad_setting_at_start_up_naming_it(tmp_path, monkeypatch, make_issuer, service,
                                                                   variable):
    make_issuer(tmp_path / "var")
    monkeypatch.setenv(variable, "soon")
    build = {"wallet": _wallet, "verifier": _verifier, "issuer": _issuer}[service]
    with pytest.raises(ConfigurationError) as refused:
        build(tmp_path / "var")
    message = str(refused.value)
    assert variable in message
    assert "expected a" in message  # what was expected ...
    assert "found 'soon'" in message  # ... and what was found


def test_a_misspelt_flag_is_refused_rather_than_read_as_off(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_DEV_LOOPBACK", "ture")
    with pytest.raises(ConfigurationError, match="MICROCRED_DEV_LOOPBACK: expected true or false"):
        _wallet(tmp_path)


def test_every_bad_variable_is_named_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_VERIFIER_KB_MAX_AGE", "-5")
    monkeypatch.setenv("MICROCRED_VERIFIER_RATE_LIMIT", "lots")
    with pytest.raises(ConfigurationError) as refused:
        _verifier(tmp_path)
    assert "MICROCRED_VERIFIER_KB_MAX_AGE: expected a whole number >= 0, found -5" in str(refused.value)
    assert "MICROCRED_VERIFIER_RATE_LIMIT" in str(refused.value)


def test_environment_values_arrive_converted(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_VERIFIER_TRUSTED_ROOTS", "did:example:a, did:example:b")
    monkeypatch.setenv("MICROCRED_VERIFIER_HOLDER_BINDING_REQUIRED", "no")
    monkeypatch.setenv("MICROCRED_VERIFIER_KB_MAX_AGE", "120")
    from verifier.settings import SETTINGS

    settings = settings_from_env(SETTINGS, {"DATA_DIR": str(tmp_path)})
    assert settings.VERIFIER_TRUSTED_ROOTS == ("did:example:a", "did:example:b")
    assert settings.VERIFIER_HOLDER_BINDING_REQUIRED is False
    assert settings.VERIFIER_KB_MAX_AGE == 120
    with pytest.raises(AttributeError, match="frozen"):
        settings.VERIFIER_KB_MAX_AGE = 1


def test_the_data_dir_default_is_the_same_everywhere(tmp_path, monkeypatch, make_issuer):
    from ledger.config import LedgerSettings, data_dir
    from verifier.service import VerifierService

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MICROCRED_DATA_DIR", raising=False)
    expected = (tmp_path / "var").resolve()
    make_issuer(expected)
    from issuer.web import create_app as issuer_app
    from wallet import create_app as wallet_app

    assert data_dir() == expected
    assert LedgerSettings.from_env().data_dir == expected
    assert wallet_app({"TESTING": True, "CHAIN_CHECKS": False}).config["DATA_DIR"] == expected
    assert issuer_app({"TESTING": True, "ISSUER": "uni"}).config["DATA_DIR"] == expected
    service = VerifierService({"VERIFIER_TRUSTED_ROOTS": "did:example:root"})
    try:
        assert service.data_dir() == expected
    finally:
        service.close()


def test_the_verify_command_checks_settings_as_the_service_does(tmp_path, monkeypatch):
    from verifier.cli import EXIT_UNDECIDED, verify

    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MICROCRED_VERIFIER_KB_MAX_AGE", "-5")
    result = CliRunner().invoke(verify, ["-"], input="not a presentation")
    assert result.exit_code == EXIT_UNDECIDED
    assert "MICROCRED_VERIFIER_KB_MAX_AGE: expected a whole number >= 0, found -5" in result.output


def test_the_operator_log_is_set_up_once_at_the_configured_level(tmp_path, monkeypatch):
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    # An app built earlier in this process (another test) may have installed the operator log already.
    earlier = [h for h in saved_handlers if type(h).__name__ == "_OperatorLog"]
    for handler in earlier:
        root.removeHandler(handler)
    saved_handlers = [h for h in saved_handlers if h not in earlier]
    monkeypatch.setenv("MICROCRED_LOG_LEVEL", "WARNING")
    try:
        from wallet import create_app

        for name in ("a", "b"):  # built twice in one process (gunicorn's master, then a worker's import)
            create_app({"DATA_DIR": str(tmp_path / name), "CHAIN_CHECKS": False})
        added = [h for h in root.handlers if h not in saved_handlers]
        assert len(added) == 1
        assert added[0].formatter._fmt == LOG_FORMAT
        assert root.level == logging.WARNING
    finally:
        for handler in [h for h in root.handlers if h not in saved_handlers]:
            root.removeHandler(handler)
        for handler in earlier:
            root.addHandler(handler)
        root.setLevel(saved_level)


def test_an_unknown_log_level_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_LOG_LEVEL", "verbose")
    with pytest.raises(ConfigurationError, match="MICROCRED_LOG_LEVEL: expected a text .one of DEBUG, INFO"):
        _wallet(tmp_path)


# ------------------------------------------------------------------ the kinds, one by one

_SPEC = (
    Setting("COUNT", "int", 3, "a count", minimum=1, maximum=10),
    Setting("SECONDS", "float", 1.5, "a duration", above=0),
    Setting("FLAG", "bool", False, "a flag"),
    Setting("NAMES", "list", (), "names"),
    Setting("BASE", "url", None, "a URL"),
    Setting("HOOK", "object", None, "a callable", callable=True),
)


@pytest.mark.parametrize("raw, name, value", [
    ({}, "COUNT", 3),
    ({"COUNT": "7"}, "COUNT", 7),
    ({"COUNT": " "}, "COUNT", 3),  # an empty variable is not set
    ({"SECONDS": 2}, "SECONDS", 2.0),
    ({"FLAG": "On"}, "FLAG", True),
    ({"FLAG": 0}, "FLAG", False),
    ({"NAMES": " a,, b "}, "NAMES", ("a", "b")),
    ({"NAMES": ["x"]}, "NAMES", ("x",)),
    ({"BASE": "https://example.org/x"}, "BASE", "https://example.org/x"),
])
def test_a_setting_is_converted_to_its_kind(raw, name, value):
    assert parse_settings(_SPEC, raw)[name] == value


@pytest.mark.parametrize("raw, words", [
    ({"COUNT": 0}, "MICROCRED_COUNT: expected a whole number >= 1 <= 10, found 0"),
    ({"COUNT": 2.5}, "MICROCRED_COUNT: expected a whole number"),
    ({"COUNT": True}, "MICROCRED_COUNT: expected a whole number"),
    ({"SECONDS": 0}, "MICROCRED_SECONDS: expected a number > 0, found 0"),
    ({"SECONDS": "nan"}, "MICROCRED_SECONDS: expected a number > 0, found 'nan'"),
    ({"FLAG": 2}, "MICROCRED_FLAG: expected true or false"),
    ({"NAMES": 5}, "MICROCRED_NAMES: expected a comma-separated list, found 5"),
    ({"BASE": "ftp://example.org"}, "MICROCRED_BASE: expected an http(s):// URL, found 'ftp://example.org'"),
    ({"HOOK": "time.time"}, "MICROCRED_HOOK: expected an object set by code"),
])
def test_a_value_that_does_not_fit_is_named_with_what_was_expected(raw, words):
    with pytest.raises(ConfigurationError) as refused:
        parse_settings(_SPEC, raw)
    assert words in str(refused.value)


def test_the_common_settings_keep_their_documented_defaults():
    defaults = {s.name: s.default_value() for s in COMMON}
    assert defaults["CONFIRMATIONS"] == 0
    assert defaults["TRUSTED_PROXIES"] == 0
    assert defaults["DEV_LOOPBACK"] is False
    assert defaults["FETCH_ALLOW_PRIVATE"] is False
    assert defaults["REDIS_URL"] is None
    assert defaults["LOG_LEVEL"] == "INFO"
