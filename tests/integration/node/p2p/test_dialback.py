"""Dial-back on loopback with real hosts: a member's node dials the asker on a fresh TCP
connection (the open libp2p connection cannot answer for it), strangers and repeat askers get a
sentence instead, and a relayed connection is not dialled back (its far end is the relay)."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
import trio

from node.p2p import open_host
from node.p2p.dialback import PRIVATE, PUBLIC, UNKNOWN, DialBack, greets

from .test_relay import relay_lab, run, wait_until


@asynccontextmanager
async def pair(asker_is_member: bool = True) -> AsyncIterator[tuple[DialBack, DialBack]]:
    """Two connected hosts with dial-back; the answerer takes the asker for a member's node
    when ``asker_is_member``."""
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(open_host(os.urandom(32)))
        b = await stack.enter_async_context(open_host(os.urandom(32)))
        asker = DialBack(a, lambda peer: peer == b.peer_id, a.listen_ports)
        answerer = DialBack(b, lambda peer: asker_is_member and peer == a.peer_id, b.listen_ports)
        asker.register()
        answerer.register()
        await a.connect(b.addrs[0])
        yield asker, answerer


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_member_reaches_the_asker_on_a_fresh_connection() -> None:
    async def check() -> None:
        async with pair() as (asker, answerer):
            assert asker.verdict == UNKNOWN
            await asker.check()
            assert asker.verdict == PUBLIC
            answer = asker.answers[answerer.host.peer_id]
            assert answer.observed == "127.0.0.1"
            assert answer.reached == tuple(asker.host.listen_ports())
            assert answerer.answered == 1
            assert asker.status()["reachability"] == "public"

    run(check)


def test_nothing_listening_means_private() -> None:
    async def check() -> None:
        async with pair() as (asker, answerer):
            port = closed_port()
            asker.listen_ports = lambda: [port]
            await asker.check()
            assert asker.verdict == PRIVATE
            assert asker.answers[answerer.host.peer_id].reached == ()

    run(check)


def test_greets_wants_a_libp2p_listener_not_any_open_port() -> None:
    async def check() -> None:
        listener = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listener[0].socket.getsockname()[1]

        async def silent(stream: trio.SocketStream) -> None:
            await stream.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.serve_listeners, silent, listener)
            assert not await greets("127.0.0.1", port, timeout_s=2.0)
            assert not await greets("127.0.0.1", closed_port(), timeout_s=2.0)
            nursery.cancel_scope.cancel()

    run(check)


def test_a_stranger_and_a_repeat_asker_get_a_sentence() -> None:
    async def check() -> None:
        async with pair(asker_is_member=False) as (asker, answerer):
            with pytest.raises(ValueError, match="members' nodes only"):
                await asker.ask(answerer.host.peer_id, asker.host.listen_ports())
            assert answerer.answered == 0
        async with pair() as (asker, answerer):
            await asker.ask(answerer.host.peer_id, asker.host.listen_ports())
            with pytest.raises(ValueError, match="one dial-back per 30 s"):
                await asker.ask(answerer.host.peer_id, asker.host.listen_ports())
            assert answerer.answered == 1

    run(check)


def test_a_relayed_connection_is_not_dialled_back() -> None:
    async def check() -> None:
        async with relay_lab(2) as lab:
            a, b = lab.hosts
            await lab.clients[1].refresh()  # b reserves a slot on the relay
            assert lab.clients[1].circuit_addrs()
            await a.connect(f"{lab.relay.addrs[0]}/p2p-circuit/p2p/{b.peer_id}")
            await wait_until(lambda: b.peer_id in a.relayed_peers(), "a relayed connection from a to b")
            assert lab.relay.peer_id not in a.relayed_peers()  # the connection to the relay is direct
            asker = DialBack(a, lambda peer: True, a.listen_ports)
            answerer = DialBack(b, lambda peer: True, b.listen_ports)
            answerer.register()
            with pytest.raises(ValueError, match="over a relayed connection"):
                await asker.ask(b.peer_id, a.listen_ports())
            await asker.check()  # asks only peers it reaches directly: b is not asked
            assert asker.answers == {}

    run(check)


def test_dialed_addr_is_the_address_we_dialed() -> None:
    async def check() -> None:
        async with open_host(os.urandom(32)) as a, open_host(os.urandom(32)) as b:
            await a.connect(b.addrs[0])
            await wait_until(lambda: b.is_connected(a.peer_id), "b to see a")
            assert a.dialed_addr(b.peer_id) == b.addrs[0]
            assert b.dialed_addr(a.peer_id) is None  # b did not dial: the far end is an ephemeral port

    run(check)
