"""The node's own copy of the community, in one SQLite file (WAL mode).

``Store`` holds messages, tombstones, reactions, rooms, attachments, the community view and the
chain cursor, in parts that share one connection. Effects of a chain fact and the cursor move in
one transaction, and an accepted message is committed before anyone is told it was accepted.
"""

from node.store.db import StoreError
from node.store.feed import FeedItem
from node.store.store import Store

__all__ = ["FeedItem", "Store", "StoreError"]
