"""The API's field types: exact types and ranges, each refusal a sentence naming the field, and
the schemas the OpenAPI document shows for them."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import ValidationError

from node.api.fields import (
    MAX_MS,
    Body,
    Choice,
    Cursor,
    Flag,
    Hash,
    Integer,
    Items,
    MemberAddress,
    Millis,
    NullableHash,
    Query,
    QueryFlag,
    RoomRef,
    Text,
    cursor_position,
    parse_id,
)
from node.api.problems import HttpError, validation_message
from node.core.jsontext import parse

HEX = "ab" * 32
ADDRESS = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


class Shape(Body):
    text: Annotated[str, Text(8)] = "x"
    topic: Annotated[str, Text(4, blank=True)] = ""
    n: Annotated[int, Integer(0, 9)] = 0
    at: Millis = 0
    on: Flag = False
    answer: Annotated[str, Choice("yes", "no")] = "yes"
    target: Hash = b"\0" * 32
    parent: NullableHash = None
    room: RoomRef = ""
    member: MemberAddress = ADDRESS
    options: Annotated[tuple[Annotated[str, Text(3)], ...], Items(2, 3)] = ("a", "b")
    before: Cursor | None = None


def _as_framework(caught: pytest.ExceptionInfo[ValidationError], place: str) -> list[Any]:
    """The errors as the framework reports them: each place starting with body or query."""
    return [{**error, "loc": (place, *error["loc"])} for error in caught.value.errors()]


def _refusal(**given: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Shape.model_validate(given)
    return validation_message(_as_framework(caught, "body"), list(Shape.model_fields))


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("text", ["a", "é" * 4, " x "], [True, 1, None, {"x": 1}, ["a"], "", "  ", "é" * 5, "\ud800"]),
        ("topic", ["", "  ", "abcd"], [None, 0, "abcde", {}]),
        ("n", [0, 9], [True, False, -1, 10, 1.0, 1e30, "1", None, [1]]),
        ("at", [0, MAX_MS], [-1, MAX_MS + 1, 10**30, float(2**64), True]),
        ("on", [True, False], [0, 1, None, "true"]),
        ("answer", ["yes", "no"], ["YES", "", 1, True, ["yes"], None]),
        ("target", [HEX, "0x" + HEX, HEX.upper()], [None, HEX[:-2], HEX + "ab", "zz" * 32, 1, {"a": 1}]),
        ("parent", [None, HEX], ["", 0]),
        ("room", ["", HEX], ["garden", "0x" + HEX, None, 1, {"x": 1}, HEX + "a"]),
        ("member", [ADDRESS, ADDRESS.upper().replace("0X", "0x")], ["alice", ADDRESS[:-1], 1, None]),
        ("options", [["a", "b"], ["a", "b", "c"]], [["a"], ["a", "b", "c", "d"], ["a", 1], ["a", ""], "ab", None]),
        ("before", [f"1:{HEX}", f"{MAX_MS}:{HEX}"], [f"{MAX_MS + 1}:{HEX}", "1:00", f"-1:{HEX}", f"1:{HEX}x", 1]),
    ],
)
def test_each_field_takes_its_type_and_range_and_names_itself_otherwise(
    name: str, good: list[Any], bad: list[Any]
) -> None:
    for value in good:
        Shape.model_validate({name: value})
    for value in bad:
        message = _refusal(**{name: value})
        assert message.startswith((f"{name} must be ", f"{name}[")), (value, message)


def test_values_are_read_as_the_wire_means_them() -> None:
    read = Shape.model_validate({"target": "0x" + HEX, "room": HEX.upper(), "member": ADDRESS, "before": f"5:{HEX}"})
    assert read.target == bytes.fromhex(HEX)
    assert read.room == HEX
    assert read.member == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # checksummed, as the chain view keeps it
    assert read.before is not None
    assert cursor_position(read.before) == (5, bytes.fromhex(HEX))
    assert read.options == ("a", "b")


def test_booleans_are_not_numbers_and_integers_are_not_floats() -> None:
    # what JSON gives: orjson reads integers of 2^64 and more as floats, never as ints
    assert isinstance(parse(b"18446744073709551616"), float)
    assert _refusal(n=parse(b"true")) == "n must be an integer in 0..9"
    assert _refusal(n=parse(b"18446744073709551616")).startswith("n must be")
    assert (
        _refusal(text="\ud800")
        == "text must be a non-empty string of at most 8 UTF-8 bytes (it holds a lone surrogate)"
    )


class Page(Query):
    limit: Annotated[int, Integer(1, 100, query=True)] = 5
    on: QueryFlag = False


@pytest.mark.parametrize("raw", ["", "+5", " 5", "5 ", "٥", "5.0", "1e3", "0x5", "9" * 30, "true"])
def test_a_query_number_is_ascii_digits(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Page.model_validate({"limit": raw})
    assert validation_message(_as_framework(caught, "query")).startswith("limit must be")


def test_a_query_flag_is_a_word() -> None:
    assert Page.model_validate({"on": "true", "limit": "7"}) == Page(on=True, limit=7)
    with pytest.raises(ValidationError) as caught:
        Page.model_validate({"on": "1"})
    assert validation_message(_as_framework(caught, "query")) == "on must be true or false"


def test_a_list_names_the_item_that_is_wrong() -> None:
    assert _refusal(options=["a", 7]).startswith("options[1] must be")


def test_unknown_and_missing_names_are_said_so() -> None:
    class Needs(Body):
        text: Annotated[str, Text(10)]
        on: Flag = True

    with pytest.raises(ValidationError) as caught:
        Needs.model_validate({})
    assert validation_message(_as_framework(caught, "body"), ["text", "on"]) == "text is required"
    with pytest.raises(ValidationError) as caught:
        Needs.model_validate({"text": "hi", "txet": 1})
    message = validation_message(_as_framework(caught, "body"), ["text", "on"])
    assert message == "unknown field 'txet' (this takes text, on)"
    errors = [{"type": "extra_forbidden", "loc": ("query", "x"), "msg": ""}]
    assert validation_message(errors, ["limit"]) == "unknown parameter 'x' (this takes limit)"
    assert (
        validation_message([{"type": "missing", "loc": ("body",), "msg": ""}])
        == "the request body must be a JSON object"
    )


def test_the_schema_says_what_is_read() -> None:
    schema = Shape.model_json_schema()["properties"]
    assert schema["text"] | {"title": ""} == {
        "type": "string",
        "maxLength": 8,
        "pattern": r"\S",
        "default": "x",
        "title": "",
    }
    assert (schema["n"]["minimum"], schema["n"]["maximum"], schema["n"]["type"]) == (0, 9, "integer")
    assert schema["options"]["minItems"] == 2
    assert schema["options"]["maxItems"] == 3
    assert schema["target"]["pattern"] == "^(0x)?[0-9a-fA-F]{64}$"
    assert schema["answer"]["enum"] == ["yes", "no"]
    assert Shape.model_json_schema()["additionalProperties"] is False


def test_parse_id_reads_hex_of_32_bytes() -> None:
    assert parse_id("0x" + HEX, "post id") == bytes.fromhex(HEX)
    for bad in ("", HEX[:-1], "٣" * 64, HEX + "\n", None):
        with pytest.raises(HttpError) as caught:
            parse_id(bad, "post id")
        assert (caught.value.status, caught.value.message) == (400, "post id must be 64 hex digits (32 bytes)")
