from __future__ import annotations

import msgpack
import pytest

from node.core import limits
from node.core.encoding import decode, encode_body, encode_envelope, message_id, pack
from node.core.errors import DecodeError
from node.core.types import AppKey, DeleteBody, Kind, MessageId, PostBody, ReactionBody, RoomKeyBody
from node.core.verdict import Reason

from .helpers import COMMUNITY, NOW_MS, envelope, signer

PARENT = MessageId(b"\x07" * 32)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (Kind.POST, PostBody("hello, Kiez")),
        (Kind.POST, PostBody("a reply", PARENT)),
        (Kind.REACTION, ReactionBody(PARENT, "👍")),
        (Kind.REACTION, ReactionBody(PARENT, "👍", active=False)),
        (Kind.DELETE, DeleteBody(PARENT)),
    ],
)
def test_round_trip(kind: Kind, body: PostBody | ReactionBody | DeleteBody) -> None:
    data = envelope("alice", kind, body)
    message = decode(data)
    assert (message.kind, message.body, message.timestamp_ms, message.room) == (kind, body, NOW_MS, "")
    assert message.community == COMMUNITY
    assert message.author == signer("alice").public_key
    assert message.envelope == data
    assert message.id == message_id(message.signed)


def _raw(fields: list[object], signature: bytes = b"\x01" * 64) -> bytes:
    return encode_envelope(pack(fields), signature)


GOOD_FIELDS: list[object] = [1, 31337, COMMUNITY.contract, 1, b"\x02" * 32, NOW_MS, "", ["hi", None]]


def _with(index: int, value: object) -> list[object]:
    fields = list(GOOD_FIELDS)
    fields[index] = value
    return fields


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", Reason.MALFORMED),
        (b"\xc1", Reason.MALFORMED),  # a byte msgpack never uses
        (b"\x93\x01", Reason.MALFORMED),  # truncated
        (pack([1, b"x"]), Reason.MALFORMED),
        (pack({"a": 1}), Reason.MALFORMED),
        (pack([2, pack(GOOD_FIELDS), b"\x01" * 64]), Reason.UNSUPPORTED_VERSION),
        (pack([True, pack(GOOD_FIELDS), b"\x01" * 64]), Reason.MALFORMED),
        (pack([1, pack(GOOD_FIELDS), b"\x01" * 63]), Reason.MALFORMED),
        (pack([1, "text", b"\x01" * 64]), Reason.MALFORMED),
        (_raw(_with(0, 2)), Reason.UNSUPPORTED_VERSION),
        (_raw(_with(1, -1)), Reason.MALFORMED),
        (_raw(_with(1, "31337")), Reason.MALFORMED),
        (_raw(_with(2, b"\x00" * 19)), Reason.MALFORMED),
        (_raw(_with(3, 9)), Reason.MALFORMED),
        (_raw(_with(3, True)), Reason.MALFORMED),
        (_raw(_with(4, "key")), Reason.MALFORMED),
        (_raw(_with(5, 1.5)), Reason.MALFORMED),
        (_raw(_with(6, None)), Reason.MALFORMED),
        (_raw(_with(6, "r" * (limits.MAX_ROOM_BYTES + 1))), Reason.MALFORMED),
        (_raw(_with(7, ["hi"])), Reason.MALFORMED),
        (_raw(_with(7, [b"hi", None])), Reason.MALFORMED),
        (_raw(_with(7, ["   ", None])), Reason.BAD_CONTENT),
        (_raw(_with(7, ["hi", b"short"])), Reason.MALFORMED),
        (_raw(_with(7, ["x" * (limits.MAX_TEXT_BYTES + 1), None])), Reason.BAD_CONTENT),
        (_raw([*GOOD_FIELDS, "extra"]), Reason.MALFORMED),
        (_raw(_with(3, 2)), Reason.MALFORMED),  # a reaction with a post's payload
        (b"\xff" * (limits.MAX_MESSAGE_BYTES + 1), Reason.OVERSIZED),
    ],
)
def test_decode_refuses_with_a_reason(data: bytes, reason: Reason) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(data)
    assert caught.value.reason is reason


def test_non_canonical_integer_is_refused() -> None:
    signed = pack(GOOD_FIELDS)
    # 31337 is canonically a uint16 (0xcd 7a 69); spell it as uint32 instead.
    longer = signed.replace(b"\xcd\x7a\x69", b"\xce\x00\x00\x7a\x69", 1)
    assert msgpack.unpackb(longer) == msgpack.unpackb(signed)
    with pytest.raises(DecodeError) as caught:
        decode(encode_envelope(longer, b"\x01" * 64))
    assert caught.value.reason is Reason.NON_CANONICAL


