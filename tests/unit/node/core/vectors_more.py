"""More published vectors: rooms, events, polls and attachments (sections 10 to 13), versions, header
rooms, blank text, room rules and signature edge cases (sections 1, 3, 5 and 10), each with one
fault, so that its expected reason is the only one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from node.core import peers
from node.core.encoding import encode_body, encode_envelope, message_id, pack
from node.core.signing import DOMAIN
from node.core.types import (
    AnswerBody,
    AppKey,
    Attachment,
    EventBody,
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
from tests.unit.node.core import ed25519_math as ed
from tests.unit.node.core.vectors_base import (
    COMMUNITY,
    MIXED_ORDER_KEY,
    NOW_MS,
    PEOPLE,
    SMALL_ORDER_KEY,
    TARGET,
    seed,
    sign,
    signer,
)

Case = dict[str, Any]


def _signed_v1() -> bytes:
    return encode_body(COMMUNITY, Kind.POST, signer("alice").public_key, NOW_MS, "", PostBody("hi"))


def space_cases() -> list[dict[str, Any]]:
    """Rooms, private-room keys, events, polls and attachments (spec sections 10 to 13)."""
    picture = Attachment(hashlib.sha256(b"a picture").digest(), 9, "image/png")
    return [
        {
            "name": "room",
            "description": "creating a private room (header room is the general room)",
            "envelope": sign("alice", Kind.ROOM, RoomBody("organisers", "street party", Visibility.PRIVATE)),
        },
        {
            "name": "xkey",
            "description": "a member's X25519 public key for private rooms",
            "envelope": sign("bob", Kind.XKEY, XKeyBody(bytes(range(32)))),
        },
        {
            "name": "sealed-outside-a-room",
            "description": "sealed content belongs in a private room, never in the general room",
            "envelope": sign("alice", Kind.SEALED, SealedBody(TARGET, bytes(12), bytes(32))),
        },
        {
            "name": "leave-outside-a-room",
            "description": "a leave message belongs in a private room",
            "envelope": sign("alice", Kind.LEAVE, LeaveBody()),
        },
        {
            "name": "event",
            "description": "an event with a place",
            "envelope": sign(
                "bob", Kind.EVENT, EventBody("Repair café", NOW_MS + 3_600_000, NOW_MS + 7_200_000, "Library")
            ),
        },
        {
            "name": "event-ends-before-it-starts",
            "description": "an event must not end before it starts",
            "envelope": sign("bob", Kind.EVENT, EventBody("Backwards", NOW_MS + 7_200_000, NOW_MS, "")),
        },
        {
            "name": "rsvp",
            "description": "a 'maybe' to an event",
            "envelope": sign("alice", Kind.RSVP, RsvpBody(TARGET, 2)),
        },
        {
            "name": "poll",
            "description": "an opinion poll with two options",
            "envelope": sign("alice", Kind.POLL, PollBody("Which day?", ("Saturday", "Sunday"), NOW_MS + 86_400_000)),
        },
        {
            "name": "poll-closed-when-asked",
            "description": "a poll must close after it is asked",
            "envelope": sign("alice", Kind.POLL, PollBody("Too late?", ("yes", "no"), NOW_MS)),
        },
        {
            "name": "poll-same-options",
            "description": "a poll's options must differ",
            "envelope": sign("alice", Kind.POLL, PollBody("Which day?", ("Sunday", "Sunday"), NOW_MS + 1)),
        },
        {
            "name": "answer",
            "description": "an answer to a poll (the poll itself is not known here)",
            "envelope": sign("bob", Kind.ANSWER, AnswerBody(TARGET, 1)),
        },
        {
            "name": "post-with-attachment",
            "description": "a post naming a picture by hash, size and type",
            "envelope": sign("alice", Kind.POST, PostBody("The new bench", None, (picture,))),
        },
        {
            "name": "attachment-of-a-forbidden-type",
            "description": "attachments are images or PDF only",
            "envelope": sign(
                "alice", Kind.POST, PostBody("run me", None, (Attachment(picture.sha256, 9, "application/x-sh"),))
            ),
        },
    ]


def version_cases() -> list[Case]:
    """A newer version in either layer is ignored whatever it carries; version 0 never existed."""
    alice = signer("alice")
    nine = pack([2, COMMUNITY.chain_id, COMMUNITY.contract, 1, alice.public_key, NOW_MS, "", ["hi", None], "new"])
    return [
        {
            "name": "envelope-v2-of-another-shape",
            "description": "envelope version 2 whose second item is a string: ignored, not malformed",
            "envelope": pack([2, "a version-2 envelope", bytes(64)]),
        },
        {
            "name": "envelope-v2-with-four-items",
            "description": "envelope version 2 with a fourth item: ignored, the forwarding peer is not blamed",
            "envelope": pack([2, _signed_v1(), bytes(64), b"more"]),
        },
        {
            "name": "protocol-v2-with-nine-fields",
            "description": "protocol version 2 with a ninth field in a version-1 envelope: ignored",
            "envelope": encode_envelope(nine, alice.sign(nine)),
        },
        {
            "name": "envelope-version-zero",
            "description": "no version 0 ever existed: malformed",
            "envelope": pack([0, _signed_v1(), bytes(64)]),
        },
    ]


ROOM_ID_CASES = {
    "header-room-general": "general",
    "header-room-upper-case": message_id(b"some room").hex().upper(),
    "header-room-short": message_id(b"some room").hex()[:63],
}
#: Blank text: every code point is White_Space, a control (Cc) or a format character (Cf).
BLANK_TEXTS = {
    "bom": "\ufeff",
    "zero-width-space": "\u200b",
    "information-separators": "\x1c\x1d\x1e\x1f",
    "no-break-space": "\u00a0",
    "ideographic-space": "\u3000",
}


def text_cases() -> list[Case]:
    cases: list[Case] = [
        {
            "name": name,
            "description": f"header room {room!r}: neither the general room nor a room id (64 lowercase hex digits)",
            "envelope": sign("alice", Kind.POST, PostBody("hi"), room=room),
        }
        for name, room in ROOM_ID_CASES.items()
    ]
    cases += [
        {
            "name": f"blank-post-{name}",
            "description": f"a post whose text is only U+{', U+'.join(f'{ord(c):04X}' for c in text)}: blank",
            "envelope": sign("alice", Kind.POST, PostBody(text)),
        }
        for name, text in BLANK_TEXTS.items()
    ]
    return [
        *cases,
        {
            "name": "post-of-a-hangul-filler",
            "description": "U+3164 is a letter (Lo), not White_Space, Cc or Cf: not blank, however it looks",
            "envelope": sign("alice", Kind.POST, PostBody("\u3164")),
        },
        {
            "name": "poll-with-a-blank-question",
            "description": "a poll's question must not be blank",
            "envelope": sign("alice", Kind.POLL, PollBody("\u2028", ("yes", "no"), NOW_MS + 1)),
        },
        {
            "name": "reaction-of-a-zero-width-space",
            "description": "a reaction must not be blank",
            "envelope": sign("bob", Kind.REACTION, ReactionBody(TARGET, "\u200b")),
        },
    ]


def _room(creator: str, body: RoomBody) -> tuple[str, dict[str, Any]]:
    """A room's id (the id of its creation, 10 minutes ago, in hex) and how ``known`` lists it."""
    created = message_id(encode_body(COMMUNITY, Kind.ROOM, signer(creator).public_key, NOW_MS - 600_000, "", body))
    spec = {
        "creator": PEOPLE[creator],
        "name": body.name,
        "topic": body.topic,
        "visibility": int(body.visibility),
        "creator_only": body.creator_only,
        "slow_mode_s": body.slow_mode_s,
    }
    return created.hex(), spec


