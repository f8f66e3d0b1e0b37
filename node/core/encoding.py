"""Canonical bytes: how a message is encoded, and the strict decoder every node runs.

The envelope is a msgpack array ``[1, signed, signature]``; ``signed`` is itself a msgpack array
with a fixed field order (see ``node/spec/wire-format.md``). The signed bytes travel as they were
signed and are verified as received, never re-encoded. The decoder still insists that both layers
are in canonical form (exactly what ``msgpack.packb`` produces for the decoded value): otherwise
one message could be spelled in several byte strings with several ids.

Each layer's version (its first item) is read before anything else of that layer: a version
above 1 is ``unsupported_version`` whatever follows it, since a newer peer's message is not
malformed by the rules of version 1 (spec section 5, steps 2 to 9).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgpack

from node.core import limits, payloads
from node.core.errors import DecodeError
from node.core.types import (
    AppKey,
    Body,
    Community,
    Kind,
    Message,
    MessageId,
)
from node.core.verdict import Reason

ENVELOPE_VERSION = 1
#: What a sealed message may carry inside (spec section 11).
SEALABLE = frozenset({Kind.POST, Kind.REACTION})
_KINDS = frozenset(k.value for k in Kind)
#: What a version-1 message may hold: no maps, no extension types, no array longer than the
#: longest one a payload allows (a room key's recipients).
_UNPACK_LIMITS: dict[str, int] = {
    "max_bin_len": limits.MAX_MESSAGE_BYTES,
    "max_str_len": limits.MAX_MESSAGE_BYTES,
    "max_array_len": limits.MAX_ROOM_PARTICIPANTS,
    "max_map_len": 0,
    "max_ext_len": 0,
}
_HEX_DIGITS = frozenset("0123456789abcdef")


def message_id(signed: bytes) -> MessageId:
    return MessageId(hashlib.sha256(signed).digest())


def pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def encode_body(
    community: Community,
    kind: Kind,
    author: AppKey,
    timestamp_ms: int,
    room: str,
    body: Body,
    version: int = limits.PROTOCOL_VERSION,
) -> bytes:
    """The signed bytes of a message."""
    return pack(
        [version, community.chain_id, community.contract, int(kind), author, timestamp_ms, room, payloads.encode(body)]
    )


def encode_envelope(signed: bytes, signature: bytes) -> bytes:
    return pack([ENVELOPE_VERSION, signed, signature])


def _unpack(data: bytes, what: str) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, **_UNPACK_LIMITS)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise DecodeError(Reason.MALFORMED, f"{what} is not valid msgpack: {type(exc).__name__}") from None


def _version(data: bytes, what: str, supported: int) -> None:
    """Reads the first item of the array ``data`` starts with, and nothing after it: a version
    above ``supported`` is ``unsupported_version`` (a newer peer, not a faulty one) before any
    rule of this version applies to the rest; anything else than an integer >= 1 is malformed."""
    version = peek_version(data)
    if version is None or version < 1:
        raise DecodeError(Reason.MALFORMED, f"{what} must be an array starting with its version (an integer >= 1)")
    if version != supported:
        raise DecodeError(Reason.UNSUPPORTED_VERSION, f"{what} version {version}")


#: msgpack's array headers: the byte, and how many bytes of length follow it.
_ARRAY_HEADERS = {0xDC: 2, 0xDD: 4}
#: msgpack's integer formats after the fixints: the byte, the width of the value, and its sign.
_INT_FORMATS = {0xCC: (1, False), 0xCD: (2, False), 0xCE: (4, False), 0xCF: (8, False)}
_INT_FORMATS |= {0xD0: (1, True), 0xD1: (2, True), 0xD2: (4, True), 0xD3: (8, True)}


def peek_version(data: bytes) -> int | None:
    """The integer that opens the msgpack array ``data`` starts with, read from its first bytes
    alone (every message is checked this way twice, so no unpacker is built for it); None if
    ``data`` does not start with a non-empty array whose first item is an integer."""
    if not data:
        return None
    head = data[0]
    if 0x91 <= head <= 0x9F:  # a fixarray of 1 to 15 items
        at = 1
    elif head in _ARRAY_HEADERS:
        width = _ARRAY_HEADERS[head]
        if len(data) < 1 + width or int.from_bytes(data[1 : 1 + width], "big") == 0:
            return None
        at = 1 + width
    else:
        return None
    if len(data) <= at:
        return None
    first = data[at]
    if first <= 0x7F:  # a positive fixint
        return first
    if first >= 0xE0:  # a negative fixint
        return first - 0x100
    if first not in _INT_FORMATS:
        return None
    width, signed = _INT_FORMATS[first]
    if len(data) < at + 1 + width:
        return None
    return int.from_bytes(data[at + 1 : at + 1 + width], "big", signed=signed)


def _is_int(value: Any) -> bool:
    return type(value) is int and value >= 0  # bool is an int subclass: refuse it


def _bytes(value: Any, size: int, field: str) -> bytes:
    if type(value) is not bytes or len(value) != size:
        raise DecodeError(Reason.MALFORMED, f"{field} must be {size} bytes")
    return value


def _room(value: Any) -> str:
    """The header room: "" (the general room) or a room's id, 64 lowercase hex digits."""
    if type(value) is not str or (value and (len(value) != 64 or not _HEX_DIGITS.issuperset(value))):
        raise DecodeError(Reason.MALFORMED, 'the header room must be "" or a room id (64 lowercase hex digits)')
    return value


