"""Synthetic communities for the ranking and opinion-map tests: camps of members who like their
own camp's posts, with posts and poll answers planted where a test needs them."""

from __future__ import annotations

import random

from node.core.records import Engagement, Post, Reaction

TOPICS = {
    "garden": "tomatoes compost seedlings watering beds garden harvest soil",
    "bikes": "bike lanes cycling repair tyres saddle commute helmet",
    "music": "concert choir guitar rehearsal songs stage drums band",
}


def member(camp: str, i: int) -> str:
    """A member's address-like name, sorted by camp."""
    return f"0x{camp}{i:02d}"


def post_id(n: int) -> bytes:
    return n.to_bytes(32, "big")


def camps(
    sizes: dict[str, int], posts_each: int, *, seed: int = 7, start_ms: int = 1_000_000
) -> tuple[list[Post], list[Reaction]]:
    """Each camp (named after a topic) writes ``posts_each`` posts on its topic, and every member
    of the camp likes most of them (a fixed seed drops a few)."""
    rng = random.Random(seed)
    posts: list[Post] = []
    reactions: list[Reaction] = []
    n = 0
    for camp, size in sizes.items():
        words = TOPICS[camp].split()
        for k in range(posts_each):
            n += 1
            author = member(camp, k % size)
            text = " ".join(rng.choice(words) for _ in range(8))
            posts.append(Post(post_id(n), author, "", start_ms + n * 1000, text))
            reactions += [
                Reaction(post_id(n), member(camp, i), "👍")
                for i in range(size)
                if member(camp, i) != author and rng.random() < 0.9
            ]
    return posts, reactions


def engagement(posts: list[Post], reactions: list[Reaction]) -> Engagement:
    return Engagement(tuple(posts), tuple(reactions))
