"""The connection keeper: holds ``target`` connections, members' nodes first.

Where to dial comes from ``candidates``, a callable read every round: the address book's records
(members' nodes, preferred), the configured bootstrap peers (the fallback), peers found on the
LAN by mDNS (last, and on probation). While fewer than ``target`` peers are connected, the keeper
dials the best candidates it is not connected to, a few at once. An address that fails is not
tried again for ``interval``, 2x, 4x … up to ``max_backoff`` (with jitter), and a success resets
it; the state is in memory, since a restarted node should try everything once anyway. So a node
that restarts with no bootstrap at all reconnects from the records in its store.

A candidate on probation (``vouch`` is set) must prove, within ``probation_s`` of connecting,
that it is a member's node (``vouch(peer_id)`` true: its record has arrived, by sync); otherwise
it is disconnected and not dialled again for ``max_backoff``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from node.p2p.errors import BadMultiaddr, DialFailed
from node.p2p.host import P2PHost

logger = logging.getLogger(__name__)

_JITTER = 0.1
#: Dials at once per round (a community is small; a burst of dials to dead addresses costs time).
PARALLEL_DIALS = 4
#: One address's dial gives up after this long. A round waits for its slowest dial, and an address
#: that cannot answer (another home's private address, behind its NAT) would otherwise hold the
#: round for py-libp2p's own 15 s; a live member's node answers a TCP + Noise handshake far sooner.
DIAL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Candidate:
    """A node to dial: its peer id (base58), full multiaddrs ending in ``/p2p/<id>``, and where it
    was learned (``rank`` orders: 0 address book, 1 bootstrap, 2 mDNS)."""

    peer_id: str
    addrs: tuple[str, ...]
    rank: int
    vouch: Callable[[str], bool] | None = None


@dataclass
class Backoff:
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class ConnectionKeeper:
    host: P2PHost
    candidates: Callable[[], list[Candidate]]
    target: int = 8
    interval: float = 1.0
    max_backoff: float = 60.0
    probation_s: float = 30.0
    dials: int = 0
    failures: int = 0
    _backoff: dict[str, Backoff] = field(default_factory=dict)
    _probation: dict[str, tuple[float, Callable[[str], bool]]] = field(default_factory=dict)  # id -> (deadline, vouch)

    def status(self) -> dict[str, object]:
        now = trio.current_time()
        backing_off = sorted(a for a, b in self._backoff.items() if b.retry_at > now)
        return {"target": self.target, "dials": self.dials, "failed_dials": self.failures, "backing_off": backing_off}

    def due(self, addr: str, now: float) -> bool:
        state = self._backoff.get(addr)
        return state is None or state.retry_at <= now

    def failed(self, addr: str, now: float) -> float:
        state = self._backoff.setdefault(addr, Backoff())
        state.failures += 1
        delay = min(self.interval * 2.0 ** (state.failures - 1), self.max_backoff)
        delay *= 1 + random.uniform(-_JITTER, _JITTER)  # noqa: S311 - jitter, not cryptography
        state.retry_at = now + delay
        return delay

    def succeeded(self, addr: str) -> None:
        self._backoff.pop(addr, None)

    def choose(self, connected: set[str], now: float) -> list[Candidate]:
        """The candidates to dial this round, best first, at most the missing connections."""
        missing = self.target - len(connected)
        if missing <= 0:
            return []
        best: dict[str, Candidate] = {}
        for candidate in sorted(self.candidates(), key=lambda c: c.rank):
            if candidate.peer_id in connected or candidate.peer_id == self.host.peer_id:
                continue
            if not self.due(candidate.peer_id, now):  # dropped after a failed probation
                continue
            addrs = tuple(a for a in candidate.addrs if self.due(a, now))
            if addrs and candidate.peer_id not in best:
                best[candidate.peer_id] = Candidate(candidate.peer_id, addrs, candidate.rank, candidate.vouch)
        return list(best.values())[: min(missing, PARALLEL_DIALS)]

    async def run(self) -> None:
        """Keeps connections until cancelled."""
        while True:
            connected = set(self.host.connected_peers())
            await self._judge_probation(connected)
            chosen = self.choose(connected, trio.current_time())
            if chosen:
                async with trio.open_nursery() as nursery:
                    for candidate in chosen:
                        nursery.start_soon(self._dial, candidate)
            await trio.sleep(self.interval)

    async def _dial(self, candidate: Candidate) -> None:
        for addr in candidate.addrs:
            self.dials += 1
            try:
                with trio.fail_after(DIAL_TIMEOUT_S):
                    await self.host.connect(addr)
            except (DialFailed, BadMultiaddr, trio.TooSlowError) as error:
                self.failures += 1
                delay = self.failed(addr, trio.current_time())
                logger.debug("cannot reach %s at %s, not before %.1f s: %s", candidate.peer_id, addr, delay, error)
                continue
            self.succeeded(addr)
            if candidate.vouch is not None and not candidate.vouch(candidate.peer_id):
                self._probation[candidate.peer_id] = (trio.current_time() + self.probation_s, candidate.vouch)
            logger.info("connected to %s at %s", candidate.peer_id, addr)
            return

    async def _judge_probation(self, connected: set[str]) -> None:
        """Disconnects peers on probation whose membership did not show in time."""
        now = trio.current_time()
        for peer_id, (deadline, vouch) in list(self._probation.items()):
            if vouch(peer_id) or peer_id not in connected:
                del self._probation[peer_id]
            elif now >= deadline:
                del self._probation[peer_id]
                logger.info("%s is not a member's node (no peer record); disconnecting", peer_id)
                self._backoff[peer_id] = Backoff(1, now + self.max_backoff)
                await self.host.disconnect(peer_id)
