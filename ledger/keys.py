"""Controller keys: the Ethereum accounts that act for a registry entry.

A key file holds one secp256k1 private key as ``0x``-prefixed hex on one line,
created whole, once, with mode 0600 and refused when group or others can read
it (:mod:`infra.secret_files`; its errors become :class:`~ledger.errors.KeyFileError`). The root
of trust on Anvil is the devnet's first account by default
(:data:`ledger.devnet.ANVIL_DEV_KEYS`); on any other node it is a key file
(``<data dir>/keys/root.key``). New controller accounts are funded from the
root on a devnet (:func:`fund_if_devnet`).
"""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from credentials.errors import ConfigurationError
from infra.secret_files import create_secret_file, read_secret_file
from ledger.chain import Chain
from ledger.devnet import ANVIL_CHAIN_ID, ANVIL_DEV_KEYS
from ledger.errors import KeyFileError

__all__ = [
    "ROOT_KEY_FILE",
    "DEVNET_FUNDING_WEI",
    "account_from_hex",
    "create_key_file",
    "load_key_file",
    "load_or_create_key_file",
    "default_root_account",
    "fund_if_devnet",
]

#: Where the root's key lives (relative to the data dir) on a non-devnet chain.
ROOT_KEY_FILE = Path("keys") / "root.key"

#: What a new controller receives on a devnet: enough for thousands of anchors.
DEVNET_FUNDING_WEI = 10 * 10**18


def account_from_hex(private_key_hex: str) -> LocalAccount:
    """An account from a hex private key; the message never repeats the key."""
    try:
        return Account.from_key(private_key_hex.strip())
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"expected a 32-byte hex private key, found something else ({type(exc).__name__})") from None


def create_key_file(path: Path) -> LocalAccount:
    """Create a new key at ``path`` (mode 0600); refuses to overwrite an existing file."""
    account = Account.create()
    try:
        create_secret_file(path, ("0x" + bytes(account.key).hex() + "\n").encode("ascii"))
    except ConfigurationError as exc:  # SecretFileExists: "already exists; not overwriting a key"
        raise KeyFileError(str(exc)) from None
    return account


def load_key_file(path: Path) -> LocalAccount:
    """Load the key at ``path``; it must exist and be readable by its owner only."""
    try:
        text = read_secret_file(path).decode("ascii")
    except ConfigurationError as exc:  # missing, unreadable, or readable by others
        raise KeyFileError(str(exc)) from None
    except UnicodeDecodeError:
        raise KeyFileError(f"could not read key file {path}: expected hex text, found other bytes") from None
    return account_from_hex(text)


def load_or_create_key_file(path: Path) -> tuple[LocalAccount, bool]:
    """The key at ``path``, creating it first if missing; the flag says whether it was created.

    Two processes that race on a missing file get the same key (the loser reads the winner's).
    """
    if not path.exists():
        try:
            return create_key_file(path), True
        except KeyFileError:
            if not path.exists():
                raise
    return load_key_file(path), False


def default_root_account(chain: Chain, data_dir: Path) -> LocalAccount:
    """``<data dir>/keys/root.key`` if present, else Anvil's first account on an Anvil chain."""
    key_path = data_dir / ROOT_KEY_FILE
    if key_path.exists():
        return load_key_file(key_path)
    if chain.chain_id() == ANVIL_CHAIN_ID:
        return Account.from_key(ANVIL_DEV_KEYS[0])
    raise KeyFileError(
        f"chain {chain.chain_id()} is not an Anvil devnet: expected the root's key at {key_path} (mode 0600)"
    )


def fund_if_devnet(chain: Chain, funder: LocalAccount, address: str, *,
                   minimum_wei: int = DEVNET_FUNDING_WEI // 10) -> bool:
    """On an Anvil devnet, top ``address`` up from ``funder``; True if funds were sent."""
    if chain.chain_id() != ANVIL_CHAIN_ID or chain.balance(address) >= minimum_wei:
        return False
    chain.transfer(funder, address, DEVNET_FUNDING_WEI)
    return True