PRIVATE, PRIVATE_ROOM = _room("alice", RoomBody("organisers", "street party", Visibility.PRIVATE))
ANNOUNCE, ANNOUNCE_ROOM = _room("alice", RoomBody("announcements", "", Visibility.OPEN, creator_only=True))
MARKET, MARKET_ROOM = _room("bob", RoomBody("market", "swap and sell", Visibility.OPEN, slow_mode_s=60))
ROOMS = {PRIVATE: PRIVATE_ROOM, ANNOUNCE: ANNOUNCE_ROOM, MARKET: MARKET_ROOM}
POLL = MessageId(message_id(b"a poll by alice that closed 10 minutes ago"))


def _recipients(count: int) -> RoomKeyBody:
    return RoomKeyBody(tuple(Recipient(bytes([i]) * 32, bytes(32), bytes(48)) for i in range(1, count + 1)))


def room_cases() -> list[Case]:
    """Room rules (spec section 10): which kinds each room carries, creator_only, slow mode, polls."""
    rooms = {"rooms": ROOMS}
    sealed = SealedBody(TARGET, bytes(12), bytes(32))
    return [
        {"name": "post-in-a-private-room", "description": "plain text in an encrypted room",
         "envelope": sign("bob", Kind.POST, PostBody("hi"), room=PRIVATE), "known": rooms},
        {"name": "rsvp-in-a-private-room", "description": "an RSVP is plain: not in an encrypted room",
         "envelope": sign("bob", Kind.RSVP, RsvpBody(TARGET, 1), room=PRIVATE), "known": rooms},
        {"name": "sealed-in-a-private-room", "description": "sealed content where it belongs",
         "envelope": sign("bob", Kind.SEALED, sealed, room=PRIVATE), "known": rooms},
        {"name": "room-key-for-17", "description": "a room key sealed to 17 participants (arrays are not capped at 16)",
         "envelope": sign("alice", Kind.ROOM_KEY, _recipients(17), room=PRIVATE), "known": rooms},
        {"name": "room-key-in-the-general-room", "description": "a room key belongs in an encrypted room",
         "envelope": sign("alice", Kind.ROOM_KEY, _recipients(1))},
        {"name": "sealed-in-an-open-room", "description": "an open room carries no sealed messages",
         "envelope": sign("alice", Kind.SEALED, sealed, room=ANNOUNCE), "known": rooms},
        {"name": "creator-only-room-post-by-another", "description": "only the creator posts in a creator_only room",
         "envelope": sign("bob", Kind.POST, PostBody("me too"), room=ANNOUNCE), "known": rooms},
        {"name": "creator-only-room-reaction-by-another", "description": "reactions are not posts: anyone reacts",
         "envelope": sign("bob", Kind.REACTION, ReactionBody(TARGET, "🎉"), room=ANNOUNCE), "known": rooms},
        {"name": "creator-only-room-event-by-its-creator", "description": "the creator posts an event",
         "envelope": sign("alice", Kind.EVENT, EventBody("Cleanup", NOW_MS, NOW_MS + 1, ""), room=ANNOUNCE),
         "known": rooms},
        {"name": "room-update-by-another", "description": "only its creator changes a room",
         "envelope": sign("bob", Kind.ROOM, RoomBody("mine now", "", Visibility.OPEN), room=ANNOUNCE), "known": rooms},
        {"name": "room-update-by-its-creator", "description": "the creator renames the room",
         "envelope": sign("alice", Kind.ROOM, RoomBody("news", "", Visibility.OPEN, True), room=ANNOUNCE),
         "known": rooms},
        {"name": "slow-mode", "description": "a second post 30 s after the last one in a room with 60 s slow mode",
         "envelope": sign("alice", Kind.POST, PostBody("again"), room=MARKET),
         "known": {**rooms, "last_posts": [{"member": PEOPLE["alice"], "room": MARKET, "at_ms": NOW_MS - 30_000}]}},
        {"name": "post-in-an-unknown-room", "description": "a room whose creation has not arrived: no rules yet",
         "envelope": sign("alice", Kind.POST, PostBody("early"), room=message_id(b"unknown").hex())},
        {"name": "answer-naming-no-option", "description": "the poll has two options: 0 and 1",
         "envelope": sign("bob", Kind.ANSWER, AnswerBody(POLL, 2)), "known": _poll()},
        {"name": "answer-after-the-close", "description": "answers after the poll closed are ignored",
         "envelope": sign("bob", Kind.ANSWER, AnswerBody(POLL, 1)), "known": _poll()},
    ]  # fmt: skip


