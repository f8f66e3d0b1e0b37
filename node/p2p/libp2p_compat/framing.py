"""Pubsub framing at the cost of one write per burst, not one per RPC, in both directions.

Sending. py-libp2p 0.8.1 ported go's per-peer outbound queue (rpc_queue.py, libp2p/py-libp2p#891,
merged as #1263), but its sending loop (pubsub.py ``handle_sending_messages``) writes every
queued RPC on its own: one protobuf serialisation, one length prefix, one yamux frame, one Noise
seal and one socket write per copy of every message, each through three locks. go coalesces a
burst into one RPC (libp2p/go-libp2p-pubsub#240); py's piggybacking (libp2p/py-libp2p#692) only
adds pending control to a message RPC. ``send_loop`` drains whatever the queue holds when it
wakes and merges it into RPCs of at most ``MERGED_RPC_BYTES``, written together in one write.

Merging is protobuf's own: the serialisations of two messages, concatenated, parse as one message
whose repeated fields (publish, subscriptions, control's IHAVE/IWANT/GRAFT/PRUNE) hold both, which
is what every gossipsub receiver iterates over. The singular ``senderRecord`` keeps the last value;
kiez sends none outside the hello (pubsub.py ``KiezGossipSub.send_rpc``). An RPC larger than
``MERGED_RPC_BYTES`` goes alone, as before (yamux splits it into frames).

Receiving. py reads each RPC as its varint length prefix, one ``stream.read(1)`` per byte, then
its body (utils/varint.py ``read_varint_prefixed_bytes_limited``): two or three trips through
NetStream's and yamux's locks per RPC, about 9 % of node CPU in scripts/bench_gossip.py's
profile. ``BufferedStream`` hands the reader what one yamux read returned, so a burst costs one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from libp2p.abc import INetStream
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.utils.varint import encode_uvarint

#: Largest RPC we build by merging queued ones: far below the 1 MiB every implementation accepts
#: (py's and go's DefaultMaxMessageSize), so a receiver never holds a huge RPC for a burst.
MERGED_RPC_BYTES = 64 * 1024
#: How much one read of the underlying stream may return: one yamux frame's payload.
READ_CHUNK_BYTES = 64 * 1024


def merge_serialised(bodies: Iterable[bytes], limit: int = MERGED_RPC_BYTES) -> bytes:
    """Length-prefixed RPCs for ``bodies`` (serialised RPCs, in order), consecutive ones merged
    while the merged RPC stays within ``limit``; a body over ``limit`` is framed on its own."""
    frames: list[bytes] = []
    group: list[bytes] = []
    size = 0
    for body in bodies:
        if group and size + len(body) > limit:
            frames += (encode_uvarint(size), *group)
            group, size = [], 0
        group.append(body)
        size += len(body)
    if group:
        frames += (encode_uvarint(size), *group)
    return b"".join(frames)


async def drain(queue: RpcQueue) -> list[rpc_pb2.RPC] | None:
    """Wait for the queue's next RPC, then take every one already queued behind it (py's queue
    holds 32 at most); None once the queue is closed."""
    first = await queue.pop()
    if first is None:
        return None
    burst = [first]
    while len(queue) > 0:  # pop() returns at once while items are queued: no checkpoint
        rpc = await queue.pop()
        if rpc is None:
            break
        burst.append(rpc)
    return burst


async def send_loop(stream: INetStream, queue: RpcQueue) -> None:
    """Write the queue's RPCs to ``stream`` a burst per write until the queue closes; stream
    errors propagate (the caller drops the peer, as py's loop does)."""
    while (burst := await drain(queue)) is not None:
        await stream.write(merge_serialised(rpc.SerializeToString() for rpc in burst))


class BufferedStream:
    """An inbound pubsub stream read a yamux read at a time: ``read(n)`` serves from what the last
    read returned and reads again only when that is used up. Everything else is the stream's."""

    def __init__(self, stream: INetStream) -> None:
        self._stream = stream
        self._buffer = b""
        self._offset = 0

    async def read(self, n: int | None = None) -> bytes:
        """Up to ``n`` bytes (all that is buffered for None or -1), at least one unless at EOF."""
        if self._offset >= len(self._buffer):
            self._buffer = await self._stream.read(READ_CHUNK_BYTES)
            self._offset = 0
        start = self._offset
        end = len(self._buffer) if n is None or n < 0 else min(len(self._buffer), start + n)
        self._offset = end
        return self._buffer[start:end]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
