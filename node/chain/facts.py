"""The chain adapter's translation: the contract's event records in, the core's facts out.

``governance`` describes the contract as it is (every event, every field, KiB, proposal ids); the
core needs only a few of its decisions, in its own terms. Events the core has no use for (join
requests, invitations, rules …) translate to None; the watcher still records their logs as applied.
A proposal arrives as one record, IGovernor's ProposalCreated joined with kiez's ProposalNumbered
by the decoder; either log alone translates to None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from governance import events as ev
from node.core import facts
from node.core.facts import Fact, LogPosition

_TRANSLATIONS: dict[type[ev.Event], Callable[[Any], Fact]] = {
    ev.MemberAdded: lambda e: facts.MemberJoined(e.member),
    ev.MemberRemoved: lambda e: facts.MemberGone(e.member),
    ev.MemberLeft: lambda e: facts.MemberGone(e.member),
    ev.KeyAdded: lambda e: facts.KeyAuthorised(e.owner, e.key),
    ev.KeyRevoked: lambda e: facts.KeyRevoked(e.key),
    ev.PostHidden: lambda e: facts.PostHidden(e.post_id),
    ev.PostUnhidden: lambda e: facts.PostUnhidden(e.post_id),
    ev.MediaPolicyChanged: lambda e: facts.MediaPolicyChanged(e.new_max_attachments, e.new_max_attachment_kib * 1024),
    ev.ModeratorGranted: lambda e: facts.ModeratorGranted(e.account),
    ev.ModeratorRevoked: lambda e: facts.ModeratorRevoked(e.account),
    ev.GuestPolicyChanged: lambda e: facts.GuestPolicyChanged(_inviters(e.inviters), e.max_pass_seconds),
    ev.ProposalCreated: lambda e: facts.ProposalOpened(
        e.proposal_id, e.number, e.kind.label, e.subject, e.proposer, e.vote_end, e.description
    ),
    ev.VoteCast: lambda e: facts.VoteRecorded(e.proposal_id, e.voter),
    ev.ProposalExecuted: lambda e: facts.ProposalExecuted(e.proposal_id),
}


def _inviters(code: int) -> str:
    """The contract's ``uint8 inviters``: 0 any member, 1 moderators only; a value this node does
    not know is read as the stricter one."""
    return "members" if code == 0 else "moderators"


def fact_of(event: ev.Event) -> Fact | None:
    """What ``event`` decided, as the core needs it (None: nothing the core needs)."""
    translate = _TRANSLATIONS.get(type(event))
    return None if translate is None else translate(event)


def position_of(event: ev.Event) -> LogPosition:
    """Where the chain recorded ``event``."""
    return LogPosition(event.log.block_number, event.log.log_index, event.log.block_hash)
