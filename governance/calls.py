"""The contract calls a member makes, as data: which function, with which arguments, checked.

One description serves both ways of signing: ``CommunityClient`` signs and sends a call with a
local key, and ``CommunityClient.prepare`` turns the same call into the unsigned transaction a
browser wallet (EIP-1193) signs. Arguments are checked here, in words, before any gas is spent
or any wallet is asked; the contract checks them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.errors import InvalidArgument
from governance.rpc import bytes32, checksum
from governance.types import MediaPolicy, ProposalId, ProposalKind, Rules, Support


@dataclass(frozen=True)
class ContractCall:
    """One call of the Community contract: the function's name and its ABI-ready arguments."""

    function: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class PreparedCall:
    """An unsigned transaction for a browser wallet (EIP-1193 ``eth_sendTransaction``): it was
    simulated from ``sender`` first, so a refusal was already said in words."""

    sender: str
    to: str
    data: str  # 0x-prefixed calldata
    chain_id: int
    gas: int
    function: str


#: The proposing function of each kind that names an account or a post.
_TARGETED = {
    ProposalKind.ADD_MEMBER: "proposeAddMember",
    ProposalKind.REMOVE_MEMBER: "proposeRemoveMember",
    ProposalKind.GRANT_MODERATOR: "proposeGrantModerator",
    ProposalKind.REVOKE_MODERATOR: "proposeRevokeModerator",
    ProposalKind.HIDE_POST: "proposeHidePost",
    ProposalKind.UNHIDE_POST: "proposeUnhidePost",
}


def propose_about(kind: ProposalKind, target: str | bytes, description: str = "") -> ContractCall:
    """A proposal about one account (add, remove, grant or revoke moderator) or one post (hide,
    unhide): ``target`` is the account's address or the post's 32-byte id."""
    function = _TARGETED.get(kind)
    if function is None:
        raise InvalidArgument(f"a {kind.label} proposal does not name an account or a post")
    if kind.names_post:
        if not isinstance(target, bytes):
            raise InvalidArgument(f"a {kind.label} proposal names a post by its 32-byte id")
        return ContractCall(function, (bytes32(target, "post id"), description))
    if not isinstance(target, str):
        raise InvalidArgument(f"a {kind.label} proposal names an account by its address")
    return ContractCall(function, (checksum(target), description))


def change_rules(rules: Rules, description: str = "") -> ContractCall:
    problems = rules.problems()
    if problems:
        raise InvalidArgument("; ".join(problems))
    return ContractCall("proposeChangeRules", (rules.quorum_pct, rules.threshold_pct, rules.voting_period, description))


def set_media_policy(policy: MediaPolicy, description: str = "") -> ContractCall:
    """New caps on attachments; out-of-range values are refused (the contract says
    ``InvalidMediaPolicy``)."""
    problems = policy.problems()
    if problems:
        raise InvalidArgument("; ".join(problems))
    return ContractCall("proposeSetMediaPolicy", (policy.max_attachments, policy.max_attachment_kib, description))


def set_charter(charter_hash: bytes, description: str = "") -> ContractCall:
    return ContractCall("proposeSetCharter", (bytes32(charter_hash, "charter hash"), description))


def cast_vote(proposal_id: ProposalId, support: Support, reason: str = "") -> ContractCall:
    if reason:
        return ContractCall("castVoteWithReason", (proposal_id, int(support), reason))
    return ContractCall("castVote", (proposal_id, int(support)))


def execute(proposal_id: ProposalId, subject: bytes) -> ContractCall:
    """Executes a proposal that succeeded; ``subject`` comes from its creation event."""
    return ContractCall("execute", (proposal_id, bytes32(subject, "subject")))
