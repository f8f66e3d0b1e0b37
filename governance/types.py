"""The vocabulary of community governance: named types, enums and frozen records.

Named types (``NewType``) keep a proposal's id from being passed where its number is expected;
mypy catches the swap. Records are frozen dataclasses: they describe the chain at one moment and are
never edited in place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType, cast

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

#: A checksummed 0x-prefixed Ethereum address (what web3 accepts as ChecksumAddress).
Address = NewType("Address", ChecksumAddress)
#: A proposal id: as in OpenZeppelin's Governor, a hash of what the proposal decides.
ProposalId = NewType("ProposalId", int)
#: A proposal's sequential number (1, 2, 3, ...), what people call it by.
ProposalNumber = NewType("ProposalNumber", int)
#: An ed25519 public key (32 bytes) that a member authorises on-chain to sign their messages; the
#: contract stores it as a bytes32. Its twin across the layer boundary is ``node.core.types.AppKey``
#: (the node's name for the same 32 bytes, as a message's author); governance and the node never
#: import each other, so each package names it, the same way.
AppKey = NewType("AppKey", bytes)

ZERO_ADDRESS = Address(cast(ChecksumAddress, "0x0000000000000000000000000000000000000000"))


class ProposalState(enum.IntEnum):
    """Same values as OpenZeppelin's IGovernor.ProposalState (Canceled, Queued, Expired and
    Pending are never produced by kiez but keep their numbers so tools read states unchanged)."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7

    @property
    def label(self) -> str:
        return self.name.lower()


class ProposalKind(enum.IntEnum):
    """The decision a proposal executes; values match the contract's enum."""

    ADD_MEMBER = 0
    REMOVE_MEMBER = 1
    HIDE_POST = 2
    UNHIDE_POST = 3
    CHANGE_RULES = 4
    SET_CHARTER = 5
    GRANT_MODERATOR = 6
    REVOKE_MODERATOR = 7
    SET_MEDIA_POLICY = 8
    SET_GUEST_POLICY = 9

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def names_account(self) -> bool:
        return self in _ACCOUNT_KINDS

    @property
    def names_post(self) -> bool:
        return self in (ProposalKind.HIDE_POST, ProposalKind.UNHIDE_POST)


_ACCOUNT_KINDS = frozenset(
    {
        ProposalKind.ADD_MEMBER,
        ProposalKind.REMOVE_MEMBER,
        ProposalKind.GRANT_MODERATOR,
        ProposalKind.REVOKE_MODERATOR,
    }
)


class Support(enum.IntEnum):
    """Vote types in Bravo order, as castVote expects them."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Support:
        """Accepts ``for``/``against``/``abstain`` (any case), ``yes``/``no``, or 0/1/2."""
        aliases = {"yes": cls.FOR, "no": cls.AGAINST, "0": cls.AGAINST, "1": cls.FOR, "2": cls.ABSTAIN}
        key = text.strip().lower()
        if key in aliases:
            return aliases[key]
        try:
            return cls[key.upper()]
        except KeyError:
            raise ValueError(f"unknown vote {text!r}: use for, against or abstain") from None


@dataclass(frozen=True)
class Rules:
    """Voting rules. A proposal succeeds when at least ``quorum_pct`` percent of its eligible
    members voted (for, against or abstain), ``for*100 >= threshold_pct*(for+against)`` and
    ``for > against``; it stays open ``voting_period`` seconds unless decided earlier."""

    quorum_pct: int
    threshold_pct: int
    voting_period: int

    #: The contract's ``MIN_VOTING_PERIOD`` and ``MAX_VOTING_PERIOD`` (checked against it by
    #: tests/integration/test_protocol_numbers.py).
    MIN_VOTING_PERIOD = 60
    MAX_VOTING_PERIOD = 365 * 24 * 3600

    def problems(self) -> list[str]:
        """What is wrong with these rules, in words (empty: valid). Mirrors the contract's check."""
        out = []
        if not 1 <= self.quorum_pct <= 100:
            out.append(f"quorum must be 1..100 percent, not {self.quorum_pct}")
        if not 50 <= self.threshold_pct <= 100:
            out.append(f"approval threshold must be 50..100 percent, not {self.threshold_pct}")
        if not self.MIN_VOTING_PERIOD <= self.voting_period <= self.MAX_VOTING_PERIOD:
            out.append(f"voting period must be {self.MIN_VOTING_PERIOD} s to 365 days, not {self.voting_period} s")
        return out

    def pack(self) -> bytes:
        """The 32-byte subject of a ChangeRules proposal (same packing as the contract)."""
        value = (self.quorum_pct << 48) | (self.threshold_pct << 32) | self.voting_period
        return value.to_bytes(32, "big")

    @classmethod
    def unpack(cls, subject: bytes) -> Rules:
        value = int.from_bytes(subject, "big")
        return cls((value >> 48) & 0xFF, (value >> 32) & 0xFF, value & 0xFFFFFFFF)


