"""``Store``: one SQLite file per node (WAL mode), in parts by what they keep.

``messages`` (messages, tombstones, reactions, erasures), ``feed`` (reading them for the API),
``chain`` (the community view, applied logs, cursor), ``rooms`` (rooms, keys, events, polls,
follows), ``peers`` (the address book: members' nodes), ``profiles`` (members' names), ``search``,
``notices`` (what the member is told about), ``guests`` (guest passes), ``rankings`` (what the
rankings read, and their cache) and ``blobs`` (attachments' bytes) share one
connection and one way to write (``node.store.db``), so what must commit together does.
``Store`` itself answers what validation asks (``node.core.validation.Known``), which spans
messages and rooms.

The store is used from the node's trio thread; each call is short (tens of microseconds), and
SQLite serialises writers itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from node.store.blobs import Blobs
from node.store.chain import Chain
from node.store.db import Database
from node.store.digest import Digests
from node.store.feed import Feed
from node.store.guests import GuestPasses, GuestsKnown
from node.store.messages import BatchKnown, Messages
from node.store.notices import Notices
from node.store.peers import PeerRecords
from node.store.profiles import Profiles
from node.store.ranking import Rankings
from node.store.rooms import Rooms, RoomsKnown
from node.store.search import Search


class Store(RoomsKnown, GuestsKnown):
    def __init__(self, db: Database) -> None:
        self._db = db
        self.path = db.path
        self.rooms = Rooms(db)
        self.peers = PeerRecords(db)
        self.profiles = Profiles(db)
        self.guests = GuestPasses(db)
        self.messages = Messages(db, self.rooms, self.peers, self.profiles, self.guests)
        self.feed = Feed(db)
        self.chain = Chain(db)
        self.blobs = Blobs(db)
        self.search = Search(db)
        self.notices = Notices(db)
        self.digests = Digests(db, self.rooms)
        self.rankings = Rankings(db, self.rooms)

    @classmethod
    def open(cls, path: Path) -> Store:
        """Opens (creating if needed) the database at ``path`` and migrates its schema."""
        return cls(Database.open(path))

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ what validation asks

    def has_message(self, message_id: bytes) -> bool:
        return self.messages.has_message(message_id)

    def author_of(self, message_id: bytes) -> str | None:
        return self.messages.author_of(message_id)

    def tombstone_of(self, message_id: bytes) -> str | None:
        return self.messages.tombstone_of(message_id)

    def erased_until(self, member: str) -> int | None:
        return self.messages.erased_until(member)

    def known_among(self, ids: Sequence[bytes]) -> BatchKnown:
        """What validation needs to know about ``ids``, fetched in two queries (for batches)."""
        return self.messages.known_among(ids)
