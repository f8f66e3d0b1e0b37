"""How concurrent messages about the same thing are resolved, identically on every node.

- A delete beats its post forever: the tombstone stays, and the post is never stored again.
- Reactions are last-write-wins per (member, target, reaction): the later timestamp wins, and
  on equal timestamps the larger message id (compared as bytes), so every node picks the same.
"""

from __future__ import annotations


def reaction_supersedes(new: tuple[int, bytes], old: tuple[int, bytes]) -> bool:
    """Whether a reaction (timestamp_ms, message id) replaces the current one."""
    return new > old
