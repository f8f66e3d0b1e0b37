"""What a sync session, and a peer over time, may cost a node: deadlines, limits, budgets.

Anyone who connects may open sync sessions, so everything a session can make a node do is
bounded here, as numbers and pure bookkeeping (the sync service enforces them on the wire):

- **time**: every step (one frame read or written, opening the stream) has ``STEP_TIMEOUT_S``, the
  whole session ``SESSION_TIMEOUT_S``: a silent peer costs one step's deadline, not a session's;
- **what a peer sends**: at most ``MAX_TURNS`` turns and ``MAX_FRAMES`` frames of any kind (message
  frames count too) and ``SESSION_BYTES`` of envelopes per session (``SessionMeter``);
- **what we give**: each of our messages at most once per session (``GiveLedger``: an honest peer
  never asks twice, so asking again is a strike), at most ``SESSION_BYTES`` of envelopes per
  session, and per peer over time a token bucket of ``GIVE_BURST_BYTES`` refilled at
  ``GIVE_REFILL_BYTES_PER_S`` (``PeerAllowance``), shared by both directions;
- **slots**: ``MAX_INCOMING`` sessions others opened, at most one per peer, at most
  ``SESSION_BURST`` new ones per peer refilled ``SESSIONS_PER_INTERVAL`` per sync interval;
  ``MAX_OUTGOING`` sessions of our own at once.

``SESSION_BYTES`` is one number on both sides of a session: a node never gives more in one session
than its peer accepts, so a late joiner of a large community is served in several sessions, each
a complete conversation. Misbehaviour (``SyncViolation``) names the strike it is worth; the
strikes go to the same ledger as gossip's REJECTs (node/p2p/guard.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from node.core.errors import SyncViolation

#: Longest wait for one step: a frame read, a frame written, the stream opened.
STEP_TIMEOUT_S = 15.0
#: Longest session, whatever the steps.
SESSION_TIMEOUT_S = 120.0
#: Turns a side answers in one session at most.
MAX_TURNS = 64
#: Frames a side reads in one session at most, turns and message frames together: 64 turns, one
#: part-filled message frame after each, and the ~140 full ones (~240 KiB and up) that
#: ``SESSION_BYTES`` needs, with room to spare for another implementation's framing.
MAX_FRAMES = 384
#: Bytes of envelopes (their lengths summed) a side gives, and accepts, in one session at most.
SESSION_BYTES = 32 * 1024 * 1024
#: REJECTed messages in one message frame count this many strikes at most: a flood is banned
#: after a few frames, while one frame from a peer whose view of the chain differs from ours
#: (a reorg) does not ban it at once.
MAX_STRIKES_PER_FRAME = 4
#: Sessions other peers opened, running at once (at most one per peer).
MAX_INCOMING = 8
#: Sessions this node opened, running at once.
MAX_OUTGOING = 4
#: New incoming sessions per peer: a burst of this many ...
SESSION_BURST = 3
#: ... then this many per sync interval (one every 10 s at the spec's 30 s; an honest peer opens
#: one per interval, and one on reconnecting), since each session costs reading every key of the
#: store (~0.3 s at 100,000 messages).
SESSIONS_PER_INTERVAL = 3
#: The spec's sync interval, and so the default refill of ``PeerAllowance``: one session every ...
SYNC_INTERVAL_S = 30.0
SESSION_REFILL_S = SYNC_INTERVAL_S / SESSIONS_PER_INTERVAL
#: What a peer may be given over time, both directions together: a burst of this many bytes of
#: envelopes (a late joiner's whole history, up to ~250,000 posts) ...
GIVE_BURST_BYTES = 64 * 1024 * 1024
#: ... refilled at this rate (~5 GiB a day).
GIVE_REFILL_BYTES_PER_S = 64 * 1024
#: Peers whose allowances are remembered at most; the least recently seen are forgotten first
#: (by then their buckets have refilled, so forgetting one is the same as keeping it full).
MAX_PEERS = 4096

#: Strike reasons of sync itself (a REJECTed message's strike carries the verdict's reason).
MALFORMED = "sync_malformed"
OVER_LIMIT = "sync_over_limit"
ASKED_AGAIN = "sync_asked_again"

Clock = Callable[[], float]


@dataclass
class SessionMeter:
    """What the peer sent in one session, against the limits; raises ``SyncViolation`` beyond."""

    frames: int = 0
    turns: int = 0
    received_bytes: int = 0

    def frame(self) -> None:
        self.frames += 1
        if self.frames > MAX_FRAMES:
            raise SyncViolation(OVER_LIMIT, f"more than {MAX_FRAMES} frames in one session")

    def turn(self) -> None:
        self.turns += 1
        if self.turns > MAX_TURNS:
            raise SyncViolation(OVER_LIMIT, f"more than {MAX_TURNS} turns in one session")

    def envelopes(self, envelopes: Sequence[bytes]) -> None:
        self.received_bytes += sum(len(e) for e in envelopes)
        if self.received_bytes > SESSION_BYTES:
            raise SyncViolation(OVER_LIMIT, f"more than {SESSION_BYTES} bytes of messages in one session")


class GiveLedger:
    """Which of this side's items (by position in its sorted set) it gave in this session.

    One byte per item, compared and set a span at a time: ~100 KB for 100,000 items."""

    def __init__(self, size: int) -> None:
        self._given = bytearray(size)

    def claim(self, spans: Sequence[tuple[int, int]], positions: Sequence[int]) -> None:
        """Marks ``spans`` (lo, hi) and ``positions`` as given; ``SyncViolation`` if any of them was
        given before in this session (or is named twice in this claim)."""
        again = 0
        for lo, hi in spans:
            again += hi - lo - self._given[lo:hi].count(0)
            self._given[lo:hi] = b"\x01" * (hi - lo)
        for position in positions:
            again += self._given[position]
            self._given[position] = 1
        if again:
            raise SyncViolation(ASKED_AGAIN, f"asked again for {again} message(s) given in this session")


class PeerAllowance:
    """Per peer: new incoming sessions, and bytes of envelopes given, each a token bucket."""

    def __init__(
        self,
        clock: Clock,
        *,
        session_refill_s: float = SESSION_REFILL_S,
        give_burst: int = GIVE_BURST_BYTES,
        give_refill_per_s: float = GIVE_REFILL_BYTES_PER_S,
        max_peers: int = MAX_PEERS,
    ) -> None:
        if session_refill_s <= 0 or give_burst < 0 or give_refill_per_s < 0 or max_peers < 1:
            raise ValueError("an allowance needs a positive session refill and peer cap, and no negative bytes")
        self._clock = clock
        self._session_refill_s = session_refill_s
        self._give_burst = float(give_burst)
        self._give_refill_per_s = give_refill_per_s
        self._max_peers = max_peers
        #: peer -> (session tokens, give tokens in bytes, when last refilled)
        self._peers: OrderedDict[str, tuple[float, float, float]] = OrderedDict()

    def session(self, peer: str) -> bool:
        """Takes one session for ``peer`` if it has one left."""
        sessions, give = self._refilled(peer)
        allowed = sessions >= 1
        self._keep(peer, sessions - 1 if allowed else sessions, give)
        return allowed

    def give(self, peer: str, size: int) -> bool:
        """Takes ``size`` bytes of giving for ``peer`` if it has that many left."""
        sessions, give = self._refilled(peer)
        allowed = give >= size
        self._keep(peer, sessions, give - size if allowed else give)
        return allowed

    def _refilled(self, peer: str) -> tuple[float, float]:
        now = self._clock()
        sessions, give, at = self._peers.pop(peer, (float(SESSION_BURST), self._give_burst, now))
        elapsed = max(now - at, 0.0)
        sessions = min(float(SESSION_BURST), sessions + elapsed / self._session_refill_s)
        give = min(self._give_burst, give + elapsed * self._give_refill_per_s)
        return sessions, give

    def _keep(self, peer: str, sessions: float, give: float) -> None:
        self._peers[peer] = (sessions, give, self._clock())  # (re)inserted last: most recently seen
        while len(self._peers) > self._max_peers:
            self._peers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._peers)
