"""A count of what changed in the node's store and chain view, and a way to wait for the next change.

The web app listens for changes instead of asking every few seconds (``GET /v1/stream``). What
bumps it: a message stored (gossip, sync, the member's own), and a batch of chain events applied.
It says only *that* something changed; the page then asks the API for what it shows, so one
event per batch is enough and nothing of a message's content travels on the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trio


@dataclass
class Changes:
    version: int = 0
    _next: trio.Event = field(default_factory=trio.Event)

    def bump(self) -> None:
        """Something changed: wakes every waiter."""
        self.version += 1
        self._next.set()
        self._next = trio.Event()

    async def wait_past(self, seen: int) -> int:
        """The version once it is past ``seen`` (at once if it already is)."""
        while self.version <= seen:
            await self._next.wait()
        return self.version
