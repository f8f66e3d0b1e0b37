from __future__ import annotations

import pytest

from governance.types import (
    DEFAULT_MEDIA_POLICY,
    MAX_ATTACHMENT_KIB,
    MAX_ATTACHMENTS,
    MediaPolicy,
    ProposalKind,
    ProposalState,
    Rules,
    Support,
    subject_address,
)


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
    # The contract appends kinds at the end, so stored proposals keep their meaning.
    assert [k.value for k in ProposalKind] == list(range(10))
    assert ProposalKind.SET_GUEST_POLICY.label == "set-guest-policy"
    assert ProposalKind.SET_MEDIA_POLICY.value == 8
    assert ProposalKind.SET_MEDIA_POLICY.label == "set-media-policy"
    assert not ProposalKind.SET_MEDIA_POLICY.names_account
    assert not ProposalKind.SET_MEDIA_POLICY.names_post


def test_subject_address_reads_the_low_20_bytes() -> None:
    address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    subject = bytes(12) + bytes.fromhex(address[2:])
    assert subject_address(subject) == address


def test_media_policy_pack_matches_contract_layout() -> None:
    policy = MediaPolicy(max_attachments=2, max_attachment_kib=512)
    packed = policy.pack()
    assert len(packed) == 32
    assert int.from_bytes(packed, "big") == (2 << 32) | 512
    assert MediaPolicy.unpack(packed) == policy
    assert policy.max_attachment_bytes == 512 * 1024


def test_default_media_policy_is_the_protocol_ceiling() -> None:
    assert (MAX_ATTACHMENTS, MAX_ATTACHMENT_KIB) == (4, 2048)
    assert MediaPolicy(MAX_ATTACHMENTS, MAX_ATTACHMENT_KIB) == DEFAULT_MEDIA_POLICY
    assert DEFAULT_MEDIA_POLICY.max_attachment_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("policy", "complaints"),
    [
        (MediaPolicy(5, 512), ["attachments per post must be 0..4, not 5"]),
        (MediaPolicy(-1, 512), ["attachments per post must be 0..4, not -1"]),
        (MediaPolicy(2, 0), ["size of one attachment must be 1..2048 KiB, not 0 KiB"]),
        (MediaPolicy(2, 2049), ["size of one attachment must be 1..2048 KiB, not 2049 KiB"]),
        (
            MediaPolicy(9, 0),
            ["attachments per post must be 0..4, not 9", "size of one attachment must be 1..2048 KiB, not 0 KiB"],
        ),
    ],
)
def test_media_policy_problems_name_the_bad_value(policy: MediaPolicy, complaints: list[str]) -> None:
    assert policy.problems() == complaints


def test_valid_media_policies_have_no_problems() -> None:
    for policy in (MediaPolicy(0, 1), MediaPolicy(4, 2048), MediaPolicy(1, 64)):
        assert policy.problems() == []
