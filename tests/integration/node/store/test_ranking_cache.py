"""The rankings' cache in a real store: a new reaction invalidates what reads reactions and keeps
what reads only the posts (their vectors); a new post or a delete invalidates both."""

from __future__ import annotations

from node.core.types import DeleteBody, Kind, PostBody, ReactionBody
from node.store import Store
from tests.integration.node.store.test_notices import BOB, add
from tests.unit.node.core.helpers import NOW_MS


def counted(store: Store) -> dict[str, int]:
    """How often each cached computation ran while reading the engagement and the vectors."""
    runs = {"posts": 0, "all": 0}

    def posts() -> int:
        runs["posts"] += 1
        return len(store.rankings.engagement().posts)

    def everything() -> int:
        runs["all"] += 1
        return len(store.rankings.engagement().reactions)

    store.rankings.cached(("test-posts",), posts, posts_only=True)
    store.rankings.cached(("test-all",), everything)
    return runs


def test_a_reaction_keeps_what_reads_only_posts_and_a_post_does_not(store: Store) -> None:
    first = add(store, "alice", Kind.POST, PostBody("seed swap on saturday"))
    assert counted(store) == {"posts": 1, "all": 1}
    assert counted(store) == {"posts": 0, "all": 0}  # nothing changed: both from the cache
    add(store, "bob", Kind.REACTION, ReactionBody(first.id, "👍"), NOW_MS + 1)
    assert counted(store) == {"posts": 0, "all": 1}
    assert store.rankings.engagement().reactions[0].member == BOB
    reply = add(store, "bob", Kind.POST, PostBody("count me in", parent=first.id), NOW_MS + 2)
    assert counted(store) == {"posts": 1, "all": 1}
    assert reply.id in {p.id for p in store.rankings.engagement().posts}


def test_a_deleted_post_leaves_the_cached_posts(store: Store) -> None:
    post = add(store, "alice", Kind.POST, PostBody("a typo"))
    assert [p.id for p in store.rankings.engagement().posts] == [post.id]
    add(store, "alice", Kind.DELETE, DeleteBody(post.id), NOW_MS + 1)
    assert store.rankings.engagement().posts == ()
    assert store.rankings.engagement().posts == ()  # and stays out
