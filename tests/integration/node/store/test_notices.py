"""Notices and the digest, read from a real store: who is told about what, what leaves with an
erased message, reminders that come due, the read mark, and what the digest lists."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from node.core import facts
from node.core.encoding import decode
from node.core.facts import Fact, LogPosition
from node.core.notices import NoticeKind, newest_first
from node.core.types import (
    Body,
    DeleteBody,
    EraseBody,
    EventBody,
    Kind,
    Message,
    PollBody,
    PostBody,
    ReactionBody,
    RsvpBody,
)
from node.core.view import CommunityView
from node.store import Store
from node.store.chain import ChainBatch, ChainEntry, Cursor
from tests.unit.node.core.helpers import NOW_MS, T0, address, envelope


def who(name: str) -> str:
    """A person's address as the chain and the store write it (checksummed)."""
    return str(to_checksum_address(address(name)))


ALICE, BOB, CAROL = who("alice"), who("bob"), who("carol")
HOUR = 3600 * 1000


def message(name: str, kind: Kind, body: Body, ts: int = NOW_MS) -> Message:
    return decode(envelope(name, kind, body, ts))


def add(store: Store, name: str, kind: Kind, body: Body, ts: int = NOW_MS, received: int = NOW_MS) -> Message:
    m = message(name, kind, body, ts)
    assert store.messages.add(m, who(name), received)
    return m


class Chain:
    """Applies facts as the watcher would, one block each, with the block's time."""

    def __init__(self, store: Store) -> None:
        self.store, self.view, self.block = store, CommunityView(), 0

    def apply(self, fact: Fact, at_s: int) -> None:
        self.block += 1
        at = LogPosition(self.block, 0, bytes([self.block]) * 32)
        batch = ChainBatch([ChainEntry(at, at_s, fact)], Cursor(self.block, at.block_hash, at_s * 1000))
        self.store.chain.apply(self.view, batch)


def community(store: Store, *names: str) -> Chain:
    chain = Chain(store)
    for name in names:
        chain.apply(facts.MemberJoined(who(name)), T0)
    return chain


def kinds(store: Store, who: str, now: int = NOW_MS) -> list[tuple[NoticeKind, str | None]]:
    return [(n.kind, n.actor) for n in newest_first(store.notices.gather(who, now, 50), 50)]


def test_replies_mentions_and_reactions_reach_only_the_member_they_are_about(store: Store) -> None:
    community(store, "alice", "bob", "carol")
    mine = add(store, "alice", Kind.POST, PostBody("Who has a ladder?"))
    add(store, "alice", Kind.POST, PostBody("me again", mine.id), NOW_MS + 1, NOW_MS + 1)  # her own reply
    add(store, "bob", Kind.POST, PostBody("I do", mine.id), NOW_MS + 2, NOW_MS + 2)
    bob_id = bytes.fromhex(BOB[2:])
    alice_id = bytes.fromhex(ALICE[2:])
    add(
        store,
        "carol",
        Kind.POST,
        PostBody("@Alice and @Bob: party!", None, (), (alice_id, bob_id)),
        received=NOW_MS + 3,
    )
    add(store, "carol", Kind.REACTION, ReactionBody(mine.id, "👍"), NOW_MS + 4, NOW_MS + 4)
    # bob replies and mentions her in one post: told once, as a reply
    add(store, "bob", Kind.POST, PostBody("@Alice, tomorrow?", mine.id, (), (alice_id,)), NOW_MS + 5, NOW_MS + 5)
    assert kinds(store, ALICE) == [
        (NoticeKind.REPLY, BOB),
        (NoticeKind.REACTION, CAROL),
        (NoticeKind.MENTION, CAROL),
        (NoticeKind.REPLY, BOB),
    ]
    assert kinds(store, BOB) == [(NoticeKind.MENTION, CAROL)]
    assert kinds(store, CAROL) == []


