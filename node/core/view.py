"""The community as the chain describes it: who is a member when, which keys sign for whom,
who moderates when, which posts are hidden, the media and guest policies in force. Built only
from what the chain decided (``node.core.facts``), in chain order.

Membership and keys are kept as time intervals, not as flags, because a message is judged by the
moment it claims to have been written: a post signed while its author was a member stays valid
after they leave (history is not rewritten), and a post signed after removal or key revocation is
refused. ``apply`` returns the effects a fact has on stored content, which the node enforces
(a newly hidden post leaves the feed at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from node.core import facts, limits
from node.core.guests import GuestPolicy
from node.core.types import AppKey, MessageId

_T = TypeVar("_T")


@dataclass
class MemberRecord:
    address: str
    #: [start, end) in ms; end None while the membership lasts.
    intervals: list[tuple[int, int | None]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.intervals) and self.intervals[-1][1] is None

    def member_at(self, ms: int) -> bool:
        # A member's clock may run a little behind the block that admitted them.
        return any(
            start - limits.MAX_FUTURE_SKEW_MS <= ms and (end is None or ms < end) for start, end in self.intervals
        )


@dataclass
class KeyRecord:
    key: AppKey
    owner: str
    added_ms: int
    revoked_ms: int | None = None


@dataclass(frozen=True)
class PostHiddenEffect:
    post_id: MessageId


@dataclass(frozen=True)
class PostUnhiddenEffect:
    post_id: MessageId


@dataclass(frozen=True)
class MemberGoneEffect:
    """A member was removed or left; their messages signed later are refused from now on."""

    member: str


@dataclass(frozen=True)
class KeyRevokedEffect:
    key: AppKey


Effect = PostHiddenEffect | PostUnhiddenEffect | MemberGoneEffect | KeyRevokedEffect


@dataclass(frozen=True)
class AttachmentCaps:
    """What this node enforces on attachments: the community's voted media policy, in bytes,
    never above the protocol's own ceiling."""

    max_attachments: int = limits.MAX_ATTACHMENTS
    max_attachment_bytes: int = limits.MAX_ATTACHMENT_BYTES

    def problem(self, attachments: int, largest: int) -> str | None:
        """Why a post with ``attachments`` attachments, the largest ``largest`` bytes, breaks
        this policy (None: it does not)."""
        if attachments > self.max_attachments:
            return f"the community allows at most {self.max_attachments} attachments per post"
        if largest > self.max_attachment_bytes:
            return f"the community allows attachments of at most {self.max_attachment_bytes // 1024} KiB"
        return None


