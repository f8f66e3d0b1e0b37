from __future__ import annotations

import json

from governance.present import describe_media_policy, describe_subject, dumps, table, tally
from governance.types import (
    ZERO_ADDRESS,
    MediaPolicy,
    Proposal,
    ProposalId,
    ProposalKind,
    ProposalNumber,
    ProposalState,
    Rules,
    Support,
)


def test_table_aligns_text_left_and_numbers_right() -> None:
    text = table(["name", "votes"], [("alice", 3), ("bob", 12)])
    assert text.splitlines() == ["name   votes", "─────  ─────", "alice      3", "bob       12"]


def test_describe_subject_per_kind() -> None:
    address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    account = bytes(12) + bytes.fromhex(address[2:])
    assert describe_subject(ProposalKind.REMOVE_MEMBER, account) == address
    assert describe_subject(ProposalKind.HIDE_POST, b"\xab" * 32) == "post 0x" + "ab" * 32
    rules = Rules(40, 60, 7200)
    assert describe_subject(ProposalKind.CHANGE_RULES, rules.pack()) == (
        "quorum 40 %, threshold 60 %, voting period 2h"
    )
    media = MediaPolicy(2, 512).pack()
    assert describe_subject(ProposalKind.SET_MEDIA_POLICY, media) == "≤ 2 attachments of ≤ 512 KiB"


def proposal(kind: ProposalKind, eligible: int) -> Proposal:
    return Proposal(
        id=ProposalId(1),
        number=ProposalNumber(1),
        kind=kind,
        state=ProposalState.ACTIVE,
        subject=bytes(32),
        proposer=ZERO_ADDRESS,
        description="",
        vote_start=0,
        vote_end=60,
        against_votes=0,
        for_votes=1,
        abstain_votes=0,
        eligible_voters=eligible,
        quorum_pct=50,
        threshold_pct=50,
    )


def test_tally_says_a_removal_needs_two_for_votes() -> None:
    assert tally(proposal(ProposalKind.SET_CHARTER, 3)) == "1 for, 0 against, 0 abstain of 3 eligible (quorum 2)"
    assert tally(proposal(ProposalKind.REMOVE_MEMBER, 2)) == (
        "1 for, 0 against, 0 abstain of 2 eligible (quorum 1, at least 2 for)"
    )


def test_describe_media_policy_reads_naturally() -> None:
    assert describe_media_policy(MediaPolicy(4, 2048)) == "≤ 4 attachments of ≤ 2048 KiB"
    assert describe_media_policy(MediaPolicy(1, 64)) == "≤ 1 attachment of ≤ 64 KiB"
    assert describe_media_policy(MediaPolicy(0, 1)) == "no attachments"


def test_json_has_labels_hex_bytes_and_safe_integers() -> None:
    data = json.loads(dumps({"support": Support.FOR, "raw": b"\x01\x02", "id": 2**200, "small": 7}))
    assert data == {"support": "for", "raw": "0x0102", "id": hex(2**200), "small": 7}
