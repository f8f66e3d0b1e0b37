"""Sync: a node that was offline, or joins late, catches up with its peers over a libp2p stream.

Gossip only reaches nodes that are online. ``SyncService`` reconciles this node's messages with
each peer's: when a peer connects, and again every ``interval`` seconds with every connected
peer. Each conversation is a ``Session`` (session.py).

Hidden posts are left out of the set a node offers: they are not forwarded by gossip either, and
a node that never had one will not take it.

Anyone who connects may open sessions, so slots are shared fairly (node/core/syncbudget.py):
sessions of our own run side by side, at most ``MAX_OUTGOING``, the longest-waiting peer first,
so a peer that never answers holds one slot for one step's deadline and nobody waits behind it;
sessions others open are admitted one per peer, at most ``MAX_INCOMING`` in all and
``SESSION_BURST`` in a row per peer (then ``SESSIONS_PER_INTERVAL`` per ``interval``); a banned
peer's streams are reset unread.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import trio

from node.core import syncbudget, syncwire
from node.core.syncbudget import PeerAllowance
from node.daemon.service import NodeService
from node.p2p import P2PHost, Stream, StreamFailed
from node.sync.session import PeerDefence, Session, SyncResult

log = logging.getLogger(__name__)

PROTOCOL = syncwire.PROTOCOL
FOLLOWER_GRACE = 5.0
_TICK_S = 0.5

__all__ = ["PROTOCOL", "SyncResult", "SyncService"]


@dataclass
class SyncService:
    host: P2PHost
    service: NodeService
    #: Strikes and bans, shared with gossip.
    defence: PeerDefence
    interval: float = syncbudget.SYNC_INTERVAL_S
    last: dict[str, SyncResult] = field(default_factory=dict)
    #: The most recent sessions (all peers, oldest first), for ``kiez status`` and benchmarks.
    history: deque[SyncResult] = field(default_factory=lambda: deque(maxlen=20))
    sessions: int = 0
    #: Incoming sessions refused, by reason.
    refused: Counter[str] = field(default_factory=Counter)
    #: Per peer: sessions it may open, bytes it may be given (node/core/syncbudget.py).
    allowance: PeerAllowance = field(init=False)
    _running: list[SyncResult] = field(default_factory=list)  # sessions in progress, either way
    _synced_at: dict[str, float] = field(default_factory=dict)  # last session either way, by peer
    _outgoing: set[str] = field(default_factory=set)  # peers we run a session of ours with
    _incoming: set[str] = field(default_factory=set)  # peers running a session they opened

    def __post_init__(self) -> None:
        # Peers of one community run the same interval (the spec's 30 s, or a test's second).
        refill = self.interval / syncbudget.SESSIONS_PER_INTERVAL
        self.allowance = PeerAllowance(time.monotonic, session_refill_s=refill)

    def register(self) -> None:
        self.host.set_stream_handler(PROTOCOL, self._handle)

    def status(self) -> dict[str, Any]:
        """For ``kiez status``: counts, the sessions running now, the last per peer, recent ones."""
        return {
            "sessions": self.sessions,
            "refused": dict(sorted(self.refused.items())),
            "open": [result.as_dict() for result in self._running],
            "last": {peer: result.as_dict() for peer, result in self.last.items()},
            "history": [result.as_dict() for result in self.history],
        }

    async def _handle(self, stream: Stream) -> None:
        peer = stream.peer_id
        refusal = self._refusal(peer)
        if refusal is not None:
            log.info("sync from %s refused: %s", peer, refusal)
            self.refused[refusal] += 1
            await stream.reset()
            return
        self._incoming.add(peer)
        try:
            self._record(await self._session(stream, initiator=False))
        finally:
            self._incoming.discard(peer)

    def _refusal(self, peer: str) -> str | None:
        """Why a session ``peer`` opens is refused (None: it is admitted and has taken its turn)."""
        if self.defence.is_banned(peer):
            return "banned"
        if peer in self._incoming:
            return "busy_peer"
        if len(self._incoming) >= syncbudget.MAX_INCOMING:
            return "busy"
        if not self.allowance.session(peer):
            return "too_often"
        return None

    async def sync_with(self, peer: str) -> SyncResult:
        """Reconciles with ``peer`` now (it must be connected); one session of ours per peer."""
        if peer in self._outgoing:
            return SyncResult(peer, True, error="a session with this peer is running already")
        self._outgoing.add(peer)
        return await self._sync(peer)

    async def _sync(self, peer: str) -> SyncResult:
        """A session of ours with ``peer``, already counted in ``_outgoing``."""
        try:
            try:
                with trio.fail_after(syncbudget.STEP_TIMEOUT_S):
                    stream = await self.host.open_stream(peer, PROTOCOL)
            except trio.TooSlowError:
                result = SyncResult(peer, True, error=f"no sync stream within {syncbudget.STEP_TIMEOUT_S:.0f} s")
            except StreamFailed as exc:
                result = SyncResult(peer, True, error=f"cannot open a sync stream: {exc.reason}")
            else:
                result = await self._session(stream, initiator=True)
        finally:
            self._outgoing.discard(peer)
        self._record(result)
        return result

    async def _session(self, stream: Stream, initiator: bool) -> SyncResult:
        session = Session(stream, self.service, self.defence, self.allowance, initiator)
        self._running.append(session.result)
        try:
            return await session.run()
        finally:
            self._running.remove(session.result)

    def _record(self, result: SyncResult) -> None:
        self.sessions += 1
        self._synced_at[result.peer] = time.monotonic()
        self.last[result.peer] = result
        self.history.append(result)
        if result.error:
            log.warning("sync with %s failed: %s", result.peer, result.error)
        else:
            log.info(
                "sync with %s: %d new, %d sent, %d rounds, %d/%d bytes in/out, %.2f s",
                result.peer,
                result.accepted,
                result.sent,
                result.rounds,
                result.bytes_received,
                result.bytes_sent,
                result.seconds,
            )

    async def run(self) -> None:
        """Syncs with each peer when it connects, and again every ``interval`` seconds, several
        peers at once (at most ``MAX_OUTGOING``), the one that waited longest first.

        When two nodes connect, both would start a session and send every missing message twice;
        so the node with the lower peer id starts, and the other one only steps in if no session
        happened within ``FOLLOWER_GRACE`` seconds (or one and a half intervals later on)."""
        connected: set[str] = set()
        new_at: dict[str, float] = {}
        async with trio.open_nursery() as nursery:
            while True:
                now = time.monotonic()
                current = set(self.host.connected_peers())
                for peer in current - connected:  # (re)connected: it may have missed anything
                    new_at[peer] = now
                    self._synced_at.pop(peer, None)
                connected = current
                for peer in self._due(current, new_at, now):
                    if len(self._outgoing) >= syncbudget.MAX_OUTGOING:
                        break
                    self._outgoing.add(peer)
                    nursery.start_soon(self._sync, peer)
                await trio.sleep(_TICK_S)

    def _due(self, current: set[str], new_at: dict[str, float], now: float) -> list[str]:
        """The peers a session of ours is due with, the longest waiting first (never synced:
        first of all); one session per pair of peers at a time, either way."""
        due = []
        for peer in current - self._outgoing - self._incoming:
            last = self._synced_at.get(peer)
            leader = self.host.peer_id < peer
            if last is None:
                if leader or now - new_at[peer] >= FOLLOWER_GRACE:
                    due.append(peer)
            elif now - last >= (self.interval if leader else self.interval * 1.5):
                due.append(peer)
        return sorted(due, key=lambda p: (self._synced_at.get(p, -1.0), p))
