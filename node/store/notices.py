"""The facts a member's notifications are made of, read from the store (``node.core.notices``
decides what each one says and when a reminder is due).

Nothing here is written when a message arrives: the notices are read from the messages, the
mentions, the chain's proposals and the RSVPs as they are now, so whatever leaves the store (a
deleted reply, an erased member, a withdrawn reaction) leaves the notices with it. The one thing
kept for notices is how far the member has read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from node.core.encoding import decode
from node.core.notices import Notice, NoticeKind, closing_notice, event_notice, proposal_notice
from node.core.types import EventBody, Kind

if TYPE_CHECKING:
    from node.store.db import Database


class Notices:
    def __init__(self, db: Database) -> None:
        self._db = db

    def gather(self, me: str, now_ms: int, limit: int) -> list[Notice]:
        """Every notice of member ``me`` at ``now_ms`` (up to ``limit`` of each source, newest first)."""
        conn = self._db.conn
        return [
            *_replies(conn, me, limit),
            *_mentions(conn, me, limit),
            *_reactions(conn, me, limit),
            *_moderations(conn, me, limit),
            *_proposals(conn, me, now_ms, limit),
            *_events(conn, me, now_ms),
        ]

    def read_until(self) -> int:
        row = self._db.conn.execute("SELECT until_ms FROM notice_reads WHERE id = 1").fetchone()
        return 0 if row is None else int(row[0])

    def mark_read(self, until_ms: int) -> int:
        """Everything up to ``until_ms`` is read (never moves back); returns the mark now held."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO notice_reads (id, until_ms) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
                (until_ms,),
            )
        return self.read_until()


def _replies(conn: sqlite3.Connection, me: str, limit: int) -> list[Notice]:
    rows = conn.execute(
        "SELECT r.id, r.author, r.room, r.text, r.received_ms FROM messages p JOIN messages r ON r.parent = p.id"
        " WHERE p.author = ? AND r.author != ? AND r.kind = ? AND r.hidden = 0"
        " ORDER BY r.received_ms DESC LIMIT ?",
        (me, me, int(Kind.POST), limit),
    )
    return _post_notices(NoticeKind.REPLY, rows)


def _mentions(conn: sqlite3.Connection, me: str, limit: int) -> list[Notice]:
    rows = conn.execute(
        "SELECT m.id, m.author, m.room, m.text, m.received_ms FROM mentions x JOIN messages m ON m.id = x.message_id"
        " WHERE x.member = ? AND m.author != ? AND m.hidden = 0 ORDER BY m.received_ms DESC LIMIT ?",
        (me, me, limit),
    )
    return _post_notices(NoticeKind.MENTION, rows)


def _post_notices(kind: NoticeKind, rows: Iterable[tuple[Any, ...]]) -> list[Notice]:
    """Notices about posts from rows of (id, author, room, text, received_ms); keyed by the post,
    so a reply that also mentions the member is one notice (``newest_first``)."""
    return [
        Notice(kind, f"post:{bytes(i).hex()}", int(at), str(a), bytes(i), str(room), str(text or ""))
        for i, a, room, text, at in rows
    ]


def _reactions(conn: sqlite3.Connection, me: str, limit: int) -> list[Notice]:
    rows = conn.execute(
        "SELECT p.id, p.room, r.member, r.reaction, m.received_ms FROM messages p"
        " JOIN reactions r ON r.target = p.id JOIN messages m ON m.id = r.message_id"
        " WHERE p.author = ? AND r.member != ? AND r.active = 1 AND p.hidden = 0"
        " ORDER BY m.received_ms DESC LIMIT ?",
        (me, me, limit),
    )
    return [
        Notice(
            NoticeKind.REACTION,
            f"reaction:{bytes(post).hex()}:{member}:{reaction}",
            int(at),
            str(member),
            bytes(post),
            str(room),
            str(reaction),
        )
        for post, room, member, reaction, at in rows
    ]


def _moderations(conn: sqlite3.Connection, me: str, limit: int) -> list[Notice]:
    rows = conn.execute(
        "SELECT p.id, p.room, p.text, mo.hidden, mo.at_ms FROM moderations mo JOIN messages p ON p.id = mo.post_id"
        " WHERE p.author = ? ORDER BY mo.at_ms DESC LIMIT ?",
        (me, limit),
    )
    return [
        Notice(
            NoticeKind.MODERATION,
            f"moderation:{bytes(i).hex()}:{at}",
            int(at),
            None,
            bytes(i),
            str(room),
            str(text or ""),
            hidden=bool(hidden),
        )
        for i, room, text, hidden, at in rows
    ]


def _proposals(conn: sqlite3.Connection, me: str, now_ms: int, limit: int) -> list[Notice]:
    """Proposals ``me`` may vote on (a member when it was created, as the contract fixes the
    electorate then) that someone else made, and the reminder of those closing unvoted."""
    rows = conn.execute(
        "SELECT p.number, p.kind, p.subject, p.proposer, p.vote_end_ms, p.created_ms, p.description, p.executed,"
        " EXISTS (SELECT 1 FROM proposal_votes v WHERE v.proposal_id = p.id AND v.voter = ?)"
        " FROM proposals p WHERE EXISTS (SELECT 1 FROM members w WHERE w.address = ?"
        " AND w.start_ms <= p.created_ms AND (w.end_ms IS NULL OR w.end_ms > p.created_ms))"
        " ORDER BY p.created_ms DESC LIMIT ?",
        (me, me, limit),
    )
    out: list[Notice] = []
    for number, kind, subject, proposer, vote_end, created, description, executed, voted in rows:
        applicant = to_checksum_address(bytes(subject)[-20:]) if kind == "add-member" else ""
        if proposer != me:
            notice = proposal_notice(int(number), str(kind), str(proposer), int(created), str(description), applicant)
            out.append(notice)
        reminder = closing_notice(
            int(number), int(created), int(vote_end), str(description), now_ms, bool(voted or executed)
        )
        if reminder is not None:
            out.append(reminder)
    return out


def _events(conn: sqlite3.Connection, me: str, now_ms: int) -> list[Notice]:
    rows = conn.execute(
        "SELECT m.id, m.room, m.envelope, r.version_ms FROM rsvps r JOIN messages m ON m.id = r.event"
        " WHERE r.member = ? AND r.answer = 1 AND m.hidden = 0 AND m.kind = ?",
        (me, int(Kind.EVENT)),
    )
    out = []
    for ident, room, envelope, said_yes in rows:
        body = decode(bytes(envelope)).body
        if isinstance(body, EventBody):
            notice = event_notice(bytes(ident), str(room), body.title, body.starts_ms, int(said_yes), now_ms)
            if notice is not None:
                out.append(notice)
    return out
