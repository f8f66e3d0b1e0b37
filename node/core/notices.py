"""What a member is told about, and when: the rules of notifications, apart from where their
facts come from.

A node derives its member's notices from what it holds (``node.store.notices`` reads the
facts), so nothing is sent or stored twice: a reply that is erased takes its notice with it.
Each notice has a stable ``key`` (so the member can tell one from another across reads) and a
moment ``at_ms``: when this node learned of it, or, for a reminder, when it became due. A notice
is unread while its moment is after the member's last "read" (``unread``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

#: How long before a proposal closes a member who has not voted is reminded, and how long before
#: an event they said yes to they are reminded of it.
REMINDER_MS = 24 * 3600 * 1000
#: The most of a post's text a notice quotes.
QUOTE_CHARS = 80


class NoticeKind(enum.Enum):
    REPLY = "reply"
    MENTION = "mention"
    REACTION = "reaction"
    PROPOSAL = "proposal"  # a proposal this member may vote on
    JOIN_REQUEST = "join_request"  # an add-member proposal: someone waits to be let in
    CLOSING = "closing"  # a proposal closes within a day and this member has not voted
    EVENT = "event"  # an event this member said yes to starts within a day
    MODERATION = "moderation"  # the community hid (or showed again) one of this member's posts


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    key: str
    at_ms: int
    #: Who did it (the replier, the proposer …), or None for reminders nobody caused.
    actor: str | None = None
    #: The message it is about (the reply, the mentioning post, the post reacted to, the event).
    message: bytes | None = None
    room: str = ""
    #: The words quoted: a post's text, a reaction, a proposal's description, an event's title.
    text: str = ""
    proposal: int | None = None
    #: For a reminder, the moment it reminds of (the proposal's close, the event's start).
    due_ms: int | None = None
    #: MODERATION: whether the post is now hidden (False: shown again).
    hidden: bool = True


def proposal_notice(number: int, kind: str, proposer: str, created_ms: int, description: str, applicant: str) -> Notice:
    """The notice of a proposal open for a member's vote; an add-member proposal is a join
    request, told as the applicant's (``applicant``: the address it would add)."""
    join = kind == "add-member"
    return Notice(
        NoticeKind.JOIN_REQUEST if join else NoticeKind.PROPOSAL,
        f"proposal:{number}",
        created_ms,
        actor=applicant if join else proposer,
        text=description,
        proposal=number,
    )


def closing_notice(
    number: int, created_ms: int, vote_end_ms: int, description: str, now_ms: int, voted: bool
) -> Notice | None:
    """The reminder of a proposal closing within a day, if the member has not voted; None before
    the day starts, after the close, or once they voted. Due a day before the close, or when the
    proposal was made if that is later."""
    due = max(vote_end_ms - REMINDER_MS, created_ms)
    if voted or not due <= now_ms < vote_end_ms:
        return None
    return Notice(NoticeKind.CLOSING, f"closing:{number}", due, text=description, proposal=number, due_ms=vote_end_ms)


def event_notice(event: bytes, room: str, title: str, starts_ms: int, said_yes_ms: int, now_ms: int) -> Notice | None:
    """The reminder of an event the member said yes to, from a day before it starts (or from
    their yes, if later) until it starts."""
    if not starts_ms - REMINDER_MS <= now_ms < starts_ms:
        return None
    due = max(starts_ms - REMINDER_MS, said_yes_ms)
    return Notice(NoticeKind.EVENT, f"event:{event.hex()}", due, message=event, room=room, text=title, due_ms=starts_ms)


def newest_first(notices: Iterable[Notice], limit: int) -> list[Notice]:
    """One notice per key (a reply that also mentions the member is told as a reply), newest
    first, at most ``limit``."""
    chosen: dict[str, Notice] = {}
    for notice in notices:
        held = chosen.get(notice.key)
        if held is None or (held.kind is NoticeKind.MENTION and notice.kind is NoticeKind.REPLY):
            chosen[notice.key] = notice
    return sorted(chosen.values(), key=lambda n: (n.at_ms, n.key), reverse=True)[:limit]


def unread(notice: Notice, read_until_ms: int) -> bool:
    return notice.at_ms > read_until_ms


def quote(text: str) -> str:
    """A post's text as a notice quotes it: one line, at most ``QUOTE_CHARS`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= QUOTE_CHARS else line[: QUOTE_CHARS - 1] + "…"


def sentence(notice: Notice, name_of: Callable[[str | None], str]) -> str:
    """The notice in words, with people by the names the node shows for them."""
    who = name_of(notice.actor)
    said = f": “{quote(notice.text)}”" if notice.text else ""
    kind = notice.kind
    if kind is NoticeKind.REPLY:
        return f"{who} replied to you{said}"
    if kind is NoticeKind.MENTION:
        return f"{who} mentioned you{said}"
    if kind is NoticeKind.REACTION:
        return f"{who} reacted {notice.text} to your post"
    if kind is NoticeKind.JOIN_REQUEST:
        return f"{who} asks to join, waiting for your vote (proposal {notice.proposal}){said}"
    if kind is NoticeKind.PROPOSAL:
        return f"{who} proposed something you may vote on (proposal {notice.proposal}){said}"
    if kind is NoticeKind.CLOSING:
        return f"proposal {notice.proposal} closes within a day and you have not voted{said}"
    if kind is NoticeKind.EVENT:
        return f"an event you said yes to starts within a day{said}"
    if notice.hidden:
        return f"the community hid your post{said}"
    return f"the community showed your post again{said}"


def kinds_of(notices: Sequence[Notice]) -> dict[str, int]:
    """How many notices of each kind (for a summary line)."""
    counts: dict[str, int] = {}
    for notice in notices:
        counts[notice.kind.value] = counts.get(notice.kind.value, 0) + 1
    return counts
