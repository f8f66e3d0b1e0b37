"""``validate``: the one function that decides whether a message enters a node.

Checks run cheapest first, so garbage costs a node as little as possible:

 1. size cap, each layer's version, its form, its canonical form       (encoding.decode)
 2. the community (chain id + contract)
 3. already known (a replay or a duplicate copy)
 4. timestamp window (gossip only accepts fresh messages; sync may bring old ones); a peer
    record past its expiry is stale whatever the route
 5. the key is an authorised app key, not revoked, of someone who was a member at that time,
    or a guest's key whose pass covers the message's room and time (node/core/guests.py)
    (dictionary lookups: a flood from unknown keys costs no signature check)
 6. ed25519 signature over the bytes as received
 7. the post is not hidden by the community, not deleted by its author
 8. kind rules (only an author deletes their own post; a peer record's binding and expiry; a
    profile's name, bio and links; a guest pass's inviter and length, its end's author)
 9. the member's rate limit (last: only messages that would be stored spend tokens)

The answer is a ``Verdict``, never an exception. A view of the chain that is behind yields
IGNORE ("cannot judge yet, ask again later"), never REJECT, which would punish an honest peer.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from node.core import guests, limits, names, peers, signing
from node.core.encoding import decode
from node.core.errors import DecodeError
from node.core.guests import GuestPass
from node.core.ratelimit import RateLimiter
from node.core.rooms import Room
from node.core.types import (
    AnswerBody,
    Community,
    DeleteBody,
    EraseBody,
    GuestEndBody,
    GuestPassBody,
    Kind,
    Message,
    PeerBody,
    PollBody,
    PostBody,
    ProfileBody,
)
from node.core.verdict import Reason, Verdict, accept, ignore, reject
from node.core.view import CommunityView


class Via(enum.Enum):
    """How a message arrived; it decides which time window applies."""

    GOSSIP = "gossip"  # fresh messages from the mesh
    SYNC = "sync"  # history reconciled with a peer: any age, no rate limit
    LOCAL = "local"  # published by this node's own member


class Known(Protocol):
    """What the node's store knows about messages, as validation needs it."""

    def has_message(self, message_id: bytes) -> bool: ...

    def author_of(self, message_id: bytes) -> str | None:
        """The member who wrote a stored message (None if not stored)."""

    def tombstone_of(self, message_id: bytes) -> str | None:
        """The member whose delete of ``message_id`` is stored (None if there is none)."""

    def erased_until(self, member: str) -> int | None:
        """Up to when (ms) ``member`` erased everything they wrote (None if they never did)."""

    def room(self, room_id: str) -> Room | None:
        """A room's current settings (None while its creation has not arrived)."""

    def last_post_at(self, member: str, room_id: str) -> int | None:
        """When (ms) ``member`` last posted in the room (for slow mode)."""

    def poll(self, poll_id: bytes) -> PollBody | None:
        """A stored poll (None if unknown)."""

    def guest_passes(self, guest: bytes) -> Sequence[GuestPass]:
        """Every stored pass naming the app key ``guest``, with its end if one is stored."""

    def guest_pass(self, pass_id: bytes) -> GuestPass | None:
        """A stored guest pass (None if unknown)."""


@dataclass(frozen=True)
class Context:
    community: Community
    now_ms: int
    via: Via


_NOT_REJECTED_ON_DECODE = {Reason.UNSUPPORTED_VERSION}


def validate(
    envelope: bytes,
    ctx: Context,
    view: CommunityView,
    known: Known,
    limiter: RateLimiter | None = None,
) -> Verdict:
    """Decides about one envelope; see the module docstring for the order of checks."""
    decoded = parse(envelope)
    if isinstance(decoded, Verdict):
        return decoded
    return judge(decoded, ctx, view, known, limiter)


def parse(envelope: bytes) -> Message | Verdict:
    """Step 1 alone: the decoded message, or the verdict refusing the bytes."""
    try:
        return decode(envelope)
    except DecodeError as exc:
        # A newer protocol version is not misbehaviour: ignore, do not penalise the peer.
        if exc.reason in _NOT_REJECTED_ON_DECODE:
            return ignore(exc.reason, exc.detail)
        return reject(exc.reason, exc.detail)


