"""Reading declared fields: exact types and ranges, each refusal a 400 that names the field."""

from __future__ import annotations

from typing import Any

import pytest

from node.api.http import HttpError
from node.api.params import (
    MAX_MS,
    Choice,
    Cursor,
    Fields,
    Flag,
    Hash,
    Integer,
    Items,
    Member,
    RoomRef,
    Text,
    millis,
    parse_id,
)
from node.core.jsontext import parse

HEX = "ab" * 32
ADDRESS = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


def _refusal(call: Any) -> str:
    with pytest.raises(HttpError) as caught:
        call()
    assert caught.value.status == 400
    return caught.value.message


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        (
            Text("text", max_bytes=8),
            ["a", "é" * 4, " x "],
            [True, 1, None, {"x": 1}, ["a"], "", "  ", "é" * 5, "\ud800"],
        ),
        (Text("topic", max_bytes=4, blank=True), ["", "  ", "abcd"], [None, 0, "abcde", {}]),
        (Integer("n", minimum=0, maximum=9), [0, 9], [True, False, -1, 10, 1.0, 1e30, "1", None, [1]]),
        (millis("at"), [0, MAX_MS], [-1, MAX_MS + 1, 10**30, float(2**64), True, "1"]),
        (Flag("on"), [True, False], [0, 1, "true", None]),
        (Choice("answer", choices=("yes", "no")), ["yes", "no"], ["YES", "", 1, True, ["yes"], None]),
        (Hash("target"), [HEX, "0x" + HEX, HEX.upper()], [None, HEX[:-2], HEX + "ab", "zz" * 32, 1, {"a": 1}]),
        (Hash("parent", nullable=True), [None, HEX], ["", 0]),
        (RoomRef("room"), ["", HEX], ["garden", "0x" + HEX, None, 1, {"x": 1}, HEX + "a"]),
        (Member("member"), [ADDRESS, ADDRESS.upper().replace("0X", "0x")], ["alice", ADDRESS[:-1], 1, None]),
        (
            Items("options", item=Text("option", max_bytes=3), min_items=2, max_items=3),
            [["a", "b"], ["a", "b", "c"]],
            [["a"], ["a", "b", "c", "d"], ["a", 1], ["a", ""], "ab", {"a": "b"}, None],
        ),
        (
            Cursor("before"),
            [f"1:{HEX}", f"{MAX_MS}:{HEX}"],
            [f"{MAX_MS + 1}:{HEX}", "1:00", f"-1:{HEX}", f"1:{HEX}x", 1],
        ),
    ],
)
def test_each_field_takes_its_type_and_range_and_names_itself_otherwise(
    field: Any, good: list[Any], bad: list[Any]
) -> None:
    for value in good:
        field.read(value)
    for value in bad:
        message = _refusal(lambda v=value: field.read(v))
        assert message.startswith(field.name), (value, message)


def test_booleans_are_not_numbers_and_integers_are_not_floats() -> None:
    # what JSON gives: orjson reads integers of 2^64 and more as floats, never as ints
    assert isinstance(parse(b"18446744073709551616"), float)
    n = Integer("n", minimum=0, maximum=2**63)
    assert _refusal(lambda: n.read(parse(b"true"))) == "n must be an integer in 0..9223372036854775808"
    assert _refusal(lambda: n.read(parse(b"18446744073709551616"))).startswith("n must be")


@pytest.mark.parametrize("raw", ["", "+5", " 5", "5 ", "٥", "5.0", "1e3", "0x5", "9" * 30, "true"])
def test_a_query_number_is_ascii_digits(raw: str) -> None:
    limit = Integer("limit", minimum=1, maximum=100)
    assert _refusal(lambda: limit.read_query(raw)).startswith("limit must be")


def test_a_query_flag_is_a_word() -> None:
    flag = Flag("on")
    assert (flag.read_query("true"), flag.read_query("false")) == (True, False)
    assert _refusal(lambda: flag.read_query("1")) == "on must be true or false"


def test_a_list_names_the_item_that_is_wrong() -> None:
    options = Items("options", item=Text("option", max_bytes=3), min_items=1, max_items=3)
    assert _refusal(lambda: options.read(["a", 7])).startswith("options[1] must be")


def test_fields_refuse_unknown_and_missing_names_and_fill_defaults() -> None:
    fields = Fields(Text("text", required=True, max_bytes=10), Flag("on", default=True), Hash("parent", nullable=True))
    assert fields.read({"text": "hi"}) == {"text": "hi", "on": True, "parent": None}
    assert _refusal(lambda: fields.read({})) == "text is required"
    assert (
        _refusal(lambda: fields.read({"text": "hi", "txet": 1})) == "unknown field 'txet' (this takes text, on, parent)"
    )
    query = Fields(Integer("limit", default=5, minimum=1, maximum=9))
    assert query.read({"limit": "7"}, query=True) == {"limit": 7}
    assert _refusal(lambda: query.read({"x": "1"}, query=True)) == "unknown parameter 'x' (this takes limit)"


def test_the_schemas_say_what_is_read() -> None:
    fields = Fields(
        Text("text", required=True, max_bytes=8000),
        Integer("n", default=3, minimum=0, maximum=9),
        Items("tags", default=(), item=Hash("tag"), max_items=4),
    )
    assert fields.body_schema() == {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "maxLength": 8000, "pattern": r"\S"},
            "n": {"type": "integer", "minimum": 0, "maximum": 9, "default": 3},
            "tags": {
                "type": "array",
                "items": {"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$"},
                "minItems": 0,
                "maxItems": 4,
                "default": [],
            },
        },
    }


def test_parse_id_reads_hex_of_32_bytes() -> None:
    assert parse_id("0x" + HEX, "post id") == bytes.fromhex(HEX)
    for bad in ("", HEX[:-1], "٣" * 64, HEX + "\n", None):
        assert _refusal(lambda b=bad: parse_id(b, "post id")) == "post id must be 64 hex digits (32 bytes)"
