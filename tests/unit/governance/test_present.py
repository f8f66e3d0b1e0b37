from __future__ import annotations

import json

from governance.present import describe_media_policy, describe_subject, dumps, table
from governance.types import MediaPolicy, ProposalKind, Rules, Support


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


def test_describe_media_policy_reads_naturally() -> None:
    assert describe_media_policy(MediaPolicy(4, 2048)) == "≤ 4 attachments of ≤ 2048 KiB"
    assert describe_media_policy(MediaPolicy(1, 64)) == "≤ 1 attachment of ≤ 64 KiB"
    assert describe_media_policy(MediaPolicy(0, 1)) == "no attachments"


def test_json_has_labels_hex_bytes_and_safe_integers() -> None:
    data = json.loads(dumps({"support": Support.FOR, "raw": b"\x01\x02", "id": 2**200, "small": 7}))
    assert data == {"support": "for", "raw": "0x0102", "id": hex(2**200), "small": 7}