def _poll() -> dict[str, Any]:
    return {"polls": {POLL: {"question": "Which day?", "options": ["Saturday", "Sunday"], "closes_ms": NOW_MS - 1}}}


# ------------------------------------------------------------------------------- signatures


def _forge(author: AppKey, text: str, signature_of: Callable[[bytes], bytes]) -> bytes:
    """An envelope of a post by ``author`` whose signature ``signature_of(DOMAIN + signed)`` makes."""
    signed = encode_body(COMMUNITY, Kind.POST, author, NOW_MS, "", PostBody(text))
    return encode_envelope(signed, signature_of(DOMAIN + signed))


def _mixed_order_signature(text: str, divisible: bool) -> bytes:
    """A post signed with ``MIXED_ORDER_KEY`` (A' = A + T, T of order 8) by alice's scalar a,
    with a nonce r chosen so that k = H(R || A' || M) is (or is not) a multiple of 8: then
    [S]B = R + [k]A' holds exactly (or only after multiplying both sides by 8)."""
    a = ed.secret_scalar(seed("alice"))
    signed = encode_body(COMMUNITY, Kind.POST, MIXED_ORDER_KEY, NOW_MS, "", PostBody(text))
    for r in range(1, 1000):
        big_r = ed.encode(ed.multiply(r, ed.BASE))
        k = ed.challenge(big_r, MIXED_ORDER_KEY, DOMAIN + signed)
        if (k % 8 == 0) == divisible:
            s = (r + k * a) % ed.L
            lhs, rhs = ed.multiply(s, ed.BASE), ed.add(ed.decode(big_r), ed.multiply(k, ed.decode(MIXED_ORDER_KEY)))
            assert ed.encode(ed.multiply(8, lhs)) == ed.encode(ed.multiply(8, rhs))  # the cofactored equation
            assert (ed.encode(lhs) == ed.encode(rhs)) == divisible  # the cofactorless one
            return encode_envelope(signed, ed.signature(big_r, s))
    raise AssertionError("no nonce found")  # pragma: no cover - one in eight works


