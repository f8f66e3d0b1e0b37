"""Publishing what a member writes through the API: seal if the room is encrypted, sign, check,
store, gossip, and answer with the new message's id.

Shared by the message routes and the rooms routes so every write is refused (422) and answered
the same way, whichever route it came through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from node.api.problems import HttpError
from node.api.sealed import SealedRooms
from node.core.types import Body, Kind
from node.daemon.service import NodeService
from node.errors import PublishError


@dataclass
class Publisher:
    service: NodeService
    sealed: SealedRooms
    #: Gossips an envelope the node just stored (the p2p layer's publish).
    broadcast: Callable[[bytes], Awaitable[None]]

    async def __call__(self, kind: Kind, body: Body, room: str) -> dict[str, Any]:
        kind, body = self.sealed.prepare(kind, body, room)
        try:
            message = self.service.publish(kind, body, room)
        except PublishError as exc:
            raise HttpError(422, str(exc)) from None
        await self.broadcast(message.envelope)
        return {"id": message.id.hex(), "kind": kind.label, "timestamp_ms": message.timestamp_ms}
