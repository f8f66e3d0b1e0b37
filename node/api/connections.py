"""The API's connections: a fixed number of slots, and what each holds, counted for ``kiez status``.

Anyone on the machine can connect to the API; only the member has the token. So the number of
connections is capped, and a connection beyond the cap takes the slot of the longest-waiting one
that is not serving an authenticated request (a stranger's connection is never protected, the
member's own request always is): a flood of strangers' connections evicts only itself, and the
member's client gets through, even when strangers open more connections than the node has file
descriptors. The server (``node.api.server``) opens and closes slots; the guard
(``node.api.guard``) marks which one serves the member and counts the body bytes read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trio

#: Connections held at once. The member's CLI opens one per command; 64 leave room for scripts and
#: a browser tab or two while bounding what connections from strangers can make the node hold.
MAX_CONNECTIONS = 64

#: A connection's peer (address, port): on loopback, unique per open connection.
Peer = tuple[str, int]


@dataclass(eq=False)
class Slot:
    """One connection's place: its cancel scope (to evict it) and what it holds now."""

    scope: trio.CancelScope
    #: When it last started waiting (``trio.current_time``); the longest waiting is evicted first.
    since: float
    #: Serving a request that presented the token or a session: never evicted.
    protected: bool = False
    #: Body bytes read for the request it serves.
    held: int = 0


@dataclass
class Connections:
    limit: int = MAX_CONNECTIONS
    _open: dict[Peer, Slot] = field(default_factory=dict)
    _buffered: int = 0
    accepted: int = 0
    peak: int = 0
    peak_buffered: int = 0
    evicted: int = 0
    #: Refused for each reason, before their bodies were read: ``busy`` (every slot serving an
    #: authenticated request), and the HTTP status of a refused request head (400, 401, 404, 413 …).
    refused: dict[str, int] = field(default_factory=dict)

    def open(self, peer: Peer, scope: trio.CancelScope) -> Slot | None:
        """A slot for a new connection, evicting the longest-waiting unprotected one when all are
        taken; None (refuse it) when every slot serves an authenticated request."""
        if len(self._open) >= self.limit:
            victim = min((p for p, s in self._open.items() if not s.protected), key=self._since, default=None)
            if victim is None:
                self.refuse("busy")
                return None
            self._open[victim].scope.cancel()
            self.close(victim)
            self.evicted += 1
        slot = Slot(scope, trio.current_time())
        self._open[peer] = slot
        self.accepted += 1
        self.peak = max(self.peak, len(self._open))
        return slot

    def _since(self, peer: Peer) -> float:
        return self._open[peer].since

    def close(self, peer: Peer) -> None:
        """Gives back the slot and everything counted for it (idempotent)."""
        slot = self._open.pop(peer, None)
        if slot is not None:
            self._buffered -= slot.held

    def hold(self, peer: Peer, size: int) -> None:
        """The connection of ``peer`` now holds ``size`` body bytes."""
        slot = self._open.get(peer)
        if slot is not None:
            self._buffered += size - slot.held
            slot.held = size
            self.peak_buffered = max(self.peak_buffered, self._buffered)

    def protect(self, peer: Peer, protected: bool) -> None:
        """Starts (True) or ends (False) serving a request; an unprotected slot waits from now."""
        slot = self._open.get(peer)
        if slot is None:
            return
        slot.protected = protected
        if not protected:
            self.hold(peer, 0)
            slot.since = trio.current_time()

    def refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1

    @property
    def open_count(self) -> int:
        return len(self._open)

    @property
    def buffered(self) -> int:
        return self._buffered

    def as_dict(self) -> dict[str, Any]:
        return {
            "open": len(self._open),
            "limit": self.limit,
            "accepted": self.accepted,
            "peak": self.peak,
            "evicted": self.evicted,
            "buffered_bytes": self._buffered,
            "peak_buffered_bytes": self.peak_buffered,
            "refused": dict(sorted(self.refused.items())),
        }