def judge(
    message: Message,
    ctx: Context,
    view: CommunityView,
    known: Known,
    limiter: RateLimiter | None = None,
    signature_ok: bool | None = None,
) -> Verdict:
    """Steps 2 to 9 for a decoded message. ``signature_ok`` is the result of verifying its
    signature elsewhere (a batch verifies in parallel); None verifies it here."""
    author = screen(message, ctx, view, known)
    if isinstance(author, Verdict):
        return author
    if not (signing.verify(message) if signature_ok is None else signature_ok):
        return reject(Reason.BAD_SIGNATURE, message=message)
    return conclude(message, author, ctx, view, known, limiter)


def screen(message: Message, ctx: Context, view: CommunityView, known: Known) -> str | Verdict:
    """Steps 2 to 5, the checks before the signature: the member (or guest) who signed, or the
    final verdict refusing the message. A batch screens first and verifies only the survivors."""
    if message.community != ctx.community:
        return reject(Reason.WRONG_COMMUNITY, f"chain {message.community.chain_id} {message.community.address_hex}")
    if known.has_message(message.id):
        return ignore(Reason.DUPLICATE, message=message)
    window = _check_time(message, ctx)
    if window is not None:
        return window
    return _check_author(message, view, known)


def conclude(
    message: Message,
    author: str,
    ctx: Context,
    view: CommunityView,
    known: Known,
    limiter: RateLimiter | None = None,
) -> Verdict:
    """Steps 7 to 9 for a message ``screen`` let through as ``author``'s and whose signature holds."""
    content = _check_content(message, author, view, known)
    if content is not None:
        return content
    if limiter is not None and ctx.via is not Via.SYNC and not limiter.allow(author, ctx.now_ms):
        return ignore(Reason.RATE_LIMITED, limits.RATE_LIMIT_SENTENCE, message)
    return accept(message)


def _check_time(message: Message, ctx: Context) -> Verdict | None:
    ahead = message.timestamp_ms - ctx.now_ms
    if ahead > limits.MAX_FUTURE_SKEW_MS:
        return ignore(Reason.TOO_NEW, f"{ahead // 1000} s in the future", message)
    if ctx.via is Via.GOSSIP and -ahead > limits.MAX_GOSSIP_AGE_MS:
        return ignore(Reason.TOO_OLD, f"{-ahead // 1000} s old; older messages arrive by sync", message)
    if isinstance(message.body, PeerBody) and message.body.expires_ms <= ctx.now_ms:
        # a record that was true once and has run out: nobody misbehaved by passing it on
        return ignore(Reason.EXPIRED, "the peer record has expired", message)
    return None


