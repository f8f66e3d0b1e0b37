"""Attachments: files a post names by SHA-256, fetched from peers over ``/kiez/blob/1.0.0``.

A post carries each attachment's hash, size and type, never its bytes, so gossip stays small.
A node that stores such a post asks its connected peers for the bytes, one stream per request:

    request   4-byte length + msgpack [sha256]
    response  4-byte length + msgpack [found: bool, mime: str, data: bin]

and keeps them only if they hash to the name and fit the announced size. It serves what it holds
to anyone who asks by hash (the hash is the capability: a blob is only as public as the posts
that name it). Blobs of hidden or deleted posts are dropped unless a visible post still names them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass, field

import msgpack
import trio
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.network.stream.exceptions import StreamClosed, StreamEOF, StreamError, StreamReset
from libp2p.peer.id import ID

from node.core import limits
from node.p2p.host import P2PHost
from node.store import Store

log = logging.getLogger(__name__)

PROTOCOL = TProtocol("/kiez/blob/1.0.0")
REQUEST_TIMEOUT = 30.0
_STREAM_ERRORS = (StreamEOF, StreamReset, StreamClosed, StreamError)
_MAX_FRAME = limits.MAX_ATTACHMENT_BYTES + 1024


class BlobError(Exception):
    pass


async def _read_frame(stream: INetStream, limit: int) -> bytes:
    buffer = bytearray()
    size: int | None = None
    while size is None or len(buffer) < 4 + size:
        try:
            chunk = await stream.read(64 * 1024)
        except StreamEOF:
            chunk = b""
        if not chunk:
            raise BlobError("the peer closed the stream early")
        buffer += chunk
        if size is None and len(buffer) >= 4:
            size = int.from_bytes(buffer[:4], "big")
            if size > limit:
                raise BlobError(f"a frame of {size} bytes is over the limit")
    return bytes(buffer[4 : 4 + size])


def _frame(value: object) -> bytes:
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return len(data).to_bytes(4, "big") + data


@dataclass
class BlobService:
    host: P2PHost
    store: Store
    interval: float = 2.0
    fetched: int = 0
    served: int = 0
    _failed_at: dict[bytes, float] = field(default_factory=dict)

    def register(self) -> None:
        self.host.libp2p_host.set_stream_handler(PROTOCOL, self._serve)

    async def _serve(self, stream: INetStream) -> None:
        try:
            with trio.fail_after(REQUEST_TIMEOUT):
                request = msgpack.unpackb(await _read_frame(stream, 1024), raw=False)
                if type(request) is not list or len(request) != 1 or type(request[0]) is not bytes:
                    raise BlobError("a request is [sha256]")
                held = self.store.blobs.get(request[0])
                answer = [False, "", b""] if held is None else [True, held[0], held[1]]
                await stream.write(_frame(answer))
                self.served += held is not None
        except (BlobError, trio.TooSlowError, ValueError, *_STREAM_ERRORS) as exc:
            log.info("blob request refused: %s", exc)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(2), contextlib.suppress(*_STREAM_ERRORS):
                await stream.close()

    async def fetch(self, peer: str, sha256: bytes, size: int) -> tuple[str, bytes] | None:
        """Asks ``peer`` for a blob; returns (mime, data) if it had the right bytes."""
        try:
            with trio.fail_after(REQUEST_TIMEOUT):
                stream = await self.host.libp2p_host.new_stream(ID.from_base58(peer), [PROTOCOL])
                try:
                    await stream.write(_frame([sha256]))
                    answer = msgpack.unpackb(await _read_frame(stream, _MAX_FRAME), raw=False)
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(2), contextlib.suppress(*_STREAM_ERRORS):
                        await stream.close()
        except Exception as exc:
            log.debug("blob %s from %s: %s", sha256.hex()[:16], peer, exc)
            return None
        if type(answer) is not list or len(answer) != 3 or answer[0] is not True:
            return None
        mime, data = answer[1], answer[2]
        if type(data) is not bytes or len(data) != size or hashlib.sha256(data).digest() != sha256:
            log.warning("peer %s sent wrong bytes for blob %s", peer, sha256.hex()[:16])
            return None
        return str(mime), data

    async def run(self) -> None:
        """Fetches the attachments of stored posts that this node does not hold yet."""
        while True:
            now = time.monotonic()
            for sha256, size, mime in self.store.blobs.missing():
                if now - self._failed_at.get(sha256, -60.0) < 30.0:
                    continue
                for peer in self.host.connected_peers():
                    got = await self.fetch(peer, sha256, size)
                    if got is not None:
                        self.store.blobs.put(sha256, mime, got[1])
                        self.fetched += 1
                        break
                else:
                    self._failed_at[sha256] = now
            await trio.sleep(self.interval)