def signature_cases() -> list[Case]:
    """Signatures that satisfy the plain verification equation [S]B = R + [k]A (or its cofactored
    form) but break one of libsodium's rules, and one over a mixed-order key that libsodium takes."""
    alice = signer("alice")
    a = ed.secret_scalar(seed("alice"))

    def unreduced(message: bytes) -> bytes:
        good = alice_sign(message)
        return ed.signature(good[:32], int.from_bytes(good[32:], "little") + ed.L)

    def alice_sign(message: bytes) -> bytes:
        return alice.sign(message[len(DOMAIN) :])

    def small_order_r(message: bytes) -> bytes:
        return ed.signature(ed.IDENTITY_BYTES, ed.challenge(ed.IDENTITY_BYTES, alice.public_key, message) * a % ed.L)

    return [
        {
            "name": "signature-s-not-reduced",
            "description": "alice's valid signature with S + L for S: the same point, refused (S must be < L)",
            "envelope": _forge(alice.public_key, "S + L", unreduced),
        },
        {
            "name": "signature-small-order-r",
            "description": "R is the identity and S = k·a: the equation holds, refused (R of small order)",
            "envelope": _forge(alice.public_key, "R = identity", small_order_r),
        },
        {
            "name": "small-order-key",
            "description": "bob's authorised key is the identity point; R = identity, S = 0 holds for any "
            "message: refused (a key of small order)",
            "envelope": _forge(SMALL_ORDER_KEY, "any text at all", lambda m: ed.signature(ed.IDENTITY_BYTES, 0)),
        },
        {
            "name": "mixed-order-key-cofactored-only",
            "description": "alice's mixed-order key, k not a multiple of 8: only the cofactored equation holds, "
            "refused (the check is cofactorless)",
            "envelope": _mixed_order_signature("only when multiplied by 8", divisible=False),
        },
        {
            "name": "mixed-order-key",
            "description": "alice's mixed-order key, k a multiple of 8: the cofactorless equation holds, accepted "
            "(keys of mixed order are not refused)",
            "envelope": _mixed_order_signature("exactly", divisible=True),
        },
    ]


#: The libp2p identity of alice's node in the vectors (its seed is published like the app keys').
NODE_SEED = seed("alice's node")
_LOOPBACK_4001 = bytes.fromhex("047f000001060fa1")  # /ip4/127.0.0.1/tcp/4001


def _record(name: str, ttl_ms: int, node_seed: bytes = NODE_SEED, bound_to: str | None = None) -> PeerBody:
    key = signer(bound_to or name).public_key
    peer_id, binding = peers.sign_binding(node_seed, COMMUNITY, key, NOW_MS + ttl_ms)
    relay = bytes.fromhex("04c0000207060fa1a50326") + peer_id + bytes.fromhex("a202")  # …/p2p/<id>/p2p-circuit
    return PeerBody(peer_id, (_LOOPBACK_4001, relay), NOW_MS + ttl_ms, binding)