@dataclass
class CommunityView:
    members: dict[str, MemberRecord] = field(default_factory=dict)
    keys: dict[bytes, KeyRecord] = field(default_factory=dict)
    hidden: set[bytes] = field(default_factory=set)
    #: (from ms, caps) in chain order: which caps on attachments held when.
    media: list[tuple[int, AttachmentCaps]] = field(default_factory=list)
    #: Moderators: [start, end) in ms per account, like membership.
    moderators: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    #: (from ms, policy) in chain order: who could invite guests, and for how long, when.
    guest_policies: list[tuple[int, GuestPolicy]] = field(default_factory=list)
    #: Every chain event up to this moment (ms) has been applied: how far this view can judge.
    #: The chain watcher moves it (``advance``) as it confirms blocks.
    chain_time_ms: int = 0

    def apply(self, fact: facts.Fact, block_time_s: int) -> list[Effect]:
        """Applies one fact (in chain order) and returns its effects on content."""
        at = block_time_s * 1000
        # Block times have whole seconds, messages milliseconds: an ending (removal, leaving,
        # revocation) is taken to happen at the end of its block's second, so a message signed
        # within that second, before the transaction, is not refused by a rounding.
        ends_at = at + 999
        self.chain_time_ms = max(self.chain_time_ms, at)
        if isinstance(fact, facts.MemberJoined):
            joined = self.members.setdefault(fact.member, MemberRecord(fact.member))
            if not joined.active:
                joined.intervals.append((at, None))
            return []
        if isinstance(fact, facts.MemberGone):
            gone = self.members.get(fact.member)
            if gone is not None and gone.active:
                start, _ = gone.intervals[-1]
                gone.intervals[-1] = (start, ends_at)
            return [MemberGoneEffect(fact.member)]
        if isinstance(fact, facts.KeyAuthorised):
            self.keys.setdefault(fact.key, KeyRecord(AppKey(fact.key), fact.owner, at))
            return []
        if isinstance(fact, facts.KeyRevoked):
            key = self.keys.get(fact.key)
            if key is not None and key.revoked_ms is None:
                key.revoked_ms = ends_at
            return [KeyRevokedEffect(AppKey(fact.key))]
        if isinstance(fact, facts.PostHidden):
            self.hidden.add(fact.post_id)
            return [PostHiddenEffect(MessageId(fact.post_id))]
        if isinstance(fact, facts.PostUnhidden):
            self.hidden.discard(fact.post_id)
            return [PostUnhiddenEffect(MessageId(fact.post_id))]
        if isinstance(fact, facts.PROPOSAL_FACTS):
            return []  # kept by the store for notices; no message's validity depends on them
        if isinstance(fact, facts.ModeratorGranted | facts.ModeratorRevoked | facts.GuestPolicyChanged):
            self._apply_guest_rules(fact, at, ends_at)
            return []
        # MediaPolicyChanged: at most the protocol's ceiling, whatever the contract allowed
        caps = AttachmentCaps(
            min(fact.max_attachments, limits.MAX_ATTACHMENTS),
            min(fact.max_attachment_bytes, limits.MAX_ATTACHMENT_BYTES),
        )
        self.media.append((at, caps))
        return []

    def _apply_guest_rules(
        self, fact: facts.ModeratorGranted | facts.ModeratorRevoked | facts.GuestPolicyChanged, at: int, ends_at: int
    ) -> None:
        """Who moderates when, and the guest policy: what guest passes are judged by."""
        if isinstance(fact, facts.GuestPolicyChanged):
            self.guest_policies.append((at, GuestPolicy(fact.inviters, fact.max_pass_s)))
            return
        spans = self.moderators.setdefault(fact.account, [])
        open_now = bool(spans) and spans[-1][1] is None
        if isinstance(fact, facts.ModeratorGranted) and not open_now:
            spans.append((at, None))
        elif isinstance(fact, facts.ModeratorRevoked) and open_now:
            spans[-1] = (spans[-1][0], ends_at)

    def guest_policy_at(self, ms: int) -> GuestPolicy:
        """The guest policy in force at ``ms`` (the default until the community votes one)."""
        return _in_force(self.guest_policies, ms, GuestPolicy())

    def moderator_at(self, address: str, ms: int) -> bool:
        """Whether ``address`` was a moderator (and a member) at ``ms``."""
        spans = self.moderators.get(address, [])
        member = self.members.get(address)
        held = any(start <= ms and (end is None or ms < end) for start, end in spans)
        return held and member is not None and member.member_at(ms)

    def attachment_caps_at(self, ms: int) -> AttachmentCaps:
        """The caps on attachments in force at ``ms`` (a post is judged by when it was signed)."""
        return _in_force(self.media, ms, AttachmentCaps())

    def advance(self, complete_until_ms: int) -> None:
        """The view now holds every chain event up to ``complete_until_ms``."""
        self.chain_time_ms = max(self.chain_time_ms, complete_until_ms)

    def owner_of(self, key: bytes) -> str | None:
        record = self.keys.get(key)
        return record.owner if record else None

    def is_member(self, address: str) -> bool:
        record = self.members.get(address)
        return record is not None and record.active


def _in_force(history: list[tuple[int, _T]], ms: int, default: _T) -> _T:
    """The last of ``history`` (from ms, value; in chain order) that began by ``ms``."""
    current = default
    for start, value in history:
        if start > ms:
            break
        current = value
    return current
