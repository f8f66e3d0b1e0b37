"""The numbers that bound what a node accepts. They are part of the protocol: every node must
use the same values, or nodes would disagree about which messages are valid."""

from __future__ import annotations

#: Wire protocol version carried in every message and signed with it.
PROTOCOL_VERSION = 1
#: Largest envelope (bytes on the wire) a node looks at; anything bigger is refused unread.
MAX_MESSAGE_BYTES = 16 * 1024
#: Largest post text, in UTF-8 bytes.
MAX_TEXT_BYTES = 8000
#: Largest reaction (an emoji or a short word), in UTF-8 bytes.
MAX_REACTION_BYTES = 32
#: Largest header room, in UTF-8 bytes: a room's id (its ROOM message's id, 32 bytes, as 64 hex
#: digits) or "" for the general room. Not a room's name: that is ``MAX_ROOM_NAME_BYTES``.
MAX_ROOM_BYTES = 2 * 32
#: How far in the future a message's timestamp may be (clocks differ between machines).
#: Event and poll times (ms) end here: exact in every JSON and JavaScript number, far in the future.
MAX_TIME_MS = 2**53 - 1
MAX_FUTURE_SKEW_MS = 10 * 60 * 1000
#: How old a message may be to travel by gossip; older ones arrive through sync only.
MAX_GOSSIP_AGE_MS = 15 * 60 * 1000
#: Rooms. A room's name (what members read) is bounded on its own; that it equals
#: ``MAX_ROOM_BYTES`` (the id in the header) is a coincidence, not one number.
MAX_ROOM_NAME_BYTES = 64
MAX_TOPIC_BYTES = 280  # also a poll's question
MAX_SLOW_MODE_S = 24 * 3600
#: A private room's key message must fit in one message (16 KiB; ~115 bytes per participant).
MAX_ROOM_PARTICIPANTS = 120
#: Events and polls.
MAX_TITLE_BYTES = 120
MAX_PLACE_BYTES = 200
MAX_POLL_OPTIONS = 10
MAX_OPTION_BYTES = 80
#: Attachments: referenced by hash, fetched from peers. The protocol's ceilings, which a community
#: may only vote lower: the contract holds the same two numbers (``_MAX_ATTACHMENTS``,
#: ``_MAX_ATTACHMENT_KIB``) and so does ``governance.types``; tests/integration/test_protocol_numbers.py
#: checks that the three agree.
MAX_ATTACHMENTS = 4
MAX_ATTACHMENT_KIB = 2048
MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_KIB * 1024
ATTACHMENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"})
#: A post names at most this many members (its ``mentions``): enough for a reply to a group,
#: too few to notify the whole community from one post.
MAX_MENTIONS = 10
#: Peer records (kind PEER): how many addresses a record lists, how long each may be (binary
#: multiaddr), and how far after its timestamp it may expire. A record lives a day and is renewed
#: at half-life (node/daemon/records.py); the week's ceiling lets a node be off for a while
#: without its members losing its address.
MAX_PEER_ADDRS = 8
MAX_PEER_ADDR_BYTES = 128
MAX_PEER_RECORD_TTL_MS = 7 * 24 * 3600 * 1000
#: Profiles (kind PROFILE): a display name fits a line beside an address; a bio is a short
#: paragraph; a few links; the avatar is one picture under the community's media caps.
MAX_NAME_BYTES = 64
MAX_BIO_BYTES = 280
MAX_LINKS = 3
MAX_LINK_BYTES = 200
AVATAR_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
#: Guest passes (kind GUEST_PASS): a note on who the guest is; the protocol's ceiling on how
#: long a pass may run, which the community's voted ``max_pass_s`` can only lower; and the
#: default policy while the community has voted none (any member invites, for up to 7 days).
MAX_GUEST_NOTE_BYTES = 280
MAX_GUEST_PASS_S = 90 * 24 * 3600
DEFAULT_GUEST_PASS_S = 7 * 24 * 3600
#: Per-member rate limit: a burst of this many messages ...
RATE_BURST = 60
#: ... refilled at this many messages per second. Far above what a person types, far below what
#: would let one member drown the community (or a node's signature checks).
RATE_PER_SECOND = 10.0
#: How a refusal by the rate limit reads, to members and in logs.
RATE_LIMIT_SENTENCE = (
    f"posting faster than the community's rate limit (a burst of {RATE_BURST}, "
    f"then {RATE_PER_SECOND:g} messages a second per member)"
)
