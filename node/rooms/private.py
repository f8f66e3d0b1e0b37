"""Private and members-only rooms, as this node's member sees them: keys, sealing, reading.

The node holds one secret of its own for this, an X25519 key (``$KIEZ_HOME/x25519_key``, 0600),
and publishes its public half in an XKEY message. A private room's key is a random 32-byte key,
sealed to each participant's X25519 key in a ROOM_KEY message (node/core/seal.py); content is
published as SEALED messages encrypted under the newest key. Readers find their own sealed copy of
the key in the ROOM_KEY message the content names. Nothing about keys is stored beyond the
messages themselves: a node opens the key again when it needs it (and caches it in memory).

Rotation: when a participant leaves (a LEAVE message) or stops being a community member, any
remaining participant's node seals a fresh key to the others, so the one who left cannot read
what comes after. A members-only room's participants are simply all current members whose X25519
key is known; its key is rotated whenever that set changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from node.core import errors, seal
from node.core.encoding import SEALABLE, decode
from node.core.rooms import Room, current_key, participants
from node.core.types import (
    Body,
    Kind,
    LeaveBody,
    Message,
    Recipient,
    RoomKeyBody,
    SealedBody,
    Visibility,
    XKeyBody,
)
from node.daemon.service import NodeService
from node.errors import PublishError

log = logging.getLogger(__name__)


@dataclass
class Opened:
    """A sealed message, opened."""

    kind: Kind
    body: Body


@dataclass
class PrivateRooms:
    service: NodeService
    x25519_private: bytes
    _keys: dict[bytes, bytes] = field(default_factory=dict)  # key id -> room key

    @property
    def public(self) -> bytes:
        return seal.x25519_public(self.x25519_private)

    @property
    def member(self) -> str | None:
        return self.service.view.owner_of(self.service.signer.public_key)

    # ------------------------------------------------------------------ publishing

    def ensure_xkey(self) -> Message | None:
        """Publishes this node's X25519 key if the community does not know it yet (the caller
        gossips the message returned)."""
        member = self.member
        if member is None or self.service.store.rooms.xkeys().get(member) == self.public:
            return None
        if self.service.store.messages.erased_until(member) is not None:
            # the member erased everything they wrote (`kiez forget-me`): publishing their key
            # again would undo part of that, and they are on their way out
            return None
        return self.service.publish(Kind.XKEY, XKeyBody(self.public))

    def issue_key(self, room: Room, members: set[str]) -> Message:
        """Seals a fresh key to ``members`` (those whose X25519 key is known) and publishes it."""
        xkeys = self.service.store.rooms.xkeys()
        recipients = []
        room_key = seal.new_room_key()
        for member in sorted(members):
            public = xkeys.get(member)
            if public is not None:
                sealed = seal.seal_to(public, room_key, bytes.fromhex(room.id))
                recipients.append(Recipient(public, sealed.ephemeral, sealed.box))
        if self.public not in {r.public for r in recipients}:
            raise PublishError("this node's X25519 key is not known yet; wait for its XKEY message to be accepted")
        message = self.service.publish(Kind.ROOM_KEY, RoomKeyBody(tuple(recipients)), room.id)
        self._keys[message.id] = room_key
        return message

    def seal(self, room: Room, kind: Kind, body: Body) -> SealedBody:
        """Encrypts ``body`` for the room's current participants."""
        if kind not in SEALABLE:
            raise PublishError(f"a private room carries posts and reactions, not {kind.label} messages")
        key = current_key(self.service.store.rooms.room_keys(room.id))
        if key is None:
            raise PublishError(f"room {room.body.name!r} has no key yet")
        room_key = self.room_key(key.key_id)
        if room_key is None:
            raise PublishError(f"you are not a participant of room {room.body.name!r} (ask one to invite you)")
        author = self.service.signer.public_key
        header = seal.content_header(self.service.community.contract, room.id, key.key_id, author)
        return seal.seal_content(room_key, kind, body, header, key.key_id)

    def leave(self, room: Room) -> Message:
        return self.service.publish(Kind.LEAVE, LeaveBody(), room.id)

    # ------------------------------------------------------------------ reading

    def can_read(self, room: Room) -> bool:
        """Whether this node holds the room's current key."""
        key = current_key(self.service.store.rooms.room_keys(room.id))
        return key is not None and self.room_key(key.key_id) is not None

    def room_key(self, key_id: bytes) -> bytes | None:
        """The room key a ROOM_KEY message carries for this node, if it carries one."""
        if key_id in self._keys:
            return self._keys[key_id]
        envelope = self.service.store.messages.envelope(key_id)
        if envelope is None:
            return None
        message = decode(envelope)
        if not isinstance(message.body, RoomKeyBody):
            return None
        mine = next((r for r in message.body.recipients if r.public == self.public), None)
        if mine is None:
            return None
        try:
            room_key = seal.open_sealed(
                self.x25519_private, seal.Sealed(mine.ephemeral, mine.box), bytes.fromhex(message.room)
            )
        except errors.SealError:
            return None
        self._keys[key_id] = room_key
        return room_key

    def open(self, message: Message) -> Opened | None:
        """The content of a sealed message, or None if this node cannot read it."""
        body = message.body
        if not isinstance(body, SealedBody):
            return None
        room_key = self.room_key(body.key_id)
        if room_key is None:
            return None
        try:
            return Opened(*seal.open_content(room_key, message))
        except (errors.SealError, errors.DecodeError):
            log.info("sealed message %s does not open into a valid message", message.id.hex()[:16])
            return None

    # ------------------------------------------------------------------ upkeep

    def desired(self, room: Room) -> set[str] | None:
        """Who should hold the room's key now (None: leave it as it is)."""
        view = self.service.view
        xkeys = self.service.store.rooms.xkeys()
        if room.body.visibility is Visibility.MEMBERS:
            return {m for m in xkeys if view.is_member(m)}
        key = current_key(self.service.store.rooms.room_keys(room.id))
        if key is None:
            return None
        holders = participants(key, xkeys)
        left = self.service.store.rooms.left_members(room.id, since_ms=key.version[0])
        return {m for m in holders if view.is_member(m) and m not in left}

    def invite(self, room: Room, member: str) -> Message:
        """Adds ``member`` to a private room: a fresh key for the participants and them."""
        if member not in self.service.store.rooms.xkeys():
            raise PublishError(f"{member} has no X25519 key yet (their node publishes one when it starts)")
        key = current_key(self.service.store.rooms.room_keys(room.id))
        holders = participants(key, self.service.store.rooms.xkeys())
        return self.issue_key(room, holders | {member})

    def maintain(self) -> list[Message]:
        """Rotates the key of every encrypted room this node takes part in whose readers changed;
        returns the new key messages (for the caller to gossip)."""
        member = self.member
        if member is None or not self.service.view.is_member(member):
            return []
        rotated = []
        xkeys = self.service.store.rooms.xkeys()
        for room in self.service.store.rooms.all():
            if not room.encrypted:
                continue
            key = current_key(self.service.store.rooms.room_keys(room.id))
            holders = participants(key, xkeys)
            if member not in holders:
                continue
            wanted = self.desired(room)
            if wanted is None or member not in wanted or wanted == holders:
                continue
            try:
                rotated.append(self.issue_key(room, wanted))
                log.info("rotated the key of room %s: %d readers", room.body.name, len(wanted))
            except PublishError as exc:
                log.info("could not rotate the key of room %s: %s", room.body.name, exc)
        return rotated
