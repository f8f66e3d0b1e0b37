"""Messages: the envelope every kind shares and the kind-specific payloads.

A message is what an author signs. Its identity is the SHA-256 of its signed bytes, so the same
message has the same id on every node, and any change to it makes a different message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

#: SHA-256 of a message's signed bytes. The contract calls it a post id (``isHidden(postId)``,
#: a bytes32); governance passes it as plain ``post_id: bytes``.
MessageId = NewType("MessageId", bytes)
#: An ed25519 public key (32 bytes) that signs messages, authorised on-chain by a member. Its twin
#: across the layer boundary is ``governance.types.AppKey`` (the same 32 bytes, registered in the
#: contract as a bytes32); the node core never imports governance, so each package names it, the
#: same way.
AppKey = NewType("AppKey", bytes)


class Kind(enum.IntEnum):
    """Message kinds. A reply is a post with a parent."""

    POST = 1
    REACTION = 2
    DELETE = 3
    ERASE = 4  # the author erases everything they wrote up to a moment (the right to erasure)
    ROOM = 5  # creates a room (header room "") or updates one (header room = its id)
    XKEY = 6  # a member's X25519 public key, to which private-room keys are sealed
    ROOM_KEY = 7  # a private room's key for its current participants, sealed to each
    LEAVE = 8  # the author leaves a private room (its participants rotate the key)
    SEALED = 9  # encrypted content of a private room
    EVENT = 10
    RSVP = 11  # an answer to an event: last answer per member wins
    POLL = 12
    ANSWER = 13  # an answer to a poll: last answer per member before it closes wins
    PEER = 14  # a member's node: its libp2p peer id and addresses (header room ""), latest per app key
    PROFILE = 15  # a member's display name, bio, avatar and links (header room ""), latest per member
    GUEST_PASS = 16  # a member invites a non-member's app key to write in one open room until an expiry
    GUEST_END = 17  # the pass's inviter or a moderator ends a guest pass (final: a new pass is a new message)

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Community:
    """What a message is bound to: one contract on one chain (part of every signature)."""

    chain_id: int
    contract: bytes  # 20-byte address

    def __post_init__(self) -> None:
        if len(self.contract) != 20:
            raise ValueError("a community contract address is 20 bytes")

    @property
    def address_hex(self) -> str:
        return "0x" + self.contract.hex()


@dataclass(frozen=True)
class Attachment:
    """A file a post refers to by content hash; nodes fetch and verify it from peers."""

    sha256: bytes
    size: int
    mime: str


@dataclass(frozen=True)
class PostBody:
    text: str
    parent: MessageId | None = None  # set for a reply
    attachments: tuple[Attachment, ...] = ()
    #: The members the post names (20-byte addresses), resolved when it was written: readers
    #: notify from this list, never from the text.
    mentions: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class ReactionBody:
    target: MessageId
    reaction: str  # an emoji or a short word
    active: bool = True  # False withdraws the reaction


@dataclass(frozen=True)
class DeleteBody:
    target: MessageId


@dataclass(frozen=True)
class EraseBody:
    """Everything the signing member wrote (with any of their keys) up to ``until_ms`` is erased
    on every node and never taken in again."""

    until_ms: int


class Visibility(enum.IntEnum):
    OPEN = 0  # anyone running a node may read; members post
    MEMBERS = 1  # end-to-end encrypted to every current member of the community
    PRIVATE = 2  # end-to-end encrypted to an invited set of members

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def encrypted(self) -> bool:
        return self is not Visibility.OPEN


@dataclass(frozen=True)
class RoomBody:
    name: str
    topic: str
    visibility: Visibility
    creator_only: bool = False  # only the room's creator posts (announcements)
    slow_mode_s: int = 0  # least seconds between two posts of one member in this room


@dataclass(frozen=True)
class XKeyBody:
    public: bytes  # 32-byte X25519 public key


@dataclass(frozen=True)
class Recipient:
    """The room key sealed to one participant's X25519 key (node/core/seal.py)."""

    public: bytes
    ephemeral: bytes
    box: bytes


@dataclass(frozen=True)
class RoomKeyBody:
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class LeaveBody:
    pass


@dataclass(frozen=True)
class SealedBody:
    """An encrypted message: once opened with the room key ``key_id`` (the id of the ROOM_KEY
    message that carried it) it is the msgpack array ``[kind, payload]`` of the inner message."""

    key_id: MessageId
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class EventBody:
    title: str
    starts_ms: int
    ends_ms: int
    place: str


@dataclass(frozen=True)
class RsvpBody:
    event: MessageId
    answer: int  # 0 no, 1 yes, 2 maybe


@dataclass(frozen=True)
class PollBody:
    question: str
    options: tuple[str, ...]
    closes_ms: int


@dataclass(frozen=True)
class AnswerBody:
    poll: MessageId
    option: int


@dataclass(frozen=True)
class PeerBody:
    """A signed peer record: where the node of the signing app key can be dialled until
    ``expires_ms``. ``binding`` is the libp2p key's signature (node/core/peers.py) proving that the
    app key's holder controls ``peer_id``, so nobody can advertise another node as a member's."""

    peer_id: bytes  # libp2p peer id bytes: the identity multihash of an ed25519 public key
    addrs: tuple[bytes, ...]  # binary multiaddrs without /p2p/<peer id>
    expires_ms: int
    binding: bytes  # 64-byte ed25519 signature by the peer id's key


@dataclass(frozen=True)
class ProfileBody:
    """How a member presents themself: a display name (not unique; node/core/names.py says what
    it may hold), a short bio, an optional avatar picture and a few links. The latest profile of
    a member wins, whichever of their app keys signed it."""

    name: str
    bio: str = ""
    avatar: Attachment | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuestPassBody:
    """A guest pass: the app key ``guest`` (a non-member's ed25519 key) may post, reply and react
    in the message's header room until ``until_ms``, at most as long as the community's guest
    policy allows (node/core/guests.py). ``note`` says who the guest is, for the members."""

    guest: AppKey
    until_ms: int
    note: str = ""


@dataclass(frozen=True)
class GuestEndBody:
    """Ends the guest pass ``pass_id`` from this message's timestamp on."""

    pass_id: MessageId


Body = (
    PostBody
    | ReactionBody
    | DeleteBody
    | EraseBody
    | RoomBody
    | XKeyBody
    | RoomKeyBody
    | LeaveBody
    | SealedBody
    | EventBody
    | RsvpBody
    | PollBody
    | AnswerBody
    | PeerBody
    | ProfileBody
    | GuestPassBody
    | GuestEndBody
)


@dataclass(frozen=True)
class Message:
    """A decoded, well-formed message. Its signature is *not* yet verified by construction;
    ``validation.validate`` does that."""

    id: MessageId
    version: int
    community: Community
    kind: Kind
    author: AppKey
    timestamp_ms: int
    room: str
    body: Body
    signed: bytes  # the exact signed bytes, as received
    signature: bytes
    envelope: bytes  # the exact envelope bytes, as received (what gossip and sync forward)

    @property
    def parent(self) -> MessageId | None:
        return self.body.parent if isinstance(self.body, PostBody) else None
