"""The bytes of the sync protocol (``/kiez/sync/1``): frames, their limits, a strict decoder.

A sync stream carries length-prefixed frames: 4 bytes big-endian length, then msgpack:

    TURN      [1, ranges, want]     ranges: [[ts, bound, mode, payload], ...]
                                    payload: SKIP nil | FINGERPRINT [fp(16), count] | ID_LIST ids
                                    ids and want: concatenated 16-byte id prefixes (one bin)
    MESSAGES  [2, [envelope, ...]]  message envelopes, exactly as gossiped

Everything a peer sends is bounded (frame size, ranges and ids per turn, envelopes per frame),
so a peer cannot make a node hold more than one frame in memory at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack

from node.core import limits
from node.core.errors import SyncProtocolError
from node.core.reconcile import FINGERPRINT, ID_LIST, ID_PREFIX, MAX_RANGES, SKIP, Range

PROTOCOL = "/kiez/sync/1.0.0"
TURN = 1
MESSAGES = 2
MAX_FRAME = 2 * 1024 * 1024
MAX_IDS = 65536
MAX_ENVELOPES = 2048
#: Envelopes are sent in frames of about this many bytes.
MESSAGES_FRAME_TARGET = 256 * 1024


def pack(value: Any) -> bytes:
    data: bytes = msgpack.packb(value, use_bin_type=True)
    if len(data) > MAX_FRAME:
        raise SyncProtocolError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    return len(data).to_bytes(4, "big") + data


def turn_frame(ranges: Sequence[Range], want: Sequence[bytes]) -> bytes:
    encoded = []
    for r in ranges:
        ts, bound = r.upper
        if r.mode == SKIP:
            payload: Any = None
        elif r.mode == FINGERPRINT:
            payload = [r.fingerprint, r.count]
        else:
            payload = b"".join(r.ids)
        encoded.append([ts, bound, r.mode, payload])
    return pack([TURN, encoded, b"".join(w[:ID_PREFIX] for w in want)])


def messages_frames(envelopes: Sequence[bytes]) -> list[bytes]:
    """Envelopes split into frames of about ``MESSAGES_FRAME_TARGET`` bytes."""
    frames: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for envelope in envelopes:
        if batch and (size + len(envelope) > MESSAGES_FRAME_TARGET or len(batch) >= MAX_ENVELOPES):
            frames.append(pack([MESSAGES, batch]))
            batch, size = [], 0
        batch.append(envelope)
        size += len(envelope)
    if batch:
        frames.append(pack([MESSAGES, batch]))
    return frames


def frame_length(header: bytes) -> int:
    size = int.from_bytes(header, "big")
    if size > MAX_FRAME:
        raise SyncProtocolError(f"peer announced a frame of {size} bytes (limit {MAX_FRAME})")
    return size


def decode(body: bytes) -> tuple[int, Any]:
    """(frame type, contents) of one frame body; ``SyncProtocolError`` if malformed."""
    try:
        value = msgpack.unpackb(body, raw=False, strict_map_key=True, max_map_len=0, max_ext_len=0)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise SyncProtocolError(f"frame is not msgpack: {type(exc).__name__}") from None
    if type(value) is not list or not value or type(value[0]) is not int:
        raise SyncProtocolError("frame must be an array starting with its type")
    if value[0] == TURN and len(value) == 3:
        return TURN, (_ranges(value[1]), _ids(value[2], "want"))
    if value[0] == MESSAGES and len(value) == 2:
        envelopes = value[1]
        if type(envelopes) is not list or len(envelopes) > MAX_ENVELOPES:
            raise SyncProtocolError(f"MESSAGES must hold a list of at most {MAX_ENVELOPES} envelopes")
        if any(type(e) is not bytes or len(e) > limits.MAX_MESSAGE_BYTES for e in envelopes):
            raise SyncProtocolError("every envelope must be bytes within the message size limit")
        return MESSAGES, envelopes
    raise SyncProtocolError(f"unknown frame type {value[0]!r}")


def _ids(value: Any, what: str) -> list[bytes]:
    if type(value) is not bytes or len(value) % ID_PREFIX or len(value) // ID_PREFIX > MAX_IDS:
        raise SyncProtocolError(f"{what} must be at most {MAX_IDS} concatenated {ID_PREFIX}-byte ids")
    return [value[i : i + ID_PREFIX] for i in range(0, len(value), ID_PREFIX)]


def _ranges(value: Any) -> list[Range]:
    if type(value) is not list or len(value) > MAX_RANGES:
        raise SyncProtocolError(f"a turn carries a list of at most {MAX_RANGES} ranges")
    out: list[Range] = []
    previous = (-1, b"")
    for item in value:
        if type(item) is not list or len(item) != 4:
            raise SyncProtocolError("a range is [timestamp, bound, mode, payload]")
        ts, bound, mode, payload = item
        if type(ts) is not int or ts < 0 or type(bound) is not bytes or len(bound) > 32:
            raise SyncProtocolError("a range bound is [timestamp, id prefix]")
        if (ts, bound) <= previous:
            raise SyncProtocolError("range bounds must increase")
        previous = (ts, bound)
        if mode == SKIP and payload is None:
            out.append(Range((ts, bound), SKIP))
        elif mode == FINGERPRINT and type(payload) is list and len(payload) == 2:
            fingerprint, count = payload
            if type(fingerprint) is not bytes or len(fingerprint) != 16 or type(count) is not int or count < 0:
                raise SyncProtocolError("a fingerprint range carries [16 bytes, count]")
            out.append(Range((ts, bound), FINGERPRINT, fingerprint, count))
        elif mode == ID_LIST:
            out.append(Range((ts, bound), ID_LIST, ids=tuple(_ids(payload, "an id list"))))
        else:
            raise SyncProtocolError(f"unknown range mode {mode!r}")
    return out
