"""Guests: what a pass lets its guest write, where and until when, and who may issue and end one."""

from __future__ import annotations

import pytest

from node.core import guests, limits, peers
from node.core.facts import GuestPolicyChanged, ModeratorGranted, ModeratorRevoked
from node.core.guests import GuestPass, GuestPolicy
from node.core.ratelimit import RateLimiter
from node.core.rooms import Room
from node.core.types import (
    AppKey,
    Body,
    DeleteBody,
    EraseBody,
    GuestEndBody,
    GuestPassBody,
    Kind,
    MessageId,
    PeerBody,
    PostBody,
    ReactionBody,
    RoomBody,
    Visibility,
)
from node.core.validation import Context, Via, validate
from node.core.verdict import Outcome, Reason, Verdict
from node.core.view import CommunityView

from .helpers import COMMUNITY, NOW_MS, T0, MemoryKnown, address, signer, view_with

GOSSIP = Context(COMMUNITY, NOW_MS, Via.GOSSIP)
SYNC = Context(COMMUNITY, NOW_MS, Via.SYNC)
ROOM = "ab" * 32
OTHER = "cd" * 32
DAY_MS = 86_400_000
GUEST = AppKey(signer("gwen").public_key)
PASS_ID = MessageId(b"\x07" * 32)


def _room(room_id: str = ROOM, visibility: Visibility = Visibility.OPEN) -> Room:
    return Room(room_id, address("alice"), RoomBody("experts", "", visibility), (NOW_MS - DAY_MS, b"\x01"))


def _known(*passes: GuestPass) -> MemoryKnown:
    return MemoryKnown(rooms={ROOM: _room(), OTHER: _room(OTHER)}, passes={p.id: p for p in passes})


def _pass(issued: int = NOW_MS - 60_000, until: int = NOW_MS + DAY_MS, ended: int | None = None) -> GuestPass:
    return GuestPass(PASS_ID, GUEST, ROOM, address("alice"), issued, until, "soil chemist", ended)


def _by(name: str, kind: Kind, body: Body, room: str = ROOM, ts: int = NOW_MS) -> bytes:
    return signer(name).envelope(COMMUNITY, kind, body, ts, room=room)


def _check(data: bytes, known: MemoryKnown, view: CommunityView | None = None, ctx: Context = SYNC) -> Verdict:
    return validate(data, ctx, view or view_with("alice", "bob"), known)


def _refused(verdict: Verdict, outcome: Outcome, reason: Reason) -> None:
    assert (verdict.outcome, verdict.reason) == (outcome, reason), str(verdict)


def test_a_guest_posts_replies_and_reacts_in_its_room() -> None:
    known = _known(_pass())
    target = MessageId(b"\x05" * 32)
    known.messages[target] = address("alice")
    assert _check(_by("gwen", Kind.POST, PostBody("the pH is too low")), known).accepted
    assert _check(_by("gwen", Kind.POST, PostBody("see above", target)), known).accepted
    assert _check(_by("gwen", Kind.REACTION, ReactionBody(target, "👍")), known).accepted


def test_a_guests_author_is_labelled_and_never_an_address() -> None:
    assert guests.guest_author(GUEST) == "guest:" + GUEST.hex()
    assert guests.is_guest(guests.guest_author(GUEST))
    assert not guests.is_guest(address("alice"))


def test_a_guest_is_refused_outside_its_room_with_a_reason() -> None:
    verdict = _check(_by("gwen", Kind.POST, PostBody("hi"), room=OTHER), _known(_pass()))
    _refused(verdict, Outcome.REJECT, Reason.GUEST_WRONG_ROOM)
    assert "only in the room it is invited to" in verdict.detail
    _refused(
        _check(_by("gwen", Kind.POST, PostBody("hi"), room=""), _known(_pass())),
        Outcome.REJECT,
        Reason.GUEST_WRONG_ROOM,
    )


def test_a_guest_is_refused_after_the_expiry() -> None:
    known = _known(_pass(until=NOW_MS - 1))
    verdict = _check(_by("gwen", Kind.POST, PostBody("late")), known)
    _refused(verdict, Outcome.REJECT, Reason.GUEST_PASS_EXPIRED)


def test_a_guest_is_refused_before_the_pass_began() -> None:
    known = _known(_pass(issued=NOW_MS + limits.MAX_FUTURE_SKEW_MS + 1))
    _refused(_check(_by("gwen", Kind.POST, PostBody("early")), known), Outcome.REJECT, Reason.GUEST_PASS_EXPIRED)