def peer_cases() -> list[Case]:
    """Peer records (spec section 14): the binding of an app key to a libp2p peer id."""
    day = 86_400_000
    good = _record("alice", day)
    other_node, _ = peers.sign_binding(seed("another node"), COMMUNITY, signer("alice").public_key, NOW_MS + day)
    not_ed25519 = b"\x12\x20" + hashlib.sha256(b"a sha256 peer id").digest()
    return [
        {
            "name": "peer",
            "description": "alice's node: a direct address and a relay address, for a day",
            "envelope": sign("alice", Kind.PEER, good),
        },
        {
            "name": "peer-expired",
            "description": "a record signed two hours ago that expired an hour ago (sync): ignored, nobody blamed",
            "envelope": sign("alice", Kind.PEER, _record("alice", -3_600_000), NOW_MS - 7_200_000),
            "via": "sync",
        },
        {
            "name": "peer-of-a-former-member",
            "description": "signed 40 min ago, before its member's removal (sync): the removal purged it, ignored",
            "envelope": sign("removed", Kind.PEER, _record("removed", day), NOW_MS - 2_400_000),
            "via": "sync",
        },
        {
            "name": "peer-of-a-revoked-key",
            "description": "signed 40 min ago, before its key was revoked (sync): the revocation purged it, ignored",
            "envelope": sign("revoked", Kind.PEER, _record("revoked", day), NOW_MS - 2_400_000),
            "via": "sync",
        },
        {
            "name": "peer-binding-to-another-key",
            "description": "bob publishes alice's node as his: its key bound it to alice's app key",
            "envelope": sign("bob", Kind.PEER, _record("bob", day, bound_to="alice")),
        },
        {
            "name": "peer-someone-elses-node",
            "description": "another node's peer id with alice's node's binding",
            "envelope": sign("alice", Kind.PEER, PeerBody(other_node, good.addrs, good.expires_ms, good.binding)),
        },
        {
            "name": "peer-not-ed25519",
            "description": "a peer id that is a sha256 multihash: its key cannot be read from it",
            "envelope": sign("alice", Kind.PEER, PeerBody(not_ed25519, good.addrs, good.expires_ms, good.binding)),
        },
    ]


def profile_cases() -> list[Case]:
    """Profiles (spec section 16): what a name may hold."""
    avatar = Attachment(hashlib.sha256(b"alice's avatar").digest(), 2048, "image/png")
    links = ("https://example.org/alice", "http://garden.example/")
    return [
        {
            "name": "profile",
            "description": "alice's profile: a name with an emoji sequence, a bio over two lines, an avatar, two links",
            "envelope": sign(
                "alice", Kind.PROFILE, ProfileBody("Alice 👩\u200d🌾", "Gardener.\nBees too.", avatar, links)
            ),
        },
        {
            "name": "profile-bidi-override",
            "description": "a name with U+202E (right-to-left override), which reorders what follows it",
            "envelope": sign("alice", Kind.PROFILE, ProfileBody("Alice\u202e9662", "", None, ())),
        },
        {
            "name": "profile-name-like-an-address",
            "description": "a name that reads like an address, its O a Cyrillic letter",
            "envelope": sign("bob", Kind.PROFILE, ProfileBody("\u041ex90F7…b906", "", None, ())),
        },
        {
            "name": "profile-in-a-room",
            "description": "a profile is community-wide: header room must be empty",
            "envelope": sign("alice", Kind.PROFILE, ProfileBody("Alice", "", None, ()), room="ab" * 32),
        },
    ]


def _raw_post(name: str, payload: list[Any]) -> bytes:
    """A post whose payload is ``payload`` as given (to break one rule of its canonical form)."""
    author = signer(name)
    signed = pack([1, COMMUNITY.chain_id, COMMUNITY.contract, int(Kind.POST), author.public_key, NOW_MS, "", payload])
    return encode_envelope(signed, author.sign(signed))


def mention_cases() -> list[Case]:
    """Mentions (spec section 17): the members a post names, as 20-byte addresses."""
    bob, mallory = (bytes.fromhex(PEOPLE[n][2:]) for n in ("bob", "mallory"))
    picture = Attachment(hashlib.sha256(b"a picture").digest(), 9, "image/png")
    many = [bytes([n]) * 20 for n in range(1, 12)]
    return [
        {
            "name": "post-with-mentions",
            "description": "a post naming bob and mallory (not a member): empty attachments, then the mentions",
            "envelope": sign("alice", Kind.POST, PostBody("Thanks @Bob and @Mallory!", None, (), (bob, mallory))),
        },
        {
            "name": "reply-with-attachment-and-mention",
            "description": "a reply with a picture that names bob",
            "envelope": sign("alice", Kind.POST, PostBody("@Bob like this?", TARGET, (picture,), (bob,))),
        },
        {
            "name": "mentions-empty",
            "description": "an empty mentions list: the field is left out when there are none",
            "envelope": _raw_post("alice", ["hi", None, [], []]),
        },
        {
            "name": "mention-not-an-address",
            "description": "a mention of 19 bytes",
            "envelope": _raw_post("alice", ["hi", None, [], [bob[:19]]]),
        },
        {
            "name": "mention-repeated",
            "description": "bob mentioned twice",
            "envelope": _raw_post("alice", ["hi @Bob @Bob", None, [], [bob, bob]]),
        },
        {
            "name": "mentions-too-many",
            "description": "eleven mentions, one more than a post may hold",
            "envelope": _raw_post("alice", ["hi all", None, [], many]),
        },
    ]
