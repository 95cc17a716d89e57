"""Settings of the three services: one declarative spec per app, parsed and checked once.

Each service declares what it can be told as a tuple of :class:`Setting`
(name, kind, default, range or choices, help); :data:`COMMON` holds the ones
every service shares. :func:`load_settings` follows the Flask tutorial's order
(pallets/flask ``examples/tutorial/flaskr/__init__.py``): the spec's defaults,
then every ``MICROCRED_<NAME>`` environment variable
(``app.config.from_prefixed_env("MICROCRED")``: a value that reads as JSON
arrives as JSON, ``1`` as the int 1, ``true`` as True), then ``test_config``.
Every declared setting is then converted to its kind and checked, once: a
value that does not fit stops start-up with one
:class:`~credentials.errors.ConfigurationError` naming each bad variable,
what was expected and what was found. The result is a frozen
:class:`Settings`; the converted values are written back to ``app.config``,
so Flask, the views and the tests read the same typed values.

:func:`settings_from_env` does the same without an app (a command such as
``microcred verify``). :func:`default_data_dir` is the one place that works
out where state lives when ``MICROCRED_DATA_DIR`` is not set (``./var``).

Kinds: ``int`` / ``float`` (with ``minimum``, ``maximum``, ``above``), ``bool``
(true/false, 1/0, yes/no, on/off), ``str`` (with ``choices``), ``list`` (a
comma-separated text or a list → a tuple of non-empty strings), ``path`` (an
absolute :class:`~pathlib.Path`), ``file`` (an existing file, kept as text),
``url`` (http(s)), ``object`` (anything; set by code, e.g. a test's clock;
``callable`` demands a callable). A ``check`` function may refine any kind
(a rate limit, say); it raises ValueError saying what was expected.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from flask import Config

from credentials.errors import ConfigurationError
from credentials.europass import parse_trust_anchors

__all__ = ["ENV_PREFIX", "ENV_DATA_DIR", "LOG_LEVELS", "Setting", "Settings", "COMMON", "X509_TRUST_ANCHORS",
           "CLIENT_ID_PREFIXES", "RESPONSE_MODES", "VERIFIER_OPENID4VP", "WALLET_VERIFIER_TRUST_ANCHORS",
           "default_data_dir", "DEMO_MARKER_FILE",
           "spec_defaults", "parse_settings", "load_settings", "settings_from_env", "settings_of"]

ENV_PREFIX = "MICROCRED"
ENV_DATA_DIR = "MICROCRED_DATA_DIR"
#: In a data dir that ``microcred demo`` made (:mod:`microcred.demo_state`): its services fetch from this
#: machine over http (``DEV_LOOPBACK``), and so does ``microcred verify`` run against it.
DEMO_MARKER_FILE = "demo-state.json"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_EXTENSION = "microcred_settings"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_KINDS = ("int", "float", "bool", "str", "list", "path", "file", "url", "object")


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where state lives: ``MICROCRED_DATA_DIR``, else ``./var``; absolute. The one place this is decided."""
    env = os.environ if environ is None else environ
    return Path(env.get(ENV_DATA_DIR) or "var").resolve()


@dataclass(frozen=True)
class Setting:
    """One setting: ``app.config[name]``, ``MICROCRED_<name>`` in the environment.

    ``default`` may be a callable of no arguments (worked out when the
    settings are loaded). ``None`` as a value means "not set": the default
    applies, and a default of ``None`` stays ``None``.
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    choices: tuple[str, ...] | None = None
    callable: bool = False
    check: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"setting {self.name}: expected a kind among {', '.join(_KINDS)}, found {self.kind!r}")

    @property
    def variable(self) -> str:
        return f"{ENV_PREFIX}_{self.name}"

    def default_value(self) -> Any:
        return self.default() if callable(self.default) and self.kind != "object" else self.default

    def parse(self, value: Any) -> Any:
        """The value converted to this setting's kind; ValueError saying what was expected."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        parsed = _PARSERS[self.kind](self, value)
        return self.check(parsed) if self.check is not None else parsed

    def expected(self) -> str:
        """What this setting takes, in words (for errors and the README)."""
        words = _EXPECTED[self.kind]
        bounds = [f">= {_number(self.minimum)}" if self.minimum is not None else "",
                  f"> {_number(self.above)}" if self.above is not None else "",
                  f"<= {_number(self.maximum)}" if self.maximum is not None else ""]
        words += "".join(f" {b}" for b in bounds if b)
        if self.choices:
            words += f" (one of {', '.join(self.choices)})"
        return words


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _in_range(setting: Setting, number: float) -> float:
    if (setting.minimum is not None and number < setting.minimum) or \
            (setting.maximum is not None and number > setting.maximum) or \
            (setting.above is not None and not number > setting.above):
        raise ValueError
    return number


