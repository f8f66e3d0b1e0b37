"""The dial-back's wire checks and verdict (node.p2p.dialback)."""

from __future__ import annotations

import msgpack
import pytest

from node.p2p.dialback import PRIVATE, PUBLIC, UNKNOWN, Answer, decode_answer, decode_request, encode_request, judge


def test_judge_public_once_anybody_got_through() -> None:
    assert judge([]) == UNKNOWN
    assert judge([Answer("a", "198.18.0.2", ())]) == PRIVATE
    assert judge([Answer("a", "198.18.0.2", ()), Answer("b", "198.18.0.2", (4001,))]) == PUBLIC


def test_a_request_round_trips_and_keeps_at_most_four_ports() -> None:
    assert decode_request(encode_request([4001, 4001, 9])) == [9, 4001]
    assert len(msgpack.unpackb(encode_request(list(range(1, 10))))["ports"]) == 4


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"\xc1", "not msgpack"),
        (msgpack.packb([4001]), "must be {ports"),
        (msgpack.packb({"ports": []}), "must be {ports"),
        (msgpack.packb({"ports": [1, 2, 3, 4, 5]}), "must be {ports"),
        (msgpack.packb({"ports": [0]}), "from 1 to 65535"),
        (msgpack.packb({"ports": [True]}), "from 1 to 65535"),
        (msgpack.packb({"ports": ["4001"]}), "from 1 to 65535"),
    ],
)
def test_a_malformed_request_gets_a_sentence(raw: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("{", r"\{")):
        decode_request(raw)


def test_answers_are_checked() -> None:
    assert decode_answer("p", msgpack.packb({"observed": "10.0.0.1", "reached": [1]})) == Answer("p", "10.0.0.1", (1,))
    with pytest.raises(ValueError, match="the peer said: members only"):
        decode_answer("p", msgpack.packb({"error": "members only"}))
    with pytest.raises(ValueError, match="observed: ip"):
        decode_answer("p", msgpack.packb({"observed": 1, "reached": []}))