DEFAULT_RULES = Rules(quorum_pct=50, threshold_pct=50, voting_period=3 * 24 * 3600)

#: For votes a removal needs from members other than its subject (who does not vote on it), so no
#: member is removed by one other alone; a removal therefore needs a community of at least
#: ``MIN_REMOVAL_VOTES + 1``. The contract's ``_MIN_REMOVAL_VOTES`` (checked by
#: tests/integration/test_protocol_numbers.py).
MIN_REMOVAL_VOTES = 2

#: The protocol's ceiling on attachments per post (the contract refuses a higher cap). The
#: contract's ``_MAX_ATTACHMENTS`` and ``node.core.limits.MAX_ATTACHMENTS`` are the same number;
#: tests/integration/test_protocol_numbers.py checks that the three agree.
MAX_ATTACHMENTS = 4
#: The protocol's ceiling on one attachment's size in KiB, 2 MiB (the contract refuses a higher
#: cap); the same number as the contract's ``_MAX_ATTACHMENT_KIB`` and
#: ``node.core.limits.MAX_ATTACHMENT_KIB``.
MAX_ATTACHMENT_KIB = 2048


@dataclass(frozen=True)
class MediaPolicy:
    """How many attachments a post may carry and how large each may be, as the community voted.

    The protocol's ceiling (``MAX_ATTACHMENTS`` of ``MAX_ATTACHMENT_KIB``) is also every
    community's starting policy; a vote can only lower it, because nodes must be able to rely on
    the ceiling when they size buffers and storage. A size of 0 KiB is refused: "no attachments"
    is said with ``max_attachments=0``, so there is one way to say it."""

    max_attachments: int
    max_attachment_kib: int

    @property
    def max_attachment_bytes(self) -> int:
        """The size cap in bytes, the unit nodes compare blob sizes in."""
        return self.max_attachment_kib * 1024

    def problems(self) -> list[str]:
        """What is wrong with this policy, in words (empty: valid). Mirrors the contract's check."""
        out = []
        if not 0 <= self.max_attachments <= MAX_ATTACHMENTS:
            out.append(f"attachments per post must be 0..{MAX_ATTACHMENTS}, not {self.max_attachments}")
        if not 1 <= self.max_attachment_kib <= MAX_ATTACHMENT_KIB:
            out.append(f"size of one attachment must be 1..{MAX_ATTACHMENT_KIB} KiB, not {self.max_attachment_kib} KiB")
        return out

    def pack(self) -> bytes:
        """The 32-byte subject of a SetMediaPolicy proposal (same packing as the contract)."""
        return ((self.max_attachments << 32) | self.max_attachment_kib).to_bytes(32, "big")

    @classmethod
    def unpack(cls, subject: bytes) -> MediaPolicy:
        value = int.from_bytes(subject, "big")
        return cls((value >> 32) & 0xFF, value & 0xFFFFFFFF)


