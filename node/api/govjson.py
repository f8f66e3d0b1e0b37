"""The contract's state as the web app shows it: members, join requests, proposals with their
tallies and what happens next, and the moderation log, each in the words the CLI uses
(``governance.present``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from governance.calls import PreparedCall
from governance.events import Event, MemberRemoved, PostHidden, PostUnhidden, ProposalCreated
from governance.present import describe_rules, describe_subject, state_note, tally
from governance.types import JoinRequest, MediaPolicy, MemberInfo, Proposal, Rules
from node.api.proposing import charter_hash
from node.store.feed import FeedItem


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


#: What the moderation log lists.
DECISIONS = (PostHidden, PostUnhidden, MemberRemoved)


def moderation_json(
    event: Event, proposals: dict[int, ProposalCreated], times: dict[int, int]
) -> dict[str, Any] | None:
    """A hide, an unhide or a member's removal: the post or member, who decided (a proposal's
    number, or a moderator), why (the moderator's reason, or the proposal's description), when.
    ``proposals`` by id, ``times`` by block."""
    if not isinstance(event, DECISIONS):
        return None
    created = proposals.get(int(event.proposal_id))
    number = None if created is None else int(created.number)
    if number is not None:
        decided = f"proposal {number}"
    elif isinstance(event, PostHidden):
        decided = f"moderator {event.moderator}"
    else:
        decided = "the community"
    if isinstance(event, MemberRemoved):
        action, post, member, reason = "remove", None, event.member, ""
    else:
        action = "hide" if isinstance(event, PostHidden) else "unhide"
        post, member = event.post_id.hex(), None
        reason = event.reason if isinstance(event, PostHidden) else ""
    return {
        "action": action,
        "post": post,
        "member": member,
        "decided_by": decided,
        "proposal": number,
        "reason": reason or (created.description if created else ""),
        "block": event.log.block_number,
        "at": times.get(event.log.block_number),
    }


def media_json(policy: MediaPolicy) -> dict[str, Any]:
    return {"max_attachments": policy.max_attachments, "max_attachment_kib": policy.max_attachment_kib}


def prepared_json(prepared: PreparedCall) -> dict[str, Any]:
    """An unsigned transaction as EIP-1193's ``eth_sendTransaction`` takes it (``transaction``),
    and the chain it must go to."""
    return {
        "transaction": {
            "from": prepared.sender,
            "to": prepared.to,
            "data": prepared.data,
            "gas": hex(prepared.gas),
            "value": "0x0",
        },
        "chain_id": prepared.chain_id,
        "function": prepared.function,
    }


def charter_json(current: bytes, cited: list[bytes], post: Callable[[bytes], FeedItem | None]) -> dict[str, Any]:
    """The charter as the page shows it: the chain's hash, and the newest cited post whose text
    hashes to it. A text that does not hash to it is never shown as the charter."""
    shown: dict[str, Any] = {"hash": "0x" + current.hex(), "set": current != bytes(32), "text": None}
    if not shown["set"]:
        return {**shown, "matches": None, "note": "the community has no charter yet"}
    held = [(post_id, item) for post_id in reversed(cited) if (item := post(post_id)) is not None]
    for post_id, item in held:
        if charter_hash(item.text) == current:
            return {
                **shown,
                "text": item.text,
                "post": "0x" + post_id.hex(),
                "author": item.author,
                "matches": True,
                "note": "this text's keccak-256 hash is the one the community voted for",
            }
    if held:
        note = f"post 0x{held[0][0].hex()[:12]}… is cited as the charter, but its text does not hash to the chain's"
        return {**shown, "matches": False, "note": note}
    if cited:
        note = f"the charter's text is post 0x{cited[-1].hex()[:12]}…, which this node does not hold (yet)"
    else:
        note = "the proposal that set this charter cites no post with its text"
    return {**shown, "matches": None, "note": note}
