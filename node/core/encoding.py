"""Canonical bytes: how a message is encoded, and the strict decoder every node runs.

The envelope is a msgpack array ``[1, signed, signature]``; ``signed`` is itself a msgpack array
with a fixed field order (see ``node/spec/wire-format.md``). The signed bytes travel as they were
signed and are verified as received, never re-encoded. The decoder still insists that both layers
are in canonical form (exactly what ``msgpack.packb`` produces for the decoded value): otherwise
one message could be spelled in several byte strings with several ids.
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
_KINDS = frozenset(k.value for k in Kind)
_UNPACK_LIMITS: dict[str, int] = {
    "max_bin_len": limits.MAX_MESSAGE_BYTES,
    "max_str_len": limits.MAX_MESSAGE_BYTES,
    "max_array_len": 16,
    "max_map_len": 0,
    "max_ext_len": 0,
}


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


def _is_int(value: Any) -> bool:
    return type(value) is int and value >= 0  # bool is an int subclass: refuse it


def _bytes(value: Any, size: int, field: str) -> bytes:
    if type(value) is not bytes or len(value) != size:
        raise DecodeError(Reason.MALFORMED, f"{field} must be {size} bytes")
    return value


def _text(value: Any, limit: int, field: str) -> str:
    if type(value) is not str:
        raise DecodeError(Reason.MALFORMED, f"{field} must be a string")
    if len(value.encode("utf-8")) > limit:
        raise DecodeError(Reason.BAD_CONTENT, f"{field} is longer than {limit} bytes")
    return value


def decode(envelope: bytes) -> Message:
    """Parses an envelope, or raises ``DecodeError``. Checks form only: the signature, the
    community and the author's rights are for ``validation.validate``."""
    if len(envelope) > limits.MAX_MESSAGE_BYTES:
        raise DecodeError(Reason.OVERSIZED, f"{len(envelope)} bytes > {limits.MAX_MESSAGE_BYTES}")
    outer = _unpack(envelope, "envelope")
    if type(outer) is not list or len(outer) != 3:
        raise DecodeError(Reason.MALFORMED, "envelope must be an array [version, signed, signature]")
    version, signed, signature = outer
    if not _is_int(version):
        raise DecodeError(Reason.MALFORMED, "envelope version must be an unsigned integer")
    if version != ENVELOPE_VERSION:
        raise DecodeError(Reason.UNSUPPORTED_VERSION, f"envelope version {version}")
    if type(signed) is not bytes:
        raise DecodeError(Reason.MALFORMED, "signed part must be bytes")
    _bytes(signature, 64, "signature")
    if pack(outer) != envelope:
        raise DecodeError(Reason.NON_CANONICAL, "envelope is not in canonical msgpack form")
    return _decode_signed(signed, signature, envelope)


def _decode_signed(signed: bytes, signature: bytes, envelope: bytes) -> Message:
    fields = _unpack(signed, "signed part")
    if type(fields) is not list or len(fields) != 8:
        raise DecodeError(Reason.MALFORMED, "signed part must be an array of 8 fields")
    version, chain_id, contract, kind, author, timestamp, room, payload = fields
    if not _is_int(version):
        raise DecodeError(Reason.MALFORMED, "protocol version must be an unsigned integer")
    if version != limits.PROTOCOL_VERSION:
        raise DecodeError(Reason.UNSUPPORTED_VERSION, f"protocol version {version}")
    if not _is_int(chain_id) or not _is_int(timestamp):
        raise DecodeError(Reason.MALFORMED, "chain id and timestamp must be unsigned integers")
    if not _is_int(kind) or kind not in _KINDS:
        raise DecodeError(Reason.MALFORMED, f"unknown message kind {kind!r}")
    community = Community(chain_id, _bytes(contract, 20, "community contract"))
    key = AppKey(_bytes(author, 32, "author key"))
    room_name = _text(room, limits.MAX_ROOM_BYTES, "room")
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