def test_a_guest_is_refused_from_the_end_on_but_not_before() -> None:
    known = _known(_pass(ended=NOW_MS))
    _refused(_check(_by("gwen", Kind.POST, PostBody("after")), known), Outcome.IGNORE, Reason.GUEST_PASS_ENDED)
    assert _check(_by("gwen", Kind.POST, PostBody("before"), ts=NOW_MS - 1), known).accepted


def test_a_guest_writes_nothing_but_posts_reactions_deletes_and_erases() -> None:
    cases: list[tuple[Kind, Body]] = [
        (Kind.ROOM, RoomBody("mine", "", Visibility.OPEN)),
        (Kind.GUEST_PASS, GuestPassBody(AppKey(b"\x09" * 32), NOW_MS + 1000)),
    ]
    for kind, body in cases:
        _refused(_check(_by("gwen", kind, body), _known(_pass())), Outcome.REJECT, Reason.GUEST_NOT_ALLOWED)


def test_a_guest_deletes_and_erases_its_own_writing_even_after_the_pass() -> None:
    known = _known(_pass(until=NOW_MS - 1000))
    own, theirs = MessageId(b"\x01" * 32), MessageId(b"\x02" * 32)
    known.messages.update({own: guests.guest_author(GUEST), theirs: address("bob")})
    assert _check(_by("gwen", Kind.DELETE, DeleteBody(own)), known).accepted
    assert _check(_by("gwen", Kind.ERASE, EraseBody(NOW_MS)), known).accepted
    _refused(_check(_by("gwen", Kind.DELETE, DeleteBody(theirs)), known), Outcome.REJECT, Reason.NOT_AUTHOR)


def test_a_key_without_a_pass_is_asked_for_again_in_a_room_and_refused_elsewhere() -> None:
    _refused(_check(_by("gwen", Kind.POST, PostBody("hi")), _known()), Outcome.IGNORE, Reason.GUEST_PASS_UNKNOWN)
    _refused(_check(_by("gwen", Kind.POST, PostBody("hi"), room=""), _known()), Outcome.REJECT, Reason.UNKNOWN_KEY)


def test_rate_limits_apply_to_guests() -> None:
    known, limiter = _known(_pass()), RateLimiter()
    view = view_with("alice")
    verdicts = [
        validate(_by("gwen", Kind.POST, PostBody(f"p{i}")), GOSSIP, view, known, limiter)
        for i in range(limits.RATE_BURST + 1)
    ]
    assert all(v.accepted for v in verdicts[:-1])
    _refused(verdicts[-1], Outcome.IGNORE, Reason.RATE_LIMITED)


def test_a_hidden_guest_post_is_refused_like_a_members() -> None:
    data = _by("gwen", Kind.POST, PostBody("spam"))
    view = view_with("alice")
    first = _check(data, _known(_pass()), view)
    assert first.message is not None
    view.hidden.add(first.message.id)
    _refused(_check(data, _known(_pass()), view), Outcome.IGNORE, Reason.HIDDEN)


# ---------------------------------------------------------------------- issuing and ending passes


def _invite(name: str = "alice", days: float = 3, room: str = ROOM, ts: int = NOW_MS) -> bytes:
    return _by(name, Kind.GUEST_PASS, GuestPassBody(GUEST, ts + int(days * DAY_MS), "soil chemist"), room, ts)


def test_any_member_invites_for_up_to_seven_days_by_default() -> None:
    assert GuestPolicy() == GuestPolicy("members", 7 * 24 * 3600)
    assert _check(_invite("bob", days=7), _known()).accepted
    verdict = _check(_invite("bob", days=7.01), _known())
    _refused(verdict, Outcome.REJECT, Reason.GUEST_PASS_TOO_LONG)
    assert "within 7 days" in verdict.detail
    _refused(_check(_invite(days=0), _known()), Outcome.REJECT, Reason.GUEST_PASS_TOO_LONG)


def _moderated_view(max_days: int = 2) -> CommunityView:
    view = view_with("alice", "bob")
    view.apply(ModeratorGranted(address("alice")), T0 + 10)
    view.apply(GuestPolicyChanged("moderators", max_days * 24 * 3600), T0 + 20)
    return view


