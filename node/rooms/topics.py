"""Rooms at run time: one gossip topic per followed room, and private-room key upkeep.

The general room is the community's topic (node/spec/wire-format.md, section 7); every other room
is that topic plus ``/<room id>``. A node subscribes to the rooms its member follows, publishes a
message on its room's topic, and every few seconds makes sure its X25519 key is published and
that the private rooms it takes part in have a key for exactly their current readers.
(Sync still reconciles all of a node's messages, whatever their room.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trio

from node.config import NodeConfig
from node.core.encoding import decode
from node.core.errors import DecodeError
from node.daemon.service import NodeService
from node.errors import PublishError
from node.p2p.gossip import Gossip
from node.rooms.private import PrivateRooms

log = logging.getLogger(__name__)

UPKEEP_INTERVAL_S = 2.0


@dataclass
class RoomTopics:
    """The gossip topics of the rooms this node follows, and the upkeep of its private rooms' keys."""

    config: NodeConfig
    service: NodeService
    gossip: Gossip
    rooms: PrivateRooms

    def topic(self, room: str) -> str:
        return self.config.topic if not room else f"{self.config.topic}/{room}"

    async def start(self) -> None:
        for room in sorted(self.service.store.rooms.follows()):
            await self.gossip.subscribe(self.topic(room))

    def following(self) -> set[str]:
        return self.service.store.rooms.follows()

    async def follow(self, room: str, on: bool) -> None:
        """Follows (subscribes to) or stops following a room. py-libp2p cannot unsubscribe
        cleanly, so an unfollowed room's topic stays subscribed until the node restarts."""
        self.service.store.rooms.set_follow(room, on)
        if on and room:
            await self.gossip.subscribe(self.topic(room))

    async def broadcast(self, envelope: bytes) -> None:
        """Gossips a message this node stored, on its room's topic."""
        try:
            room = decode(envelope).room
        except DecodeError:
            return
        if room and room not in self.service.store.rooms.follows():
            await self.follow(room, True)
        await self.gossip.publish(self.topic(room), envelope)

    async def upkeep(self) -> None:
        while True:
            try:
                await self._upkeep_once()
            except PublishError as exc:
                log.info("room upkeep: %s", exc)
            await trio.sleep(UPKEEP_INTERVAL_S)

    async def _upkeep_once(self) -> None:
        for guest_pass in self.service.store.guest_passes(self.service.signer.public_key):
            if guest_pass.room not in self.service.store.rooms.follows():
                await self.follow(guest_pass.room, True)  # a guest's node follows the rooms it is invited to
        member = self.rooms.member
        if member is None or not self.service.view.is_member(member):
            return
        xkey = self.rooms.ensure_xkey()
        if xkey is not None:
            await self.broadcast(xkey.envelope)
        for key in self.rooms.maintain():
            await self.broadcast(key.envelope)
