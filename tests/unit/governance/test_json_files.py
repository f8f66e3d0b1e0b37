"""The files governance parses (keystores, ballot files, the contract artifact) refuse hostile
JSON with their own error, never with a crash.

Deep nesting runs in a fresh interpreter with web3 imported, as the CLI runs: there the standard
JSON decoder overflows the C stack (py_ecc raised the recursion limit) and the process dies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.accounts import MAX_KEYSTORE_BYTES, create_keystore, load_keystore
from governance.ballot import SignedBallot
from governance.errors import AccountError, BallotError
from tests.unit.governance.isolated import run_isolated


def test_deeply_nested_files_are_errors_not_crashes(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_bytes(b"[" * 200_000)
    script = f"""
import pathlib, sys
import web3  # raises the recursion limit, as every governance command does
from governance.accounts import load_keystore
from governance.ballot import SignedBallot
from governance.errors import AccountError, BallotError
from tests.unit.governance.isolated import run_isolated
assert sys.getrecursionlimit() >= 100_000
path = pathlib.Path({str(nested)!r})
try:
    load_keystore(path, "pw")
except AccountError as exc:
    print(exc)
try:
    SignedBallot.from_json(path.read_text())
except BallotError as exc:
    print(exc)
"""
    keystore, ballot = run_isolated(script)
    assert keystore == f"{nested} is not a keystore: it is longer than 64 KiB"
    assert ballot.startswith("not a ballot file: not valid JSON")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"crypto": "\xff"}', "not valid JSON"),  # invalid UTF-8
        (b'{"crypto": "\\udc00"}', "not valid JSON"),  # a lone surrogate
        (b'{"version": 1e999}', "not valid JSON"),
        (b"[" * 2000, "not valid JSON"),  # deeper than orjson's 1,024 levels
        (b"[1, 2]", "holds no JSON object"),
        (b'{"crypto": 5}', "is not valid"),
        (b"{}", "is not valid"),
    ],
)
def test_a_broken_keystore_is_an_account_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "keystore.json"
    path.write_bytes(content)
    with pytest.raises(AccountError, match=message):
        load_keystore(path, "pw")


def test_a_huge_file_is_not_a_keystore(tmp_path: Path) -> None:
    path = tmp_path / "keystore.json"
    path.write_bytes(b" " * (MAX_KEYSTORE_BYTES + 1))
    with pytest.raises(AccountError, match="is not a keystore: it is longer than 64 KiB"):
        load_keystore(path, "pw")
    real = tmp_path / "real.json"
    create_keystore(real, "pw")
    assert real.stat().st_size < MAX_KEYSTORE_BYTES


@pytest.mark.parametrize(
    "text",
    [
        b'{"format": "kiez-ballot/1", "chain_id": "\xff"}',
        '{"format": "kiez-ballot/1", "community_name": "\\ud800"}',
        '{"format": "kiez-ballot/1", "nonce": 1e999}',
    ],
)
def test_a_broken_ballot_file_is_a_ballot_error(text: str | bytes) -> None:
    with pytest.raises(BallotError, match="not a ballot file: not valid JSON"):
        SignedBallot.from_json(text)
