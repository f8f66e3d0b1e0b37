"""kiez's stream framing over a fake py-libp2p stream: one implementation for sync and blobs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import trio
from libp2p.abc import INetStream
from libp2p.network.stream.exceptions import StreamEOF, StreamReset
from libp2p.peer.id import ID

from node.p2p import BadFrame, Stream, StreamFailed
from node.p2p.identity import key_pair_from_seed
from node.p2p.streams import frame


@dataclass
class FakeConn:
    peer_id: ID = field(default_factory=lambda: ID.from_pubkey(key_pair_from_seed(os.urandom(32)).public_key))


@dataclass
class FakeStream:
    """Hands out ``incoming`` in reads of at most ``chunk`` bytes, then EOF (or ``fail``)."""

    incoming: bytes = b""
    chunk: int = 3
    fail: Exception | None = None
    written: list[bytes] = field(default_factory=list)
    muxed_conn: FakeConn = field(default_factory=FakeConn)

    async def read(self, n: int = -1) -> bytes:
        await trio.lowlevel.checkpoint()
        if not self.incoming:
            raise self.fail or StreamEOF()
        piece, self.incoming = self.incoming[: min(n, self.chunk)], self.incoming[min(n, self.chunk) :]
        return piece

    async def write(self, data: bytes) -> None:
        await trio.lowlevel.checkpoint()
        if self.fail is not None:
            raise self.fail
        self.written.append(data)

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()
        if self.fail is not None:
            raise self.fail


def stream(fake: FakeStream) -> Stream:
    return Stream(cast(INetStream, fake))


def run(coroutine: Any) -> Any:
    async def main() -> Any:
        return await coroutine

    return trio.run(main)


def test_frames_round_trip_in_any_read_sizes_and_end_cleanly_between_frames() -> None:
    fake = FakeStream(frame(b"hello") + frame(b"") + frame(b"x" * 100))
    s = stream(fake)
    assert run(s.read_frame(100)) == b"hello"
    assert run(s.read_frame(100)) == b""
    assert run(s.read_frame(100)) == b"x" * 100
    assert run(s.read_frame(100)) is None
    assert s.bytes_received == 3 * 4 + 105
    run(s.write_frame(b"abc"))
    assert fake.written == [b"\x00\x00\x00\x03abc"]  # one write per frame
    assert s.bytes_sent == 7
    assert s.peer_id == fake.muxed_conn.peer_id.to_base58()


def test_a_frame_over_the_limit_is_refused_on_its_header() -> None:
    s = stream(FakeStream(frame(b"x" * 11)))
    with pytest.raises(BadFrame, match=r"frame of 11 bytes \(limit 10\)"):
        run(s.read_frame(10))


def test_a_stream_ending_inside_a_frame_is_a_bad_frame() -> None:
    s = stream(FakeStream(frame(b"hello")[:6]))
    with pytest.raises(BadFrame, match="in the middle of a frame"):
        run(s.read_frame(100))


def test_py_libp2p_stream_errors_become_stream_failed_and_close_swallows_them() -> None:
    s = stream(FakeStream(b"", fail=StreamReset("reset by peer")))
    with pytest.raises(StreamFailed) as failed:
        run(s.read_frame(100))
    assert failed.value.reason == "StreamReset: reset by peer"
    with pytest.raises(StreamFailed):
        run(s.write_frame(b"x"))
    run(s.close(1.0))  # nothing left to tell the peer: not an error
