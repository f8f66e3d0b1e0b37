"""What the chain decided, as the core needs it: who joined or went, which keys sign for whom,
who moderates, which posts are hidden, which caps on attachments and which guest policy were
voted, and which proposals are open.

The contract's own event records belong to ``governance``; the chain adapter
(``node.chain.facts``) translates them into these, so the core judges messages without knowing
how the chain encodes anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class LogPosition:
    """Where the chain recorded a fact. (block hash, log index) names a log uniquely, which is
    what makes applying the chain idempotent; ordering by (block, index) is chain order."""

    block_number: int
    log_index: int
    block_hash: bytes


@dataclass(frozen=True)
class MemberJoined:
    member: str


@dataclass(frozen=True)
class MemberGone:
    """Removed by a vote or left on their own: the core treats both the same."""

    member: str


@dataclass(frozen=True)
class KeyAuthorised:
    owner: str
    key: bytes


@dataclass(frozen=True)
class KeyRevoked:
    key: bytes


@dataclass(frozen=True)
class PostHidden:
    post_id: bytes


@dataclass(frozen=True)
class PostUnhidden:
    post_id: bytes


@dataclass(frozen=True)
class MediaPolicyChanged:
    """The community voted new caps on attachments (in bytes, as voted; the view still holds
    them to the protocol's ceiling)."""

    max_attachments: int
    max_attachment_bytes: int


@dataclass(frozen=True)
class ModeratorGranted:
    account: str


@dataclass(frozen=True)
class ModeratorRevoked:
    account: str


@dataclass(frozen=True)
class GuestPolicyChanged:
    """The community voted who may invite guests (``inviters``: "members" or "moderators") and
    the longest guest pass (seconds; the view still holds it to the protocol's ceiling)."""

    inviters: str
    max_pass_s: int


@dataclass(frozen=True)
class ProposalOpened:
    """A proposal was created: what members are asked, and until when (chain time, seconds).
    Members notice it (``node.core.notices``); the view itself does not change."""

    proposal_id: int
    number: int
    kind: str
    subject: bytes
    proposer: str
    vote_end_s: int
    description: str


@dataclass(frozen=True)
class VoteRecorded:
    proposal_id: int
    voter: str


@dataclass(frozen=True)
class ProposalExecuted:
    proposal_id: int


Fact = (
    MemberJoined
    | MemberGone
    | KeyAuthorised
    | KeyRevoked
    | PostHidden
    | PostUnhidden
    | MediaPolicyChanged
    | ModeratorGranted
    | ModeratorRevoked
    | GuestPolicyChanged
    | ProposalOpened
    | VoteRecorded
    | ProposalExecuted
)
#: Facts about the community's decisions in progress, which no message's validity depends on.
PROPOSAL_FACTS = (ProposalOpened, VoteRecorded, ProposalExecuted)
