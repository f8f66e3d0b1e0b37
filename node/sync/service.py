"""Sync: a node that was offline, or joins late, catches up with its peers over a libp2p stream.

Gossip only reaches nodes that are online. ``SyncService`` reconciles this node's messages with
each peer's: when a peer connects, and again every ``interval`` seconds with every connected
peer. A session runs the pure ``Reconciler`` (node/core/reconcile.py) over
``/kiez/sync/1.0.0`` frames (node/core/syncwire.py); what it receives goes through the same
validation as gossip (``Via.SYNC``: any age, no rate limit) and is stored in batches.

Hidden posts are left out of the set a node offers: they are not forwarded by gossip either, and
a node that never had one will not take it. Sessions are bounded: at most ``MAX_ROUNDS`` turns,
``SESSION_TIMEOUT`` seconds, two at a time in each direction, one frame in memory at a time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import trio

from node.core import syncwire
from node.core.errors import SyncProtocolError
from node.core.reconcile import ItemSet, Range, Reconciler
from node.core.syncwire import MESSAGES
from node.core.validation import Via
from node.daemon.service import NodeService
from node.p2p import BadFrame, P2PHost, Stream, StreamFailed
from node.p2p.streams import HEADER_BYTES

log = logging.getLogger(__name__)

PROTOCOL = syncwire.PROTOCOL
MAX_ROUNDS = 64
SESSION_TIMEOUT = 120.0
FOLLOWER_GRACE = 5.0
INGEST_SLICE = 512
#: Envelopes read from the store per batch when giving.
GIVE_BATCH = 1000
CLOSE_TIMEOUT = 5.0


@dataclass
class SyncResult:
    peer: str
    initiator: bool
    #: When the session started (Unix seconds, for reading; durations use a monotonic clock).
    started_at: float = field(default_factory=time.time)
    rounds: int = 0
    frames: int = 0  # frames received, turns and messages alike
    received: int = 0  # envelopes received
    accepted: int = 0  # of which new and valid
    verified: int = 0  # signatures checked among them
    rejected: int = 0  # REJECTed among them
    sent: int = 0  # envelopes sent
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Session:
    """One reconciliation with one peer; both sides run the same code, over length-prefixed frames
    (``Stream``) of at most ``syncwire.MAX_FRAME`` bytes, one in memory at a time."""

    def __init__(self, stream: Stream, service: NodeService, peer: str, initiator: bool) -> None:
        self.stream = stream
        self.service = service
        self.result = SyncResult(peer, initiator)
        self.items = ItemSet(service.store.messages.sync_keys_sorted(), presorted=True)
        self.reconciler = Reconciler(self.items)

    async def run(self) -> SyncResult:
        started = time.monotonic()
        try:
            with trio.fail_after(SESSION_TIMEOUT):
                await self._converse()
        except trio.TooSlowError:
            self.result.error = f"no agreement within {SESSION_TIMEOUT:.0f} s"
        except SyncProtocolError as exc:
            self.result.error = f"protocol violation: {exc}"
        except BadFrame as exc:
            self.result.error = f"protocol violation: {exc.reason}"
        except StreamFailed as exc:
            self.result.error = f"stream failed: {exc.reason}"
        finally:
            await self.stream.close(CLOSE_TIMEOUT)
            self.result.bytes_sent = self.stream.bytes_sent
            self.result.bytes_received = self.stream.bytes_received
        self.result.seconds = time.monotonic() - started
        return self.result

    async def _converse(self) -> None:
        if self.result.initiator:
            await self._send(syncwire.turn_frame(self.reconciler.initiate(), []))
        while (body := await self.stream.read_frame(syncwire.MAX_FRAME)) is not None:
            self.result.frames += 1
            kind, contents = syncwire.decode(body)
            if kind == MESSAGES:
                self.result.received += len(contents)
                # In slices, letting the node's other tasks (gossip, API, keep-alives) run between
                # them. (Ingesting in a worker thread while reading the next frame was measured
                # slower: both halves are Python code contending for one interpreter lock.)
                for start in range(0, len(contents), INGEST_SLICE):
                    piece = contents[start : start + INGEST_SLICE]
                    outcome = self.service.ingest_batch(piece, Via.SYNC, self.result.peer)
                    self.result.accepted += outcome.added
                    self.result.verified += outcome.verified
                    self.result.rejected += outcome.rejected.total()
                    await trio.sleep(0)
            elif not await self._turn(*contents):
                return  # nothing left to ask: closing tells the peer we are done

    async def _turn(self, ranges: list[Range], want: list[bytes]) -> bool:
        """Answers one turn; False when this side has nothing more to ask."""
        self.result.rounds += 1
        if self.result.rounds > MAX_ROUNDS:
            raise SyncProtocolError(f"more than {MAX_ROUNDS} turns")
        outcome = self.reconciler.respond(ranges)
        for lo, hi in outcome.give_spans:
            for start in range(lo, hi, GIVE_BATCH):
                await self._give(self.items.ids_between(start, min(hi, start + GIVE_BATCH)))
        await self._give(self._wanted(want))
        if not outcome.ranges and not outcome.want:
            return False
        await self._send(syncwire.turn_frame(outcome.ranges, outcome.want))
        return True

    async def _send(self, frame: bytes) -> None:
        """Send a frame ``syncwire`` built (it carries its own length prefix; the stream adds it)."""
        await self.stream.write_frame(frame[HEADER_BYTES:])

    def _wanted(self, want: list[bytes]) -> list[bytes]:
        return self.reconciler.wanted(want) if want else []

    async def _give(self, ids: list[bytes]) -> None:
        for start in range(0, len(ids), GIVE_BATCH):
            envelopes = self.service.store.messages.envelopes(ids[start : start + GIVE_BATCH])
            self.result.sent += len(envelopes)
            for data in syncwire.messages_frames(envelopes):
                await self._send(data)


@dataclass
class SyncService:
    host: P2PHost
    service: NodeService
    interval: float = 30.0
    last: dict[str, SyncResult] = field(default_factory=dict)
    #: The most recent sessions (all peers, oldest first), for ``kiez status`` and benchmarks.
    history: deque[SyncResult] = field(default_factory=lambda: deque(maxlen=20))
    sessions: int = 0
    #: Incoming sessions refused, by reason.
    refused: Counter[str] = field(default_factory=Counter)
    _running: list[SyncResult] = field(default_factory=list)  # sessions in progress, either way
    _synced_at: dict[str, float] = field(default_factory=dict)  # last session either way, by peer
    _active: set[str] = field(default_factory=set)  # peers with a session running, either way
    _outgoing: trio.Semaphore = field(default_factory=lambda: trio.Semaphore(2))
    _incoming: trio.Semaphore = field(default_factory=lambda: trio.Semaphore(2))

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
        if self._incoming.value == 0:
            log.info("sync from %s refused: too many sessions", peer)
            self.refused["busy"] += 1
            await stream.reset()
            return
        async with self._incoming:
            self._active.add(peer)
            try:
                self._record(await self._session(stream, peer, initiator=False))
            finally:
                self._active.discard(peer)

    async def sync_with(self, peer: str) -> SyncResult:
        """Reconciles with ``peer`` now (it must be connected)."""
        async with self._outgoing:
            self._active.add(peer)
            try:
                stream = await self.host.open_stream(peer, PROTOCOL)
            except StreamFailed as exc:
                result = SyncResult(peer, True, error=f"cannot open a sync stream: {exc.reason}")
            else:
                result = await self._session(stream, peer, initiator=True)
            finally:
                self._active.discard(peer)
        self._record(result)
        return result

    async def _session(self, stream: Stream, peer: str, initiator: bool) -> SyncResult:
        session = Session(stream, self.service, peer, initiator)
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
        """Syncs with each peer when it connects, and again every ``interval`` seconds.

        When two nodes connect, both would start a session and send every missing message twice;
        so the node with the lower peer id starts, and the other one only steps in if no session
        happened within ``FOLLOWER_GRACE`` seconds (or one and a half intervals later on)."""
        connected: set[str] = set()
        new_at: dict[str, float] = {}
        while True:
            now = time.monotonic()
            current = set(self.host.connected_peers())
            for peer in current - connected:  # (re)connected: it may have missed anything
                new_at[peer] = now
                self._synced_at.pop(peer, None)
            connected = current
            for peer in sorted(current - self._active):  # one session per pair of peers at a time
                last = self._synced_at.get(peer)
                leader = self.host.peer_id < peer
                if last is None:
                    due = leader or now - new_at[peer] >= FOLLOWER_GRACE
                else:
                    due = now - last >= (self.interval if leader else self.interval * 1.5)
                if due:
                    await self.sync_with(peer)
            await trio.sleep(0.5)
