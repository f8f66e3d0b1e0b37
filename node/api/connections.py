"""The API's connections: a fixed number of slots, and what each holds, counted for ``kiez status``.

Anyone on the machine can connect to the API; only the member has the token. So the number of
connections is capped, and a connection beyond the cap takes the slot of the longest-waiting one
that is not serving an authenticated request (a stranger's connection is never protected, the
member's own request always is): a flood of strangers' connections evicts only itself, and the
member's client gets through. Every byte buffered for a connection is counted here and given back
when it closes, so ``kiez status`` shows what the API holds, not a guess from the process's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trio

#: Connections held at once. The member's CLI opens one per command; 64 leave room for scripts and
#: a browser tab or two while bounding what connections from strangers can make the node hold.
MAX_CONNECTIONS = 64


@dataclass(eq=False)
class Slot:
    """One connection's place: its cancel scope (to evict it) and what it holds now."""

    scope: trio.CancelScope
    #: When it last started waiting (``trio.current_time``); the longest waiting is evicted first.
    since: float
    #: Serving a request that presented the token: never evicted.
    protected: bool = False
    #: Bytes buffered for this connection (unparsed input and the body read so far).
    held: int = 0


@dataclass
class Connections:
    limit: int = MAX_CONNECTIONS
    _open: set[Slot] = field(default_factory=set)
    _buffered: int = 0
    accepted: int = 0
    peak: int = 0
    peak_buffered: int = 0
    evicted: int = 0
    #: Refused for each reason, before their bodies were read: ``busy`` (every slot serving an
    #: authenticated request), and the HTTP status of a refused request head (400, 401, 404, 413 …).
    refused: dict[str, int] = field(default_factory=dict)
    #: Admitted requests whose body did not arrive within the server's timeout.
    timeouts: int = 0

    def open(self, scope: trio.CancelScope) -> Slot | None:
        """A slot for a new connection, evicting the longest-waiting unprotected one when all are
        taken; None (refuse it) when every slot serves an authenticated request."""
        if len(self._open) >= self.limit:
            victim = min((s for s in self._open if not s.protected), key=lambda s: s.since, default=None)
            if victim is None:
                self.refuse("busy")
                return None
            self.close(victim)
            victim.scope.cancel()
            self.evicted += 1
        slot = Slot(scope, trio.current_time())
        self._open.add(slot)
        self.accepted += 1
        self.peak = max(self.peak, len(self._open))
        return slot

    def close(self, slot: Slot) -> None:
        """Gives back the slot and everything counted for it (idempotent)."""
        if slot in self._open:
            self._open.discard(slot)
            self._buffered -= slot.held
            slot.held = 0

    def hold(self, slot: Slot, size: int) -> None:
        """``slot`` now buffers ``size`` bytes."""
        if slot in self._open:
            self._buffered += size - slot.held
            slot.held = size
            self.peak_buffered = max(self.peak_buffered, self._buffered)

    def protect(self, slot: Slot, protected: bool) -> None:
        """Starts (True) or ends (False) serving a request; an unprotected slot waits from now."""
        slot.protected = protected
        if not protected:
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
            "timeouts": self.timeouts,
        }
