"""How the API shows a stored post: one shape for every route that lists posts (the feed,
threads, the ranked feeds), so a client reads them all the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from node.core.guests import is_guest
from node.store import FeedItem

#: The most items one page of a feed holds.
MAX_PAGE = 200


def item_json(item: FeedItem, mine: Sequence[str] = ()) -> dict[str, Any]:
    """A post as the API shows it; ``mine``: the reactions this node's member holds on it."""
    return {
        "id": item.id.hex(),
        "author": item.author,
        "author_key": item.author_key.hex(),
        #: written by a guest (``author`` is then ``guest:<key hex>``, not an address)
        "guest": is_guest(item.author),
        "timestamp_ms": item.timestamp_ms,
        "room": item.room,
        "text": item.text,
        "parent": item.parent.hex() if item.parent else None,
        "replies": item.replies,
        "reactions": item.reactions,
        "mine": list(mine),
        "mentions": [{"member": m} for m in item.mentions],
        "attachments": [
            {"sha256": h.hex(), "size": size, "mime": mime, "held": held} for h, size, mime, held in item.attachments
        ],
    }
