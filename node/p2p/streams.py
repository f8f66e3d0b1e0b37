"""kiez's own stream to a peer: length-prefixed frames with a size limit, py-libp2p kept inside.

Every kiez request/response protocol (sync, blobs) speaks the same framing on a libp2p stream:

    frame = 4-byte big-endian length + body

``P2PHost.open_stream`` and ``P2PHost.set_stream_handler`` hand out a ``Stream``; nothing outside
``node.p2p`` sees py-libp2p's stream or its exceptions. Reads are buffered, so one frame is in
memory at a time and the limit is checked on the announced length before the body is read.
Failures of the underlying stream (reset, closed, any py-libp2p ``StreamError``) become
``StreamFailed``; a frame over the limit, or cut off by the end of the stream, is ``BadFrame``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import trio
from libp2p.abc import INetStream
from libp2p.network.stream.exceptions import StreamEOF, StreamError

from node.p2p.errors import BadFrame, StreamFailed

#: Bytes of the length prefix in front of every frame.
HEADER_BYTES = 4
_READ_CHUNK = 64 * 1024

StreamHandler = Callable[["Stream"], Awaitable[None]]


def frame(body: bytes) -> bytes:
    """``body`` with its length prefix, as ``Stream.write_frame`` sends it."""
    return len(body).to_bytes(HEADER_BYTES, "big") + body


class Stream:
    """One stream to one peer for one protocol. Created by ``P2PHost`` only."""

    def __init__(self, stream: INetStream) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self.peer_id: str = stream.muxed_conn.peer_id.to_base58()
        #: Bytes written and read as frames, length prefixes included.
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def raw(self) -> INetStream:
        """py-libp2p's stream, for ``node.p2p`` code that needs its connection."""
        return self._stream

    async def write_frame(self, body: bytes) -> None:
        """Send ``body`` as one frame (one write on the stream)."""
        data = frame(body)
        try:
            await self._stream.write(data)
        except StreamError as error:
            raise self._failed(error) from error
        self.bytes_sent += len(data)

    async def read_frame(self, limit: int) -> bytes | None:
        """The next frame's body, or None when the peer closed the stream between frames.

        ``BadFrame`` if the peer announces more than ``limit`` bytes or closes inside a frame.
        """
        header = await self._read_exactly(HEADER_BYTES)
        if header is None:
            return None
        size = int.from_bytes(header, "big")
        if size > limit:
            raise BadFrame(self.peer_id, f"peer announced a frame of {size} bytes (limit {limit})")
        body = await self._read_exactly(size)
        if body is None:
            raise BadFrame(self.peer_id, "the peer closed the stream in the middle of a frame")
        self.bytes_received += HEADER_BYTES + size
        return body

    async def close(self, timeout_s: float) -> None:
        """Close our side, even while being cancelled, within ``timeout_s``; a stream the peer
        already reset or closed is not an error here (there is nothing left to tell it)."""
        with trio.CancelScope(shield=True), trio.move_on_after(timeout_s), contextlib.suppress(StreamError):
            await self._stream.close()

    async def reset(self) -> None:
        """Abort the stream at once (both directions); the peer sees a reset."""
        with contextlib.suppress(StreamError):
            await self._stream.reset()

    async def _read_exactly(self, size: int) -> bytes | None:
        """``size`` bytes, or None if the stream ends first (whatever was read stays buffered)."""
        while len(self._buffer) < size:
            try:
                chunk = await self._stream.read(max(size - len(self._buffer), _READ_CHUNK))
            except StreamEOF:
                return None
            except StreamError as error:
                raise self._failed(error) from error
            if not chunk:
                return None
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _failed(self, error: StreamError) -> StreamFailed:
        return StreamFailed(self.peer_id, describe(error))


def describe(error: BaseException) -> str:
    """A py-libp2p error as a reason: its type (which says most: StreamReset) and its text."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def open_on(open_raw: Callable[[], Awaitable[INetStream]], peer_id: str) -> Stream:
    """Wrap ``open_raw`` (py-libp2p's ``new_stream`` for one peer and protocol) into a ``Stream``:
    it raises several unrelated types (no connection, protocol refused, muxer gone), all of which
    become ``StreamFailed``."""
    try:
        return Stream(await open_raw())
    except Exception as error:
        raise StreamFailed(peer_id, f"cannot open a stream: {describe(error)}") from error


def raw_handler(handler: StreamHandler) -> Callable[[INetStream], Awaitable[None]]:
    """py-libp2p's stream handler for ``handler``, which gets a ``Stream``."""

    async def handle(stream: INetStream) -> None:
        await handler(Stream(stream))

    return handle
