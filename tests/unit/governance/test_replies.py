"""Blocks and logs as an endpoint reports them: every field the node uses is checked."""

from __future__ import annotations

from typing import Any

import pytest

from governance.replies import BlockRef, Malformed, block_ref, data, log_record, quantity

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
HASH = "0x" + "ab" * 32


def a_log(**changes: Any) -> dict[str, Any]:
    log = {
        "address": CONTRACT.lower(),
        "topics": [HASH],
        "data": "0x" + "00" * 32,
        "blockNumber": "0x7",
        "logIndex": "0x0",
        "blockHash": HASH,
        "transactionHash": HASH,
        "removed": False,
    }
    return {**log, **changes}


def test_quantities_and_data() -> None:
    assert quantity("0x1f", "n") == 31
    assert data("0x", "d") == b""
    assert data("0x00ff", "d", 2) == b"\x00\xff"
    bad_quantities: list[Any] = ["seven", "0x", 7, None, "0x" + "f" * 65, " 0x1"]
    for bad in bad_quantities:
        with pytest.raises(Malformed, match="the number"):
            quantity(bad, "the number")
    bad_data: list[Any] = ["0x0", "ab", 5, ["0x00"]]
    for bad in bad_data:
        with pytest.raises(Malformed, match="not hex data"):
            data(bad, "the data")
    with pytest.raises(Malformed, match="the hash has 5 bytes, not 32"):
        data("0x" + "00" * 5, "the hash", 32)


def test_a_block_needs_its_number_hashes_and_time() -> None:
    block = {"number": "0x7", "hash": HASH, "parentHash": HASH, "timestamp": "0x64", "gasLimit": "anything"}
    assert block_ref(block, "block 7") == BlockRef(7, bytes.fromhex("ab" * 32), bytes.fromhex("ab" * 32), 100)
    with pytest.raises(Malformed, match="the number of block 7 is 'seven', not a hex quantity"):
        block_ref({**block, "number": "seven"}, "block 7")
    with pytest.raises(Malformed, match="the hash of block 7 has 5 bytes"):
        block_ref({**block, "hash": "0x" + "00" * 5}, "block 7")
    with pytest.raises(Malformed, match="block 7 is 5, not a block"):
        block_ref(5, "block 7")


def test_a_log_is_normalised_for_the_decoder() -> None:
    record = log_record(a_log(), CONTRACT, 1, 9)
    assert record["blockNumber"] == 7
    assert record["logIndex"] == 0
    assert record["topics"] == [bytes.fromhex("ab" * 32)]
    assert record["blockHash"] == bytes.fromhex("ab" * 32)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"blockNumber": 7}, "the block number of a log is 7, not a hex quantity"),
        ({"logIndex": "first"}, "the index of a log in block 7"),
        ({"address": "0x" + "11" * 20}, "comes from '0x1111.*not from the contract"),
        ({"address": None}, "comes from None"),
        ({"blockNumber": "0x20"}, "outside the blocks 1..9"),
        ({"removed": True}, "marked removed"),
        ({"topics": "0xab"}, "the topics of log 0 of block 7 are '0xab'"),
        ({"topics": [HASH] * 5}, "not a list of at most 4"),
        ({"topics": [7]}, "a topic of log 0 of block 7 is 7"),
        ({"data": {"x": 1}}, "the data of log 0 of block 7"),
        ({"blockHash": "0x1234"}, "the block hash of log 0 of block 7 has 2 bytes"),
        ({"transactionHash": None}, "the transaction hash"),
    ],
)
def test_a_log_with_a_wrong_field_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(Malformed, match=problem):
        log_record(a_log(**changes), CONTRACT, 1, 9)


def test_a_log_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(Malformed, match="a log is 'x', not an object"):
        log_record("x", CONTRACT, 1, 9)


def test_long_values_are_cut_short_in_messages() -> None:
    with pytest.raises(Malformed) as caught:
        quantity("z" * 10_000, "the number")
    assert len(str(caught.value)) < 200
