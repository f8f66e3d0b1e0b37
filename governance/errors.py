"""One error tree for everything governance can refuse.

Every error here is *expected during normal operation* (a dead endpoint, a wrong password, a vote
that came too late) and its ``str`` is a sentence a member can act on. Contract reverts arrive as
the class named after the contract's custom error, with its arguments as typed fields, never as a
hex selector: ``governance.reverts.RevertDecoder`` does that translation from the ABI.

The classes mirror the contract's ``error`` declarations one to one; a test checks that every
custom error in the ABI has its class here with the same argument names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from governance.humanize import format_time, short_hex
from governance.types import MAX_ATTACHMENT_KIB, MAX_ATTACHMENTS, Address, ProposalState


class GovernanceError(Exception):
    """Base of every governance error; the message is meant for people."""


class ChainUnavailable(GovernanceError):
    """The JSON-RPC endpoint cannot be reached or does not answer in time. Retrying can help."""


class BadReply(ChainUnavailable):
    """The endpoint answered with something unusable: not JSON, too deep, wrong types, or facts
    that contradict each other. Nothing of it is used; retrying can help once it is fixed."""


class ReplyTooLarge(BadReply):
    """A reply was longer than the client reads (``governance.rpc.MAX_REPLY_BYTES``)."""


class NotACommunity(GovernanceError):
    """The address holds no kiez Community contract on this chain."""


class AccountError(GovernanceError):
    """An account cannot be loaded: missing keystore, wrong password, dev key on a real chain."""


class BallotError(GovernanceError):
    """A signed ballot file is malformed or does not fit the community it is relayed to."""


class InvalidArgument(GovernanceError):
    """A value given by the user is refused before any transaction is sent."""


class NoSuchProposal(GovernanceError):
    """A proposal number that the community has not reached."""


class TransactionFailed(GovernanceError):
    """A transaction failed without one of the contract's custom errors (out of gas, a panic,
    a revert string from a node, or a revert we cannot decode)."""


@dataclass(frozen=True)
class RevertContext:
    """What the client knew when the revert happened; used to phrase the message."""

    community: str = ""
    sender: str = ""
    chain_time: int | None = None


@dataclass(eq=False)
class ContractRevert(GovernanceError):
    """A custom error raised by the Community contract. Subclasses carry its arguments."""

    context: RevertContext = field(default_factory=RevertContext, kw_only=True)
    error_name: ClassVar[str] = ""

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    # helpers for subclasses -------------------------------------------------------------
    @property
    def _community(self) -> str:
        return f"community {self.context.community}" if self.context.community else "this community"

    def _who(self, account: str) -> str:
        if self.context.sender and account.lower() == self.context.sender.lower():
            return f"you ({account})"
        return account

    def _is_are(self, account: str) -> str:
        return "are" if self._who(account).startswith("you") else "is"


@dataclass(eq=False)
class NoFounders(ContractRevert):
    def describe(self) -> str:
        return "a community needs at least one founding member"


@dataclass(eq=False)
class ZeroAddress(ContractRevert):
    def describe(self) -> str:
        return "the zero address cannot be a member"


@dataclass(eq=False)
class DuplicateFounder(ContractRevert):
    account: Address

    def describe(self) -> str:
        return f"{self.account} is listed twice as a founding member"


@dataclass(eq=False)
class NotAMember(ContractRevert):
    account: Address

    def describe(self) -> str:
        return f"{self._who(self.account)} {self._is_are(self.account)} not a member of {self._community}"


@dataclass(eq=False)
class AlreadyMember(ContractRevert):
    account: Address

    def describe(self) -> str:
        return f"{self._who(self.account)} {self._is_are(self.account)} already a member of {self._community}"


@dataclass(eq=False)
class MemberLimitReached(ContractRevert):
    limit: int

    def describe(self) -> str:
        return f"{self._community} has admitted its maximum of {self.limit} members"


@dataclass(eq=False)
class NoJoinRequest(ContractRevert):
    account: Address

    def describe(self) -> str:
        return (
            f"{self._who(self.account)} has no pending request to join {self._community} "
            "(the applicant files one first: kiez gov join-request)"
        )


@dataclass(eq=False)
class ProposalLimitReached(ContractRevert):
    limit: int

    def describe(self) -> str:
        return f"{self._community} has reached its maximum of {self.limit} proposals"


@dataclass(eq=False)
class NotEligible(ContractRevert):
    number: int
    voter: Address
    joined_at: int
    proposal_created_at: int

    def describe(self) -> str:
        joined = (
            f"joined at {format_time(self.joined_at)}, after"
            if self.joined_at != self.proposal_created_at
            else "joined after"
        )
        return (
            f"{self._who(self.voter)} {joined} proposal {self.number} was created "
            f"({format_time(self.proposal_created_at)}); only those who were members then vote on it"
        )


@dataclass(eq=False)
class AlreadyVoted(ContractRevert):
    number: int
    voter: Address

    def describe(self) -> str:
        return f"{self._who(self.voter)} already voted on proposal {self.number}"


@dataclass(eq=False)
class VotingClosed(ContractRevert):
    number: int
    state: ProposalState
    deadline: int

    def describe(self) -> str:
        now = self.context.chain_time
        if now is not None and now <= self.deadline:
            return (
                f"voting on proposal {self.number} is closed: it was already decided "
                f"({self.state.label}) before its deadline {format_time(self.deadline)}"
            )
        return f"voting on proposal {self.number} closed at {format_time(self.deadline)} ({self.state.label})"


@dataclass(eq=False)
class NotExecutable(ContractRevert):
    number: int
    state: ProposalState

    def describe(self) -> str:
        why = {
            ProposalState.ACTIVE: "voting is still open and the outcome is not decided yet",
            ProposalState.DEFEATED: "it was defeated",
            ProposalState.EXECUTED: "it was already executed",
        }.get(self.state, f"it is {self.state.label}")
        return f"proposal {self.number} cannot be executed: {why}"


@dataclass(eq=False)
class InvalidVoteType(ContractRevert):
    support: int

    def describe(self) -> str:
        return f"vote type {self.support} is not 0 (against), 1 (for) or 2 (abstain)"


@dataclass(eq=False)
class InvalidSignature(ContractRevert):
    signer: Address

    def describe(self) -> str:
        return (
            f"the signature is not {self.signer}'s over exactly these fields, this chain, this "
            "community and the account's current nonce (a signature is valid once, and a relayer "
            "cannot change what was signed); sign it again"
        )


@dataclass(eq=False)
class InvalidRules(ContractRevert):
    quorum_pct: int
    threshold_pct: int
    voting_period: int

    def describe(self) -> str:
        return (
            f"invalid rules: quorum {self.quorum_pct}% (1..100), threshold {self.threshold_pct}% "
            f"(50..100), voting period {self.voting_period} s (60 s..365 days)"
        )


@dataclass(eq=False)
class InvalidKey(ContractRevert):
    def describe(self) -> str:
        return "the all-zero key is not a valid app key"


@dataclass(eq=False)
class KeyAlreadyRegistered(ContractRevert):
    key: bytes
    owner: Address

    def describe(self) -> str:
        return (
            f"app key {short_hex(self.key)} is already registered to {self._who(self.owner)}; "
            "a key is registered once, ever"
        )


@dataclass(eq=False)
class UnknownKey(ContractRevert):
    key: bytes

    def describe(self) -> str:
        return f"app key {short_hex(self.key)} is not registered in {self._community}"


@dataclass(eq=False)
class NotKeyOwner(ContractRevert):
    key: bytes
    caller: Address
    owner: Address

    def describe(self) -> str:
        return f"app key {short_hex(self.key)} belongs to {self.owner}, not {self._who(self.caller)}"


@dataclass(eq=False)
class KeyAlreadyRevoked(ContractRevert):
    key: bytes
    revoked_at: int

    def describe(self) -> str:
        return f"app key {short_hex(self.key)} was already revoked at {format_time(self.revoked_at)}"


@dataclass(eq=False)
class NotModerator(ContractRevert):
    account: Address

    def describe(self) -> str:
        return f"{self._who(self.account)} {self._is_are(self.account)} not a moderator of {self._community}"


@dataclass(eq=False)
class AlreadyModerator(ContractRevert):
    account: Address

    def describe(self) -> str:
        return f"{self._who(self.account)} {self._is_are(self.account)} already a moderator of {self._community}"


@dataclass(eq=False)
class PostAlreadyHidden(ContractRevert):
    post_id: bytes

    def describe(self) -> str:
        return f"post {short_hex(self.post_id)} is already hidden"


@dataclass(eq=False)
class PostNotHidden(ContractRevert):
    post_id: bytes

    def describe(self) -> str:
        return f"post {short_hex(self.post_id)} is not hidden"


@dataclass(eq=False)
class InvalidMediaPolicy(ContractRevert):
    max_attachments: int
    max_attachment_kib: int

    def describe(self) -> str:
        return (
            f"invalid media policy: {self.max_attachments} attachments per post (0..{MAX_ATTACHMENTS}), "
            f"{self.max_attachment_kib} KiB each (1..{MAX_ATTACHMENT_KIB})"
        )


@dataclass(eq=False)
class LastMember(ContractRevert):
    account: Address

    def describe(self) -> str:
        return (
            f"{self._who(self.account)} {self._is_are(self.account)} the last member of {self._community} "
            "and cannot leave: a community without members could never decide anything again "
            "(admit someone first: kiez gov propose add-member)"
        )


@dataclass(eq=False)
class TooFewMembersToRemove(ContractRevert):
    account: Address
    member_count: int
    min_members: int

    def describe(self) -> str:
        return (
            f"{self.account} cannot be removed: {self._community} has {self.member_count} "
            f"member{'' if self.member_count == 1 else 's'}, and a removal needs at least "
            f"{self.min_members} (the member and two others who decide it)"
        )


@dataclass(eq=False)
class VoteOnOwnRemoval(ContractRevert):
    number: int
    voter: Address

    def describe(self) -> str:
        return f"proposal {self.number} is to remove {self._who(self.voter)}: the other members decide it"


@dataclass(eq=False)
class SignatureExpired(ContractRevert):
    deadline: int

    def describe(self) -> str:
        return f"the signed request expired at {format_time(self.deadline)}; sign it again with a later deadline"


@dataclass(eq=False)
class InvitationExpired(ContractRevert):
    invitation: bytes
    expiry: int

    def describe(self) -> str:
        return (
            f"invitation {short_hex(self.invitation)} expired at {format_time(self.expiry)}; "
            "ask a member for a new invite (kiez invite)"
        )


@dataclass(eq=False)
class InvitationUsedUp(ContractRevert):
    invitation: bytes
    max_uses: int

    def describe(self) -> str:
        return (
            f"invitation {short_hex(self.invitation)} was already used {self.max_uses} "
            f"time{'' if self.max_uses == 1 else 's'}, all it allows; ask a member for a new invite"
        )


@dataclass(eq=False)
class InvitationIsRevoked(ContractRevert):
    invitation: bytes

    def describe(self) -> str:
        return f"invitation {short_hex(self.invitation)} was revoked by its inviter; ask a member for a new invite"


@dataclass(eq=False)
class InviterNotMember(ContractRevert):
    inviter: Address

    def describe(self) -> str:
        return (
            f"the inviter {self._who(self.inviter)} {self._is_are(self.inviter)} not a member of "
            f"{self._community} (any more), so the invitation admits nobody; ask a current member for an invite"
        )


@dataclass(eq=False)
class JoinAlreadyRequested(ContractRevert):
    applicant: Address
    number: int

    def describe(self) -> str:
        return (
            f"{self._who(self.applicant)} already asked to join: proposal {self.number} is still open "
            f"or passed and awaits execution; wait for its outcome (kiez gov show {self.number})"
        )


@dataclass(eq=False)
class NotInviter(ContractRevert):
    invitation: bytes
    caller: Address
    inviter: Address

    def describe(self) -> str:
        return (
            f"invitation {short_hex(self.invitation)} is {self.inviter}'s; "
            f"only they can revoke it, not {self._who(self.caller)}"
        )
