"""Revert data → typed errors, checked against the committed ABI (no chain needed)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

import governance
from governance.abinames import snake_name
from governance.artifacts import community_artifact
from governance.errors import (
    AlreadyVoted,
    ContractRevert,
    GovernanceError,
    InvalidMediaPolicy,
    NotAMember,
    NotEligible,
    RevertContext,
    TransactionFailed,
    VotingClosed,
)
from governance.reverts import RevertDecoder, revert_classes
from governance.types import ProposalState

ABI = community_artifact().abi
ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
COMMUNITY = "0x700b6A60ce7EaaEA56F065753d8dcB9653dbAD35"


def revert_data(name: str, *args: object) -> bytes:
    item = next(i for i in ABI if i.get("type") == "error" and i["name"] == name)
    types = [i["type"] for i in item["inputs"]]
    return keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, list(args))


def test_every_contract_error_has_a_class_with_the_same_arguments() -> None:
    classes = revert_classes()
    for item in (i for i in ABI if i.get("type") == "error"):
        assert item["name"] in classes, f"no Python class for the contract error {item['name']}"
        fields = [f.name for f in dataclasses.fields(classes[item["name"]]) if f.name != "context"]
        assert fields == [snake_name(i["name"]) for i in item["inputs"]], item["name"]


def test_no_class_without_a_contract_error() -> None:
    names = {i["name"] for i in ABI if i.get("type") == "error"}
    assert set(revert_classes()) <= names


def test_decode_gives_the_named_class_with_typed_fields() -> None:
    decoder = RevertDecoder(ABI)
    error = decoder.decode(revert_data("VotingClosed", 7, 4, 1_796_112_000))
    assert isinstance(error, VotingClosed)
    assert (error.number, error.state, error.deadline) == (7, ProposalState.SUCCEEDED, 1_796_112_000)
    assert isinstance(error, ContractRevert)

    error = decoder.decode(revert_data("NotAMember", ALICE.lower()))
    assert isinstance(error, NotAMember)
    assert error.account == ALICE  # checksummed


def test_messages_speak_to_the_sender() -> None:
    decoder = RevertDecoder(ABI)
    me = RevertContext(community=COMMUNITY, sender=ALICE, chain_time=1_796_200_000)
    assert str(decoder.decode(revert_data("NotAMember", ALICE), me)) == (
        f"you ({ALICE}) are not a member of community {COMMUNITY}"
    )
    other = RevertContext(community=COMMUNITY, sender="0x" + "11" * 20)
    assert str(decoder.decode(revert_data("AlreadyVoted", 7, ALICE), other)) == (f"{ALICE} already voted on proposal 7")


def test_voting_closed_says_when_or_why() -> None:
    decoder = RevertDecoder(ABI)
    data = revert_data("VotingClosed", 7, 3, 1_796_112_000)
    after = decoder.decode(data, RevertContext(chain_time=1_796_112_001))
    assert str(after) == "voting on proposal 7 closed at 2026-12-01 08:00 UTC (defeated)"
    before = decoder.decode(data, RevertContext(chain_time=1_796_000_000))
    assert "already decided (defeated) before its deadline 2026-12-01 08:00 UTC" in str(before)


def test_not_eligible_mentions_both_times_when_they_differ() -> None:
    decoder = RevertDecoder(ABI)
    error = decoder.decode(revert_data("NotEligible", 3, ALICE, 1_796_112_060, 1_796_112_000))
    assert isinstance(error, NotEligible)
    assert "joined at 2026-12-01 08:01 UTC, after proposal 3 was created (2026-12-01 08:00 UTC)" in str(error)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "without a reason"),
        (keccak(text="Error(string)")[:4] + encode(["string"], ["nope"]), "reverted: nope"),
        (keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11]), "panicked (code 0x11)"),
        (b"\xde\xad\xbe\xef" + bytes(32), "unknown error data 0xdeadbeef"),
    ],
)
def test_foreign_reverts_become_transaction_failed(data: bytes, expected: str) -> None:
    error = RevertDecoder(ABI).decode(data)
    assert isinstance(error, TransactionFailed)
    assert expected in str(error)


def test_decoded_errors_are_raisable_and_keep_fields() -> None:
    error = RevertDecoder(ABI).decode(revert_data("AlreadyVoted", 2, ALICE))
    with pytest.raises(AlreadyVoted) as caught:
        raise error
    assert caught.value.number == 2


def test_invalid_media_policy_names_both_values_and_their_ranges() -> None:
    error = RevertDecoder(ABI).decode(revert_data("InvalidMediaPolicy", 5, 4096))
    assert isinstance(error, InvalidMediaPolicy)
    assert (error.max_attachments, error.max_attachment_kib) == (5, 4096)
    assert str(error) == "invalid media policy: 5 attachments per post (0..4), 4096 KiB each (1..2048)"


def test_every_governance_error_derives_from_governance_error() -> None:
    for info in pkgutil.walk_packages(governance.__path__, "governance."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == info.name:
                assert issubclass(cls, GovernanceError), f"{info.name}.{cls.__name__}"
