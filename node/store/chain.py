"""What the node learned from the chain: the community view, the logs applied, the cursor.

A batch of facts, their effects on stored content and the cursor commit in one transaction, and
each log is applied once (keyed by block hash and log index), so a restart or a re-read range
changes nothing. After a reorganisation everything here is forgotten and rebuilt; messages stay.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from node.core import facts
from node.core.facts import Fact, LogPosition
from node.core.guests import GuestPolicy
from node.core.types import AppKey
from node.core.view import (
    AttachmentCaps,
    CommunityView,
    Effect,
    KeyRecord,
    KeyRevokedEffect,
    MemberGoneEffect,
    MemberRecord,
    PostHiddenEffect,
    PostUnhiddenEffect,
)
from node.store.db import Database
from node.store.peers import forget_key, forget_member


@dataclass(frozen=True)
class Cursor:
    """The last block whose logs are applied, and how far the view is complete."""

    block_number: int
    block_hash: bytes
    complete_until_ms: int


@dataclass(frozen=True)
class ChainEntry:
    """One log of the contract: where it sits, its block's time, and the fact it states (None:
    nothing the core needs; the log still counts as applied)."""

    position: LogPosition
    block_time_s: int
    fact: Fact | None


@dataclass(frozen=True)
class ChainBatch:
    """The logs of consecutive blocks, in chain order, ending at ``cursor``."""

    entries: Sequence[ChainEntry]
    cursor: Cursor


#: What the store learned from the chain, forgotten together when the chain must be read again.
CHAIN_TABLES = (
    "members",
    "app_keys",
    "hidden_posts",
    "media_policies",
    "proposals",
    "proposal_votes",
    "moderations",
    "moderators",
    "guest_policies",
    "applied_logs",
    "chain_cursor",
)


class Chain:
    def __init__(self, db: Database) -> None:
        self._db = db

    def cursor(self) -> Cursor | None:
        row = self._db.conn.execute(
            "SELECT block_number, block_hash, complete_until_ms FROM chain_cursor WHERE id = 1"
        ).fetchone()
        return None if row is None else Cursor(int(row[0]), bytes(row[1]), int(row[2]))

    def load_view(self) -> CommunityView:
        """The community view as last committed."""
        conn = self._db.conn
        view = CommunityView()
        for address, start, end in conn.execute(
            "SELECT address, start_ms, end_ms FROM members ORDER BY address, start_ms"
        ):
            view.members.setdefault(address, MemberRecord(address)).intervals.append((start, end))
        for key, owner, added, revoked in conn.execute("SELECT key, owner, added_ms, revoked_ms FROM app_keys"):
            view.keys[bytes(key)] = KeyRecord(AppKey(bytes(key)), owner, added, revoked)
        view.hidden.update(bytes(r[0]) for r in conn.execute("SELECT post_id FROM hidden_posts"))
        cursor = self.cursor()
        view.media = [
            (int(start), AttachmentCaps(int(count), int(size)))
            for start, count, size in conn.execute(
                "SELECT from_ms, max_attachments, max_attachment_bytes FROM media_policies ORDER BY from_ms, seq"
            )
        ]
        _load_guest_rules(conn, view)
        view.chain_time_ms = cursor.complete_until_ms if cursor else 0
        return view

    def reset(self, view: CommunityView) -> None:
        """Forgets everything learned from the chain (after a reorganisation): the view, the
        applied logs, the cursor and every hide; ``view`` is emptied in place. Messages stay."""
        with self._db.transaction() as conn:
            for table in CHAIN_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("UPDATE messages SET hidden = 0 WHERE hidden = 1")
            self._db.purged()  # the search index takes the posts back
        view.members.clear()
        view.keys.clear()
        view.hidden.clear()
        view.media.clear()
        view.moderators.clear()
        view.guest_policies.clear()
        view.chain_time_ms = 0

    def apply(self, view: CommunityView, batch: ChainBatch) -> list[Effect]:
        """Applies the logs not applied before, enforces their effects and moves the cursor, all
        in one transaction. ``view`` is updated in place only if the transaction commits; on
        failure reload it with ``load_view``."""
        effects: list[Effect] = []
        with self._db.transaction() as conn:
            for entry in batch.entries:
                at = entry.position
                seen = conn.execute(
                    "INSERT OR IGNORE INTO applied_logs (block_hash, log_index, block_number) VALUES (?,?,?)",
                    (at.block_hash, at.log_index, at.block_number),
                )
                if seen.rowcount == 0:
                    continue  # applied before: idempotent
                if entry.fact is None:
                    view.advance(entry.block_time_s * 1000)  # nothing to apply, but the chain got this far
                    continue
                for effect in view.apply(entry.fact, entry.block_time_s):
                    effects.append(effect)
                    self._enforce(conn, view, effect)
                _persist(conn, view, entry.fact)
                _record(conn, entry.fact, entry.block_time_s * 1000)
            view.advance(batch.cursor.complete_until_ms)
            conn.execute(
                "INSERT OR REPLACE INTO chain_cursor (id, block_number, block_hash, complete_until_ms)"
                " VALUES (1, ?, ?, ?)",
                (batch.cursor.block_number, batch.cursor.block_hash, view.chain_time_ms),
            )
        return effects

    def _enforce(self, conn: sqlite3.Connection, view: CommunityView, effect: Effect) -> None:
        if isinstance(effect, PostHiddenEffect):
            conn.execute("INSERT OR IGNORE INTO hidden_posts (post_id) VALUES (?)", (effect.post_id,))
            conn.execute("UPDATE messages SET hidden = 1 WHERE id = ?", (effect.post_id,))
            self._db.purged()  # its attachments may go with it
        elif isinstance(effect, PostUnhiddenEffect):
            conn.execute("DELETE FROM hidden_posts WHERE post_id = ?", (effect.post_id,))
            conn.execute("UPDATE messages SET hidden = 0 WHERE id = ?", (effect.post_id,))
            self._db.purged()  # back into the search index
        elif isinstance(effect, MemberGoneEffect):
            forget_member(conn, effect.member)  # their nodes leave the address book
            # Messages accepted before we learned of the removal, but signed after it, go.
            record = view.members.get(effect.member)
            end = record.intervals[-1][1] if record and record.intervals else None
            if end is not None:
                gone = conn.execute(
                    "DELETE FROM messages WHERE author = ? AND timestamp_ms >= ?", (effect.member, end)
                ).rowcount
                if gone > 0:
                    self._db.purged()
        elif isinstance(effect, KeyRevokedEffect):
            forget_key(conn, effect.key)
            key = view.keys.get(effect.key)
            if key is not None and key.revoked_ms is not None:
                gone = conn.execute(
                    "DELETE FROM messages WHERE author_key = ? AND timestamp_ms >= ?", (effect.key, key.revoked_ms)
                ).rowcount
                if gone > 0:
                    self._db.purged()


def _persist(conn: sqlite3.Connection, view: CommunityView, fact: Fact) -> None:
    """Writes the part of ``view`` that ``fact`` changed."""
    if isinstance(fact, facts.MediaPolicyChanged) and view.media:
        start, caps = view.media[-1]
        conn.execute(
            "INSERT INTO media_policies (from_ms, seq, max_attachments, max_attachment_bytes)"
            " VALUES (?, (SELECT COUNT(*) FROM media_policies), ?, ?)",
            (start, caps.max_attachments, caps.max_attachment_bytes),
        )
    if isinstance(fact, facts.MemberJoined | facts.MemberGone) and fact.member in view.members:
        conn.execute("DELETE FROM members WHERE address = ?", (fact.member,))
        conn.executemany(
            "INSERT INTO members (address, start_ms, end_ms) VALUES (?,?,?)",
            [(fact.member, s, e) for s, e in view.members[fact.member].intervals],
        )
    if isinstance(fact, facts.KeyAuthorised | facts.KeyRevoked) and fact.key in view.keys:
        record = view.keys[fact.key]
        conn.execute(
            "INSERT OR REPLACE INTO app_keys (key, owner, added_ms, revoked_ms) VALUES (?,?,?,?)",
            (fact.key, record.owner, record.added_ms, record.revoked_ms),
        )
    _persist_guest_rules(conn, view, fact)


def _load_guest_rules(conn: sqlite3.Connection, view: CommunityView) -> None:
    """Who moderated when and the guest policies voted: what guest passes are judged by."""
    for address, start, end in conn.execute(
        "SELECT address, start_ms, end_ms FROM moderators ORDER BY address, start_ms"
    ):
        view.moderators.setdefault(address, []).append((int(start), None if end is None else int(end)))
    view.guest_policies = [
        (int(start), GuestPolicy(str(inviters), int(seconds)))
        for start, inviters, seconds in conn.execute(
            "SELECT from_ms, inviters, max_pass_s FROM guest_policies ORDER BY from_ms, seq"
        )
    ]


def _persist_guest_rules(conn: sqlite3.Connection, view: CommunityView, fact: Fact) -> None:
    if isinstance(fact, facts.GuestPolicyChanged) and view.guest_policies:
        start, policy = view.guest_policies[-1]
        conn.execute(
            "INSERT INTO guest_policies (from_ms, seq, inviters, max_pass_s)"
            " VALUES (?, (SELECT COUNT(*) FROM guest_policies), ?, ?)",
            (start, policy.inviters, policy.max_pass_s),
        )
    if isinstance(fact, facts.ModeratorGranted | facts.ModeratorRevoked) and fact.account in view.moderators:
        conn.execute("DELETE FROM moderators WHERE address = ?", (fact.account,))
        conn.executemany(
            "INSERT INTO moderators (address, start_ms, end_ms) VALUES (?,?,?)",
            [(fact.account, s, e) for s, e in view.moderators[fact.account]],
        )


def _record(conn: sqlite3.Connection, fact: Fact, at_ms: int) -> None:
    """Keeps what members are told about (``node.store.notices``): proposals and who voted on
    them, and when each post was hidden or shown again."""
    if isinstance(fact, facts.ProposalOpened):
        conn.execute(
            "INSERT OR IGNORE INTO proposals"
            " (id, number, kind, subject, proposer, vote_end_ms, created_ms, description) VALUES (?,?,?,?,?,?,?,?)",
            (
                fact.proposal_id.to_bytes(32, "big"),
                fact.number,
                fact.kind,
                fact.subject,
                fact.proposer,
                fact.vote_end_s * 1000,
                at_ms,
                fact.description,
            ),
        )
    elif isinstance(fact, facts.VoteRecorded):
        conn.execute(
            "INSERT OR IGNORE INTO proposal_votes (proposal_id, voter) VALUES (?, ?)",
            (fact.proposal_id.to_bytes(32, "big"), fact.voter),
        )
    elif isinstance(fact, facts.ProposalExecuted):
        conn.execute("UPDATE proposals SET executed = 1 WHERE id = ?", (fact.proposal_id.to_bytes(32, "big"),))
    elif isinstance(fact, facts.PostHidden | facts.PostUnhidden):
        conn.execute(
            "INSERT OR REPLACE INTO moderations (post_id, hidden, at_ms) VALUES (?, ?, ?)",
            (fact.post_id, int(isinstance(fact, facts.PostHidden)), at_ms),
        )
