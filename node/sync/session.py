"""One sync session with one peer: the pure ``Reconciler`` (node/core/reconcile.py) over
``/kiez/sync/1.0.0`` frames (node/core/syncwire.py), within the budgets of node/core/syncbudget.py.

Both sides run the same code. Each frame read or written has a deadline of its own, so a peer
that goes silent costs one step's deadline; every frame counts toward the session's limits;
each of our messages is given at most once per session and within the peer's allowance; what
arrives is judged like gossip (``Via.SYNC``: any age, no rate limit) and stored in batches.
A frame the protocol does not allow, asking for a message again, or a REJECTed message is
booked against the peer in the same ledger as gossip's REJECTs (``PeerDefence``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio

from node.core import syncbudget, syncwire
from node.core.errors import SyncProtocolError, SyncViolation
from node.core.reconcile import ItemSet, Range, Reconciler
from node.core.syncbudget import GiveLedger, PeerAllowance, SessionMeter
from node.core.validation import Via
from node.daemon.service import NodeService
from node.errors import NodeError
from node.p2p import BadFrame, Stream, StreamFailed
from node.p2p.streams import HEADER_BYTES

log = logging.getLogger(__name__)

#: Envelopes handed to validation at a time; the node's other tasks run between two slices.
INGEST_SLICE = 512
#: Envelopes read from the store per query when giving.
GIVE_BATCH = 1000
CLOSE_TIMEOUT_S = 5.0


class PeerDefence(Protocol):
    """The peer ledger sync shares with gossip (``node.p2p.Gossip``): strikes lead to bans."""

    def blame(self, peer_id: str, reason: str) -> None: ...

    def is_banned(self, peer_id: str) -> bool: ...


class SessionEnded(NodeError):
    """The session ends early without blaming anyone: a step's deadline passed, our giving for it
    is spent, or the peer was banned meanwhile."""


@dataclass
class SyncResult:
    peer: str
    initiator: bool
    #: When the session started (Unix seconds, for reading; durations use a monotonic clock).
    started_at: float = field(default_factory=time.time)
    rounds: int = 0  # turns this side answered
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
    """One reconciliation over ``stream``; ``run`` it once."""

    def __init__(
        self,
        stream: Stream,
        service: NodeService,
        defence: PeerDefence,
        allowance: PeerAllowance,
        initiator: bool,
    ) -> None:
        self.stream = stream
        self.service = service
        self.defence = defence
        self.allowance = allowance
        self.peer = stream.peer_id
        self.result = SyncResult(self.peer, initiator)
        self.items = ItemSet(service.store.messages.sync_keys_sorted(), presorted=True)
        self.reconciler = Reconciler(self.items)
        self.meter = SessionMeter()
        self.ledger = GiveLedger(len(self.items))
        self._outbox: list[bytes] = []
        self._outbox_bytes = 0
        self._given_bytes = 0

    async def run(self) -> SyncResult:
        started = time.monotonic()
        try:
            with trio.fail_after(syncbudget.SESSION_TIMEOUT_S):
                await self._converse()
        except trio.TooSlowError:
            self.result.error = f"no agreement within {syncbudget.SESSION_TIMEOUT_S:.0f} s"
        except SyncViolation as exc:
            self._violation(exc.strike, str(exc))
        except SyncProtocolError as exc:
            self._violation(syncbudget.MALFORMED, str(exc))
        except BadFrame as exc:
            self._violation(syncbudget.MALFORMED, exc.reason)
        except StreamFailed as exc:
            self.result.error = f"stream failed: {exc.reason}"
        except SessionEnded as exc:
            self.result.error = str(exc)
        finally:
            await self.stream.close(CLOSE_TIMEOUT_S)
            self.result.frames, self.result.rounds = self.meter.frames, self.meter.turns
            self.result.bytes_sent = self.stream.bytes_sent
            self.result.bytes_received = self.stream.bytes_received
        self.result.seconds = time.monotonic() - started
        return self.result

    def _violation(self, strike: str, detail: str) -> None:
        self.result.error = f"protocol violation: {detail}"
        self.defence.blame(self.peer, strike)

    async def _converse(self) -> None:
        if self.result.initiator:
            await self._send(syncwire.turn_frame(self.reconciler.initiate(), []))
        while (body := await self._read()) is not None:
            self.meter.frame()
            kind, contents = syncwire.decode(body)
            if kind == syncwire.MESSAGES:
                await self._take(contents)
            elif not await self._turn(*contents):
                return  # nothing left to ask: closing tells the peer we are done

    async def _read(self) -> bytes | None:
        with trio.move_on_after(syncbudget.STEP_TIMEOUT_S):
            return await self.stream.read_frame(syncwire.MAX_FRAME)
        raise SessionEnded(f"the peer sent nothing for {syncbudget.STEP_TIMEOUT_S:.0f} s")

    async def _send(self, frame: bytes) -> None:
        """Send a frame ``syncwire`` built (it carries its own length prefix; the stream adds it)."""
        with trio.move_on_after(syncbudget.STEP_TIMEOUT_S):
            await self.stream.write_frame(frame[HEADER_BYTES:])
            return
        raise SessionEnded(f"the peer read nothing for {syncbudget.STEP_TIMEOUT_S:.0f} s")

    async def _take(self, envelopes: list[bytes]) -> None:
        """Validates and stores a MESSAGES frame, in slices, letting the node's other tasks (gossip,
        API, keep-alives) run between them. (Ingesting in a worker thread while reading the next
        frame was measured slower: both halves are Python code contending for one interpreter lock.)"""
        self.meter.envelopes(envelopes)
        self.result.received += len(envelopes)
        rejected: Counter[str] = Counter()
        for start in range(0, len(envelopes), INGEST_SLICE):
            outcome = self.service.ingest_batch(envelopes[start : start + INGEST_SLICE], Via.SYNC, self.peer)
            self.result.accepted += outcome.added
            self.result.verified += outcome.verified
            rejected += outcome.rejected
            await trio.sleep(0)
        self.result.rejected += rejected.total()
        strikes = 0
        for reason, count in rejected.most_common():
            for _ in range(min(count, syncbudget.MAX_STRIKES_PER_FRAME - strikes)):
                self.defence.blame(self.peer, reason)
                strikes += 1
        if strikes and self.defence.is_banned(self.peer):
            raise SessionEnded(f"the peer is banned ({rejected.total()} messages rejected in its last frame)")

    async def _turn(self, ranges: list[Range], want: list[bytes]) -> bool:
        """Answers one turn; False when this side has nothing more to ask."""
        self.meter.turn()
        outcome = self.reconciler.respond(ranges)
        wanted = self.reconciler.wanted_positions(want) if want else []
        self.ledger.claim(outcome.give_spans, wanted)
        for lo, hi in outcome.give_spans:
            for start in range(lo, hi, GIVE_BATCH):
                await self._give(self.items.ids_between(start, min(hi, start + GIVE_BATCH)))
        for start in range(0, len(wanted), GIVE_BATCH):
            await self._give([self.items.id_at(p) for p in wanted[start : start + GIVE_BATCH]])
        await self._flush()
        if not outcome.ranges and not outcome.want:
            return False
        await self._send(syncwire.turn_frame(outcome.ranges, outcome.want))
        return True

    async def _give(self, ids: list[bytes]) -> None:
        """Queues the envelopes of ``ids`` into MESSAGES frames of about
        ``syncwire.MESSAGES_FRAME_TARGET`` bytes, sending each as it fills (across store queries,
        so a turn's gift is full frames and at most one part-filled one)."""
        for envelope in self.service.store.messages.envelopes(ids):
            if self._outbox and (
                self._outbox_bytes + len(envelope) > syncwire.MESSAGES_FRAME_TARGET
                or len(self._outbox) >= syncwire.MAX_ENVELOPES
            ):
                await self._flush()
            self._outbox.append(envelope)
            self._outbox_bytes += len(envelope)

    async def _flush(self) -> None:
        batch, size = self._outbox, self._outbox_bytes
        if not batch:
            return
        self._outbox, self._outbox_bytes = [], 0
        if self._given_bytes + size > syncbudget.SESSION_BYTES:
            raise SessionEnded(f"gave {self._given_bytes} bytes of messages, the most for one session; more next time")
        if not self.allowance.give(self.peer, size):
            raise SessionEnded("the peer was given all it may have for now; more later")
        self._given_bytes += size
        self.result.sent += len(batch)
        await self._send(syncwire.pack([syncwire.MESSAGES, batch]))