def _check_author(message: Message, view: CommunityView, known: Known) -> str | Verdict:
    """The member (or guest) who signed, or the verdict refusing them."""
    at = message.timestamp_ms
    # A message newer than everything our view has applied may come from a key or member
    # admitted in a block we have not seen yet: that is our lag, not the peer's fault.
    view_behind = at > view.chain_time_ms
    key = view.keys.get(message.author)
    if key is None:
        passes = known.guest_passes(message.author)
        if passes:
            return guests.check_guest(message, passes) or guests.guest_author(message.author)
        if view_behind:
            return ignore(Reason.CHAIN_VIEW_BEHIND, "unknown app key; the chain view may be behind", message)
        if (message.room and message.kind in guests.GUEST_KINDS) or message.kind is Kind.PEER:
            # maybe a guest (or its node's record) whose pass has not reached us yet: sync brings
            # it, then this again
            return ignore(Reason.GUEST_PASS_UNKNOWN, "an unknown app key, and no guest pass for it here yet", message)
        return reject(Reason.UNKNOWN_KEY, f"app key 0x{message.author.hex()[:16]}… is not authorised", message)
    if key.revoked_ms is not None and at >= key.revoked_ms:
        return reject(Reason.REVOKED_KEY, "signed after the key was revoked", message)
    if at < key.added_ms - limits.MAX_FUTURE_SKEW_MS:
        return reject(Reason.KEY_NOT_YET_VALID, "signed before the key was authorised", message)
    member = view.members.get(key.owner)
    if message.kind in (Kind.DELETE, Kind.ERASE) and member is not None and member.intervals:
        # The right to erase one's own words outlives membership: a former member's still
        # authorised key may delete and erase (nothing else).
        return key.owner
    if member is None or not member.member_at(at):
        # A removed member's fresh posts are refused outright, even though a re-admission could in
        # principle sit in a block we have not applied yet: re-admissions are rare, floods are not.
        return reject(Reason.NOT_A_MEMBER, f"{key.owner} was not a member at that time", message)
    if message.kind is Kind.PEER and (key.revoked_ms is not None or not member.active):
        # Records are for the nodes of members now: the chain fact that removed the member or
        # revoked the key purged theirs, and an older copy that sync brings must not return.
        reason = Reason.REVOKED_KEY if key.revoked_ms is not None else Reason.NOT_A_MEMBER
        return ignore(reason, "a peer record of a revoked key or a former member", message)
    return key.owner


def _check_content(message: Message, author: str, view: CommunityView, known: Known) -> Verdict | None:
    if message.id in view.hidden:
        return ignore(Reason.HIDDEN, "hidden by the community", message)
    if known.tombstone_of(message.id) == author:
        return ignore(Reason.DELETED, "deleted by its author", message)
    if isinstance(message.body, EraseBody) and message.body.until_ms > message.timestamp_ms:
        return reject(Reason.BAD_CONTENT, "an erase cannot reach past its own time", message)
    erased = known.erased_until(author)
    if erased is not None and message.timestamp_ms <= erased and message.kind is not Kind.ERASE:
        return ignore(Reason.DELETED, "erased by its author", message)
    if message.kind is Kind.DELETE:
        assert isinstance(message.body, DeleteBody)
        target_author = known.author_of(message.body.target)
        if target_author is not None and target_author != author:
            return reject(Reason.NOT_AUTHOR, "only its author deletes a post", message)
    if isinstance(message.body, PeerBody):
        return _check_peer(message, message.body)
    if isinstance(message.body, ProfileBody):
        return _check_profile(message, message.body) or _check_media(message, view)
    if isinstance(message.body, GuestPassBody | GuestEndBody):
        return _check_guest_rules(message, message.body, author, view, known)
    return _check_room(message, author, known) or _check_poll(message, known) or _check_media(message, view)


def _check_peer(message: Message, body: PeerBody) -> Verdict | None:
    """A peer record is community-wide, expires within its window, and its peer key vouches
    for the app key that signed it (node/core/peers.py)."""
    if message.room:
        return reject(Reason.BAD_CONTENT, 'a peer record is community-wide: its header room is ""', message)
    lifetime = body.expires_ms - message.timestamp_ms
    if not 0 < lifetime <= limits.MAX_PEER_RECORD_TTL_MS:
        days = limits.MAX_PEER_RECORD_TTL_MS // 86_400_000
        return reject(Reason.BAD_CONTENT, f"a peer record expires after its timestamp, within {days} days", message)
    if not peers.binding_holds(body, message.community, message.author):
        return reject(
            Reason.BAD_BINDING, "the peer id's key did not sign this record's binding to its app key", message
        )
    return None


def _check_profile(message: Message, body: ProfileBody) -> Verdict | None:
    """A profile is community-wide and says nothing that hides or reorders text, nor a name
    that reads like an address (node/core/names.py)."""
    if message.room:
        return reject(Reason.BAD_CONTENT, 'a profile is community-wide: its header room is ""', message)
    problem = (
        names.name_problem(body.name)
        or names.text_problem(body.bio, "a bio", limits.MAX_BIO_BYTES)
        or next((p for p in map(names.link_problem, body.links) if p is not None), None)
    )
    return None if problem is None else reject(Reason.BAD_CONTENT, problem, message)


