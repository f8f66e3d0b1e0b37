"""The version peek reads a message's first bytes by hand; an unpacker reading only the first
item of the array must always agree with it, whatever the bytes."""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.core.encoding import pack, peek_version

LIMITS = dict.fromkeys(["max_bin_len", "max_str_len", "max_array_len", "max_map_len", "max_ext_len"], 0)


def unpacker_version(data: bytes) -> int | None:
    """The reference: msgpack's own unpacker, reading the array header and one plain item."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=True, max_buffer_size=max(len(data), 1), **LIMITS)
    unpacker.feed(data)
    first: Any = None
    with contextlib.suppress(ValueError, TypeError, msgpack.OutOfData, msgpack.FormatError, msgpack.StackError):
        first = unpacker.unpack() if unpacker.read_array_header() else None
    return first if type(first) is int else None


ITEMS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.lists(st.integers(min_value=0, max_value=2**32), max_size=2),
)


@settings(max_examples=2000)
@given(st.lists(ITEMS, max_size=20))
def test_the_peek_agrees_with_the_unpacker_on_arrays(items: list[Any]) -> None:
    data = pack(items)
    assert peek_version(data) == unpacker_version(data)


@settings(max_examples=3000)
@given(st.binary(max_size=12))
def test_the_peek_agrees_with_the_unpacker_on_any_bytes(data: bytes) -> None:
    assert peek_version(data) == unpacker_version(data)


@pytest.mark.parametrize(
    "data",
    [
        b"\xdc\x00\x01\x05",  # array 16 of one item
        b"\xdd\x00\x00\x00\x01\xcd\x01\x00",  # array 32, uint 16
        b"\x91\xd0\x01",  # a non-canonical int 8 (the canonical check refuses it later)
        b"\x91\xd3" + (-5).to_bytes(8, "big", signed=True),
        b"\x93\xcf" + (2**64 - 1).to_bytes(8, "big"),
        b"\xdc\x00\x00\x01",  # an empty array 16 followed by an integer
        b"\x91\xcd\x01",  # truncated
    ],
)
def test_the_other_array_and_integer_formats(data: bytes) -> None:
    assert peek_version(data) == unpacker_version(data)
