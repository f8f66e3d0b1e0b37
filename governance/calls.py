"""The contract calls a member makes, as data: which function, with which arguments, checked.

One description serves both ways of signing: ``CommunityClient`` signs and sends a call with a
local key, and ``CommunityClient.prepare`` turns the same call into the unsigned transaction a
browser wallet (EIP-1193) signs. Arguments are checked here, in words, before any gas is spent
or any wallet is asked; the contract checks them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from governance import decisions
from governance.errors import InvalidArgument
from governance.rpc import bytes32, checksum
from governance.types import GuestPolicy, MediaPolicy, ProposalId, ProposalKind, Rules, Support


@dataclass(frozen=True)
class ContractCall:
    """One call of the Community contract: the function's name and its ABI-ready arguments."""

    function: str
    args: tuple[Any, ...]

    def bound(self, community: str) -> tuple[Any, ...]:
        """The arguments with ``SELF`` in a targets list replaced by ``community``."""
        return tuple(
            [community if t == SELF else t for t in a] if isinstance(a, list) and SELF in a else a for a in self.args
        )


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


#: Stands for the community's own address in a proposal's targets; the client that sends or
#: prepares the call puts the address in (see ``ContractCall.bound``).
SELF = "self"


def proposal(kind: ProposalKind, subject: bytes, description: str = "") -> ContractCall:
    """IGovernor ``propose([this], [0], [call], description)`` of one decision."""
    return ContractCall("propose", ([SELF], [0], [decisions.calldata(kind, subject)], description))


def propose_about(kind: ProposalKind, target: str | bytes, description: str = "") -> ContractCall:
    """A proposal about one account (add, remove, grant or revoke moderator) or one post (hide,
    unhide): ``target`` is the account's address or the post's 32-byte id."""
    if not (kind.names_account or kind.names_post):
        raise InvalidArgument(f"a {kind.label} proposal does not name an account or a post")
    if kind.names_post:
        if not isinstance(target, bytes):
            raise InvalidArgument(f"a {kind.label} proposal names a post by its 32-byte id")
        return proposal(kind, bytes32(target, "post id"), description)
    if not isinstance(target, str):
        raise InvalidArgument(f"a {kind.label} proposal names an account by its address")
    return proposal(kind, bytes(12) + bytes.fromhex(checksum(target)[2:]), description)


def _checked(problems: list[str]) -> None:
    if problems:
        raise InvalidArgument("; ".join(problems))


def change_rules(rules: Rules, description: str = "") -> ContractCall:
    _checked(rules.problems())
    return proposal(ProposalKind.CHANGE_RULES, rules.pack(), description)


def set_media_policy(policy: MediaPolicy, description: str = "") -> ContractCall:
    """New caps on attachments; out-of-range values are refused (the contract says
    ``InvalidMediaPolicy``)."""
    _checked(policy.problems())
    return proposal(ProposalKind.SET_MEDIA_POLICY, policy.pack(), description)


def set_guest_policy(policy: GuestPolicy, description: str = "") -> ContractCall:
    """Who may invite guests and how long a pass may last (the contract says
    ``InvalidGuestPolicy`` for values out of range)."""
    _checked(policy.problems())
    return proposal(ProposalKind.SET_GUEST_POLICY, policy.pack(), description)


def set_charter(charter_hash: bytes, description: str = "") -> ContractCall:
    return proposal(ProposalKind.SET_CHARTER, bytes32(charter_hash, "charter hash"), description)


def cast_vote(proposal_id: ProposalId, support: Support, reason: str = "") -> ContractCall:
    if reason:
        return ContractCall("castVoteWithReason", (proposal_id, int(support), reason))
    return ContractCall("castVote", (proposal_id, int(support)))


def execute(data: bytes, description: str) -> ContractCall:
    """IGovernor ``execute`` of a proposal that succeeded: its call and description come from
    its creation event."""
    return ContractCall("execute", ([SELF], [0], [bytes(data)], keccak(text=description)))
