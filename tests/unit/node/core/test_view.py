from __future__ import annotations

from node.core import limits
from node.core.facts import KeyRevoked, MemberGone, MemberJoined, PostHidden, PostUnhidden
from node.core.types import MessageId
from node.core.view import CommunityView, KeyRevokedEffect, MemberGoneEffect, PostHiddenEffect, PostUnhiddenEffect

from .helpers import T0, address, remove, revoke, signer, view_with


def test_membership_is_an_interval() -> None:
    view = view_with("alice")
    record = view.members[address("alice")]
    assert record.active
    assert record.member_at((T0 + 10) * 1000)
    remove(view, "alice", T0 + 100)
    assert not record.active
    assert record.member_at((T0 + 99) * 1000)
    assert record.member_at((T0 + 100) * 1000 + 500)  # within the removal block's second
    assert not record.member_at((T0 + 101) * 1000)


def test_a_member_may_return() -> None:
    view = view_with("alice")
    remove(view, "alice", T0 + 100)
    view.apply(MemberJoined(address("alice")), T0 + 2000)
    record = view.members[address("alice")]
    # an ending counts at the end of its block's second (block times are whole seconds)
    assert record.intervals == [((T0) * 1000, (T0 + 100) * 1000 + 999), ((T0 + 2000) * 1000, None)]
    assert record.member_at((T0 + 50) * 1000)
    assert not record.member_at((T0 + 150) * 1000)
    # a member's clock may run a little behind the block that admitted them
    assert record.member_at((T0 + 2000) * 1000 - limits.MAX_FUTURE_SKEW_MS)
    assert record.member_at((T0 + 2500) * 1000)


def test_leaving_and_removal_report_the_member() -> None:
    view = view_with("alice", "bob")
    assert view.apply(MemberGone(address("bob")), T0 + 5) == [MemberGoneEffect(address("bob"))]
    assert not view.is_member(address("bob"))
    assert view.is_member(address("alice"))


def test_revocation_keeps_the_time() -> None:
    view = view_with("alice")
    revoke(view, "alice", T0 + 50)
    key = view.keys[signer("alice").public_key]
    assert key.revoked_ms == (T0 + 50) * 1000 + 999
    # a second revocation event (a replayed log) does not move the time
    assert view.apply(_revoked("alice"), T0 + 90) == [KeyRevokedEffect(signer("alice").public_key)]
    assert key.revoked_ms == (T0 + 50) * 1000 + 999


def _revoked(name: str) -> KeyRevoked:
    return KeyRevoked(signer(name).public_key)


def test_hide_and_unhide_are_effects() -> None:
    view = CommunityView()
    post = b"\x09" * 32
    hidden = view.apply(PostHidden(post), T0)
    assert hidden == [PostHiddenEffect(MessageId(post))]
    assert post in view.hidden
    assert view.apply(PostUnhidden(post), T0 + 1) == [PostUnhiddenEffect(MessageId(post))]
    assert post not in view.hidden
    assert view.chain_time_ms == (T0 + 1) * 1000