def test_a_voted_policy_may_let_only_moderators_invite_and_shorten_passes() -> None:
    view = _moderated_view()
    assert _check(_invite("alice", days=2), _known(), view).accepted
    _refused(_check(_invite("alice", days=3), _known(), view), Outcome.REJECT, Reason.GUEST_PASS_TOO_LONG)
    verdict = _check(_invite("bob", days=1), _known(), view)
    _refused(verdict, Outcome.REJECT, Reason.GUEST_INVITER_NOT_ALLOWED)
    assert "only moderators" in verdict.detail


def test_a_pass_is_judged_by_the_policy_at_its_own_time() -> None:
    view = _moderated_view()
    assert view.guest_policy_at((T0 + 19) * 1000) == GuestPolicy()
    assert _check(_invite("bob", days=5, ts=(T0 + 15) * 1000), _known(), view).accepted


def test_a_revoked_moderator_no_longer_invites() -> None:
    view = _moderated_view()
    view.apply(ModeratorRevoked(address("alice")), T0 + 30)
    _refused(_check(_invite("alice", days=1), _known(), view), Outcome.REJECT, Reason.GUEST_INVITER_NOT_ALLOWED)


def test_a_policy_the_view_cannot_judge_yet_is_ignored() -> None:
    view = _moderated_view()
    later = NOW_MS + 60_000
    ctx = Context(COMMUNITY, later, Via.SYNC)
    verdict = validate(_invite("bob", days=1, ts=later), ctx, view, _known())
    _refused(verdict, Outcome.IGNORE, Reason.CHAIN_VIEW_BEHIND)


def test_the_protocol_ceiling_caps_any_voted_pass_length() -> None:
    assert GuestPolicy("members", 10**9).max_pass_ms == limits.MAX_GUEST_PASS_S * 1000
    with pytest.raises(ValueError, match="members or moderators"):
        GuestPolicy("everyone")


def test_passes_go_to_open_rooms_only() -> None:
    known = _known()
    known.rooms[OTHER] = _room(OTHER, Visibility.PRIVATE)
    _refused(_check(_invite(room=OTHER), known), Outcome.REJECT, Reason.BAD_CONTENT)
    _refused(_check(_invite(room=""), known), Outcome.REJECT, Reason.BAD_CONTENT)


def _end(name: str, room: str = ROOM) -> bytes:
    return _by(name, Kind.GUEST_END, GuestEndBody(PASS_ID), room)


def test_the_inviter_or_a_moderator_ends_a_pass_and_nobody_else() -> None:
    known = _known(_pass())
    assert _check(_end("alice"), known).accepted
    view = view_with("alice", "bob", "carol")
    view.apply(ModeratorGranted(address("carol")), T0 + 10)
    assert _check(_end("carol"), known, view).accepted
    _refused(_check(_end("bob"), known, view), Outcome.REJECT, Reason.NOT_AUTHOR)
    _refused(_check(_end("alice", room=OTHER), known), Outcome.REJECT, Reason.BAD_CONTENT)


def test_the_end_of_a_pass_not_yet_here_is_asked_for_again() -> None:
    _refused(_check(_end("alice"), _known()), Outcome.IGNORE, Reason.GUEST_PASS_UNKNOWN)


def _record(ts: int = NOW_MS) -> bytes:
    """The guest node's peer record (community-wide), bound to the guest's key."""
    expires = ts + DAY_MS
    peer_id, binding = peers.sign_binding(b"\x03" * 32, COMMUNITY, GUEST, expires)
    loopback = bytes.fromhex("047f000001060fa1")  # /ip4/127.0.0.1/tcp/4001
    return _by("gwen", Kind.PEER, PeerBody(peer_id, (loopback,), expires, binding), room="", ts=ts)


def test_a_guests_node_is_listed_while_a_pass_runs_and_a_strangers_never() -> None:
    verdict = _check(_record(), _known(_pass()))
    assert verdict.accepted
    assert verdict.message is not None
    assert verdict.message.kind is Kind.PEER
    _refused(_check(_record(), _known(_pass(until=NOW_MS - 1000))), Outcome.REJECT, Reason.GUEST_PASS_EXPIRED)
    _refused(_check(_record(), _known(_pass(ended=NOW_MS - 1000))), Outcome.IGNORE, Reason.GUEST_PASS_ENDED)
    # no pass here: perhaps on its way (sync may bring a record before its pass), never accepted
    _refused(_check(_record(), _known()), Outcome.IGNORE, Reason.GUEST_PASS_UNKNOWN)
