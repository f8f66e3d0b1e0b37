"""Batched pubsub framing over real py-libp2p hosts (Noise, yamux, 127.0.0.1): a queued burst
goes out in one write and arrives as every RPC it held, a message larger than a yamux frame and
than a merged RPC included; the receiver reads it through ``BufferedStream`` as pubsub does.

pytest-trio is not installed, so each test runs its body with ``trio.run``.
"""

from __future__ import annotations

import os
from typing import Any

import trio
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.utils.varint import read_varint_prefixed_bytes_limited

from node.p2p import open_host
from node.p2p.libp2p_compat.framing import MERGED_RPC_BYTES, BufferedStream, send_loop

PROTOCOL = TProtocol("/kiez/test/framing/1.0.0")
LIMIT = 4 * 1024 * 1024


class CountingStream:
    """The sending side's stream, counting the writes ``send_loop`` makes."""

    def __init__(self, stream: INetStream) -> None:
        self.stream = stream
        self.writes = 0

    async def write(self, data: bytes) -> None:
        self.writes += 1
        await self.stream.write(data)


def test_a_queued_burst_is_one_write_and_every_message_arrives_in_order() -> None:
    small = [os.urandom(1024) for _ in range(30)]
    huge = os.urandom(5 * MERGED_RPC_BYTES)  # several yamux frames and Noise messages
    sent = [*small[:10], huge, *small[10:], b"last"]
    received: list[bytes] = []

    async def body() -> None:
        async with open_host(os.urandom(32)) as sender, open_host(os.urandom(32)) as receiver:
            done = trio.Event()

            async def handler(stream: INetStream) -> None:
                reader = BufferedStream(stream)
                while len(received) < len(sent):
                    rpc = rpc_pb2.RPC()
                    rpc.ParseFromString(await read_varint_prefixed_bytes_limited(reader, LIMIT))  # type: ignore[arg-type]
                    received.extend(message.data for message in rpc.publish)
                done.set()

            receiver.libp2p_host.set_stream_handler(PROTOCOL, handler)
            await sender.connect(receiver.addrs[0])
            stream = await sender.libp2p_host.new_stream(ID.from_base58(receiver.peer_id), [PROTOCOL])
            queue = RpcQueue()
            for data in sent:  # 32 RPCs: py-libp2p's queue holds no more
                assert queue.push(rpc_pb2.RPC(publish=[rpc_pb2.Message(data=data, topicIDs=["t"])]))
            queue.close()  # the loop sends what is queued, then returns
            counting = CountingStream(stream)
            with trio.fail_after(30):
                await send_loop(counting, queue)  # type: ignore[arg-type]
                await done.wait()
            assert counting.writes == 1

    trio.run(body)
    assert received == sent


def test_yamux_credit_goes_back_once_per_half_window_and_a_long_transfer_never_stalls() -> None:
    """Each 1 KiB write arrives alone and is read at once (the buffer drains every time): py
    would answer every read with a WINDOW_UPDATE; the patch (libp2p_compat/yamux.py) answers only
    after half the 256 KiB window was read, and 300 KiB, more than the window, still get through."""
    chunk, count = 1024, 300
    updates: list[int] = []
    received = bytearray()

    async def body() -> None:
        async with open_host(os.urandom(32)) as sender, open_host(os.urandom(32)) as receiver:
            done = trio.Event()

            async def handler(stream: INetStream) -> None:
                muxed: Any = stream.muxed_stream  # type: ignore[attr-defined]  # a YamuxStream
                send_update = muxed.send_window_update

                async def counting(increment: int, skip_lock: bool = False) -> None:
                    updates.append(increment)
                    await send_update(increment, skip_lock)

                muxed.send_window_update = counting
                while len(received) < chunk * count:
                    received.extend(await stream.read(64 * 1024))
                done.set()

            receiver.libp2p_host.set_stream_handler(PROTOCOL, handler)
            await sender.connect(receiver.addrs[0])
            stream = await sender.libp2p_host.new_stream(ID.from_base58(receiver.peer_id), [PROTOCOL])
            with trio.fail_after(30):
                for i in range(count):
                    await stream.write(bytes([i % 256]) * chunk)
                    await trio.sleep(0.001)  # let each chunk arrive and be read on its own
                await done.wait()

    trio.run(body)
    assert bytes(received) == b"".join(bytes([i % 256]) * chunk for i in range(count))
    assert 1 <= len(updates) <= 3  # 300 KiB read, credit every >= 128 KiB (py: one per read)
    assert all(increment >= 128 * 1024 for increment in updates)
