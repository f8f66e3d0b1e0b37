from __future__ import annotations

import pytest

from governance.types import ProposalKind, ProposalState, Rules, Support, subject_address


def test_rules_pack_matches_contract_layout() -> None:
    rules = Rules(quorum_pct=33, threshold_pct=67, voting_period=3 * 86400)
    packed = rules.pack()
    assert len(packed) == 32
    assert int.from_bytes(packed, "big") == (33 << 48) | (67 << 32) | 259200
    assert Rules.unpack(packed) == rules


@pytest.mark.parametrize(
    ("rules", "complaint"),
    [
        (Rules(0, 50, 3600), "quorum"),
        (Rules(101, 50, 3600), "quorum"),
        (Rules(50, 49, 3600), "threshold"),
        (Rules(50, 101, 3600), "threshold"),
        (Rules(50, 50, 59), "voting period"),
        (Rules(50, 50, 366 * 86400), "voting period"),
    ],
)
def test_rules_problems_name_the_bad_value(rules: Rules, complaint: str) -> None:
    problems = rules.problems()
    assert len(problems) == 1
    assert complaint in problems[0]


def test_valid_rules_have_no_problems() -> None:
    assert Rules(1, 50, 60).problems() == []
    assert Rules(100, 100, 365 * 86400).problems() == []


@pytest.mark.parametrize(
    ("text", "support"),
    [
        ("for", Support.FOR),
        ("FOR", Support.FOR),
        ("yes", Support.FOR),
        ("against", Support.AGAINST),
        ("no", Support.AGAINST),
        ("abstain", Support.ABSTAIN),
        ("0", Support.AGAINST),
        ("2", Support.ABSTAIN),
    ],
)
def test_support_parse(text: str, support: Support) -> None:
    assert Support.parse(text) is support


def test_support_parse_refuses_unknown() -> None:
    with pytest.raises(ValueError, match="use for, against or abstain"):
        Support.parse("maybe")


def test_enums_keep_openzeppelin_and_contract_numbers() -> None:
    assert [s.value for s in ProposalState] == list(range(8))
    assert int(ProposalState.SUCCEEDED) == 4
    assert int(ProposalState.EXECUTED) == 7
    assert ProposalKind.ADD_MEMBER.label == "add-member"
    assert ProposalKind.HIDE_POST.names_post
    assert ProposalKind.REVOKE_MODERATOR.names_account
    assert not ProposalKind.SET_CHARTER.names_account


def test_subject_address_reads_the_low_20_bytes() -> None:
    address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    subject = bytes(12) + bytes.fromhex(address[2:])
    assert subject_address(subject) == address
