"""Guests: non-members a member invites to write in one open room for a limited time.

A guest pass (kind GUEST_PASS, header room = the room) names the guest's app key and an expiry;
a GUEST_END by its inviter or a moderator ends it from the end's timestamp on, for good (a new
pass is a new message). Every node decides the same from the same messages, whatever order they
came in: a guest's message at time t is valid iff some pass for its key and room was issued by
then, runs until at least t, and no end of it is timestamped at or before t.

Who may invite (any member, or moderators only) and the longest pass are the community's voted
``GuestPolicy`` (held in ``CommunityView``, judged at the pass's own timestamp). Guests post,
reply and react in their room only, and delete and erase what they wrote; while a pass runs,
their node may publish a peer record (so members' nodes dial it); they never vote (the contract
knows nothing of them). Their author identity is ``guest:<key hex>``, never an address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from node.core import limits
from node.core.rooms import Room
from node.core.types import AppKey, GuestEndBody, GuestPassBody, Kind, Message, MessageId
from node.core.verdict import Reason, Verdict, ignore, reject

GUEST_PREFIX = "guest:"
#: What a guest may write: posts (and replies) and reactions in its room; deletes and an erase
#: of its own writing.
GUEST_KINDS = frozenset({Kind.POST, Kind.REACTION, Kind.DELETE, Kind.ERASE})
_ANYWHERE = frozenset({Kind.DELETE, Kind.ERASE})
INVITERS = ("members", "moderators")


def guest_author(key: bytes) -> str:
    """The author string of everything a guest key writes (where members have their address)."""
    return GUEST_PREFIX + key.hex()


def is_guest(author: str) -> bool:
    return author.startswith(GUEST_PREFIX)


def guest_label(author: str, inviter: str | None) -> str:
    """How a guest is shown wherever a member's name would be: never mistaken for a member."""
    shown = f"guest {author[len(GUEST_PREFIX) :][:8]}…"
    return shown if inviter is None else f"{shown} (invited by {inviter})"


@dataclass(frozen=True)
class GuestPolicy:
    """Who may invite guests, and the longest pass (seconds). The default holds until the
    community votes another: any member, 7 days."""

    inviters: str = "members"
    max_pass_s: int = limits.DEFAULT_GUEST_PASS_S

    def __post_init__(self) -> None:
        if self.inviters not in INVITERS:
            raise ValueError(f"guest inviters are {' or '.join(INVITERS)}, not {self.inviters!r}")

    @property
    def max_pass_ms(self) -> int:
        return min(self.max_pass_s, limits.MAX_GUEST_PASS_S) * 1000


@dataclass(frozen=True)
class GuestPass:
    """A stored pass as validation needs it; ``ended_ms`` is the earliest end's timestamp."""

    id: MessageId
    guest: AppKey
    room: str
    inviter: str
    issued_ms: int
    until_ms: int
    note: str = ""
    ended_ms: int | None = None

    def started_by(self, ms: int) -> bool:
        # the guest's clock may run a little behind the inviter's
        return self.issued_ms - limits.MAX_FUTURE_SKEW_MS <= ms

    def covers(self, ms: int) -> bool:
        return self.started_by(ms) and ms <= self.until_ms and (self.ended_ms is None or ms < self.ended_ms)


def check_guest(message: Message, passes: Sequence[GuestPass]) -> Verdict | None:
    """Whether a message signed by a guest key (holding ``passes``) may enter: None if so."""
    at = message.timestamp_ms
    if message.kind is Kind.PEER:
        return _check_node(message, passes)
    if message.kind not in GUEST_KINDS:
        return reject(
            Reason.GUEST_NOT_ALLOWED, f"a guest may not write a {message.kind.label}: only posts and reactions", message
        )
    if message.kind in _ANYWHERE:
        # the right to delete and erase one's own words outlives the pass, as membership
        if any(p.started_by(at) for p in passes):
            return None
        return reject(Reason.GUEST_PASS_EXPIRED, "signed before the guest held any pass", message)
    here = [p for p in passes if p.room == message.room]
    if not here:
        rooms = ", ".join(sorted({p.room[:12] + "…" for p in passes}))
        return reject(Reason.GUEST_WRONG_ROOM, f"a guest writes only in the room it is invited to ({rooms})", message)
    if any(p.covers(at) for p in here):
        return None
    if any(p.ended_ms is not None and p.started_by(at) and p.ended_ms <= at <= p.until_ms for p in here):
        return ignore(Reason.GUEST_PASS_ENDED, "signed after the guest's pass was ended", message)
    return reject(Reason.GUEST_PASS_EXPIRED, "signed outside the time of the guest's pass", message)


def _check_node(message: Message, passes: Sequence[GuestPass]) -> Verdict | None:
    """A guest's node is in the address book (a peer record, community-wide) while one of its
    passes, in any room, runs: so members' nodes may dial it, and never a stranger's."""
    at = message.timestamp_ms
    if any(p.covers(at) for p in passes):
        return None
    if any(p.ended_ms is not None and p.started_by(at) and p.ended_ms <= at <= p.until_ms for p in passes):
        return ignore(Reason.GUEST_PASS_ENDED, "a guest's peer record signed after its pass was ended", message)
    return reject(Reason.GUEST_PASS_EXPIRED, "a guest's peer record signed outside the time of its passes", message)


def check_pass(
    message: Message,
    body: GuestPassBody,
    room: Room | None,
    policy: GuestPolicy,
    moderator: bool,
    view_behind: bool,
) -> Verdict | None:
    """A pass invites into one open room, by someone the policy in force at its timestamp lets
    invite, for no longer than it allows. ``view_behind``: the chain view has not reached the
    pass's time, so a policy or a moderator's grant may still be on its way (IGNORE, not REJECT)."""
    if not message.room:
        return reject(Reason.BAD_CONTENT, "a guest is invited to a room, not to the general room", message)
    if room is not None and room.encrypted:
        return reject(
            Reason.BAD_CONTENT, f"room {room.body.name!r} is private: guests are invited to open rooms", message
        )
    lifetime = body.until_ms - message.timestamp_ms
    problem: tuple[Reason, str] | None = None
    if policy.inviters == "moderators" and not moderator:
        problem = (Reason.GUEST_INVITER_NOT_ALLOWED, "the community lets only moderators invite guests")
    elif not 0 < lifetime <= policy.max_pass_ms:
        days = policy.max_pass_ms / 86_400_000
        problem = (Reason.GUEST_PASS_TOO_LONG, f"a guest pass ends after its timestamp, within {days:g} days")
    if problem is None:
        return None
    if view_behind:
        return ignore(Reason.CHAIN_VIEW_BEHIND, f"{problem[1]}; the chain view may be behind", message)
    return reject(problem[0], problem[1], message)


def check_end(
    message: Message,
    body: GuestEndBody,
    author: str,
    ended: GuestPass | None,
    moderator: bool,
    view_behind: bool,
) -> Verdict | None:
    """Only the pass's inviter or a moderator ends it, in the pass's room; a pass not yet known
    is asked for again later."""
    if ended is None:
        return ignore(Reason.GUEST_PASS_UNKNOWN, f"guest pass {body.pass_id.hex()[:16]}… has not arrived yet", message)
    if message.room != ended.room:
        return reject(Reason.BAD_CONTENT, "a guest pass is ended in its own room", message)
    if author == ended.inviter or moderator:
        return None
    if view_behind:
        return ignore(Reason.CHAIN_VIEW_BEHIND, "not the inviter; the chain view may be behind", message)
    return reject(Reason.NOT_AUTHOR, "only its inviter or a moderator ends a guest pass", message)
