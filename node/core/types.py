"""Messages: the envelope every kind shares and the kind-specific payloads.

A message is what an author signs. Its identity is the SHA-256 of its signed bytes, so the same
message has the same id on every node, and any change to it makes a different message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

#: SHA-256 of a message's signed bytes.
MessageId = NewType("MessageId", bytes)
#: An ed25519 public key (32 bytes) that signs messages, authorised on-chain by a member.
AppKey = NewType("AppKey", bytes)


class Kind(enum.IntEnum):
    """Message kinds. A reply is a post with a parent."""

    POST = 1
    REACTION = 2
    DELETE = 3
    ERASE = 4  # the author erases everything they wrote up to a moment (the right to erasure)

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
class PostBody:
    text: str
    parent: MessageId | None = None  # set for a reply


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


Body = PostBody | ReactionBody | DeleteBody | EraseBody


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
