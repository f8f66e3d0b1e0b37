"""The community's voted caps on attachments: which policy holds when, and what validation makes
of a post that exceeds it."""

from __future__ import annotations

from node.core import limits
from node.core.facts import MediaPolicyChanged
from node.core.types import Attachment, Kind, PostBody
from node.core.validation import Context, Via, validate
from node.core.verdict import Outcome, Reason
from node.core.view import AttachmentCaps

from .helpers import COMMUNITY, NOW_MS, T0, MemoryKnown, envelope, view_with


def _policy(count: int, kib: int) -> MediaPolicyChanged:
    return MediaPolicyChanged(count, kib * 1024)


def _post(count: int, size: int, ts: int = NOW_MS) -> bytes:
    attachments = tuple(Attachment(bytes([i]) * 32, size, "image/png") for i in range(count))
    return envelope("alice", Kind.POST, PostBody("pictures", None, attachments), ts)


def test_the_protocol_ceiling_holds_until_the_community_votes() -> None:
    view = view_with("alice")
    assert view.attachment_caps_at(NOW_MS) == AttachmentCaps(limits.MAX_ATTACHMENTS, limits.MAX_ATTACHMENT_BYTES)


def test_a_policy_holds_from_its_block_on_and_never_above_the_protocol() -> None:
    view = view_with("alice")
    view.apply(_policy(1, 256), T0 + 100)
    view.apply(_policy(200, 999_999), T0 + 200)  # a contract bug must not lift the ceiling
    assert view.attachment_caps_at((T0 + 99) * 1000) == AttachmentCaps()
    assert view.attachment_caps_at((T0 + 100) * 1000) == AttachmentCaps(1, 256 * 1024)
    assert view.attachment_caps_at((T0 + 200) * 1000) == AttachmentCaps(
        limits.MAX_ATTACHMENTS, limits.MAX_ATTACHMENT_BYTES
    )


def test_posts_are_judged_by_the_policy_when_they_were_signed() -> None:
    view = view_with("alice")
    view.apply(_policy(1, 256), NOW_MS // 1000 - 60)
    ctx = Context(COMMUNITY, NOW_MS, Via.SYNC)
    too_many = validate(_post(2, 100), ctx, view, MemoryKnown())
    assert (too_many.outcome, too_many.reason) == (Outcome.REJECT, Reason.BAD_CONTENT)
    assert too_many.detail == "the community allows at most 1 attachments per post"
    too_big = validate(_post(1, 256 * 1024 + 1), ctx, view, MemoryKnown())
    assert too_big.detail == "the community allows attachments of at most 256 KiB"
    assert validate(_post(1, 256 * 1024), ctx, view, MemoryKnown()).outcome is Outcome.ACCEPT
    before = validate(_post(2, 100, ts=NOW_MS - 120_000), ctx, view, MemoryKnown())
    assert before.outcome is Outcome.ACCEPT  # signed before the vote: the old caps hold
