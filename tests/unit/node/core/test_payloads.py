"""Payload rules a second implementation must reproduce exactly: what "non-blank" means, and
which fault gets ``malformed`` and which ``bad_content``."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest

from node.core import payloads
from node.core.errors import DecodeError
from node.core.types import Kind
from node.core.verdict import Reason

ID = b"\x07" * 32
#: Each alone is blank: White_Space (U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A,
#: U+2028, U+2029, U+202F, U+205F, U+3000), or a control (Cc) or format (Cf) character.
BLANK = [
    "",
    " ",
    "\t\n\r\x0b\x0c",
    "\x1c\x1d\x1e\x1f",  # Cc, and str.strip() also strips them
    "\ufeff",  # Cf: JavaScript's trim() strips it, str.strip() does not
    "\u200b",  # ZERO WIDTH SPACE, Cf: neither strips it
    "\u00a0",  # NO-BREAK SPACE
    "\u3000",  # IDEOGRAPHIC SPACE
    "\u0085\u1680\u2000\u200a\u2028\u2029\u202f\u205f",
    "\x00\x7f\x9f",  # Cc
    "\u00ad\u200c\u200d\u200e\u2060\u2066\u206f",  # Cf (soft hyphen, joiners, marks, isolates)
    "\U000e0001\U000e0020",  # Cf: language tag, tag space
    " \ufeff\u200b\u00a0\u3000\x1c ",
]
NOT_BLANK = ["x", " x ", "\ufeffx", "❤️", "\ufe0f", "\u0301", "\u3164", "\u2800", "\U0001f527", "\ue000", "\U000e0100"]


@pytest.mark.parametrize("text", BLANK)
def test_blank_text(text: str) -> None:
    assert payloads.is_blank(text)


@pytest.mark.parametrize("text", NOT_BLANK)
def test_text_that_is_not_blank(text: str) -> None:
    """A combining mark, a variation selector, a Hangul filler, a Braille blank, a private-use
    character: none is White_Space, Cc or Cf, so each counts, visible or not."""
    assert not payloads.is_blank(text)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (Kind.POST, ["\ufeff", None]),
        (Kind.REACTION, [ID, "\u200b", True]),
        (Kind.ROOM, ["\u3000", "", 0, False, 0]),
        (Kind.EVENT, ["\u00a0", 1, 2, ""]),
        (Kind.POLL, ["\x1c\x1d", ["a", "b"], 5]),
        (Kind.POLL, ["Which?", ["a", "\ufeff"], 5]),
    ],
    ids=["post", "reaction", "room-name", "event-title", "poll-question", "poll-option"],
)
def test_blank_where_text_is_required_is_bad_content(kind: Kind, payload: list[Any]) -> None:
    with pytest.raises(DecodeError) as caught:
        payloads.decode(kind, payload)
    assert caught.value.reason is Reason.BAD_CONTENT


@pytest.mark.parametrize(
    ("kind", "payload"),
    [(Kind.ROOM, ["name", "\u3000", 0, False, 0]), (Kind.EVENT, ["title", 1, 2, "\u200b"])],
    ids=["room-topic", "event-place"],
)
def test_a_topic_and_a_place_may_be_blank(kind: Kind, payload: list[Any]) -> None:
    payloads.decode(kind, payload)


M, B = Reason.MALFORMED, Reason.BAD_CONTENT


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        (Kind.POLL, ["Which?", "a, b", 5], M),
        (Kind.POLL, ["Which?", None, 5], M),
        (Kind.ROOM_KEY, [b"recipients"], M),
        (Kind.ROOM_KEY, [None], M),
        (Kind.POLL, ["Which?", ["a"], 5], B),
        (Kind.POLL, ["Which?", [str(i) for i in range(11)], 5], B),
        (Kind.ROOM_KEY, [[]], B),
    ],
    ids=[
        "poll-options-a-string",
        "poll-options-nil",
        "recipients-bytes",
        "recipients-nil",
        "poll-one-option",
        "poll-eleven-options",
        "room-key-nobody",
    ],
)
def test_a_list_of_the_wrong_type_is_malformed_of_the_wrong_length_bad_content(
    kind: Kind, payload: list[Any], reason: Reason
) -> None:
    with pytest.raises(DecodeError) as caught:
        payloads.decode(kind, payload)
    assert caught.value.reason is reason


#: Unicode's White_Space property (PropList.txt; unchanged since Unicode 6.3).
WHITE_SPACE = {*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F}
WHITE_SPACE.add(0x3000)


def test_the_blank_table_is_white_space_controls_and_format_characters() -> None:
    table = {c for low, high in payloads.BLANK_RANGES for c in range(low, high + 1)}
    by_category = {c for c in range(0x110000) if unicodedata.category(chr(c)) in {"Cc", "Cf"}}
    assert table >= WHITE_SPACE
    assert all(unicodedata.category(chr(c)) in {"Cc", "Cf"} for c in table - WHITE_SPACE)
    if unicodedata.unidata_version == "14.0.0":  # the version the table is frozen at
        assert table == WHITE_SPACE | by_category


def test_the_spec_lists_the_same_blank_ranges() -> None:
    spec = (Path(__file__).resolve().parents[4] / "node" / "spec" / "wire-format.md").read_text(encoding="utf-8")
    block = spec.split("### Blank text", 1)[1].split("```", 2)[1]
    listed = [tuple(int(end, 16) for end in (item.split("-") * 2)[:2]) for item in block.split()]
    assert tuple(listed) == payloads.BLANK_RANGES