def _int(setting: Setting, value: Any) -> int:
    if isinstance(value, bool | float):
        raise ValueError
    number = int(value.strip()) if isinstance(value, str) else int(value) if isinstance(value, int) else None
    if number is None:
        raise ValueError
    return int(_in_range(setting, number))


def _float(setting: Setting, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return _in_range(setting, number)


def _bool(setting: Setting, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError


def _str(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    if setting.choices is not None:
        match = next((c for c in setting.choices if c.lower() == value.strip().lower()), None)
        if match is None:
            raise ValueError
        return match
    return value


def _list(setting: Setting, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in value):
        raise ValueError
    return tuple(v.strip() for v in value if v.strip())


def _path(setting: Setting, value: Any) -> Path:
    if not isinstance(value, (str, Path)):
        raise ValueError
    return Path(value).resolve()


def _file(setting: Setting, value: Any) -> str:
    if not isinstance(value, (str, Path)) or not Path(value).is_file():
        raise ValueError
    return str(value)


def _url(setting: Setting, value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError
    return value


def _object(setting: Setting, value: Any) -> Any:
    if setting.callable and not callable(value):
        raise ValueError
    return value


_PARSERS: dict[str, Callable[[Setting, Any], Any]] = {
    "int": _int, "float": _float, "bool": _bool, "str": _str, "list": _list, "path": _path, "file": _file,
    "url": _url, "object": _object}
_EXPECTED = {
    "int": "a whole number", "float": "a number", "bool": "true or false (1/0, yes/no, on/off)", "str": "a text",
    "list": "a comma-separated list", "path": "a directory path", "file": "the path of an existing file",
    "url": "an http(s):// URL", "object": "an object set by code"}


class Settings(Mapping[str, Any]):
    """A service's checked settings: read-only, by key (``settings["DATA_DIR"]``) or attribute."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are frozen; change app.config before the app is built")

    def __repr__(self) -> str:
        return f"Settings({dict(self._values)!r})"


#: What every service takes.
COMMON: tuple[Setting, ...] = (
    Setting("DATA_DIR", "path", default_data_dir, "where state lives: keys, SQLite files, the deployment JSON"),
    Setting("RPC_URL", "url", None, "Ethereum JSON-RPC endpoint; default: the devnet's recorded URL"),
    Setting("CONFIRMATIONS", "int", 0, "blocks to wait after a transaction; reads at head − this many", minimum=0),
    Setting("TRUSTED_HOSTS", "list", (), "more host names the service answers, besides its public URL's"),
    Setting("TRUSTED_PROXIES", "int", 0, "reverse-proxy hops whose X-Forwarded-* headers are believed", minimum=0),
    Setting("DEV_LOOPBACK", "bool", False, "development only: fetch from this machine, over plain http too"),
    Setting("FETCH_ALLOW_PRIVATE", "bool", False, "outbound requests may go to RFC 1918 / unique-local addresses"),
    Setting("FETCH_CA_FILE", "file", None, "extra CA certificates (PEM) trusted for outbound https"),
    Setting("REDIS_URL", "str", None, "Redis / Valkey for shared state; default: SQLite in the data dir"),
    Setting("LOG_LEVEL", "str", "INFO", "the operator log's level", choices=LOG_LEVELS),
)


def _trust_anchors(value: Any) -> Any:
    try:
        with open(value, "rb") as bundle:  # a file the "file" kind found; its certificates must parse
            parse_trust_anchors(bundle.read())
    except (OSError, ConfigurationError) as exc:
        raise ValueError(f"a readable PEM bundle of X.509 certificates ({exc})") from None
    return value


#: The X.509 anchors of sealed credentials, shared by the wallet and the verifier (one meaning in both).
X509_TRUST_ANCHORS = Setting(
    "X509_TRUST_ANCHORS", "file", None, "PEM bundle of the X.509 trust anchors a sealed credential's (Europass "
    "EDC) certificate chain must end at; unset: no seal verifies, sealed credentials are refused",
    check=_trust_anchors)


#: OpenID4VP 1.0 §5.9.3 Client Identifier Prefixes the verifier can name itself by (issue 13 §2).
CLIENT_ID_PREFIXES = ("x509_hash", "x509_san_dns", "decentralized_identifier", "redirect_uri")
#: OpenID4VP 1.0 §8.2 / §8.3.1 Response Modes the verifier can ask for.
RESPONSE_MODES = ("direct_post.jwt", "direct_post")

#: How the verifier signs its OpenID4VP request objects and how it wants the answer (read by verifier.openid4vp).
VERIFIER_OPENID4VP: tuple[Setting, ...] = (
    Setting("VERIFIER_CLIENT_ID_PREFIX", "str", None, "how the verifier names itself to wallets (OpenID4VP client "
            "identifier prefix); default: x509_hash when a certificate is configured, else redirect_uri",
            choices=CLIENT_ID_PREFIXES),
    Setting("VERIFIER_X509_CHAIN", "file", None, "PEM file: the verifier's access certificate, then its "
            "intermediates (never the anchor); signs request objects for x509_hash / x509_san_dns"),
    Setting("VERIFIER_X509_KEY", "file", None, "PEM file: the EC P-256 private key of that certificate"),
    Setting("VERIFIER_RESPONSE_MODE", "str", "direct_post.jwt", "the answer new requests ask for: encrypted "
            "(direct_post.jwt) or plain (direct_post); the request form may choose per request",
            choices=RESPONSE_MODES),
)

#: The wallet's anchors for verifiers' access certificates (x509_hash / x509_san_dns clients).
WALLET_VERIFIER_TRUST_ANCHORS = Setting(
    "WALLET_VERIFIER_TRUST_ANCHORS", "file", None, "PEM bundle of the CAs that certify verifiers (access "
    "certificates); unset: a verifier naming itself by a certificate is refused", check=_trust_anchors)


def spec_defaults(spec: tuple[Setting, ...]) -> Mapping[str, Any]:
    """``{name: default}`` of a spec (read-only)."""
    return MappingProxyType({s.name: s.default_value() for s in spec})


def parse_settings(spec: tuple[Setting, ...], raw: Mapping[str, Any]) -> Settings:
    """Each setting of ``spec`` from ``raw`` (default where absent or None), converted and checked.

    ConfigurationError naming every variable that does not fit.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in spec:
        found = raw.get(setting.name)
        try:
            value = setting.parse(found)
        except ConfigurationError as exc:  # from a check, which names the variable itself
            problems.append(str(exc))
            continue
        except (ValueError, TypeError):
            problems.append(f"{setting.variable}: expected {setting.expected()}, found {_shown(found)}")
            continue
        values[setting.name] = setting.default_value() if value is None else value
    if problems:
        raise ConfigurationError("; ".join(problems))
    return Settings(values)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load_settings(app: Any, spec: tuple[Setting, ...], test_config: Mapping[str, Any] | None = None) -> Settings:
    """Defaults, ``MICROCRED_*`` from the environment, ``test_config``; checked once, written back to ``app.config``."""
    app.config.from_mapping({s.name: s.default for s in spec if s.default is not None and not callable(s.default)})
    app.config.from_prefixed_env(ENV_PREFIX)
    if test_config:
        app.config.from_mapping(test_config)
    settings = parse_settings(spec, app.config)
    app.config.update(settings)
    app.extensions[_EXTENSION] = settings
    return settings


def settings_from_env(spec: tuple[Setting, ...], overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings of ``spec`` from ``MICROCRED_*`` and ``overrides``, read the way an app reads them."""
    config = Config(os.getcwd())
    config.from_prefixed_env(ENV_PREFIX)
    config.update(overrides or {})
    return parse_settings(spec, config)


def settings_of(app: Any) -> Settings:
    """The settings :func:`load_settings` checked for ``app``."""
    return app.extensions[_EXTENSION]
