"""The swarm's inbound-connection handler, replaced: slots released on close, handshakes admitted.

py-libp2p 0.8.1 (network/swarm.py, ``Swarm._handle_inbound_connection``; no upstream issue) takes
one token of ``Swarm._inbound_limiter`` (a ``trio.CapacityLimiter`` of ``max_connections -
min_connections`` = 300 - 50 = 250 tokens) per accepted TCP connection and releases it when the
handler returns. After a successful upgrade the handler waits on ``self.manager.wait_finished()``,
the *swarm's* lifetime, not the connection's, so the token of every inbound connection that ever
got upgraded stays taken after the connection closed: the 251st inbound connection of a node's
life is closed unread, and so is every later one until a restart. A peer that reconnects 250
times cuts a node off from everyone.

The same limiter is taken before the Noise handshake, with a 10 s upgrade timeout: 250 idle
sockets hold every token for 10 s and newcomers are closed at once, so an attacker renewing them
keeps honest peers out.

``install_inbound_gate`` puts ``InboundGate.handle`` in the handler's place on one swarm (an
instance attribute, so other hosts in the process are untouched). Per connection it:

1. refuses it unread if the established inbound limit (the same limiter) or ``max_connections``
   is already reached;
2. runs the security and muxer upgrade as a pending handshake (``admission.PendingHandshakes``:
   a deadline, per-source and total caps that evict the oldest pending one);
3. takes a limiter token only once the peer is authenticated, registers the connection
   (``Swarm.add_conn``) and holds the token until *that connection* closes (yamux's
   ``event_closed``, set on every close path: our close, the peer's GO_AWAY or EOF, a read error);
   a failed registration or upgrade returns at once, releasing all it took.

Kiez configures neither a pre-shared network key nor IP allow/deny lists, the two other things
upstream's handler checks, and listens on TCP only (no pre-muxed QUIC connections).
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from libp2p.abc import IHost, IMuxedConn
from libp2p.io.abc import ReadWriteCloser
from libp2p.network.connection.raw_connection import RawConnection
from libp2p.network.swarm import Swarm
from libp2p.stream_muxer.yamux.yamux import Yamux
from multiaddr import Multiaddr

from node.p2p.admission import InboundLimits, PendingHandshakes, source_of
from node.p2p.libp2p_compat import require_supported_libp2p

logger = logging.getLogger(__name__)

#: Closing a refused or failed connection may not take longer than this.
_CLOSE_TIMEOUT_S = 2.0


class InboundGate:
    """The inbound handler of one swarm, and what it has admitted (``status``)."""

    def __init__(self, swarm: Swarm, limits: InboundLimits) -> None:
        self._swarm = swarm
        self.pending = PendingHandshakes(limits)

    @property
    def _limiter(self) -> trio.CapacityLimiter:
        return self._swarm._inbound_limiter

    async def handle(self, read_write_closer: ReadWriteCloser, maddr: Multiaddr) -> None:
        """Serve one accepted connection for as long as it lives; never raises (the listener
        logs and drops whatever a handler raises, so errors are handled here)."""
        swarm = self._swarm
        full = len(swarm.get_connections()) >= swarm.connection_config.max_connections
        if full or self._limiter.available_tokens < 1:
            self.pending.counts.refused += 1
            await _close_quietly(read_write_closer)
            return
        raw_conn = RawConnection(read_write_closer, False)
        muxed = await self._handshake(raw_conn, _remote_host(read_write_closer))
        if muxed is None:
            await _close_quietly(raw_conn)
            return
        try:
            self._limiter.acquire_nowait()
        except trio.WouldBlock:  # the last token went while we were shaking hands
            self.pending.counts.refused += 1
            await _close_quietly(muxed)
            return
        try:
            await swarm.add_conn(muxed, direction="inbound")
            await muxed.event_closed.wait()
        except Exception as error:  # add_conn refused it (limits) and closed what it had started
            logger.debug("inbound connection from %s not registered: %s", muxed.peer_id, error)
            await _close_quietly(muxed)
        finally:
            self._limiter.release()

    async def _handshake(self, raw_conn: RawConnection, host: str | None) -> Yamux | None:
        """Noise, then yamux, as a pending handshake; None if it failed, timed out or was evicted."""
        upgrader = self._swarm.upgrader
        with self.pending.admit(source_of(host)) as handshake, handshake.scope:
            try:
                secured = await upgrader.upgrade_security(raw_conn, False)
                muxed: IMuxedConn = await upgrader.upgrade_connection(secured, secured.get_remote_peer())
            except Exception as error:  # the remote side sent anything at all; nothing to keep
                logger.debug("inbound handshake from %s failed: %s", host, error)
                self.pending.counts.failed += 1
                return None
        if handshake.scope.cancelled_caught:
            logger.debug("inbound handshake from %s %s", host, "evicted" if handshake.evicted else "timed out")
            return None
        if not isinstance(muxed, Yamux):  # cannot happen: yamux is the only muxer we offer
            await _close_quietly(muxed)
            return None
        self.pending.counts.upgraded += 1
        return muxed

    def status(self) -> dict[str, Any]:
        """Pending handshakes and their limits, established inbound connections and theirs."""
        return {
            **self.pending.status(),
            "established": self._limiter.borrowed_tokens,
            "max_established": int(self._limiter.total_tokens),
        }


def install_inbound_gate(host: IHost, limits: InboundLimits) -> InboundGate:
    """Replace ``host``'s inbound handler with an ``InboundGate``; call it before the host listens."""
    require_supported_libp2p()
    swarm = host.get_network()
    if not isinstance(swarm, Swarm):
        raise TypeError(f"expected py-libp2p's Swarm, got {type(swarm).__name__}")
    gate = InboundGate(swarm, limits)
    # Swarm.listen's connection handler looks the method up on the instance at each connection.
    # (setattr: mypy refuses an assignment to a method.)
    setattr(swarm, "_handle_inbound_connection", gate.handle)  # noqa: B010
    return gate


def _remote_host(conn: ReadWriteCloser) -> str | None:
    try:
        remote = conn.get_remote_address()
    except Exception:  # a socket that is already gone has no address; it shares the unknown budget
        return None
    return None if remote is None else remote[0]


async def _close_quietly(conn: ReadWriteCloser | IMuxedConn) -> None:
    with trio.CancelScope(deadline=trio.current_time() + _CLOSE_TIMEOUT_S, shield=True):
        try:
            await conn.close()
        except Exception:  # the peer may have gone already; the socket is closed either way
            logger.debug("closing an inbound connection failed", exc_info=True)