def test_what_leaves_the_store_leaves_the_notices(store: Store) -> None:
    community(store, "alice", "bob", "carol")
    mine = add(store, "alice", Kind.POST, PostBody("Who has a ladder?"))
    reply = add(store, "bob", Kind.POST, PostBody("I do", mine.id), NOW_MS + 1)
    add(store, "carol", Kind.POST, PostBody("ask @Alice", None, (), (bytes.fromhex(ALICE[2:]),)), NOW_MS + 2)
    add(store, "carol", Kind.REACTION, ReactionBody(mine.id, "🎉"), NOW_MS + 3)
    assert len(kinds(store, ALICE)) == 3
    add(store, "bob", Kind.DELETE, DeleteBody(reply.id), NOW_MS + 4)
    add(store, "carol", Kind.REACTION, ReactionBody(mine.id, "🎉", active=False), NOW_MS + 5)
    assert kinds(store, ALICE) == [(NoticeKind.MENTION, CAROL)]
    add(store, "carol", Kind.ERASE, EraseBody(NOW_MS + 6), NOW_MS + 6)
    assert kinds(store, ALICE) == []
    rows = store._db.conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0]
    assert rows == 0  # whom the erased post named is gone from the file too


def test_proposals_reach_the_electorate_and_the_reminder_goes_once_they_vote(store: Store) -> None:
    chain = community(store, "alice", "bob")
    soon = (T0 + 3600) * 1000 + 20 * HOUR  # closes 20 h after NOW: the day before has begun
    dana = str(to_checksum_address("0x" + "d4" * 20))
    subject = bytes(12) + bytes.fromhex(dana[2:])
    chain.apply(facts.ProposalOpened(11, 1, "add-member", subject, dana, soon // 1000, "I bake bread"), T0 + 100)
    chain.apply(facts.ProposalOpened(12, 2, "hide-post", bytes(32), BOB, soon // 1000 + 4 * 86400, "spam"), T0 + 200)
    chain.apply(facts.MemberJoined(CAROL), T0 + 300)  # after both were created: not in their electorate
    assert set(kinds(store, ALICE)) == {
        (NoticeKind.CLOSING, None),
        (NoticeKind.PROPOSAL, BOB),
        (NoticeKind.JOIN_REQUEST, dana),
    }
    assert set(kinds(store, BOB)) == {(NoticeKind.CLOSING, None), (NoticeKind.JOIN_REQUEST, dana)}  # not his own
    assert kinds(store, CAROL) == []
    (closing,) = [n for n in store.notices.gather(ALICE, NOW_MS, 50) if n.kind is NoticeKind.CLOSING]
    assert (closing.proposal, closing.at_ms, closing.due_ms) == (1, (T0 + 100) * 1000, soon)  # due when made
    chain.apply(facts.VoteRecorded(11, ALICE), T0 + 400)
    assert NoticeKind.CLOSING not in [k for k, _ in kinds(store, ALICE)]
    assert kinds(store, ALICE, now=soon + 1)[0][0] is NoticeKind.PROPOSAL  # closed: no reminder for bob either
    assert NoticeKind.CLOSING not in [k for k, _ in kinds(store, BOB, now=soon + 1)]


def test_an_event_said_yes_to_is_recalled_the_day_before(store: Store) -> None:
    community(store, "alice", "bob")
    later = add(store, "bob", Kind.EVENT, EventBody("Repair café", NOW_MS + 2 * HOUR, NOW_MS + 4 * HOUR, "Hall"))
    far = add(store, "bob", Kind.EVENT, EventBody("Harvest", NOW_MS + 72 * HOUR, NOW_MS + 80 * HOUR, ""), NOW_MS + 1)
    maybe = add(store, "bob", Kind.EVENT, EventBody("Choir", NOW_MS + HOUR, NOW_MS + 2 * HOUR, ""), NOW_MS + 2)
    for event, answer in ((later, 1), (far, 1), (maybe, 2)):
        add(store, "alice", Kind.RSVP, RsvpBody(event.id, answer), NOW_MS + 10, NOW_MS + 10)
    notices = [n for n in store.notices.gather(ALICE, NOW_MS + 20, 50) if n.kind is NoticeKind.EVENT]
    assert [(n.text, n.due_ms, n.at_ms) for n in notices] == [("Repair café", NOW_MS + 2 * HOUR, NOW_MS + 10)]
    assert [n for n in store.notices.gather(ALICE, NOW_MS + 2 * HOUR, 50) if n.kind is NoticeKind.EVENT] == []
    soon = [n for n in store.notices.gather(ALICE, NOW_MS + 50 * HOUR, 50) if n.kind is NoticeKind.EVENT]
    assert [(n.text, n.at_ms) for n in soon] == [("Harvest", NOW_MS + 48 * HOUR)]  # due a day before it starts


def test_moderation_of_ones_own_post_and_the_read_mark(store: Store) -> None:
    chain = community(store, "alice", "bob")
    mine = add(store, "alice", Kind.POST, PostBody("Buy my bikes"))
    chain.apply(facts.PostHidden(mine.id), T0 + 4000)
    (hidden,) = store.notices.gather(ALICE, NOW_MS, 50)
    assert (hidden.kind, hidden.hidden, hidden.at_ms, hidden.text) == (
        NoticeKind.MODERATION,
        True,
        (T0 + 4000) * 1000,
        "Buy my bikes",
    )
    assert store.notices.gather(BOB, NOW_MS, 50) == []
    assert store.notices.read_until() == 0
    assert store.notices.mark_read((T0 + 4000) * 1000) == (T0 + 4000) * 1000
    assert store.notices.mark_read(5) == (T0 + 4000) * 1000  # never moves back
    chain.apply(facts.PostUnhidden(mine.id), T0 + 5000)
    (shown,) = store.notices.gather(ALICE, NOW_MS, 50)
    assert (shown.hidden, shown.at_ms > store.notices.read_until()) == (False, True)


def test_the_digest_lists_threads_reach_events_proposals_polls_and_who_joined(store: Store) -> None:
    chain = community(store, "alice", "bob")
    chain.apply(facts.MemberJoined(CAROL), T0 + 1800)
    old = add(store, "alice", Kind.POST, PostBody("Last month's news"), NOW_MS - 30 * 24 * HOUR)
    talk = add(store, "alice", Kind.POST, PostBody("Street party on Saturday?"), NOW_MS)
    quiet = add(store, "bob", Kind.POST, PostBody("Lost a glove"), NOW_MS + 1)
    for n, name in enumerate(["bob", "carol", "bob"]):
        add(store, name, Kind.POST, PostBody(f"answer {n}", talk.id), NOW_MS + 10 + n)
    add(store, "carol", Kind.POST, PostBody("late answer", old.id), NOW_MS + 20)
    add(store, "alice", Kind.REACTION, ReactionBody(quiet.id, "❤️"), NOW_MS + 30)
    add(store, "bob", Kind.EVENT, EventBody("Party", NOW_MS + 48 * HOUR, NOW_MS + 50 * HOUR, "Square"), NOW_MS + 40)
    poll = add(store, "bob", Kind.POLL, PollBody("Which day?", ("Sat", "Sun"), NOW_MS + 72 * HOUR), NOW_MS + 50)
    chain.apply(facts.ProposalOpened(9, 4, "set-charter", bytes(32), BOB, T0 + 3 * 86400, "new charter"), T0 + 3700)
    digest = store.digests.since(NOW_MS - 7 * 24 * HOUR, NOW_MS + HOUR)
    assert [(t.id, t.count, t.people) for t in digest.threads] == [(talk.id, 3, 2), (old.id, 1, 1)]
    assert [(r.id, r.count) for r in digest.reach] == [(talk.id, 2), (quiet.id, 1)]  # the old post is not new
    assert [e.body.title for e in digest.events] == ["Party"]
    assert [p.id for p in digest.polls] == [poll.id]
    assert [(p.number, p.description) for p in digest.proposals] == [(4, "new charter")]
    assert sorted(digest.joined) == sorted([(ALICE, T0 * 1000), (BOB, T0 * 1000), (CAROL, (T0 + 1800) * 1000)])
    assert (digest.posts, digest.writers) == (2 + 4, 3)
    recent = store.digests.since(NOW_MS, NOW_MS + HOUR)
    assert recent.joined == []
