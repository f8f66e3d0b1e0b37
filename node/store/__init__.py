"""The node's own copy of the community, in one SQLite file (WAL mode).

``Store`` holds messages, tombstones, reactions, the community view and the chain cursor. Effects
of a chain event and the cursor move in one transaction, and an accepted message is committed
before anyone is told it was accepted.
"""

from node.store.store import FeedItem, Store, StoreError

__all__ = ["FeedItem", "Store", "StoreError"]
