from __future__ import annotations

import stat
from pathlib import Path

import pytest

from governance.accounts import create_keystore, dev_account, load_keystore, require_dev_chain
from governance.errors import AccountError


def test_dev_accounts_are_anvils() -> None:
    assert dev_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert dev_account(9).address == "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
    with pytest.raises(AccountError, match=r"0\.\.9"):
        dev_account(10)


def test_dev_keys_only_on_dev_chains() -> None:
    require_dev_chain(31337)
    with pytest.raises(AccountError, match="chain has id 1"):
        require_dev_chain(1)


def test_keystore_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "me.json"
    created = create_keystore(path, "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keystore(path, "correct horse").address == created.address


def test_keystore_import_keeps_the_key(tmp_path: Path) -> None:
    path = tmp_path / "imported.json"
    account = create_keystore(path, "pw", dev_account(3).key)
    assert account.address == dev_account(3).address


def test_keystore_errors_say_which_problem(tmp_path: Path) -> None:
    path = tmp_path / "me.json"
    create_keystore(path, "right")
    with pytest.raises(AccountError, match="wrong password"):
        load_keystore(path, "wrong")
    with pytest.raises(AccountError, match="never overwrites"):
        create_keystore(path, "again")
    with pytest.raises(AccountError, match="no keystore at"):
        load_keystore(tmp_path / "missing.json", "x")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(AccountError, match="cannot read keystore"):
        load_keystore(tmp_path / "junk.json", "x")
    with pytest.raises(AccountError, match="non-empty password"):
        create_keystore(tmp_path / "new.json", "")
