"""Every refusal reason of ``validate``, and what it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.core import limits
from node.core.ratelimit import RateLimiter
from node.core.rooms import Room
from node.core.types import (
    AnswerBody,
    Body,
    Community,
    DeleteBody,
    Kind,
    MessageId,
    PollBody,
    PostBody,
    ReactionBody,
    RoomBody,
    SealedBody,
    Visibility,
)
from node.core.validation import Context, Via, validate
from node.core.verdict import Outcome, Reason, Verdict
from node.core.view import CommunityView

from .helpers import COMMUNITY, NOW_MS, T0, MemoryKnown, address, envelope, remove, revoke, signer, view_with

GOSSIP = Context(COMMUNITY, NOW_MS, Via.GOSSIP)
SYNC = Context(COMMUNITY, NOW_MS, Via.SYNC)


def check(
    data: bytes,
    view: CommunityView | None = None,
    known: MemoryKnown | None = None,
    ctx: Context = GOSSIP,
    limiter: RateLimiter | None = None,
) -> Verdict:
    return validate(data, ctx, view if view is not None else view_with("alice", "bob"), known or MemoryKnown(), limiter)


def post(name: str = "alice", text: str = "hello", ts: int = NOW_MS, parent: MessageId | None = None) -> bytes:
    return envelope(name, Kind.POST, PostBody(text, parent), ts)


def assert_refused(verdict: Verdict, outcome: Outcome, reason: Reason) -> None:
    assert (verdict.outcome, verdict.reason) == (outcome, reason), str(verdict)


def test_a_members_post_is_accepted() -> None:
    verdict = check(post())
    assert verdict.accepted, str(verdict)
    assert verdict.message is not None
    assert verdict.message.body == PostBody("hello")


def test_replies_reactions_and_own_deletes_are_accepted() -> None:
    target = MessageId(b"\x05" * 32)
    known = MemoryKnown(messages={target: address("alice")})
    assert check(post(parent=target), known=known).accepted
    assert check(envelope("bob", Kind.REACTION, ReactionBody(target, "🎉")), known=known).accepted
    assert check(envelope("alice", Kind.DELETE, DeleteBody(target)), known=known).accepted


def test_garbage_is_rejected() -> None:
    assert_refused(check(b"\x00garbage"), Outcome.REJECT, Reason.MALFORMED)
    assert_refused(check(b"\x92" + b"\x00" * (limits.MAX_MESSAGE_BYTES + 5)), Outcome.REJECT, Reason.OVERSIZED)


def test_truncated_messages_are_rejected() -> None:
    data = post()
    for cut in (1, len(data) // 2, len(data) - 1):
        assert_refused(check(data[:cut]), Outcome.REJECT, Reason.MALFORMED)


def test_bad_signature_is_rejected() -> None:
    data = bytearray(post())
    data[-1] ^= 0x01  # last byte of the signature
    assert_refused(check(bytes(data)), Outcome.REJECT, Reason.BAD_SIGNATURE)


def test_another_communitys_message_is_rejected() -> None:
    other = Community(31337, b"\x11" * 20)
    data = envelope("alice", Kind.POST, PostBody("hi"), community=other)
    assert_refused(check(data), Outcome.REJECT, Reason.WRONG_COMMUNITY)
    other_chain = Community(1, COMMUNITY.contract)
    data = envelope("alice", Kind.POST, PostBody("hi"), community=other_chain)
    assert_refused(check(data), Outcome.REJECT, Reason.WRONG_COMMUNITY)


def test_replays_are_ignored_not_rejected() -> None:
    data = post()
    first = check(data)
    assert first.message is not None
    known = MemoryKnown(messages={first.message.id: address("alice")})
    assert_refused(check(data, known=known), Outcome.IGNORE, Reason.DUPLICATE)


def test_a_non_members_post_is_rejected_when_the_view_is_current() -> None:
    old = post("mallory", ts=(T0 + 60) * 1000)  # well inside what the view has seen
    assert_refused(check(old, ctx=SYNC), Outcome.REJECT, Reason.UNKNOWN_KEY)


def test_a_fresh_non_members_post_is_rejected() -> None:
    assert_refused(check(post("mallory")), Outcome.REJECT, Reason.UNKNOWN_KEY)


def test_an_unknown_key_is_ignored_while_the_view_is_behind() -> None:
    view = view_with("alice")
    view.chain_time_ms = NOW_MS - 5000  # our watcher has not seen the last seconds of the chain
    assert_refused(check(post("newcomer"), view=view), Outcome.IGNORE, Reason.CHAIN_VIEW_BEHIND)
    view.advance(NOW_MS)
    assert_refused(check(post("newcomer"), view=view), Outcome.REJECT, Reason.UNKNOWN_KEY)


def test_a_removed_member_is_refused_even_while_the_view_lags() -> None:
    view = view_with("alice", "bob")
    remove(view, "bob", T0 + 1800)
    view.chain_time_ms = NOW_MS - 5000  # even if a re-admission could sit in a block we lack
    assert_refused(check(post("bob"), view=view), Outcome.REJECT, Reason.NOT_A_MEMBER)


def test_a_removed_members_later_posts_are_rejected_and_earlier_ones_kept() -> None:
    view = view_with("alice", "bob")
    remove(view, "bob", T0 + 1800)
    assert_refused(check(post("bob"), view=view), Outcome.REJECT, Reason.NOT_A_MEMBER)
    before = post("bob", ts=(T0 + 1000) * 1000)
    assert check(before, view=view, ctx=SYNC).accepted


def test_revoked_keys_sign_nothing_new() -> None:
    view = view_with("alice")
    revoke(view, "alice", T0 + 1800)
    assert_refused(check(post(), view=view), Outcome.REJECT, Reason.REVOKED_KEY)
    assert check(post(ts=(T0 + 1000) * 1000), view=view, ctx=SYNC).accepted


def test_messages_from_before_the_key_existed_are_rejected() -> None:
    early = post(ts=(T0 - 3600) * 1000)
    assert_refused(check(early, ctx=SYNC), Outcome.REJECT, Reason.KEY_NOT_YET_VALID)


def test_timestamp_window() -> None:
    future = post(ts=NOW_MS + limits.MAX_FUTURE_SKEW_MS + 1000)
    assert_refused(check(future), Outcome.IGNORE, Reason.TOO_NEW)
    assert_refused(check(future, ctx=SYNC), Outcome.IGNORE, Reason.TOO_NEW)
    stale = post(ts=NOW_MS - limits.MAX_GOSSIP_AGE_MS - 1000)
    assert_refused(check(stale), Outcome.IGNORE, Reason.TOO_OLD)
    assert check(stale, ctx=SYNC).accepted
    assert check(post(ts=NOW_MS + limits.MAX_FUTURE_SKEW_MS - 1000)).accepted


def test_hidden_posts_are_not_taken_in() -> None:
    data = post()
    verdict = check(data)
    assert verdict.message is not None
    view = view_with("alice", "bob")
    view.hidden.add(verdict.message.id)
    assert_refused(check(data, view=view), Outcome.IGNORE, Reason.HIDDEN)


def test_a_delete_beats_its_post_forever() -> None:
    data = post()
    verdict = check(data)
    assert verdict.message is not None
    known = MemoryKnown(tombstones={verdict.message.id: address("alice")})
    assert_refused(check(data, known=known, ctx=SYNC), Outcome.IGNORE, Reason.DELETED)
    # a tombstone written by someone else does not erase alice's post
    forged = MemoryKnown(tombstones={verdict.message.id: address("bob")})
    assert check(data, known=forged).accepted


def test_only_the_author_deletes() -> None:
    target = MessageId(b"\x05" * 32)
    known = MemoryKnown(messages={target: address("alice")})
    verdict = check(envelope("bob", Kind.DELETE, DeleteBody(target)), known=known)
    assert_refused(verdict, Outcome.REJECT, Reason.NOT_AUTHOR)


def test_rate_limit_per_member() -> None:
    limiter = RateLimiter(burst=3, per_second=1.0)
    verdicts = [check(post(text=f"n{i}"), limiter=limiter) for i in range(4)]
    assert [v.accepted for v in verdicts] == [True, True, True, False]
    assert_refused(verdicts[3], Outcome.IGNORE, Reason.RATE_LIMITED)
    assert check(post("bob"), limiter=limiter).accepted  # bob has his own bucket
    later = Context(COMMUNITY, NOW_MS + 1000, Via.GOSSIP)
    assert check(post(text="after a second"), ctx=later, limiter=limiter).accepted
    assert all(check(post(text=f"s{i}"), ctx=SYNC, limiter=limiter).accepted for i in range(5))


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_is_covered_by_a_test_here(reason: Reason) -> None:
    here = Path(__file__)
    source = "".join(
        here.with_name(n).read_text(encoding="utf-8") for n in (here.name, "test_encoding.py", "test_guests.py")
    )
    assert f"Reason.{reason.name}" in source, f"no test refuses a message for {reason.value}"


ROOM_ID = "cd" * 32


def _room(visibility: Visibility = Visibility.OPEN, creator_only: bool = False, slow: int = 0) -> Room:
    body = RoomBody("garden", "", visibility, creator_only, slow)
    return Room(ROOM_ID, address("alice"), body, (NOW_MS - 60_000, b"\x01"))


def in_room(name: str, kind: Kind, body: Body, ts: int = NOW_MS) -> bytes:
    return signer(name).envelope(COMMUNITY, kind, body, ts, room=ROOM_ID)


SEALED = SealedBody(MessageId(b"\x09" * 32), b"\x00" * 12, b"\x00" * 40)


def test_room_rules() -> None:
    open_room = MemoryKnown(rooms={ROOM_ID: _room()})
    assert check(in_room("bob", Kind.POST, PostBody("hi garden")), known=open_room).accepted
    rename = RoomBody("not yours", "", Visibility.OPEN)
    assert_refused(check(in_room("bob", Kind.ROOM, rename), known=open_room), Outcome.REJECT, Reason.NOT_AUTHOR)
    assert check(in_room("alice", Kind.ROOM, rename), known=open_room).accepted
    assert_refused(check(in_room("bob", Kind.SEALED, SEALED), known=open_room), Outcome.REJECT, Reason.BAD_CONTENT)

    announcements = MemoryKnown(rooms={ROOM_ID: _room(creator_only=True)})
    refused = check(in_room("bob", Kind.POST, PostBody("me too")), known=announcements)
    assert_refused(refused, Outcome.REJECT, Reason.ROOM_RULES)
    assert check(
        in_room("bob", Kind.REACTION, ReactionBody(MessageId(b"\x01" * 32), "👍")), known=announcements
    ).accepted


def test_private_rooms_carry_only_sealed_messages() -> None:
    private = MemoryKnown(rooms={ROOM_ID: _room(Visibility.PRIVATE)})
    assert_refused(
        check(in_room("bob", Kind.POST, PostBody("oops, plain")), known=private), Outcome.REJECT, Reason.BAD_CONTENT
    )
    assert check(in_room("bob", Kind.SEALED, SEALED), known=private).accepted
    # and the general room carries no sealed messages at all
    general = envelope("bob", Kind.SEALED, SEALED)
    assert_refused(check(general), Outcome.REJECT, Reason.BAD_CONTENT)
    # a room whose creation has not arrived yet cannot be judged by its rules
    assert check(in_room("bob", Kind.POST, PostBody("early")), known=MemoryKnown()).accepted


def test_slow_mode() -> None:
    known = MemoryKnown(rooms={ROOM_ID: _room(slow=60)}, last_posts={(address("bob"), ROOM_ID): NOW_MS - 30_000})
    assert_refused(
        check(in_room("bob", Kind.POST, PostBody("again")), known=known), Outcome.IGNORE, Reason.RATE_LIMITED
    )
    known.last_posts[(address("bob"), ROOM_ID)] = NOW_MS - 61_000
    assert check(in_room("bob", Kind.POST, PostBody("a minute later")), known=known).accepted


def test_polls() -> None:
    poll_id = MessageId(b"\x07" * 32)
    known = MemoryKnown(polls={poll_id: PollBody("lunch?", ("yes", "no"), NOW_MS + 1000)})
    assert check(envelope("bob", Kind.ANSWER, AnswerBody(poll_id, 1)), known=known).accepted
    assert_refused(
        check(envelope("bob", Kind.ANSWER, AnswerBody(poll_id, 2)), known=known), Outcome.REJECT, Reason.BAD_CONTENT
    )
    late = envelope("bob", Kind.ANSWER, AnswerBody(poll_id, 0), NOW_MS + 2000)
    assert_refused(check(late, known=known), Outcome.IGNORE, Reason.TOO_OLD)
    past = envelope("bob", Kind.POLL, PollBody("yesterday?", ("a", "b"), NOW_MS - 1))
    assert_refused(check(past), Outcome.REJECT, Reason.BAD_CONTENT)


def test_peer_records_expire_quietly_and_a_bad_binding_blames() -> None:
    """(Every case of kind PEER is in test_peers.py; these two name the reasons here.)"""
    from .test_peers import record

    later = Context(COMMUNITY, NOW_MS + 1000, Via.SYNC)
    assert_refused(check(envelope("alice", Kind.PEER, record(ttl=1000)), ctx=later), Outcome.IGNORE, Reason.EXPIRED)
    assert_refused(check(envelope("bob", Kind.PEER, record(bound_to="alice"))), Outcome.REJECT, Reason.BAD_BINDING)


def test_a_former_members_or_revoked_keys_peer_record_is_not_taken_back() -> None:
    """The chain fact purged it; a copy signed before it, brought by sync, stays out (quietly: the
    peer passing it on may not have applied the fact yet)."""
    from .test_peers import record

    earlier = (T0 + 1000) * 1000
    removed = view_with("alice", "bob")
    remove(removed, "bob", T0 + 1800)
    old_record = envelope("bob", Kind.PEER, record("bob", ts=earlier, ttl=86_400_000), earlier)
    assert_refused(check(old_record, view=removed, ctx=SYNC), Outcome.IGNORE, Reason.NOT_A_MEMBER)
    revoked = view_with("alice", "bob")
    revoke(revoked, "bob", T0 + 1800)
    assert_refused(check(old_record, view=revoked, ctx=SYNC), Outcome.IGNORE, Reason.REVOKED_KEY)
    assert check(old_record, view=view_with("alice", "bob"), ctx=SYNC).accepted
