"""The watcher's checks on what the endpoint says, and the sentences they end in."""

from __future__ import annotations

import pytest

from governance.events import LogRef, MemberLeft
from governance.replies import BlockRef
from governance.rpc import checksum
from node.chain.trust import ChainDistrusted, check_chain_id, check_logs_match, deep_reorg, missing_block

A, B = b"\xaa" * 32, b"\xbb" * 32


def left(block: int, block_hash: bytes) -> MemberLeft:
    return MemberLeft(LogRef(block, 0, block_hash, b"\x00" * 32), checksum("0x" + "11" * 20))


def test_the_chain_id_must_be_the_communitys() -> None:
    check_chain_id(31337, 31337)
    with pytest.raises(ChainDistrusted, match="reports chain id 5, but this community lives on 31337"):
        check_chain_id(5, 31337)


def test_logs_must_name_the_block_reported_at_their_number() -> None:
    blocks = {7: BlockRef(7, A, B, 100)}
    check_logs_match([left(7, A)], blocks)
    with pytest.raises(ChainDistrusted, match=r"block 7 0xbbbb…bbbb, but it reports block 7 as 0xaaaa…aaaa"):
        check_logs_match([left(7, A), left(7, B)], blocks)


def test_the_sentences_say_what_is_wrong_and_what_happens() -> None:
    assert "has no block 9, which this node's view is built on" in str(missing_block(9))
    sentence = str(deep_reorg(9, A, B, 2))
    assert sentence.startswith("reorg deeper than the 2 confirmations at block 9: ")
    assert "now reports 0xbbbb…bbbb there, but this node's view applied 0xaaaa…aaaa" in sentence
    assert "restart the node" in sentence
