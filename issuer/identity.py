"""An issuer's identity and where its state lives on disk.

Layout under ``MICROCRED_DATA_DIR`` (default ``./var``)::

    issuers/<name>/
        issuer.json          public facts: DID, kid, legal name, country, base URL, controller address
        issuer.private.jwk   the ES256 (or EdDSA) signing key as a private JWK, mode 0600
        controller.key       the Ethereum account that anchors status lists, mode 0600
        archive.sqlite       what was issued (see :mod:`issuer.archive`)
        secret.key           the web service's session secret, mode 0600 (created on first serve)

The DID is ``did:key`` (multicodec ``p256-pub``) by default or ``did:jwk``,
both resolved offline (``credentials.dids``), or ``did:mcr``, registered on
the ledger's DidRegistry with the controller account as its controller, so
that its key can be rotated (:mod:`issuer.did_keys`). Key files are created whole, once, with
mode 0600 and refused when group or others can read them (:mod:`infra.secret_files`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from credentials.dids import did_jwk_from_public_key, did_key_from_public_key, verification_method_id
from credentials.errors import ConfigurationError, InvalidInput
from credentials.jose import PrivateKey, PublicKey, json_loads_object
from credentials.microcredential import load_schema
from infra import secret_files
from issuer.fault_hook import fault_point

__all__ = [
    "ISSUERS_DIR",
    "IDENTITY_FILE",
    "SIGNING_KEY_FILE",
    "CONTROLLER_KEY_FILE",
    "ARCHIVE_FILE",
    "SESSION_SECRET_FILE",
    "DID_METHODS",
    "DEFAULT_BASE_URL",
    "IssuerIdentity",
    "IssuerHome",
    "create_issuer",
    "interrupted_init",
    "load_issuer",
    "list_issuers",
    "write_secret_file",
    "read_secret_file",
]

ISSUERS_DIR = "issuers"
IDENTITY_FILE = "issuer.json"
SIGNING_KEY_FILE = "issuer.private.jwk"
CONTROLLER_KEY_FILE = "controller.key"
ARCHIVE_FILE = "archive.sqlite"
SESSION_SECRET_FILE = "secret.key"
DID_METHODS = ("key", "jwk", "mcr")
#: ``(public key, controller key file) -> (DID, kid)``: registers a did:mcr on the ledger (issuer.did_keys).
DidRegistrar = Callable[[PublicKey, Path], tuple[str, str]]
#: Where ``microcred issuer serve`` listens unless told otherwise.
DEFAULT_BASE_URL = "http://127.0.0.1:5010"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_MAX_LEGAL_NAME = 300


@dataclass(frozen=True)
class IssuerIdentity:
    """The public facts about an issuer, as stored in ``issuer.json``."""

    name: str
    did: str
    kid: str
    legal_name: str
    country: str
    base_url: str
    controller_address: str
    alg: str = "ES256"

    def awarding_body(self) -> dict[str, str]:
        """This issuer as an Annex I awarding body (the default for batch rows)."""
        return {"name": self.legal_name, "id": self.did, "country": self.country}

    def status_list_uri(self, list_id: str) -> str:
        return f"{self.base_url}/status/{list_id}"

    def bitstring_status_list_uri(self, list_id: str) -> str:
        """Where a W3C Bitstring Status List (``vc+jwt``) is served; the list id is the last segment."""
        return f"{self.base_url}/status/bitstring/{list_id}"


@dataclass(frozen=True)
class IssuerHome:
    """An issuer's folder: its identity plus the paths of its keys and archive."""

    path: Path
    identity: IssuerIdentity

    @property
    def signing_key_path(self) -> Path:
        return self.path / SIGNING_KEY_FILE

    @property
    def controller_key_path(self) -> Path:
        return self.path / CONTROLLER_KEY_FILE

    @property
    def archive_path(self) -> Path:
        return self.path / ARCHIVE_FILE

    @property
    def session_secret_path(self) -> Path:
        return self.path / SESSION_SECRET_FILE

    def signing_key(self) -> PrivateKey:
        """The issuer's private signing key (file must be mode 0600)."""
        text = read_secret_file(self.signing_key_path)
        return PrivateKey.from_jwk(json_loads_object(text, what=str(self.signing_key_path)))

    def session_secret(self) -> str:
        """The Flask session secret, created (0600) on first use; the same for every worker."""
        secret, _ = secret_files.load_or_create_secret_file(
            self.session_secret_path, lambda: secrets.token_urlsafe(32).encode("ascii"))
        return _text(secret, self.session_secret_path).strip()