def test_non_canonical_envelope_is_refused() -> None:
    good = encode_envelope(pack(GOOD_FIELDS), b"\x01" * 64)
    # envelope version 1 as a uint8 (0xcc 01) instead of a positive fixint
    bad = good[:1] + b"\xcc\x01" + good[2:]
    with pytest.raises(DecodeError) as caught:
        decode(bad)
    assert caught.value.reason is Reason.NON_CANONICAL


@pytest.mark.parametrize("header", [b"\xc5\x00", b"\xc6\x00\x00\x00"])
def test_signed_bytes_in_a_longer_bin_form_than_needed_are_non_canonical(header: bytes) -> None:
    # the envelope's layout is read from its bytes (no unpacking): a bin16 or bin32 length for
    # signed bytes that fit bin8 must still be refused, as msgpack would never write it
    signed = pack(GOOD_FIELDS)
    bad = b"\x93\x01" + header[:1] + header[1:] + bytes([len(signed)]) + signed + b"\xc4\x40" + b"\x01" * 64
    with pytest.raises(DecodeError) as caught:
        decode(bad)
    assert caught.value.reason is Reason.NON_CANONICAL
    assert decode(encode_envelope(signed, b"\x01" * 64)).signed == signed


def test_invalid_utf8_is_malformed() -> None:
    signed = pack(GOOD_FIELDS).replace(b"\xa2hi", b"\xa2\xff\xfe")
    with pytest.raises(DecodeError) as caught:
        decode(encode_envelope(signed, b"\x01" * 64))
    assert caught.value.reason is Reason.MALFORMED


def test_encode_body_field_order_is_the_spec() -> None:
    body = encode_body(COMMUNITY, Kind.POST, AppKey(b"\x02" * 32), NOW_MS, "", PostBody("hi"))
    assert body == pack(GOOD_FIELDS)


SIGNATURE = b"\x01" * 64


@pytest.mark.parametrize(
    "data",
    [
        pack([2, "str", SIGNATURE]),  # what version 2 carries is not version 1's business
        pack([2, pack(GOOD_FIELDS), SIGNATURE, "a fourth item"]),
        pack([2]),
        pack([2, {"a map": 1}]),
        pack([2**64 - 1, b""]),
        pack([2]) + b"\xc1",  # nothing after the version is read
        _raw([2, *GOOD_FIELDS[1:], "a ninth field"]),
        _raw([2]),
        _raw([2, {"a map": 1}]),
    ],
    ids=[
        "env-v2-str",
        "env-v2-4-items",
        "env-v2-alone",
        "env-v2-map",
        "env-max-version",
        "env-v2-trailing",
        "proto-v2-9-fields",
        "proto-v2-alone",
        "proto-v2-map",
    ],
)
def test_a_newer_version_is_unsupported_whatever_it_carries(data: bytes) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(data)
    assert caught.value.reason is Reason.UNSUPPORTED_VERSION


@pytest.mark.parametrize(
    "data",
    [
        pack([]),
        pack([0, pack(GOOD_FIELDS), SIGNATURE]),
        pack(["1", pack(GOOD_FIELDS), SIGNATURE]),
        pack([[1], pack(GOOD_FIELDS), SIGNATURE]),
        pack([1, pack(GOOD_FIELDS), SIGNATURE]) + b"\x00",  # trailing bytes after a version-1 envelope
        _raw([]),
        _raw(_with(0, 0)),
        _raw(_with(0, True)),
        _raw(_with(0, -1)),
    ],
)
def test_a_version_that_never_existed_is_malformed(data: bytes) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(data)
    assert caught.value.reason is Reason.MALFORMED


ROOM_ID = "ab" * 32


@pytest.mark.parametrize("room", ["", ROOM_ID, "0123456789abcdef" * 4])
def test_a_header_room_is_empty_or_a_room_id(room: str) -> None:
    assert decode(_raw(_with(6, room))).room == room


@pytest.mark.parametrize(
    "room", ["general", ROOM_ID.upper(), ROOM_ID[:-1], ROOM_ID + "0", "0x" + ROOM_ID[2:], "ab" * 31 + "g0", " " * 64]
)
def test_any_other_header_room_is_malformed(room: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(_raw(_with(6, room)))
    assert caught.value.reason is Reason.MALFORMED


@pytest.mark.parametrize("count", [1, 17, limits.MAX_ROOM_PARTICIPANTS])
def test_a_room_key_reaches_up_to_its_participant_limit(count: int) -> None:
    recipients = [[bytes([i]) * 32, b"\x02" * 32, b"\x03" * 48] for i in range(count)]
    message = decode(_raw([*GOOD_FIELDS[:3], int(Kind.ROOM_KEY), *GOOD_FIELDS[4:6], ROOM_ID, [recipients]]))
    assert isinstance(message.body, RoomKeyBody)
    assert len(message.body.recipients) == count
