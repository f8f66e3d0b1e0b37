"""Pubsub framing (libp2p_compat/framing.py): merged RPCs parse as the RPCs they merge, bursts are
framed within the limit, and the buffered reader hands out exactly the bytes it was given."""

from __future__ import annotations

import trio
from libp2p.pubsub.pb import rpc_pb2
from libp2p.utils.varint import decode_varint_with_size

from node.p2p.libp2p_compat.framing import MERGED_RPC_BYTES, BufferedStream, merge_serialised


def publish_rpc(data: bytes) -> rpc_pb2.RPC:
    return rpc_pb2.RPC(publish=[rpc_pb2.Message(data=data, topicIDs=["t"])])


def split_frames(wire: bytes) -> list[rpc_pb2.RPC]:
    """Parse a run of varint-length-prefixed RPCs, as a receiver does."""
    rpcs = []
    while wire:
        length, prefix = decode_varint_with_size(wire)
        rpc = rpc_pb2.RPC()
        rpc.ParseFromString(wire[prefix : prefix + length])
        rpcs.append(rpc)
        wire = wire[prefix + length :]
    return rpcs


def test_a_burst_becomes_one_rpc_holding_every_message_control_and_subscription_in_order() -> None:
    graft = rpc_pb2.RPC(control=rpc_pb2.ControlMessage(graft=[rpc_pb2.ControlGraft(topicID="t")]))
    ihave = rpc_pb2.RPC(control=rpc_pb2.ControlMessage(ihave=[rpc_pb2.ControlIHave(topicID="t", messageIDs=[b"x"])]))
    subscribe = rpc_pb2.RPC(subscriptions=[rpc_pb2.RPC.SubOpts(subscribe=True, topicid="t")])
    burst = [publish_rpc(b"one"), graft, publish_rpc(b"two"), subscribe, ihave, publish_rpc(b"three")]
    [merged] = split_frames(merge_serialised(rpc.SerializeToString() for rpc in burst))
    assert [m.data for m in merged.publish] == [b"one", b"two", b"three"]
    assert [g.topicID for g in merged.control.graft] == ["t"]
    assert [list(i.messageIDs) for i in merged.control.ihave] == [[b"x"]]
    assert [s.topicid for s in merged.subscriptions] == ["t"]


def test_a_single_rpc_is_framed_exactly_as_py_libp2p_frames_it() -> None:
    body = publish_rpc(b"alone").SerializeToString()
    assert merge_serialised([body]) == bytes([len(body)]) + body


def test_merged_rpcs_stay_within_the_limit_and_an_oversized_one_goes_alone() -> None:
    small = [publish_rpc(bytes([i]) * 20_000) for i in range(7)]
    huge = publish_rpc(b"h" * (3 * MERGED_RPC_BYTES))  # larger than any merged RPC, or a yamux frame
    burst = [*small[:4], huge, *small[4:]]
    wire = merge_serialised(rpc.SerializeToString() for rpc in burst)
    rpcs = split_frames(wire)
    assert [m.data for rpc in rpcs for m in rpc.publish] == [m.data for rpc in burst for m in rpc.publish]
    assert [len(rpc.publish) for rpc in rpcs] == [3, 1, 1, 3]  # three of 20 kB fit in 64 KiB, not four
    assert all(rpc.ByteSize() <= MERGED_RPC_BYTES for rpc in rpcs if len(rpc.publish) > 1)
    assert any(rpc.ByteSize() > MERGED_RPC_BYTES for rpc in rpcs)


class ChunkedStream:
    """A stream whose reads return the given chunks, one per read, then EOF (b"")."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.reads = 0
        self.muxed_conn = "the connection"

    async def read(self, n: int | None = None) -> bytes:
        assert n is not None
        assert n > 0
        self.reads += 1
        return self.chunks.pop(0) if self.chunks else b""


def test_buffered_reads_return_the_same_bytes_with_one_underlying_read_per_chunk() -> None:
    async def body() -> None:
        inner = ChunkedStream([b"abcdef", b"ghij"])
        stream = BufferedStream(inner)  # type: ignore[arg-type]
        pieces = [await stream.read(1), await stream.read(2), await stream.read(10), await stream.read(3)]
        assert pieces == [b"a", b"bc", b"def", b"ghi"]
        assert inner.reads == 2
        assert await stream.read(-1) == b"j"
        assert await stream.read(5) == b""  # EOF is passed on
        assert stream.muxed_conn == "the connection"  # everything else is the stream's

    trio.run(body)
