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

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgpack
import trio

from node.core import limits, media
from node.errors import NodeError
from node.p2p import P2PHost, Stream, StreamFailed
from node.store import Store

log = logging.getLogger(__name__)

PROTOCOL = "/kiez/blob/1.0.0"
REQUEST_TIMEOUT = 30.0
CLOSE_TIMEOUT = 2.0
_MAX_REQUEST = 1024
_MAX_FRAME = limits.MAX_ATTACHMENT_BYTES + 1024


class BlobError(NodeError):
    """A peer's blob request or answer broke the protocol (too big, cut short, malformed)."""


async def _read_message(stream: Stream, limit: int) -> object:
    """The next frame's msgpack value; ``BlobError`` if the peer closed the stream first."""
    body = await stream.read_frame(limit)
    if body is None:
        raise BlobError("the peer closed the stream early")
    return msgpack.unpackb(body, raw=False)


def _pack(value: object) -> bytes:
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return data


@dataclass
class BlobService:
    host: P2PHost
    store: Store
    interval: float = 2.0
    fetched: int = 0
    served: int = 0
    #: Attachments whose bytes are not the type their post names: never kept, not asked again.
    refused: set[bytes] = field(default_factory=set)
    _failed_at: dict[bytes, float] = field(default_factory=dict)
    #: Told of each attachment kept (the node's change count: a page shows the picture then).
    on_kept: Callable[[], None] = lambda: None

    def register(self) -> None:
        self.host.set_stream_handler(PROTOCOL, self._serve)

    async def _serve(self, stream: Stream) -> None:
        try:
            with trio.fail_after(REQUEST_TIMEOUT):
                request = await _read_message(stream, _MAX_REQUEST)
                if type(request) is not list or len(request) != 1 or type(request[0]) is not bytes:
                    raise BlobError("a request is [sha256]")
                held = self.store.blobs.get(request[0])
                answer = [False, "", b""] if held is None else [True, held[0], held[1]]
                await stream.write_frame(_pack(answer))
                self.served += held is not None
        except (BlobError, StreamFailed, trio.TooSlowError, ValueError) as exc:
            log.info("blob request refused: %s", exc)
        finally:
            await stream.close(CLOSE_TIMEOUT)

    async def fetch(self, peer: str, sha256: bytes, size: int) -> tuple[str, bytes] | None:
        """Asks ``peer`` for a blob; returns (mime, data) if it had the right bytes."""
        try:
            with trio.fail_after(REQUEST_TIMEOUT):
                stream = await self.host.open_stream(peer, PROTOCOL)
                try:
                    await stream.write_frame(_pack([sha256]))
                    answer = await _read_message(stream, _MAX_FRAME)
                finally:
                    await stream.close(CLOSE_TIMEOUT)
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

    def _keep(self, sha256: bytes, mime: str, data: bytes) -> None:
        """Stores bytes that hash right, if they are the type the post names; the hash is the
        post's, so no peer can have other bytes for it: a mismatch is refused for good."""
        wrong = media.mismatch(mime, data)
        if wrong is not None:
            log.warning("attachment %s refused: %s", sha256.hex()[:16], wrong)
            self.refused.add(sha256)
            return
        self.store.blobs.put(sha256, mime, data)
        self.fetched += 1
        self.on_kept()

    async def run(self) -> None:
        """Fetches the attachments of stored posts that this node does not hold yet."""
        while True:
            await self.fetch_missing()
            await trio.sleep(self.interval)

    async def fetch_missing(self) -> None:
        """One pass: asks connected peers for each missing attachment not tried in the last 30 s."""
        now = time.monotonic()
        for sha256, size, mime in self.store.blobs.missing():
            if sha256 in self.refused or now - self._failed_at.get(sha256, -60.0) < 30.0:
                continue
            for peer in self.host.connected_peers():
                got = await self.fetch(peer, sha256, size)
                if got is not None:
                    self._keep(sha256, mime, got[1])
                    break
            else:
                self._failed_at[sha256] = now
