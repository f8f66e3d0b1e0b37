"""The readers' per-message tasks run in gossip's own nursery (libp2p_compat.pubsub
``InboundStreams.own_message_tasks``): py-libp2p's service manager no longer books a task per
message, and a message whose handling raises is logged while gossip goes on."""

from __future__ import annotations

from typing import Any

from libp2p.pubsub.pb import rpc_pb2

from tests.integration.node.p2p.test_gossip import TOPIC, Recorder, link, run, running_nodes, settle, wait_until


def test_messages_are_not_tasks_of_the_pubsub_service() -> None:
    async def body() -> None:
        async with running_nodes([Recorder(), Recorder()]) as nodes:
            await link(nodes, [(0, 1)])
            a, b = nodes
            manager = b.gossip._pubsub.manager
            before = manager.stats.tasks.total_count
            for n in range(100):
                await a.gossip.publish(TOPIC, f"post {n}".encode())
            await wait_until(lambda: all(b.recorder.calls[f"post {n}".encode()] for n in range(100)), "B got all")
            assert manager.stats.tasks.total_count - before < 10

    run(body)


def test_a_message_whose_handling_fails_does_not_stop_gossip() -> None:
    async def body() -> None:
        async with running_nodes([Recorder(), Recorder(), Recorder()]) as nodes:
            await link(nodes, [(0, 1), (1, 2)])  # a line: everything C gets passes through B
            a, b, c = nodes
            router = b.gossip._router
            forward = router.publish

            async def failing(forwarder: Any, msg: rpc_pb2.Message) -> None:
                if msg.data == b"boom":
                    raise RuntimeError("forwarding failed")
                await forward(forwarder, msg)

            router.publish = failing  # type: ignore[method-assign,assignment]
            await a.gossip.publish(TOPIC, b"boom")
            await a.gossip.publish(TOPIC, b"after")
            await wait_until(lambda: c.recorder.calls[b"after"] > 0, "C got the post after the failure")
            await settle(nodes, a)
            assert c.recorder.calls[b"boom"] == 0

    run(body)
