"""Per-peer misbehaviour bookkeeping: strikes in a sliding window, timed bans, subscription budgets.

Why a ledger of our own beside gossipsub's peer score (gossip.py configures that score too):

- py-libp2p 0.8.1 forgets a peer's score the moment it disconnects (gossipsub.py ``remove_peer``
  calls score.py ``remove_peer``), so a graylisted peer that reconnects starts clean;
- its score decays on a clock (heartbeats), so *when* it crosses a threshold depends on timing;
- nothing in py-libp2p closes a connection or refuses a peer because of its score (score
  integration is still open upstream: libp2p/py-libp2p#871), and its pubsub "blacklist" drops
  messages but never refuses a connection (pubsub.py ``add_to_blacklist``; blacklist management is
  open upstream: libp2p/py-libp2p#706; the swarm's ``ConnectionGate`` filters IP addresses, not
  peer ids).

The ledger is deterministic: the ``max_strikes``-th strike inside ``window_s`` bans the peer,
however the heartbeats fall, and the record outlives reconnections (it is keyed by peer id and
expires with its window). What counts as a strike is decided by the caller (gossip.py): a REJECT,
an RPC from a graylisted peer, a subscription change beyond the budget. Never an IGNORE.

Everything here is pure bookkeeping with an injected clock, so it is unit-tested without a
network; gossip.py enforces the bans. Memory is bounded: at most ``max_peers`` records, bans and
budgets each, the least recently active evicted first, so a flood of fresh peer ids cannot grow it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: Records, bans and budgets kept at most (each); far above the peers a small community has.
DEFAULT_MAX_PEERS = 4096

Clock = Callable[[], float]


@dataclass
class _Record:
    """One peer's recent strikes: the times of the last ``max_strikes`` and counts by reason."""

    times: deque[float]
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Ban:
    """A peer refused until ``until`` (guard clock), and why."""

    peer: str
    since: float
    until: float
    strikes: dict[str, int]

    def describe(self) -> str:
        return ", ".join(f"{reason} {count}" for reason, count in sorted(self.strikes.items()))


class PeerGuard:
    """Counts strikes per peer and bans a peer that collects ``max_strikes`` within ``window_s``."""

    def __init__(
        self,
        *,
        max_strikes: int,
        window_s: float,
        ban_s: float,
        max_peers: int = DEFAULT_MAX_PEERS,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_strikes < 1 or window_s <= 0 or ban_s <= 0 or max_peers < 1:
            raise ValueError("max_strikes, window_s, ban_s and max_peers must be positive")
        self._max_strikes = max_strikes
        self._window_s = window_s
        self._ban_s = ban_s
        self._max_peers = max_peers
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()  # least recently struck first
        self._bans: OrderedDict[str, Ban] = OrderedDict()  # oldest ban first
        #: Strikes by reason since start, all peers together (bounded by the number of reasons).
        self.strikes_total: Counter[str] = Counter()
        self.bans_total = 0
        #: Connections, streams and dials refused because the peer was banned.
        self.refused_total = 0

    def strike(self, peer: str, reason: str) -> Ban | None:
        """Books one strike against ``peer``; returns the ban if this strike caused one."""
        if self.is_banned(peer):
            return None  # already cut off: whatever still trickles in is not news
        now = self._clock()
        record = self._records.pop(peer, None)
        if record is None:
            record = _Record(deque(maxlen=self._max_strikes))
        self._records[peer] = record  # (re)inserted last: most recently struck
        record.times.append(now)
        record.reasons[reason] += 1
        self.strikes_total[reason] += 1
        self._trim_records(now)
        window_start = now - self._window_s
        if len(record.times) < self._max_strikes or record.times[0] < window_start:
            return None
        del self._records[peer]
        ban = Ban(peer, now, now + self._ban_s, dict(record.reasons))
        self._bans[peer] = ban
        self.bans_total += 1
        while len(self._bans) > self._max_peers:
            evicted, _ = self._bans.popitem(last=False)
            logger.warning("too many banned peers; lifting the oldest ban early (peer %s)", evicted)
        return ban

    def is_banned(self, peer: str) -> bool:
        """Whether ``peer`` is refused now (a ban that ran out is lifted here)."""
        ban = self._bans.get(peer)
        if ban is None:
            return False
        if self._clock() < ban.until:
            return True
        del self._bans[peer]
        logger.info("ban on peer %s lifted", peer)
        return False

    def refused(self, peer: str) -> None:
        """Counts a connection, stream or dial refused because ``peer`` is banned."""
        self.refused_total += 1

    def expire(self) -> list[str]:
        """Lifts the bans that ran out and forgets quiet records; returns the peers let back in."""
        now = self._clock()
        lifted = [peer for peer, ban in self._bans.items() if ban.until <= now]
        for peer in lifted:
            del self._bans[peer]
            logger.info("ban on peer %s lifted", peer)
        self._trim_records(now)
        return lifted

    def strikes_in_window(self, peer: str) -> int:
        record = self._records.get(peer)
        if record is None:
            return 0
        window_start = self._clock() - self._window_s
        return sum(1 for at in record.times if at >= window_start)

    def banned(self) -> list[Ban]:
        now = self._clock()
        return [ban for ban in self._bans.values() if ban.until > now]

    def status(self, limit: int = 20) -> dict[str, Any]:
        """What ``kiez status`` shows: totals, the peers with recent strikes, the bans (at most
        ``limit`` each, most recent first)."""
        now = self._clock()
        recent = list(reversed(self._records.items()))[:limit]
        bans = list(reversed(self.banned()))[:limit]
        return {
            "max_strikes": self._max_strikes,
            "strike_window_s": self._window_s,
            "ban_s": self._ban_s,
            "strikes": dict(sorted(self.strikes_total.items())),
            "bans": self.bans_total,
            "refused_connections": self.refused_total,
            "peers_with_strikes": {
                peer: {"in_window": self.strikes_in_window(peer), "reasons": dict(sorted(record.reasons.items()))}
                for peer, record in recent
            },
            "banned": [
                {"peer": ban.peer, "strikes": ban.strikes, "seconds_left": round(ban.until - now, 1)} for ban in bans
            ],
        }

    def _trim_records(self, now: float) -> None:
        """Drops records whose newest strike left the window, then the oldest beyond the cap."""
        window_start = now - self._window_s
        while self._records:
            peer, record = next(iter(self._records.items()))
            if record.times[-1] >= window_start and len(self._records) <= self._max_peers:
                break
            del self._records[peer]


class SubscriptionBudget:
    """A token bucket per peer for subscription changes (gossipsub SUBSCRIBE/UNSUBSCRIBE entries)."""

    def __init__(
        self, *, burst: int, per_second: float, max_peers: int = DEFAULT_MAX_PEERS, clock: Clock = time.monotonic
    ) -> None:
        if burst < 1 or per_second <= 0 or max_peers < 1:
            raise ValueError("burst, per_second and max_peers must be positive")
        self._burst = float(burst)
        self._per_second = per_second
        self._max_peers = max_peers
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # peer -> (tokens, at)

    def allow(self, peer: str) -> bool:
        """Takes one token for ``peer`` if there is one."""
        now = self._clock()
        tokens, at = self._buckets.pop(peer, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._per_second)
        allowed = tokens >= 1
        self._buckets[peer] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self._max_peers:
            # The least recently active peer: by now its bucket has refilled, so forgetting it is
            # the same as keeping it full.
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)