DEFAULT_MEDIA_POLICY = MediaPolicy(max_attachments=MAX_ATTACHMENTS, max_attachment_kib=MAX_ATTACHMENT_KIB)


#: The longest guest pass a community may vote (the contract's MAX_GUEST_PASS_SECONDS).
MAX_GUEST_PASS_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class GuestPolicy:
    """Who may invite guests (``inviters`` 0: any member, 1: moderators only) and the longest
    guest pass in seconds (0: none)."""

    inviters: int
    max_pass_seconds: int

    def problems(self) -> list[str]:
        """What is wrong with this policy, in words (empty: valid). Mirrors the contract's check."""
        out = []
        if self.inviters not in (0, 1):
            out.append(f"guest inviters are 0 (any member) or 1 (moderators only), not {self.inviters}")
        if not 0 <= self.max_pass_seconds <= MAX_GUEST_PASS_SECONDS:
            out.append(f"a guest pass lasts at most 90 days, not {self.max_pass_seconds} s")
        return out

    def pack(self) -> bytes:
        """The 32-byte subject of a SetGuestPolicy proposal."""
        return ((self.inviters << 32) | self.max_pass_seconds).to_bytes(32, "big")

    @classmethod
    def unpack(cls, subject: bytes) -> GuestPolicy:
        value = int.from_bytes(subject, "big")
        return cls(inviters=(value >> 32) & 0xFF, max_pass_seconds=value & 0xFFFFFFFF)


@dataclass(frozen=True)
class Proposal:
    """A proposal: what its ProposalCreated event says (proposer, subject, description) joined
    with what the contract says now (state and tallies)."""

    id: ProposalId
    number: ProposalNumber
    kind: ProposalKind
    state: ProposalState
    subject: bytes
    proposer: Address
    description: str
    vote_start: int
    vote_end: int
    against_votes: int
    for_votes: int
    abstain_votes: int
    eligible_voters: int
    quorum_pct: int
    threshold_pct: int
    #: The proposal's one call of the contract (what execute() repeats).
    calldata: bytes = b""

    @property
    def votes_cast(self) -> int:
        return self.against_votes + self.for_votes + self.abstain_votes

    @property
    def quorum_votes(self) -> int:
        """Votes needed for quorum (rounded up, as in the contract)."""
        return -(-self.eligible_voters * self.quorum_pct // 100)

    @property
    def for_votes_needed(self) -> int:
        """The fewest for votes that can pass it: two for a removal, else one (beside the quorum
        and the threshold)."""
        return MIN_REMOVAL_VOTES if self.kind is ProposalKind.REMOVE_MEMBER else 1

    @property
    def account(self) -> Address:
        """The member or applicant an account-kind proposal names."""
        if not self.kind.names_account:
            raise ValueError(f"a {self.kind.label} proposal names no account")
        return subject_address(self.subject)

    @property
    def rules(self) -> Rules:
        if self.kind is not ProposalKind.CHANGE_RULES:
            raise ValueError(f"a {self.kind.label} proposal carries no rules")
        return Rules.unpack(self.subject)

    @property
    def media_policy(self) -> MediaPolicy:
        if self.kind is not ProposalKind.SET_MEDIA_POLICY:
            raise ValueError(f"a {self.kind.label} proposal carries no media policy")
        return MediaPolicy.unpack(self.subject)


def subject_address(subject: bytes) -> Address:
    """The address packed in the low 20 bytes of a 32-byte subject, checksummed."""
    return Address(to_checksum_address(subject[-20:]))


@dataclass(frozen=True)
class MemberInfo:
    address: Address
    active: bool
    moderator: bool
    join_index: int
    joined_at: int


@dataclass(frozen=True)
class KeyInfo:
    key: AppKey
    owner: Address
    active: bool
    added_at: int
    revoked_at: int

    @property
    def registered(self) -> bool:
        return self.owner != ZERO_ADDRESS


@dataclass(frozen=True)
class JoinRequest:
    applicant: Address
    intro_hash: bytes
    requested_at: int