def decode(envelope: bytes) -> Message:
    """Parses an envelope, or raises ``DecodeError``. Checks form only: the signature, the
    community and the author's rights are for ``validation.validate``. The order of the checks is
    the spec's (section 5, steps 1 to 9)."""
    if len(envelope) > limits.MAX_MESSAGE_BYTES:
        raise DecodeError(Reason.OVERSIZED, f"{len(envelope)} bytes > {limits.MAX_MESSAGE_BYTES}")
    parts = _canonical_envelope(envelope)
    if parts is not None:
        return _decode_signed(*parts, envelope)
    _version(envelope, "envelope", ENVELOPE_VERSION)
    outer = _unpack(envelope, "envelope")
    if type(outer) is not list or len(outer) != 3:
        raise DecodeError(Reason.MALFORMED, "envelope must be an array [version, signed, signature]")
    _, signed, signature = outer
    if type(signed) is not bytes:
        raise DecodeError(Reason.MALFORMED, "signed part must be bytes")
    _bytes(signature, 64, "signature")
    if pack(outer) != envelope:
        raise DecodeError(Reason.NON_CANONICAL, "envelope is not in canonical msgpack form")
    return _decode_signed(signed, signature, envelope)


#: msgpack's bin headers: the byte, the width of the length after it, and the least length that
#: canonical msgpack writes with it (it always takes the shortest form).
_BIN_HEADERS = {0xC4: (1, 0), 0xC5: (2, 1 << 8), 0xC6: (4, 1 << 16)}
#: A fixarray of three items, then the envelope version as a positive fixint.
_ENVELOPE_HEAD = bytes([0x93, ENVELOPE_VERSION])


def _canonical_envelope(envelope: bytes) -> tuple[bytes, bytes] | None:
    """(signed, signature) if ``envelope`` is byte for byte what ``encode_envelope`` makes of
    them, else None. Read from the bytes alone: the outer layer of every message is the same
    three items, so this saves an unpack and a pack per message; anything else takes the full
    path, with its error messages."""
    if envelope[:2] != _ENVELOPE_HEAD or len(envelope) < 4:
        return None
    width, shortest = _BIN_HEADERS.get(envelope[2], (0, 0))
    size = int.from_bytes(envelope[3 : 3 + width], "big")
    start = 3 + width
    if not width or size < shortest or len(envelope) != start + size + 66:
        return None
    if envelope[start + size : start + size + 2] != b"\xc4\x40":
        return None
    return envelope[start : start + size], envelope[start + size + 2 :]


def _decode_signed(signed: bytes, signature: bytes, envelope: bytes) -> Message:
    _version(signed, "protocol", limits.PROTOCOL_VERSION)
    fields = _unpack(signed, "signed part")
    if type(fields) is not list or len(fields) != 8:
        raise DecodeError(Reason.MALFORMED, "signed part must be an array of 8 fields")
    version, chain_id, contract, kind, author, timestamp, room, payload = fields
    if not _is_int(chain_id) or not _is_int(timestamp):
        raise DecodeError(Reason.MALFORMED, "chain id and timestamp must be unsigned integers")
    if not _is_int(kind) or kind not in _KINDS:
        raise DecodeError(Reason.MALFORMED, f"unknown message kind {kind!r}")
    community = Community(chain_id, _bytes(contract, 20, "community contract"))
    key = AppKey(_bytes(author, 32, "author key"))
    room_name = _room(room)
    body = payloads.decode(Kind(kind), payload)
    if pack(fields) != signed:
        raise DecodeError(Reason.NON_CANONICAL, "signed part is not in canonical msgpack form")
    return Message(
        id=message_id(signed),
        version=version,
        community=community,
        kind=Kind(kind),
        author=key,
        timestamp_ms=timestamp,
        room=room_name,
        body=body,
        signed=signed,
        signature=signature,
        envelope=envelope,
    )


def encode_plaintext(kind: Kind, body: Body) -> bytes:
    """What a sealed message encrypts: msgpack ``[kind, payload]``, canonical."""
    return pack([int(kind), payloads.encode(body)])


def decode_plaintext(plaintext: bytes) -> tuple[Kind, Body]:
    """The kind and body inside an opened sealed message, or ``DecodeError``. The same rules as
    for a plain post or reaction, canonical form included, so that every reader shows the same
    content or none."""
    value = _unpack(plaintext, "sealed plaintext")
    if type(value) is not list or len(value) != 2 or not _is_int(value[0]) or value[0] not in SEALABLE:
        raise DecodeError(Reason.MALFORMED, "a sealed plaintext is [kind, payload] of a post or a reaction")
    body = payloads.decode(Kind(value[0]), value[1])
    if pack(value) != plaintext:
        raise DecodeError(Reason.NON_CANONICAL, "sealed plaintext is not in canonical msgpack form")
    return Kind(value[0]), body