def _check_guest_rules(
    message: Message, body: GuestPassBody | GuestEndBody, author: str, view: CommunityView, known: Known
) -> Verdict | None:
    """A pass or its end, by the community's guest policy and moderators at its timestamp."""
    at = message.timestamp_ms
    moderator, behind = view.moderator_at(author, at), at > view.chain_time_ms
    if isinstance(body, GuestPassBody):
        policy = view.guest_policy_at(at)
        return guests.check_pass(message, body, known.room(message.room), policy, moderator, behind)
    return guests.check_end(message, body, author, known.guest_pass(body.pass_id), moderator, behind)


def _check_media(message: Message, view: CommunityView) -> Verdict | None:
    """Attachments (a post's, a profile's avatar) within the community's voted caps at the time
    the message was signed."""
    body = message.body
    if isinstance(body, PostBody):
        attachments = body.attachments
    elif isinstance(body, ProfileBody) and body.avatar is not None:
        attachments = (body.avatar,)
    else:
        return None
    if not attachments:
        return None
    policy = view.attachment_caps_at(message.timestamp_ms)
    problem = policy.problem(len(attachments), max(a.size for a in attachments))
    return None if problem is None else reject(Reason.BAD_CONTENT, problem, message)


#: What a private (or members) room may carry: everything else there is plaintext that must not be.
_ENCRYPTED_ROOM_KINDS = {Kind.SEALED, Kind.ROOM_KEY, Kind.LEAVE, Kind.ROOM, Kind.DELETE, Kind.ERASE, Kind.XKEY}
_PRIVATE_ONLY_KINDS = {Kind.SEALED, Kind.ROOM_KEY, Kind.LEAVE}
_CONTENT_KINDS = {Kind.POST, Kind.SEALED, Kind.EVENT, Kind.POLL}


def _check_room(message: Message, author: str, known: Known) -> Verdict | None:
    """A room's rules: who changes it, what it may carry, who posts, how often."""
    if not message.room:
        if message.kind in _PRIVATE_ONLY_KINDS:
            return reject(Reason.BAD_CONTENT, f"a {message.kind.label} message belongs in a private room", message)
        return None
    room = known.room(message.room)
    if room is None:
        return None  # the room's creation has not arrived yet: nothing to judge by
    if message.kind is Kind.ROOM:
        if author != room.creator:
            return reject(Reason.NOT_AUTHOR, "only its creator changes a room", message)
        return None
    if room.encrypted and message.kind not in _ENCRYPTED_ROOM_KINDS:
        return reject(Reason.BAD_CONTENT, f"room {room.body.name!r} is private: it carries sealed messages", message)
    if not room.encrypted and message.kind in _PRIVATE_ONLY_KINDS:
        return reject(Reason.BAD_CONTENT, f"room {room.body.name!r} is open: it carries no sealed messages", message)
    if message.kind not in _CONTENT_KINDS:
        return None
    if room.body.creator_only and author != room.creator:
        return reject(Reason.ROOM_RULES, f"only its creator posts in room {room.body.name!r}", message)
    last = known.last_post_at(author, message.room)
    gap = room.body.slow_mode_s * 1000
    if gap and last is not None and 0 <= message.timestamp_ms - last < gap:
        return ignore(Reason.RATE_LIMITED, f"slow mode: one post per {room.body.slow_mode_s} s in this room", message)
    return None


def _check_poll(message: Message, known: Known) -> Verdict | None:
    body = message.body
    if isinstance(body, PollBody) and body.closes_ms <= message.timestamp_ms:
        return reject(Reason.BAD_CONTENT, "a poll must close after it is asked", message)
    if isinstance(body, AnswerBody):
        poll = known.poll(body.poll)
        if poll is None:
            return None
        if body.option >= len(poll.options):
            return reject(Reason.BAD_CONTENT, f"the poll has {len(poll.options)} options", message)
        if message.timestamp_ms > poll.closes_ms:
            return ignore(Reason.TOO_OLD, "the poll has closed", message)
    return None
