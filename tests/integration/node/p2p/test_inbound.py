"""Inbound connections on a real kiez host: slots come back on every close, idle sockets starve nobody.

Dialers are real py-libp2p hosts (Noise, yamux) in this process; attackers are raw TCP sockets that
send nothing. Every client dials 127.0.0.1, and the Linux loopback answers the whole 127.0.0.0/8, so
a socket bound to 127.0.0.N before it connects arrives from another address. pytest-trio is not
installed: each test runs its body with ``trio.run``; waits poll under a deadline, nothing asserts
on elapsed time.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import multiaddr
import trio
from libp2p.abc import INetConn
from libp2p.network.swarm import Swarm
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.p2p import InboundLimits, P2PHost, open_host

WAIT_S = 20.0
#: More inbound connections than py-libp2p 0.8.1's 250 inbound slots, over a node's lifetime.
RECONNECTS = 300
DIALERS = 10  # each reconnects RECONNECTS / DIALERS times in turn (one at a time would take a minute)
IDLE_SOCKETS = 300
HONEST_DIALS = 8
HOST_PROCESS = Path(__file__).with_name("host_process.py")


def run(test: Callable[[], Awaitable[None]]) -> None:
    trio.run(test)


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    with trio.move_on_after(timeout):
        while not condition():
            await trio.sleep(0.02)
        return
    raise AssertionError(f"timed out waiting for {what}")


def port_of(host: P2PHost) -> int:
    return int(multiaddr.Multiaddr(host.addrs[0]).value_for_protocol("tcp"))


@asynccontextmanager
async def hosts(count: int) -> AsyncIterator[list[P2PHost]]:
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_host(os.urandom(32))) for _ in range(count)]


async def dial(dialer: P2PHost, server: P2PHost) -> INetConn:
    """One full dial (TCP, Noise, yamux) of ``server``'s address, without ``connect``'s 250 ms
    happy-eyeballs wait, so that hundreds of reconnects take seconds."""
    info = info_from_p2p_addr(multiaddr.Multiaddr(server.addrs[0]))
    swarm = dialer.libp2p_host.get_network()
    assert isinstance(swarm, Swarm)
    with trio.fail_after(WAIT_S):
        return await swarm.dial_addr(info.addrs[0], info.peer_id)


async def reconnect(dialer: P2PHost, server: P2PHost, times: int, how: str, failures: list[str]) -> None:
    """Connect to ``server`` and close the connection again, ``times`` times in turn; ``how`` says
    who closes: we do (yamux GO_AWAY), the server does, or our TCP connection just drops. A dial
    that fails ends the series and goes to ``failures`` (raised here, it would reach the test
    wrapped in a group per host)."""
    for index in range(times):
        try:
            conn = await dial(dialer, server)
        except Exception as error:
            failures.append(f"reconnect {index + 1} of {times} ({how}) failed: {error!r}")
            return
        if how == "we_close":
            await conn.close()
        elif how == "server_closes":
            await wait_until(lambda: server.is_connected(dialer.peer_id), "the server to register us")
            await server.disconnect(dialer.peer_id)
            await wait_until(functools.partial(is_closed, conn), "the server's close to reach us")
        else:
            await conn.muxed_conn.secured_conn.close()  # type: ignore[attr-defined]  # yamux's socket
            await conn.close()


def is_closed(conn: INetConn) -> bool:
    return conn.is_closed


async def raw_socket(port: int, source: str = "127.0.0.1") -> trio.socket.SocketType:
    sock = trio.socket.socket()
    await sock.bind((source, 0))
    await sock.connect(("127.0.0.1", port))
    return sock


async def failed_upgrades(port: int, times: int) -> None:
    """Connections that never become libp2p connections: closed at once, or after garbage."""
    for index in range(times):
        with await raw_socket(port) as sock:
            if index % 2:
                await sock.send(b"\x13/multistream/1.0.0\n\x07/noise\n" + os.urandom(64))
                await trio.lowlevel.wait_readable(sock.fileno())


async def seen_by_server(sock: trio.socket.SocketType) -> None:
    """Wait until the node's handler has taken the socket up: it sends its multistream header at
    once, or closes the socket."""
    with trio.fail_after(WAIT_S):
        await trio.lowlevel.wait_readable(sock.fileno())


def closed(sock: trio.socket.SocketType) -> bool:
    """Whether the node has closed ``sock``, without waiting: reads what it sent up to EOF, if any
    (trio's sockets are non-blocking, so a read with nothing to read raises BlockingIOError)."""
    while True:
        try:
            if not os.read(sock.fileno(), 4096):
                return True
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True


async def closed_by_server(sock: trio.socket.SocketType) -> bool:
    """Whether the node closes ``sock`` within WAIT_S."""
    with trio.move_on_after(WAIT_S):
        while not closed(sock):
            await trio.lowlevel.wait_readable(sock.fileno())
        return True
    return False


async def honest_dials(server: P2PHost, count: int) -> list[str]:
    """``count`` fresh kiez hosts connect to ``server`` at the same time; the ids of those that got in."""
    connected: list[str] = []
    async with hosts(count) as dialers:

        async def connect(dialer: P2PHost) -> None:
            await dialer.connect(server.addrs[0])  # DialFailed fails the test
            connected.append(dialer.peer_id)

        async with trio.open_nursery() as nursery:
            for dialer in dialers:
                nursery.start_soon(connect, dialer)
        await wait_until(lambda: all(server.is_connected(peer) for peer in connected), "the server to see them")
    return connected


# --- slots come back ----------------------------------------------------------------------------


def test_a_node_still_accepts_connections_after_hundreds_of_reconnects_and_failed_upgrades() -> None:
    """py-libp2p 0.8.1 never gave back the inbound slot of an upgraded connection: the 251st
    inbound connection of a node's life, and every later one, was closed unread."""

    async def body() -> None:
        failures: list[str] = []
        async with open_host(os.urandom(32)) as server:
            ways = ["we_close", "server_closes", "connection_drops"]
            async with hosts(DIALERS) as dialers, trio.open_nursery() as nursery:
                for index, dialer in enumerate(dialers):
                    way = ways[index % len(ways)]
                    nursery.start_soon(reconnect, dialer, server, RECONNECTS // DIALERS, way, failures)
                nursery.start_soon(failed_upgrades, port_of(server), 40)
            assert failures == []
            await wait_until(lambda: not server.connected_peers(), "every reconnect to be closed")
            assert await honest_dials(server, 1)
            status = server.inbound_status()
            assert status["upgraded"] >= RECONNECTS + 1  # (a dial the dialer gave up on and retried counts twice)
            assert status["failed"] >= 1
            await wait_until(lambda: server.inbound_status()["established"] == 0, "every inbound slot back")
            assert server.inbound_status()["pending"] == 0

    run(body)


# --- idle sockets starve nobody -----------------------------------------------------------------


#: No handshake deadline within a test: a socket closed there was displaced by a newer one.
NO_DEADLINE = InboundLimits(handshake_timeout_s=3600.0)


def test_idle_sockets_from_the_dialers_own_address_do_not_keep_honest_peers_out() -> None:
    """300 sockets that send nothing, from the address the honest peers dial from: upstream gave each
    a slot for 10 s and closed every newcomer; the newcomer must displace the oldest idle one."""

    async def body() -> None:
        async with open_host(os.urandom(32), inbound=NO_DEADLINE) as server:
            idle = [await raw_socket(port_of(server)) for _ in range(IDLE_SOCKETS)]
            for sock in idle:
                await seen_by_server(sock)
            assert len(await honest_dials(server, HONEST_DIALS)) == HONEST_DIALS
            displaced = IDLE_SOCKETS - NO_DEADLINE.max_pending_per_source  # at least
            await wait_until(lambda: sum(map(closed, idle)) >= displaced, f"{displaced} idle sockets closed")
            for sock in idle:
                sock.close()

    run(body)


def test_idle_sockets_from_many_addresses_do_not_keep_honest_peers_out() -> None:
    """The same flood from 30 addresses (10 sockets each): more than the total cap of pending
    handshakes, so the node closes the oldest pending ones, and honest peers still get in."""

    async def body() -> None:
        async with open_host(os.urandom(32), inbound=NO_DEADLINE) as server:
            sources = [f"127.0.0.{10 + index % 30}" for index in range(IDLE_SOCKETS)]
            idle = [await raw_socket(port_of(server), source) for source in sources]
            for sock in idle:
                await seen_by_server(sock)
            assert len(await honest_dials(server, HONEST_DIALS)) == HONEST_DIALS
            displaced = IDLE_SOCKETS - NO_DEADLINE.max_pending  # at least
            await wait_until(lambda: sum(map(closed, idle)) >= displaced, f"{displaced} idle sockets closed")
            assert server.inbound_status()["pending"] <= NO_DEADLINE.max_pending
            for sock in idle:
                sock.close()

    run(body)


def test_an_idle_socket_is_closed_once_the_handshake_deadline_passes() -> None:
    async def body() -> None:
        async with open_host(os.urandom(32), inbound=InboundLimits(handshake_timeout_s=0.5)) as server:
            idle = [await raw_socket(port_of(server), f"127.0.0.{20 + index}") for index in range(3)]
            assert all([await closed_by_server(sock) for sock in idle])
            await wait_until(lambda: server.inbound_status()["timed_out"] == 3, "three handshakes timed out")
            assert server.inbound_status()["evicted"] == 0
            assert len(await honest_dials(server, 1)) == 1
            for sock in idle:
                sock.close()

    run(body)


# --- out of file descriptors --------------------------------------------------------------------


def test_running_out_of_file_descriptors_pauses_the_accept_loop_and_does_not_end_it(tmp_path: Path) -> None:
    """A node with 20 spare descriptors, 60 sockets from 30 addresses (under every pending cap):
    accept fails with EMFILE; once the sockets go away, an honest peer still gets in."""

    async def body() -> None:
        log = tmp_path / "host.log"
        args = [sys.executable, str(HOST_PROCESS), "--spare-fds", "20"]
        with log.open("w") as stderr:
            process = await trio.lowlevel.open_process(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
            )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            with trio.fail_after(WAIT_S):
                line = await process.stdout.receive_some()
            addr = json.loads(line)["addrs"][0]
            port = int(multiaddr.Multiaddr(addr).value_for_protocol("tcp"))
            flood = [await raw_socket(port, f"127.0.0.{10 + index % 30}") for index in range(60)]
            await wait_until(lambda: "EMFILE" in log.read_text(), "the node to run out of file descriptors")
            for sock in flood:
                sock.close()
            async with hosts(1) as (honest,):
                await honest.connect(addr)
                assert honest.is_connected(multiaddr.Multiaddr(addr).value_for_protocol("p2p"))
        except Exception as error:
            tail = "\n".join(log.read_text().splitlines()[-20:])
            raise AssertionError(f"--- host stderr ---\n{tail}") from error
        finally:
            await process.stdin.aclose()
            with trio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0

    run(body)
