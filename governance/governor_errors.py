"""The custom errors the contract has from OpenZeppelin (IGovernor's, its libraries') and the
ones of its IGovernor surface, as typed errors worded for people.

They live beside ``governance.errors`` (kiez's own) so that module stays readable; the revert
decoder knows both, and the tests check that every error in the ABI has its class here or there.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from governance.errors import ContractRevert
from governance.humanize import short_hex
from governance.types import Address, ProposalState


def _id(proposal_id: int) -> str:
    return short_hex(proposal_id.to_bytes(32, "big"))


@dataclass(eq=False)
class GovernorNonexistentProposal(ContractRevert):
    proposal_id: int

    def describe(self) -> str:
        return f"{self._community} has no proposal with id {_id(self.proposal_id)}"


@dataclass(eq=False)
class GovernorUnexpectedProposalState(ContractRevert):
    proposal_id: int
    current: ProposalState
    expected_states: bytes

    def describe(self) -> str:
        return (
            f"a proposal with id {_id(self.proposal_id)} (the same call and description) already exists "
            f"({self.current.label}); say it with another description"
        )


@dataclass(eq=False)
class GovernorOnlyExecutor(ContractRevert):
    account: Address

    def describe(self) -> str:
        return (
            f"{self._who(self.account)} cannot call a decision function directly: decisions are made by "
            "proposing them and executing the proposal once it passed"
        )


@dataclass(eq=False)
class GovernorInvalidProposalLength(ContractRevert):
    targets: int
    calldatas: int
    values: int

    def describe(self) -> str:
        return (
            f"a proposal's targets, values and calldatas must be as many; got {self.targets}, "
            f"{self.values} and {self.calldatas}"
        )


@dataclass(eq=False)
class OneCallPerProposal(ContractRevert):
    calls: int

    def describe(self) -> str:
        return f"a kiez proposal is exactly one call of the community contract, not {self.calls}"


@dataclass(eq=False)
class UnsupportedCall(ContractRevert):
    target: Address
    value: int
    selector: bytes

    def describe(self) -> str:
        return (
            f"a kiez proposal is one call, with value 0, of one of the community's decision functions "
            f"(addMember, removeMember, hidePost, unhidePost, changeRules, setCharter, grantModerator, "
            f"revokeModerator, setMediaPolicy, setGuestPolicy) with exactly its arguments; not a call of "
            f"0x{self.selector.hex()} on {self.target} with value {self.value}"
        )


@dataclass(eq=False)
class InvalidGuestPolicy(ContractRevert):
    inviters: int
    max_pass_seconds: int

    def describe(self) -> str:
        return (
            f"a guest policy has inviters 0 (any member) or 1 (moderators only) and passes of at most "
            f"90 days; not inviters {self.inviters} with passes of {self.max_pass_seconds} s"
        )


@dataclass(eq=False)
class NotSupported(ContractRevert):
    def describe(self) -> str:
        return "kiez proposals are never queued or canceled: a passed proposal is executed directly"


@dataclass(eq=False)
class FutureLookup(ContractRevert):
    timepoint: int
    clock: int

    def describe(self) -> str:
        return f"time {self.timepoint} is in the future (the chain's clock is at {self.clock})"


@dataclass(eq=False)
class GovernorDisabledDeposit(ContractRevert):
    def describe(self) -> str:
        return "execute takes no ether: kiez decisions move none"


@dataclass(eq=False)
class GovernorInvalidVoteParams(ContractRevert):
    def describe(self) -> str:
        return "kiez counts no vote params: send them empty"


@dataclass(eq=False)
class GovernorAlreadyCastVote(ContractRevert):
    voter: Address

    def describe(self) -> str:
        return f"{self._who(self.voter)} already voted"


@dataclass(eq=False)
class GovernorAlreadyQueuedProposal(ContractRevert):
    proposal_id: int

    def describe(self) -> str:
        return f"proposal {_id(self.proposal_id)} is already queued"


@dataclass(eq=False)
class GovernorInsufficientProposerVotes(ContractRevert):
    proposer: Address
    votes: int
    threshold: int

    def describe(self) -> str:
        return f"{self._who(self.proposer)} has {self.votes} votes; proposing needs {self.threshold}"


@dataclass(eq=False)
class GovernorInvalidSignature(ContractRevert):
    voter: Address

    def describe(self) -> str:
        return f"the signature is not {self.voter}'s"


@dataclass(eq=False)
class GovernorInvalidVoteType(ContractRevert):
    def describe(self) -> str:
        return "the vote type is not 0 (against), 1 (for) or 2 (abstain)"


@dataclass(eq=False)
class GovernorInvalidVotingPeriod(ContractRevert):
    voting_period: int

    def describe(self) -> str:
        return f"voting period {self.voting_period} is not allowed"


@dataclass(eq=False)
class GovernorProposalQueueingFailed(ContractRevert):
    proposal_id: int

    def describe(self) -> str:
        return f"queuing proposal {_id(self.proposal_id)} failed"


@dataclass(eq=False)
class GovernorProposalQueueingNotRequired(ContractRevert):
    proposal_id: int

    def describe(self) -> str:
        return f"proposal {_id(self.proposal_id)} needs no queuing"


@dataclass(eq=False)
class GovernorRestrictedProposer(ContractRevert):
    proposer: Address

    def describe(self) -> str:
        return f"{self._who(self.proposer)} may not propose this"


@dataclass(eq=False)
class GovernorUnableToCancel(ContractRevert):
    proposal_id: int
    account: Address

    def describe(self) -> str:
        return f"proposal {_id(self.proposal_id)} cannot be canceled"


@dataclass(eq=False)
class CheckpointUnorderedInsertion(ContractRevert):
    def describe(self) -> str:
        return "membership history out of order; this is a bug in kiez"


@dataclass(eq=False)
class InvalidShortString(ContractRevert):
    def describe(self) -> str:
        return "the community name is not a valid short string"


@dataclass(eq=False)
class StringTooLong(ContractRevert):
    str: str

    def describe(self) -> builtins.str:
        return "the community name is too long"
