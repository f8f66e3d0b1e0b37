"""What the rankings and the opinion map read from the store, as plain records.

They live apart from the models (``node.core.engagement``, ``bridging``, ``personal``,
``opinions``) because those import numpy, and the store and the API name these records from the
node's start: a node that nobody asks for a ranking never loads numpy (about 15 MB of memory,
``scripts/bench_memory.py``). The defaults the API offers for the models' knobs are here too.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Posts need this many distinct supporters (positive signals, the author aside) to be ranked.
MIN_SUPPORTERS = 3
#: The personal ranking's diversity floor: this share of every page comes from outside.
DIVERSITY = 0.2
#: Reactions that say "I disagree" (compared after ``str.strip`` and, for words, ``str.lower``).
NEGATIVE_REACTIONS = frozenset({"👎", "😠", "😡", "🙄", "-1", "disagree", "no"})


@dataclass(frozen=True)
class Post:
    """A visible post or reply (``parent`` set), as the rankings need it."""

    id: bytes
    author: str
    room: str
    timestamp_ms: int
    text: str
    parent: bytes | None = None


@dataclass(frozen=True)
class Reaction:
    """An active reaction of ``member`` on the post ``target``."""

    target: bytes
    member: str
    reaction: str


@dataclass(frozen=True)
class Engagement:
    """A snapshot of the community's posts, replies and reactions (what the store read)."""

    posts: tuple[Post, ...]
    reactions: tuple[Reaction, ...] = ()

    def top_level(self, room: str | None = None) -> list[Post]:
        """The posts that are not replies (of one room, unless ``room`` is None), by id."""
        found = [p for p in self.posts if p.parent is None and (room is None or p.room == room)]
        return sorted(found, key=lambda p: p.id)


@dataclass(frozen=True)
class Poll:
    """A poll with each member's answer (the index of the option they chose)."""

    id: bytes
    room: str
    question: str
    options: tuple[str, ...]
    answers: tuple[tuple[str, int], ...]


def is_negative(reaction: str) -> bool:
    """Whether a reaction says "I disagree"."""
    return reaction.strip().lower() in NEGATIVE_REACTIONS
