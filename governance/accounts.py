"""Where a member's Ethereum account comes from: an encrypted keystore, or an Anvil dev key.

A keystore is eth-account's encrypted JSON (Web3 Secret Storage, scrypt); the file is created with
mode 0600 and never overwritten. Anvil's dev keys are public knowledge (derived from the well-known
test mnemonic), so they are refused on any chain other than a local devnet's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount

from governance.errors import AccountError
from governance.jsontext import BadJson, parse

#: The mnemonic Anvil (and Hardhat) derive their funded dev accounts from.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
#: Chain ids of local development chains (Anvil, Hardhat), where dev keys may be used.
DEV_CHAIN_IDS = frozenset({31337, 1337})
DEV_ACCOUNT_COUNT = 10
#: A keystore is about 500 bytes; a longer file is not one (and is not read into memory whole).
MAX_KEYSTORE_BYTES = 64 * 1024


def dev_account(index: int) -> LocalAccount:
    """Anvil's funded dev account ``index`` (0..9)."""
    if not 0 <= index < DEV_ACCOUNT_COUNT:
        raise AccountError(f"dev account index must be 0..{DEV_ACCOUNT_COUNT - 1}, not {index}")
    seed = seed_from_mnemonic(DEV_MNEMONIC, "")
    account: LocalAccount = Account.from_key(key_from_seed(seed, f"m/44'/60'/0'/0/{index}"))
    return account


def require_dev_chain(chain_id: int) -> None:
    """Refuses dev keys on chains where their public private keys would be a loss."""
    if chain_id not in DEV_CHAIN_IDS:
        raise AccountError(
            f"dev accounts are public test keys and only usable on a local devnet (chain id "
            f"{sorted(DEV_CHAIN_IDS)}); this chain has id {chain_id}: use --keystore"
        )


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypts a keystore file; the errors say whether the file or the password is wrong."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEYSTORE_BYTES + 1)
    except FileNotFoundError:
        raise AccountError(f"no keystore at {path} (create one: kiez gov account new)") from None
    except OSError as exc:
        raise AccountError(f"cannot read keystore {path}: {exc}") from None
    if len(raw) > MAX_KEYSTORE_BYTES:
        raise AccountError(f"{path} is not a keystore: it is longer than {MAX_KEYSTORE_BYTES // 1024} KiB")
    try:
        data = parse(raw)
    except BadJson as exc:
        raise AccountError(f"cannot read keystore {path}: {exc}") from None
    if not isinstance(data, dict):
        raise AccountError(f"keystore {path} is not valid: it holds no JSON object")
    try:
        key = Account.decrypt(data, password)
    except (ValueError, TypeError, KeyError) as exc:
        if "MAC mismatch" in str(exc):
            raise AccountError(f"wrong password for keystore {path}") from None
        raise AccountError(f"keystore {path} is not valid: {exc}") from None
    account: LocalAccount = Account.from_key(key)
    return account


def create_keystore(path: Path, password: str, private_key: bytes | None = None) -> LocalAccount:
    """Writes a new encrypted keystore (mode 0600; refuses to overwrite) and returns its account.

    With ``private_key`` it imports that key; otherwise it creates a fresh one from the OS's
    randomness.
    """
    if not password:
        raise AccountError("a keystore needs a non-empty password")
    account: LocalAccount = Account.from_key(private_key) if private_key is not None else Account.create()
    encrypted = Account.encrypt(account.key, password, kdf="scrypt")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AccountError(f"{path} already exists; kiez never overwrites a keystore") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(encrypted, handle)
    return account
