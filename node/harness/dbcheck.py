"""A stopped node's database as it lies on disk after a crash, judged against the chain.

A crash test reads the file between the SIGKILL and the restart, read-only (``mode=ro``): a
writing connection would recover and checkpoint the WAL itself, and the node would then never
have to. What it reads is the file's integrity, the ids it holds, the chain cursor and the view
(members, app keys, hidden posts, applied logs); ``ChainReplay`` says what that view must be for
the cursor's block, by applying the chain's events up to it to a fresh ``CommunityView``.
``arrivals`` says, for each post, how long after its signing it was stored (how it came).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.client import CommunityClient
from node.chain.facts import fact_of
from node.core.types import Kind
from node.core.view import CommunityView


@dataclass(frozen=True)
class ViewRows:
    """The community view as rows, sorted, the way the store keeps it."""

    members: list[tuple[str, int, int | None]]
    keys: list[tuple[bytes, str, int, int | None]]
    hidden: list[bytes]
    applied_logs: int

    def differences(self, expected: ViewRows) -> list[str]:
        """What differs from ``expected``, one phrase per part (empty: the same)."""
        out = []
        for part in ("members", "keys", "hidden"):
            mine, theirs = set(getattr(self, part)), set(getattr(expected, part))
            if mine != theirs:
                out.append(f"{part}: {_short(mine - theirs)} only on disk, {_short(theirs - mine)} only on the chain")
        if self.applied_logs != expected.applied_logs:
            out.append(f"applied logs: {self.applied_logs} on disk, {expected.applied_logs} on the chain")
        return out


@dataclass(frozen=True)
class DiskState:
    """What a stopped node's database holds."""

    integrity: str
    ids: frozenset[str]  # message ids, hex
    cursor: int | None  # the last block applied
    view: ViewRows


def read_disk(db: Path) -> DiskState:
    """Reads a stopped node's database without writing to it (the node must not be running)."""
    with _read_only(db) as conn:
        integrity = "; ".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))
        ids = frozenset(bytes(row[0]).hex() for row in conn.execute("SELECT id FROM messages"))
        row = conn.execute("SELECT block_number FROM chain_cursor WHERE id = 1").fetchone()
        view = ViewRows(
            members=sorted(_rows(conn, "SELECT address, start_ms, end_ms FROM members")),
            keys=sorted(
                (bytes(k), o, a, r)
                for k, o, a, r in _rows(conn, "SELECT key, owner, added_ms, revoked_ms FROM app_keys")
            ),
            hidden=sorted(bytes(r[0]) for r in _rows(conn, "SELECT post_id FROM hidden_posts")),
            applied_logs=int(conn.execute("SELECT COUNT(*) FROM applied_logs").fetchone()[0]),
        )
    return DiskState(integrity, ids, None if row is None else int(row[0]), view)


@dataclass(frozen=True)
class Arrival:
    """One post as a node stored it: who wrote it, and how long after its signing it arrived."""

    author: str
    delay_ms: int


def arrivals(db: Path) -> dict[str, Arrival]:
    """The posts of a stopped node's database (by id, hex), each with its arrival."""
    with _read_only(db) as conn:
        sql = "SELECT id, author, received_ms - timestamp_ms FROM messages WHERE kind = ?"
        rows = list(conn.execute(sql, (int(Kind.POST),)))
    return {bytes(i).hex(): Arrival(str(a).lower(), int(d)) for i, a, d in rows}


@contextmanager
def _read_only(db: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def _rows(conn: sqlite3.Connection, sql: str) -> list[Any]:
    return list(conn.execute(sql))


def _short(rows: set[Any]) -> str:
    text = repr(sorted(rows, key=repr))
    return text if len(text) <= 200 else text[:200] + " …"


@dataclass
class ChainReplay:
    """The view a node must hold once it applied the chain up to a block: the chain's events to
    that block, applied in order to a fresh ``CommunityView`` (block times read once each)."""

    client: CommunityClient
    _times: dict[int, int] = field(default_factory=dict)

    def view_at(self, block: int | None) -> ViewRows:
        view = CommunityView()
        if block is None:
            return _rows_of(view, 0)
        events = self.client.events(to_block=block)
        for event in events:
            fact = fact_of(event)
            if fact is not None:
                view.apply(fact, self._time_of(event.log.block_number))
        return _rows_of(view, len(events))

    def _time_of(self, number: int) -> int:
        if number not in self._times:
            self._times[number] = int(self.client.w3.eth.get_block(number)["timestamp"])
        return self._times[number]


def _rows_of(view: CommunityView, applied: int) -> ViewRows:
    return ViewRows(
        members=sorted((a, s, e) for a, record in view.members.items() for s, e in record.intervals),
        keys=sorted((bytes(k.key), k.owner, k.added_ms, k.revoked_ms) for k in view.keys.values()),
        hidden=sorted(view.hidden),
        applied_logs=applied,
    )