def write_secret_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600, complete when it appears; never overwrite an existing file."""
    secret_files.create_secret_file(path, text.encode("utf-8"))


def read_secret_file(path: Path) -> str:
    """Read a key file that only its owner may read."""
    return _text(secret_files.read_secret_file(path), path)


def _text(content: bytes, path: Path) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(f"expected UTF-8 text in the key file {path}, found other bytes") from None


def _check_new_issuer(name: str, country: str, legal_name: str, did_method: str, base_url: str) -> None:
    problems = []
    if not _NAME.match(name):
        problems.append(f"name: expected lower-case letters, digits and '-' (at most 63), found {name!r}")
    if country not in load_schema()["$defs"]["country"]["enum"]:
        problems.append(f"country: {country!r} is not an ISO 3166-1 alpha-2 code (upper case, e.g. 'IT')")
    if not legal_name.strip() or len(legal_name) > _MAX_LEGAL_NAME:
        problems.append(f"legal name: expected 1 to {_MAX_LEGAL_NAME} characters, found {len(legal_name.strip())}")
    if did_method not in DID_METHODS:
        problems.append(f"DID method: expected one of {', '.join(DID_METHODS)}, found {did_method!r}")
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", base_url) or base_url.endswith("/"):
        problems.append(f"base URL: expected http(s)://host[:port][/path] without a trailing '/', found {base_url!r}")
    if problems:
        raise InvalidInput("; ".join(problems))


def create_issuer(
    root: Path,
    name: str,
    *,
    legal_name: str,
    country: str,
    did_method: str = "key",
    base_url: str = DEFAULT_BASE_URL,
    alg: str = "ES256",
    register_did: DidRegistrar | None = None,
) -> IssuerHome:
    """Create ``<root>/issuers/<name>/`` with fresh keys; refuse if it exists. The keys of an ``issuer init``
    stopped before it wrote the identity are used instead of new ones (:func:`interrupted_init`).

    ``did_method="mcr"`` needs ``register_did``; when registering fails, the key files just made are removed.
    """
    _check_new_issuer(name, country, legal_name, did_method, base_url)
    if did_method == "mcr" and register_did is None:
        raise ConfigurationError("a did:mcr issuer is registered on the ledger; expected a registrar")
    home = root / ISSUERS_DIR / name
    if (home / IDENTITY_FILE).exists():
        raise ConfigurationError(f"issuer {name!r} already exists at {home}")
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    from ledger.keys import load_or_create_key_file  # web3 only when an identity is made

    key = _interrupted_key(home / SIGNING_KEY_FILE, alg)
    if key is None:
        key = PrivateKey.generate(alg)
        write_secret_file(home / SIGNING_KEY_FILE, json.dumps(key.to_jwk()) + "\n")
    public = key.public_key()
    controller, _ = load_or_create_key_file(home / CONTROLLER_KEY_FILE)
    fault_point("issuer-keys-written")
    if did_method == "mcr" and register_did is not None:
        try:
            did, kid = register_did(public, home / CONTROLLER_KEY_FILE)
        except BaseException:
            for made in (SIGNING_KEY_FILE, CONTROLLER_KEY_FILE):
                (home / made).unlink(missing_ok=True)
            raise
    else:
        did = did_key_from_public_key(public) if did_method == "key" else did_jwk_from_public_key(public)
        kid = verification_method_id(did)
    identity = IssuerIdentity(
        name=name,
        did=did,
        kid=kid,
        legal_name=legal_name.strip(),
        country=country,
        base_url=base_url,
        controller_address=controller.address,
        alg=alg,
    )
    temporary = home / (IDENTITY_FILE + ".tmp")  # whole or not at all: issuer.json is what makes the issuer
    temporary.write_text(json.dumps(asdict(identity), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, home / IDENTITY_FILE)
    return IssuerHome(home, identity)


def interrupted_init(root: Path, name: str) -> bool:
    """Whether an ``issuer init`` of ``name`` was stopped after writing its keys, before its identity."""
    home = root / ISSUERS_DIR / name
    return (home / SIGNING_KEY_FILE).exists() and not (home / IDENTITY_FILE).exists()


def _interrupted_key(path: Path, alg: str) -> PrivateKey | None:
    """The signing key an interrupted ``issuer init`` left at ``path`` (no identity names it yet, so nothing was
    signed or accredited with it): kept and used, so that running the command again finishes it. None when
    there is none; a key of another algorithm is set aside (renamed, never deleted)."""
    if not path.exists():
        return None
    key = PrivateKey.from_jwk(json_loads_object(read_secret_file(path), what=str(path)))
    if key.alg == alg:
        return key
    os.replace(path, path.with_name(f"{path.name}.{key.alg}.unused"))
    return None


def load_issuer(root: Path, name: str) -> IssuerHome:
    """The issuer called ``name``; a clear error naming the command to create it."""
    home = root / ISSUERS_DIR / name
    try:
        data = json_loads_object((home / IDENTITY_FILE).read_text(encoding="utf-8"), what=IDENTITY_FILE)
    except FileNotFoundError:
        known = ", ".join(list_issuers(root)) or "none"
        raise ConfigurationError(
            f"no issuer {name!r} under {root} (known: {known}); create it with `microcred issuer init {name}`"
        ) from None
    try:
        identity = IssuerIdentity(**data)
    except TypeError as exc:
        raise ConfigurationError(f"{home / IDENTITY_FILE} is not an issuer identity: {exc}") from None
    return IssuerHome(home, identity)


def list_issuers(root: Path) -> list[str]:
    """Names of the issuers under ``root``."""
    base = root / ISSUERS_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / IDENTITY_FILE).is_file())
