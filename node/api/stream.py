"""``GET /v1/stream``: Server-Sent Events telling the web app that something changed.

Each ``change`` event carries only the node's change count (``node.daemon.changes``): the page
then asks the routes it shows for what is new, under the same rules as every other request.
A ``tick`` every ``TICK_S`` refreshes what changes without a message (peers, the chain's head)
and lets both ends notice a dead connection. Streams are long: each holds one of the API's
connection slots, never evicted, so at most ``MAX_STREAMS`` are open at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import trio
from fastapi import APIRouter
from starlette.responses import StreamingResponse

from node.api.problems import COMMON_HEADERS, HttpError
from node.daemon.changes import Changes

#: Streams open at once: a member's browser tabs; the other slots stay for requests.
MAX_STREAMS = 8
#: Seconds between ticks.
TICK_S = 15.0
#: What the browser waits before reconnecting a stream that broke, in ms (the SSE ``retry`` field).
RETRY_MS = 2000


@dataclass
class Stream:
    changes: Changes
    open_streams: int = 0

    def add_routes(self, api: APIRouter) -> None:
        api.add_api_route(
            "/v1/stream",
            self.stream,
            methods=["GET"],
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "change and tick events"}},
        )

    async def stream(self) -> StreamingResponse:
        """Server-Sent Events: ``change`` (with the change count) when something a page shows may
        have changed, ``tick`` every 15 s."""
        if self.open_streams >= MAX_STREAMS:
            raise HttpError(429, f"{MAX_STREAMS} streams are open already; close a tab of the web app")
        headers = {**COMMON_HEADERS, "x-accel-buffering": "no"}
        return StreamingResponse(self._events(), media_type="text/event-stream", headers=headers)

    async def _events(self) -> AsyncIterator[str]:
        self.open_streams += 1  # counted while the generator runs: from its first event to its close
        try:
            seen = self.changes.version
            yield f"retry: {RETRY_MS}\n" + _event("change", seen)
            while True:
                version = seen
                with trio.move_on_after(TICK_S):  # never across a yield: the scope stays in this frame
                    version = await self.changes.wait_past(seen)
                yield _event("change" if version > seen else "tick", version)
                seen = version
        finally:
            self.open_streams -= 1


def _event(name: str, version: int) -> str:
    return f"event: {name}\ndata: {json.dumps({'version': version})}\n\n"
