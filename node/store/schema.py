"""Versioned schema migrations (``PRAGMA user_version``).

Each entry upgrades the schema by one version; a node opening an older file runs the missing
ones in one transaction, and refuses a file from a newer kiez instead of guessing.
"""

from __future__ import annotations

import sqlite3

from node.errors import NodeError

MIGRATIONS: list[str] = [
    # 1: messages, tombstones, reactions, the community view and the chain cursor
    """
    CREATE TABLE messages (
        id BLOB PRIMARY KEY,
        kind INTEGER NOT NULL,
        author_key BLOB NOT NULL,
        author TEXT NOT NULL,
        room TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        parent BLOB,
        target BLOB,
        text TEXT,
        reaction TEXT,
        active INTEGER,
        envelope BLOB NOT NULL,
        received_ms INTEGER NOT NULL,
        hidden INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX messages_feed ON messages (kind, room, timestamp_ms DESC, id DESC);
    CREATE INDEX messages_parent ON messages (parent) WHERE parent IS NOT NULL;
    CREATE INDEX messages_author ON messages (author);
    CREATE TABLE tombstones (
        target BLOB PRIMARY KEY,
        member TEXT NOT NULL,
        delete_id BLOB NOT NULL,
        timestamp_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE reactions (
        target BLOB NOT NULL,
        member TEXT NOT NULL,
        reaction TEXT NOT NULL,
        active INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        message_id BLOB NOT NULL,
        PRIMARY KEY (target, member, reaction)
    ) WITHOUT ROWID;
    CREATE TABLE members (
        address TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        PRIMARY KEY (address, start_ms)
    ) WITHOUT ROWID;
    CREATE TABLE app_keys (
        key BLOB PRIMARY KEY,
        owner TEXT NOT NULL,
        added_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE hidden_posts (post_id BLOB PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE applied_logs (
        block_hash BLOB NOT NULL,
        log_index INTEGER NOT NULL,
        block_number INTEGER NOT NULL,
        PRIMARY KEY (block_hash, log_index)
    ) WITHOUT ROWID;
    CREATE TABLE chain_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        block_number INTEGER NOT NULL,
        block_hash BLOB NOT NULL,
        complete_until_ms INTEGER NOT NULL
    );
    """,
    # 2: erasures (a member's "forget me"), one per member: everything up to until_ms is gone
    """
    CREATE TABLE erasures (
        member TEXT PRIMARY KEY,
        until_ms INTEGER NOT NULL,
        erase_id BLOB NOT NULL
    ) WITHOUT ROWID;
    """,
    # 3: messages as a rowid table. Rows are large (the envelope), and their keys are hashes, so
    # WITHOUT ROWID inserted each whole row at a random place in the tree; now rows append and
    # only the small id index takes random inserts (about twice as fast to ingest).
    """
    CREATE TABLE messages_v3 (
        id BLOB NOT NULL UNIQUE,
        kind INTEGER NOT NULL,
        author_key BLOB NOT NULL,
        author TEXT NOT NULL,
        room TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        parent BLOB,
        target BLOB,
        text TEXT,
        reaction TEXT,
        active INTEGER,
        envelope BLOB NOT NULL,
        received_ms INTEGER NOT NULL,
        hidden INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO messages_v3 (id, kind, author_key, author, room, timestamp_ms, parent, target, text, reaction,
                             active, envelope, received_ms, hidden)
        SELECT id, kind, author_key, author, room, timestamp_ms, parent, target, text, reaction, active, envelope,
               received_ms, hidden FROM messages ORDER BY timestamp_ms, id;
    DROP TABLE messages;
    ALTER TABLE messages_v3 RENAME TO messages;
    CREATE INDEX messages_feed ON messages (kind, room, timestamp_ms DESC, id DESC);
    CREATE INDEX messages_parent ON messages (parent) WHERE parent IS NOT NULL;
    CREATE INDEX messages_author ON messages (author);
    """,
    # 4: rooms, private-room keys, X25519 keys, events and RSVPs, polls and answers, attachments
    # and their blobs: the state each of those message kinds builds, last write wins where it says
    """
    CREATE TABLE rooms (
        id TEXT PRIMARY KEY,
        creator TEXT NOT NULL,
        name TEXT NOT NULL,
        topic TEXT NOT NULL,
        visibility INTEGER NOT NULL,
        creator_only INTEGER NOT NULL,
        slow_mode_s INTEGER NOT NULL,
        version_ms INTEGER NOT NULL,
        version_id BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE room_keys (
        key_id BLOB PRIMARY KEY,
        room TEXT NOT NULL,
        author TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        recipients BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX room_keys_room ON room_keys (room, timestamp_ms DESC, key_id DESC);
    CREATE TABLE xkeys (
        member TEXT PRIMARY KEY,
        public BLOB NOT NULL,
        version_ms INTEGER NOT NULL,
        version_id BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE room_posts (
        member TEXT NOT NULL,
        room TEXT NOT NULL,
        last_ms INTEGER NOT NULL,
        PRIMARY KEY (member, room)
    ) WITHOUT ROWID;
    CREATE TABLE answers (
        poll BLOB NOT NULL,
        member TEXT NOT NULL,
        option INTEGER NOT NULL,
        version_ms INTEGER NOT NULL,
        version_id BLOB NOT NULL,
        PRIMARY KEY (poll, member)
    ) WITHOUT ROWID;
    CREATE TABLE rsvps (
        event BLOB NOT NULL,
        member TEXT NOT NULL,
        answer INTEGER NOT NULL,
        version_ms INTEGER NOT NULL,
        version_id BLOB NOT NULL,
        PRIMARY KEY (event, member)
    ) WITHOUT ROWID;
    CREATE TABLE attachments (
        message_id BLOB NOT NULL,
        sha256 BLOB NOT NULL,
        size INTEGER NOT NULL,
        mime TEXT NOT NULL,
        PRIMARY KEY (message_id, sha256)
    ) WITHOUT ROWID;
    CREATE INDEX attachments_blob ON attachments (sha256);
    CREATE TABLE blobs (
        sha256 BLOB PRIMARY KEY,
        mime TEXT NOT NULL,
        data BLOB NOT NULL
    ) WITHOUT ROWID;
    """,
    # 5: the rooms this node's member follows (their gossip topics are subscribed at start)
    """
    CREATE TABLE follows (room TEXT PRIMARY KEY) WITHOUT ROWID;
    """,
    # 6: an uploaded attachment is kept a while before any post names it (the member uploads,
    # then posts); blobs fetched for a post have 0 and go as soon as nothing visible names them
    """
    ALTER TABLE blobs ADD COLUMN keep_until_ms INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: the community's caps on attachments, as voted on-chain, with the moment each took effect
    """
    CREATE TABLE media_policies (
        from_ms INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        max_attachments INTEGER NOT NULL,
        max_attachment_bytes INTEGER NOT NULL,
        PRIMARY KEY (from_ms, seq)
    ) WITHOUT ROWID;
    """,
    # 8: the address book: the latest peer record (kind PEER) per app key, with what the dialler
    # needs unpacked; rows go when the member leaves, the key is revoked or the author erases
    """
    CREATE TABLE peer_records (
        app_key BLOB PRIMARY KEY,
        member TEXT NOT NULL,
        peer_id BLOB NOT NULL,
        addrs BLOB NOT NULL,
        expires_ms INTEGER NOT NULL,
        version_ms INTEGER NOT NULL,
        version_id BLOB NOT NULL,
        envelope BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX peer_records_peer ON peer_records (peer_id);
    CREATE INDEX peer_records_member ON peer_records (member);
    """,
    # 9: members' profiles (kind PROFILE): the latest per member, unpacked; the avatar is an
    # attachment of the profile's message
    """
    CREATE TABLE profiles (
        member TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        bio TEXT NOT NULL,
        avatar BLOB,
        links TEXT NOT NULL,
        version_ms INTEGER NOT NULL,
        version_id BLOB NOT NULL
    ) WITHOUT ROWID;
    """,
    # 10: full-text search over plaintext posts (node/store/search.py); the posts already stored
    # are indexed here, in order
    """
    CREATE VIRTUAL TABLE search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
    CREATE TABLE search_ids (id BLOB PRIMARY KEY, doc INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
    INSERT INTO search_ids (id, doc)
        SELECT id, row_number() OVER (ORDER BY timestamp_ms, id) FROM messages
        WHERE kind = 1 AND hidden = 0 AND text IS NOT NULL;
    INSERT INTO search (rowid, text) SELECT s.doc, m.text FROM search_ids s JOIN messages m ON m.id = s.id;
    """,
    # 11: what a member is told about (node/store/notices.py): whom a post mentions, the chain's
    # proposals and votes, when posts were hidden, and how far the member has read. The chain is
    # read again from the contract's deployment (its view and cursor are cleared; messages and
    # their hides stay), so the proposals of the past are known too.
    """
    CREATE TABLE mentions (
        member TEXT NOT NULL,
        message_id BLOB NOT NULL,
        PRIMARY KEY (member, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX mentions_message ON mentions (message_id);
    CREATE TABLE proposals (
        id BLOB PRIMARY KEY,
        number INTEGER NOT NULL,
        kind TEXT NOT NULL,
        subject BLOB NOT NULL,
        proposer TEXT NOT NULL,
        vote_end_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        description TEXT NOT NULL,
        executed INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE proposal_votes (
        proposal_id BLOB NOT NULL,
        voter TEXT NOT NULL,
        PRIMARY KEY (proposal_id, voter)
    ) WITHOUT ROWID;
    CREATE TABLE moderations (post_id BLOB PRIMARY KEY, hidden INTEGER NOT NULL, at_ms INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE notice_reads (id INTEGER PRIMARY KEY CHECK (id = 1), until_ms INTEGER NOT NULL);
    DELETE FROM members;
    DELETE FROM app_keys;
    DELETE FROM hidden_posts;
    DELETE FROM media_policies;
    DELETE FROM applied_logs;
    DELETE FROM chain_cursor;
    """,
    # 12: guests (node/store/guests.py): passes with their ends; from the chain, who moderates
    # when and the guest policies voted. The chain is read again (as in 11) so the moderators of
    # the past are known.
    """
    CREATE TABLE guest_passes (
        id BLOB PRIMARY KEY,
        guest BLOB NOT NULL,
        room TEXT NOT NULL,
        inviter TEXT NOT NULL,
        issued_ms INTEGER NOT NULL,
        until_ms INTEGER NOT NULL,
        note TEXT NOT NULL,
        ended_ms INTEGER,
        ended_by TEXT
    ) WITHOUT ROWID;
    CREATE INDEX guest_passes_guest ON guest_passes (guest);
    CREATE TABLE moderators (
        address TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        PRIMARY KEY (address, start_ms)
    ) WITHOUT ROWID;
    CREATE TABLE guest_policies (
        from_ms INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        inviters TEXT NOT NULL,
        max_pass_s INTEGER NOT NULL,
        PRIMARY KEY (from_ms, seq)
    ) WITHOUT ROWID;
    DELETE FROM members;
    DELETE FROM app_keys;
    DELETE FROM hidden_posts;
    DELETE FROM media_policies;
    DELETE FROM proposals;
    DELETE FROM proposal_votes;
    DELETE FROM moderations;
    DELETE FROM applied_logs;
    DELETE FROM chain_cursor;
    """,
    # 13: the search index's document numbers as a rowid table keyed by the number. Keyed by the
    # message id (a hash), every post indexed was an insert at a random place, a page more to
    # write per post at each commit of a sync batch; by number, posts append.
    """
    CREATE TABLE search_docs (doc INTEGER PRIMARY KEY, id BLOB NOT NULL);
    INSERT INTO search_docs (doc, id) SELECT doc, id FROM search_ids ORDER BY doc;
    DROP TABLE search_ids;
    ALTER TABLE search_docs RENAME TO search_ids;
    """,
]


class SchemaError(NodeError):
    """The database file was written by a newer kiez, or is not a kiez database."""


def migrate(conn: sqlite3.Connection) -> int:
    """Brings the schema to the latest version; returns the version it found."""
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found > len(MIGRATIONS):
        raise SchemaError(
            f"the database has schema version {found}, newer than this kiez knows ({len(MIGRATIONS)}); upgrade kiez"
        )
    if found == len(MIGRATIONS):
        return int(found)
    for version in range(found, len(MIGRATIONS)):
        # One transaction per step: a crash mid-migration leaves the previous version intact.
        conn.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[version]}; PRAGMA user_version = {version + 1}; COMMIT;")
    return int(found)
