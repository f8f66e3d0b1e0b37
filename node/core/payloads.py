"""Each message kind's payload: its msgpack form, and the strict decoder with the kind's limits.

One encoder and one decoder per kind, side by side, so the wire form of a kind is read in one
place (node/spec/wire-format.md, section 1, lists the same table).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from node.core import limits
from node.core.errors import DecodeError
from node.core.peers import peer_public_key
from node.core.types import (
    AnswerBody,
    AppKey,
    Attachment,
    Body,
    DeleteBody,
    EraseBody,
    EventBody,
    GuestEndBody,
    GuestPassBody,
    Kind,
    LeaveBody,
    MessageId,
    PeerBody,
    PollBody,
    PostBody,
    ProfileBody,
    ReactionBody,
    Recipient,
    RoomBody,
    RoomKeyBody,
    RsvpBody,
    SealedBody,
    Visibility,
    XKeyBody,
)
from node.core.verdict import Reason


def _malformed(detail: str) -> NoReturn:
    raise DecodeError(Reason.MALFORMED, detail)


def _bad(detail: str) -> NoReturn:
    raise DecodeError(Reason.BAD_CONTENT, detail)


def _uint(value: Any, field: str) -> int:
    if type(value) is not int or value < 0:
        _malformed(f"{field} must be an unsigned integer")
    return value


def _time(value: Any, field: str) -> int:
    if _uint(value, field) > limits.MAX_TIME_MS:
        _malformed(f"{field} must be at most 2^53 - 1 ms")
    return int(value)


def _bin(value: Any, size: int, field: str) -> bytes:
    if type(value) is not bytes or len(value) != size:
        _malformed(f"{field} must be {size} bytes")
    return value


def _id(value: Any, field: str) -> MessageId:
    return MessageId(_bin(value, 32, field))


#: Code points that are not text: Unicode's White_Space, and General_Category Cc (controls) and
#: Cf (format characters), as of Unicode 14.0, as inclusive ranges. Listed rather than read from
#: ``unicodedata``, so that nodes built on other Unicode versions agree on which text is blank.
BLANK_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x1680, 0x1680),
    (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064), (0x2066, 0x206F),
    (0x3000, 0x3000), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
_BLANK = frozenset(chr(c) for low, high in BLANK_RANGES for c in range(low, high + 1))


def is_blank(text: str) -> bool:
    """Whether ``text`` has no code point outside ``BLANK_RANGES``: it may look like anything
    (a combining mark, a Hangul filler), but only White_Space, controls and format characters
    are nothing. The same rule for every field that must not be blank (spec section 1)."""
    return all(c in _BLANK for c in text)


def _text(value: Any, limit: int, field: str, blank_ok: bool = False) -> str:
    if type(value) is not str:
        _malformed(f"{field} must be a string")
    if len(value.encode("utf-8")) > limit:
        _bad(f"{field} is longer than {limit} bytes")
    if not blank_ok and is_blank(value):
        _bad(f"{field} is blank")
    return value


def _array(value: Any, length: int | tuple[int, ...], form: str) -> list[Any]:
    lengths = (length,) if isinstance(length, int) else length
    if type(value) is not list or len(value) not in lengths:
        _malformed(f"the payload is {form}")
    return value


# -------------------------------------------------------------------------- encode


def _encode_post(body: PostBody) -> list[Any]:
    head: list[Any] = [body.text, body.parent]
    if body.attachments or body.mentions:
        head.append([[a.sha256, a.size, a.mime] for a in body.attachments])
    if body.mentions:
        head.append(list(body.mentions))
    return head


ENCODERS: dict[type, Callable[[Any], list[Any]]] = {
    PostBody: _encode_post,
    ReactionBody: lambda b: [b.target, b.reaction, b.active],
    DeleteBody: lambda b: [b.target],
    EraseBody: lambda b: [b.until_ms],
    RoomBody: lambda b: [b.name, b.topic, int(b.visibility), b.creator_only, b.slow_mode_s],
    XKeyBody: lambda b: [b.public],
    RoomKeyBody: lambda b: [[[r.public, r.ephemeral, r.box] for r in b.recipients]],
    LeaveBody: lambda b: [],
    SealedBody: lambda b: [b.key_id, b.nonce, b.ciphertext],
    EventBody: lambda b: [b.title, b.starts_ms, b.ends_ms, b.place],
    RsvpBody: lambda b: [b.event, b.answer],
    PollBody: lambda b: [b.question, list(b.options), b.closes_ms],
    AnswerBody: lambda b: [b.poll, b.option],
    PeerBody: lambda b: [b.peer_id, list(b.addrs), b.expires_ms, b.binding],
    ProfileBody: lambda b: [
        b.name,
        b.bio,
        None if b.avatar is None else [b.avatar.sha256, b.avatar.size, b.avatar.mime],
        list(b.links),
    ],
    GuestPassBody: lambda b: [b.guest, b.until_ms, b.note],
    GuestEndBody: lambda b: [b.pass_id],
}


def encode(body: Body) -> list[Any]:
    """The payload array of ``body``."""
    return ENCODERS[type(body)](body)


# -------------------------------------------------------------------------- decode


def _post(p: Any) -> PostBody:
    p = _array(p, (2, 3, 4), "[text, parent], [text, parent, attachments] or [text, parent, attachments, mentions]")
    text = _text(p[0], limits.MAX_TEXT_BYTES, "post text")
    parent = None if p[1] is None else _id(p[1], "parent id")
    attachments: tuple[Attachment, ...] = ()
    if len(p) >= 3:
        # one canonical form: the list is left out when there are neither attachments nor
        # mentions, and is empty only when mentions follow it
        if type(p[2]) is not list or (len(p) == 3 and not p[2]):
            _malformed("attachments must be a non-empty list (leave the field out when there are none)")
        if len(p[2]) > limits.MAX_ATTACHMENTS:
            _bad(f"at most {limits.MAX_ATTACHMENTS} attachments")
        attachments = tuple(_attachment(a) for a in p[2])
    mentions = _mentions(p[3]) if len(p) == 4 else ()
    return PostBody(text, parent, attachments, mentions)


def _mentions(value: Any) -> tuple[bytes, ...]:
    if type(value) is not list or not value:
        _malformed("mentions must be a non-empty list of 20-byte addresses (leave the field out when there are none)")
    if len(value) > limits.MAX_MENTIONS:
        _bad(f"a post mentions at most {limits.MAX_MENTIONS} members")
    mentions = tuple(_bin(m, 20, "a mention") for m in value)
    if len(set(mentions)) != len(mentions):
        _bad("a post mentions each member once")
    return mentions


def _attachment(a: Any) -> Attachment:
    a = _array(a, 3, "an attachment [sha256, size, mime]")
    size = _uint(a[1], "attachment size")
    if not 0 < size <= limits.MAX_ATTACHMENT_BYTES:
        _bad(f"an attachment is 1 byte to {limits.MAX_ATTACHMENT_BYTES} bytes")
    mime = _text(a[2], 64, "attachment type")
    if mime not in limits.ATTACHMENT_TYPES:
        _bad(f"attachment type {mime!r} is not one of {', '.join(sorted(limits.ATTACHMENT_TYPES))}")
    return Attachment(_bin(a[0], 32, "attachment hash"), size, mime)


def _reaction(p: Any) -> ReactionBody:
    p = _array(p, 3, "[target, reaction, active]")
    if type(p[2]) is not bool:
        _malformed("reaction active flag must be a boolean")
    return ReactionBody(_id(p[0], "reaction target"), _text(p[1], limits.MAX_REACTION_BYTES, "reaction"), p[2])


def _delete(p: Any) -> DeleteBody:
    return DeleteBody(_id(_array(p, 1, "[target]")[0], "delete target"))


def _erase(p: Any) -> EraseBody:
    return EraseBody(_uint(_array(p, 1, "[until_ms]")[0], "erase until"))


def _room(p: Any) -> RoomBody:
    p = _array(p, 5, "[name, topic, visibility, creator_only, slow_mode_s]")
    visibility = _uint(p[2], "room visibility")
    if visibility not in {v.value for v in Visibility}:
        _malformed(f"unknown room visibility {visibility}")
    if type(p[3]) is not bool:
        _malformed("creator_only must be a boolean")
    slow = _uint(p[4], "slow mode")
    if slow > limits.MAX_SLOW_MODE_S:
        _bad(f"slow mode is at most {limits.MAX_SLOW_MODE_S} s")
    name = _text(p[0], limits.MAX_ROOM_NAME_BYTES, "room name")
    return RoomBody(
        name, _text(p[1], limits.MAX_TOPIC_BYTES, "room topic", blank_ok=True), Visibility(visibility), p[3], slow
    )


def _xkey(p: Any) -> XKeyBody:
    return XKeyBody(_bin(_array(p, 1, "[x25519 public key]")[0], 32, "X25519 key"))


def _room_key(p: Any) -> RoomKeyBody:
    recipients = _array(p, 1, "[recipients]")[0]
    if type(recipients) is not list:
        _malformed("a room key's recipients are a list")
    if not 0 < len(recipients) <= limits.MAX_ROOM_PARTICIPANTS:
        _bad(f"a room key goes to 1..{limits.MAX_ROOM_PARTICIPANTS} participants")
    out = []
    for item in recipients:
        r = _array(item, 3, "a recipient [x25519 key, ephemeral key, box]")
        out.append(Recipient(_bin(r[0], 32, "recipient key"), _bin(r[1], 32, "ephemeral key"), _bin(r[2], 48, "box")))
    if len({r.public for r in out}) != len(out):
        _bad("a room key lists each participant once")
    return RoomKeyBody(tuple(out))


def _leave(p: Any) -> LeaveBody:
    _array(p, 0, "[]")
    return LeaveBody()


def _sealed(p: Any) -> SealedBody:
    p = _array(p, 3, "[key id, nonce, ciphertext]")
    if type(p[2]) is not bytes or not 16 <= len(p[2]) <= limits.MAX_MESSAGE_BYTES:
        _malformed("ciphertext must be bytes with at least the 16-byte tag")
    return SealedBody(_id(p[0], "room key id"), _bin(p[1], 12, "nonce"), p[2])


def _event(p: Any) -> EventBody:
    p = _array(p, 4, "[title, starts_ms, ends_ms, place]")
    starts, ends = _time(p[1], "event start"), _time(p[2], "event end")
    if ends < starts:
        _bad("an event ends after it starts")
    title = _text(p[0], limits.MAX_TITLE_BYTES, "event title")
    return EventBody(title, starts, ends, _text(p[3], limits.MAX_PLACE_BYTES, "event place", blank_ok=True))


def _rsvp(p: Any) -> RsvpBody:
    p = _array(p, 2, "[event, answer]")
    answer = _uint(p[1], "RSVP answer")
    if answer > 2:
        _malformed("an RSVP answer is 0 (no), 1 (yes) or 2 (maybe)")
    return RsvpBody(_id(p[0], "event id"), answer)


def _poll(p: Any) -> PollBody:
    p = _array(p, 3, "[question, options, closes_ms]")
    if type(p[1]) is not list:
        _malformed("a poll's options are a list")
    if not 2 <= len(p[1]) <= limits.MAX_POLL_OPTIONS:
        _bad(f"a poll has 2..{limits.MAX_POLL_OPTIONS} options")
    options = tuple(_text(o, limits.MAX_OPTION_BYTES, "poll option") for o in p[1])
    if len(set(options)) != len(options):
        _bad("poll options must differ")
    return PollBody(_text(p[0], limits.MAX_TOPIC_BYTES, "poll question"), options, _time(p[2], "poll closing time"))


def _answer(p: Any) -> AnswerBody:
    p = _array(p, 2, "[poll, option]")
    return AnswerBody(_id(p[0], "poll id"), _uint(p[1], "poll option"))


def _peer(p: Any) -> PeerBody:
    p = _array(p, 4, "[peer_id, addrs, expires_ms, binding]")
    if type(p[0]) is not bytes or peer_public_key(p[0]) is None:
        _bad("a peer record's peer id must be an ed25519 identity peer id (38 bytes)")
    if type(p[1]) is not list:
        _malformed("a peer record's addresses are a list")
    if not 0 < len(p[1]) <= limits.MAX_PEER_ADDRS:
        _bad(f"a peer record lists 1..{limits.MAX_PEER_ADDRS} addresses")
    for addr in p[1]:
        if type(addr) is not bytes or not 0 < len(addr) <= limits.MAX_PEER_ADDR_BYTES:
            _malformed(f"a peer address is a binary multiaddr of 1..{limits.MAX_PEER_ADDR_BYTES} bytes")
    if len(set(p[1])) != len(p[1]):
        _bad("a peer record lists each address once")
    return PeerBody(p[0], tuple(p[1]), _time(p[2], "peer record expiry"), _bin(p[3], 64, "peer binding"))


def _profile(p: Any) -> ProfileBody:
    """The form of a profile; what a name, bio and link may hold is judged in validation
    (node/core/names.py), as content."""
    p = _array(p, 4, "[name, bio, avatar, links]")
    name = _text(p[0], limits.MAX_NAME_BYTES, "display name")
    bio = _text(p[1], limits.MAX_BIO_BYTES, "bio", blank_ok=True)
    avatar = None if p[2] is None else _attachment(p[2])
    if avatar is not None and avatar.mime not in limits.AVATAR_TYPES:
        _bad(f"an avatar is a picture ({', '.join(sorted(limits.AVATAR_TYPES))}), not {avatar.mime}")
    if type(p[3]) is not list or len(p[3]) > limits.MAX_LINKS:
        _malformed(f"a profile's links are a list of at most {limits.MAX_LINKS}")
    links = tuple(_text(link, limits.MAX_LINK_BYTES, "link") for link in p[3])
    return ProfileBody(name, bio, avatar, links)


def _guest_pass(p: Any) -> GuestPassBody:
    """The form of a guest pass; whether its inviter may invite and how long it may run is the
    community's guest policy, judged in validation (node/core/guests.py)."""
    p = _array(p, 3, "[guest key, until_ms, note]")
    guest = AppKey(_bin(p[0], 32, "guest key"))
    note = _text(p[2], limits.MAX_GUEST_NOTE_BYTES, "guest note", blank_ok=True)
    return GuestPassBody(guest, _time(p[1], "guest pass expiry"), note)


def _guest_end(p: Any) -> GuestEndBody:
    return GuestEndBody(_id(_array(p, 1, "[pass id]")[0], "guest pass id"))


DECODERS: dict[Kind, Callable[[Any], Body]] = {
    Kind.POST: _post,
    Kind.REACTION: _reaction,
    Kind.DELETE: _delete,
    Kind.ERASE: _erase,
    Kind.ROOM: _room,
    Kind.XKEY: _xkey,
    Kind.ROOM_KEY: _room_key,
    Kind.LEAVE: _leave,
    Kind.SEALED: _sealed,
    Kind.EVENT: _event,
    Kind.RSVP: _rsvp,
    Kind.POLL: _poll,
    Kind.ANSWER: _answer,
    Kind.PEER: _peer,
    Kind.PROFILE: _profile,
    Kind.GUEST_PASS: _guest_pass,
    Kind.GUEST_END: _guest_end,
}


def decode(kind: Kind, payload: Any) -> Body:
    """The body of a ``kind`` message, or ``DecodeError`` naming the broken rule."""
    return DECODERS[kind](payload)
