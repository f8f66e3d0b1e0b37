"""Guest passes and their ends (schema version 12), kept for validation and for ``kiez guests``.

A pass is stored when its GUEST_PASS message is accepted, and an accepted GUEST_END marks it
ended from the end's timestamp (the earliest end wins: ends are final). Validation only accepts
an end whose pass is already here, so an end never waits for its pass. When an end arrives
after guest messages it makes invalid (signed at or after it: posts and reactions in its room,
the guest node's peer record), those go, so that every node ends with the same messages whatever
order they came in (``node.core.guests``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from node.core.guests import GuestPass, guest_author
from node.core.types import AppKey, GuestEndBody, GuestPassBody, Kind, Message, MessageId
from node.store.db import Database

_COLUMNS = "id, guest, room, inviter, issued_ms, until_ms, note, ended_ms"


class GuestPasses:
    def __init__(self, db: Database) -> None:
        self._db = db

    def apply(self, conn: sqlite3.Connection, message: Message, author: str) -> None:
        """Records a pass or an end (in the caller's transaction)."""
        body = message.body
        if isinstance(body, GuestPassBody):
            conn.execute(
                f"INSERT OR IGNORE INTO guest_passes ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,NULL)",  # noqa: S608
                (message.id, body.guest, message.room, author, message.timestamp_ms, body.until_ms, body.note),
            )
        elif isinstance(body, GuestEndBody):
            conn.execute(
                "UPDATE guest_passes SET ended_ms = ?, ended_by = ? WHERE id = ? AND"
                " (ended_ms IS NULL OR ended_ms > ?)",
                (message.timestamp_ms, author, body.pass_id, message.timestamp_ms),
            )
            self._drop_after_end(conn, body.pass_id)

    def _drop_after_end(self, conn: sqlite3.Connection, pass_id: bytes) -> None:
        """The guest's posts and reactions in the pass's room signed from its end on, unless
        another pass of theirs covers them (an end that arrived after them)."""
        ended = self.get(pass_id, conn)
        if ended is None or ended.ended_ms is None:
            return
        others = [p for p in self.of_guest(ended.guest, conn) if p.room == ended.room and p.id != ended.id]
        author = guest_author(ended.guest)
        rows = conn.execute(
            "SELECT id, timestamp_ms FROM messages WHERE author = ? AND room = ? AND timestamp_ms >= ?"
            " AND kind IN (?, ?)",
            (author, ended.room, ended.ended_ms, int(Kind.POST), int(Kind.REACTION)),
        ).fetchall()
        gone = [bytes(i) for i, ts in rows if not any(p.covers(int(ts)) for p in others)]
        conn.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in gone])
        conn.executemany("DELETE FROM reactions WHERE message_id = ?", [(i,) for i in gone])
        records = self._records_after_end(conn, ended)
        if gone or records:
            self._db.purged()

    def _records_after_end(self, conn: sqlite3.Connection, ended: GuestPass) -> int:
        """The guest node's peer record, if signed from the end on while no other pass of its (in
        any room) ran then: such a record is refused wherever the end came first."""
        assert ended.ended_ms is not None
        row = conn.execute(
            "SELECT version_id, version_ms FROM peer_records WHERE app_key = ? AND version_ms >= ?",
            (ended.guest, ended.ended_ms),
        ).fetchone()
        if row is None:
            return 0
        others = [p for p in self.of_guest(ended.guest, conn) if p.id != ended.id]
        if any(p.covers(int(row[1])) for p in others):
            return 0
        conn.execute("DELETE FROM messages WHERE id = ?", (bytes(row[0]),))
        conn.execute("DELETE FROM peer_records WHERE app_key = ?", (ended.guest,))
        return 1

    def of_guest(self, guest: bytes, conn: sqlite3.Connection | None = None) -> list[GuestPass]:
        """Every pass naming the app key ``guest``, oldest first."""
        rows = (conn or self._db.conn).execute(
            f"SELECT {_COLUMNS} FROM guest_passes WHERE guest = ? ORDER BY issued_ms, id",  # noqa: S608
            (guest,),
        )
        return [_pass(row) for row in rows]

    def get(self, pass_id: bytes, conn: sqlite3.Connection | None = None) -> GuestPass | None:
        row = (
            (conn or self._db.conn)
            .execute(
                f"SELECT {_COLUMNS} FROM guest_passes WHERE id = ?",  # noqa: S608
                (pass_id,),
            )
            .fetchone()
        )
        return None if row is None else _pass(row)

    def listing(self, now_ms: int, include_past: bool = False) -> list[GuestPass]:
        """The passes in force at ``now_ms`` (or every pass), newest first, for ``kiez guests``."""
        rows = self._db.conn.execute(f"SELECT {_COLUMNS} FROM guest_passes ORDER BY issued_ms DESC, id")  # noqa: S608
        passes = [_pass(row) for row in rows]
        return passes if include_past else [p for p in passes if p.covers(now_ms)]


class GuestsKnown:
    """The guest half of validation's ``Known``, answered by ``guests``: shared by the store and
    by a sync batch's ``BatchKnown``."""

    guests: GuestPasses

    def guest_passes(self, guest: bytes) -> Sequence[GuestPass]:
        return self.guests.of_guest(guest)

    def guest_pass(self, pass_id: bytes) -> GuestPass | None:
        return self.guests.get(pass_id)


def _pass(row: Any) -> GuestPass:
    ident, guest, room, inviter, issued, until, note, ended = row
    return GuestPass(
        MessageId(bytes(ident)),
        AppKey(bytes(guest)),
        str(room),
        str(inviter),
        int(issued),
        int(until),
        str(note),
        None if ended is None else int(ended),
    )
