"""The contract's state as the web app shows it: members, join requests, proposals with their
tallies and what happens next, and the moderation log, each in the words the CLI uses
(``governance.present``)."""

from __future__ import annotations

from typing import Any

from governance.events import Event, PostHidden, PostUnhidden, ProposalCreated
from governance.present import describe_rules, describe_subject, state_note, tally
from governance.types import JoinRequest, MemberInfo, Proposal, Rules


def member_json(member: MemberInfo) -> dict[str, Any]:
    return {"address": member.address, "moderator": member.moderator, "joined_at": member.joined_at}


def request_json(request: JoinRequest) -> dict[str, Any]:
    return {"applicant": request.applicant, "intro_hash": "0x" + request.intro_hash.hex(), "at": request.requested_at}


def rules_json(rules: Rules) -> dict[str, Any]:
    return {
        "quorum_pct": rules.quorum_pct,
        "threshold_pct": rules.threshold_pct,
        "voting_period_s": rules.voting_period,
        "words": describe_rules(rules),
    }


def proposal_json(proposal: Proposal, now: int, voted: bool | None) -> dict[str, Any]:
    """One proposal; ``voted``: whether this node's member voted (None when not a voter)."""
    return {
        "number": proposal.number,
        "id": str(proposal.id),  # a uint256: too large for a JavaScript number
        "kind": proposal.kind.label,
        "subject": describe_subject(proposal.kind, proposal.subject),
        "subject_hex": "0x" + proposal.subject.hex(),
        "proposer": proposal.proposer,
        "description": proposal.description,
        "state": proposal.state.label,
        "vote_end": proposal.vote_end,
        "for": proposal.for_votes,
        "against": proposal.against_votes,
        "abstain": proposal.abstain_votes,
        "eligible": proposal.eligible_voters,
        "quorum": proposal.quorum_votes,
        "tally": tally(proposal),
        "note": state_note(proposal, now),
        "voted": voted,
    }


def moderation_json(
    event: Event, proposals: dict[int, ProposalCreated], times: dict[int, int]
) -> dict[str, Any] | None:
    """A hide or unhide: the post, who decided (a proposal's number, or a moderator), why (the
    moderator's reason, or the proposal's description), when. ``proposals`` by id, ``times`` by block."""
    if not isinstance(event, PostHidden | PostUnhidden):
        return None
    created = proposals.get(int(event.proposal_id))
    number = None if created is None else int(created.number)
    hidden = isinstance(event, PostHidden)
    if number is not None:
        decided = f"proposal {number}"
    elif isinstance(event, PostHidden):
        decided = f"moderator {event.moderator}"
    else:
        decided = "the community"
    return {
        "action": "hide" if hidden else "unhide",
        "post": event.post_id.hex(),
        "decided_by": decided,
        "proposal": number,
        "reason": (event.reason if isinstance(event, PostHidden) else "") or (created.description if created else ""),
        "block": event.log.block_number,
        "at": times.get(event.log.block_number),
    }
