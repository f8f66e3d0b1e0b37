"""The contract's events as frozen records, and a pure decoder from raw logs.

Decoding takes a log as JSON-RPC returns it (topics + data) and needs no connection, so the node's
chain watcher and the tests use the same code. Every record carries ``LogRef``, the log's place in
the chain: (block hash, log index) identifies it uniquely, which is what makes applying events
idempotent and reorgs detectable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from governance import decisions
from governance.abinames import snake_name
from governance.types import Address, MediaPolicy, ProposalId, ProposalKind, ProposalNumber, Support


@dataclass(frozen=True, order=True)
class LogRef:
    """Where a log sits: ordering by (block, index) is chain order."""

    block_number: int
    log_index: int
    block_hash: bytes
    tx_hash: bytes


@dataclass(frozen=True)
class Event:
    """Base of every decoded event."""

    log: LogRef


@dataclass(frozen=True)
class MemberAdded(Event):
    member: Address
    proposal_id: ProposalId
    join_index: int


@dataclass(frozen=True)
class MemberRemoved(Event):
    member: Address
    proposal_id: ProposalId


@dataclass(frozen=True)
class MemberLeft(Event):
    member: Address


@dataclass(frozen=True)
class JoinRequested(Event):
    applicant: Address
    intro_hash: bytes


@dataclass(frozen=True)
class InvitationUsed(Event):
    invitation: bytes
    inviter: Address
    applicant: Address
    uses: int


@dataclass(frozen=True)
class InvitationRevoked(Event):
    invitation: bytes
    inviter: Address


@dataclass(frozen=True)
class JoinRequestWithdrawn(Event):
    applicant: Address


@dataclass(frozen=True)
class KeyAdded(Event):
    owner: Address
    key: bytes


@dataclass(frozen=True)
class KeyRevoked(Event):
    owner: Address
    key: bytes


@dataclass(frozen=True)
class GovernorProposalCreated(Event):
    """OpenZeppelin IGovernor's ProposalCreated, as emitted (one call of the contract)."""

    ABI_NAME: ClassVar[str] = "ProposalCreated"
    proposal_id: ProposalId
    proposer: Address
    targets: tuple[str, ...]
    values: tuple[int, ...]
    signatures: tuple[str, ...]
    calldatas: tuple[bytes, ...]
    vote_start: int
    vote_end: int
    description: str


@dataclass(frozen=True)
class ProposalNumbered(Event):
    """Emitted right after GovernorProposalCreated: the proposal's human number and electorate."""

    number: ProposalNumber
    proposal_id: ProposalId
    eligible_voters: int


@dataclass(frozen=True)
class ProposalCreated(Event):
    """A kiez proposal as one record: IGovernor's ProposalCreated joined with the ProposalNumbered
    beside it (``EventDecoder.decode_all`` joins them), its call read back as a kind and a
    subject (an address in the low 20 bytes, a post id, a charter hash, packed rules or a packed
    policy). Its ``log`` is the ProposalNumbered log's place."""

    ABI_NAME: ClassVar[str] = ""
    proposal_id: ProposalId
    number: ProposalNumber
    proposer: Address
    kind: ProposalKind
    subject: bytes
    vote_start: int
    vote_end: int
    eligible_voters: int
    description: str
    calldata: bytes = b""


@dataclass(frozen=True)
class VoteCast(Event):
    voter: Address
    proposal_id: ProposalId
    support: Support
    weight: int
    reason: str


@dataclass(frozen=True)
class ProposalExecuted(Event):
    proposal_id: ProposalId


@dataclass(frozen=True)
class VoteCastWithParams(Event):
    """IGovernor's vote with params; kiez never emits it (it counts no params)."""

    voter: Address
    proposal_id: ProposalId
    support: Support
    weight: int
    reason: str
    params: bytes


@dataclass(frozen=True)
class ProposalQueued(Event):
    """IGovernor's; kiez never queues (no timelock)."""

    proposal_id: ProposalId
    eta_seconds: int


@dataclass(frozen=True)
class ProposalCanceled(Event):
    """IGovernor's; kiez proposals cannot be canceled."""

    proposal_id: ProposalId


@dataclass(frozen=True)
class EIP712DomainChanged(Event):
    """ERC-5267's; the contract's EIP-712 domain never changes."""


@dataclass(frozen=True)
class PostHidden(Event):
    post_id: bytes
    moderator: Address
    proposal_id: ProposalId
    reason: str


@dataclass(frozen=True)
class PostUnhidden(Event):
    post_id: bytes
    proposal_id: ProposalId


@dataclass(frozen=True)
class RulesChanged(Event):
    proposal_id: ProposalId
    old_quorum_pct: int
    new_quorum_pct: int
    old_threshold_pct: int
    new_threshold_pct: int
    old_voting_period: int
    new_voting_period: int


@dataclass(frozen=True)
class CharterChanged(Event):
    proposal_id: ProposalId
    old_charter_hash: bytes
    new_charter_hash: bytes


@dataclass(frozen=True)
class ModeratorGranted(Event):
    account: Address
    proposal_id: ProposalId


@dataclass(frozen=True)
class ModeratorRevoked(Event):
    account: Address
    proposal_id: ProposalId


@dataclass(frozen=True)
class MediaPolicyChanged(Event):
    """The caps on attachments changed (``proposal_id`` 0: the default, at deployment). Nodes
    judge a post by the policy in force when it was signed, so they keep every change with its
    block time; ``policy`` is the new one."""

    proposal_id: ProposalId
    old_max_attachments: int
    new_max_attachments: int
    old_max_attachment_kib: int
    new_max_attachment_kib: int

    @property
    def policy(self) -> MediaPolicy:
        return MediaPolicy(self.new_max_attachments, self.new_max_attachment_kib)


@dataclass(frozen=True)
class GuestPolicyChanged(Event):
    """Who may invite guests (``inviters``: 0 any member, 1 moderators only) and the longest
    guest pass in seconds, by vote; until the first one nodes keep the default guest policy."""

    inviters: int
    max_pass_seconds: int


_CONVERT = {
    "ProposalKind": ProposalKind,
    "Support": Support,
    "ProposalId": ProposalId,
    "ProposalNumber": ProposalNumber,
}


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)


def event_classes() -> dict[str, type[Event]]:
    """Every record decoded straight from a log, by its ABI event name."""
    out: dict[str, type[Event]] = {}
    for cls in Event.__subclasses__():
        name = getattr(cls, "ABI_NAME", cls.__name__)
        if name:
            out[name] = cls
    return out


def joined(created: GovernorProposalCreated, numbered: ProposalNumbered) -> ProposalCreated | None:
    """The kiez record of a proposal from its two events (None: not a kiez decision call)."""
    decision = decisions.decode(created.calldatas[0]) if len(created.calldatas) == 1 else None
    if decision is None or created.proposal_id != numbered.proposal_id:
        return None
    kind, subject = decision
    return ProposalCreated(
        log=numbered.log,
        proposal_id=created.proposal_id,
        number=numbered.number,
        proposer=created.proposer,
        kind=kind,
        subject=subject,
        vote_start=created.vote_start,
        vote_end=created.vote_end,
        eligible_voters=numbered.eligible_voters,
        description=created.description,
        calldata=bytes(created.calldatas[0]),
    )


def _join_proposals(events: list[Event]) -> list[Event]:
    """Replaces each GovernorProposalCreated + ProposalNumbered pair of one transaction by the
    joined ProposalCreated; anything else passes unchanged."""
    out: list[Event] = []
    for event in events:
        previous = out[-1] if out else None
        if (
            isinstance(event, ProposalNumbered)
            and isinstance(previous, GovernorProposalCreated)
            and previous.log.tx_hash == event.log.tx_hash
        ):
            record = joined(previous, event)
            if record is not None:
                out[-1] = record
                continue
        out.append(event)
    return out


class EventDecoder:
    """Decodes the Community contract's logs into ``Event`` records, from its ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        classes = event_classes()
        self._by_topic: dict[bytes, tuple[type[Event], list[dict[str, Any]]]] = {}
        for item in abi:
            if item.get("type") != "event" or item["name"] not in classes:
                continue
            types = ",".join(i["type"] for i in item["inputs"])
            topic = keccak(text=f"{item['name']}({types})")
            self._by_topic[topic] = (classes[item["name"]], item["inputs"])

    @property
    def topics(self) -> list[bytes]:
        """topic0 of every event this decoder knows (for eth_getLogs filters)."""
        return list(self._by_topic)

    def topic_of(self, kind: type[Event]) -> bytes:
        """topic0 of the event ``kind`` (a record decoded straight from one log)."""
        return next(t for t, (cls, _) in self._by_topic.items() if cls is kind)

    def topics_of(self, kind: type[Event]) -> list[bytes]:
        """The topic0 values whose logs make up ``kind``: two for the joined ProposalCreated."""
        if kind is ProposalCreated:
            return [self.topic_of(GovernorProposalCreated), self.topic_of(ProposalNumbered)]
        return [self.topic_of(kind)]

    def decode(self, log: Mapping[str, Any]) -> Event | None:
        """The event in ``log``, or None when the log is not one of ours."""
        topics = [_as_bytes(t) for t in log["topics"]]
        if not topics or topics[0] not in self._by_topic:
            return None
        cls, inputs = self._by_topic[topics[0]]
        indexed = [i for i in inputs if i["indexed"]]
        plain = [i for i in inputs if not i["indexed"]]
        values: dict[str, Any] = {}
        for spec, topic in zip(indexed, topics[1:], strict=True):
            (values[spec["name"]],) = abi_decode([spec["type"]], topic)
        for spec, value in zip(plain, abi_decode([i["type"] for i in plain], _as_bytes(log["data"])), strict=True):
            values[spec["name"]] = value
        declared = {f.name: f.type for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list | tuple) else v for k, v in values.items()}
        kwargs: dict[str, Any] = {}
        for spec in inputs:
            name = snake_name(spec["name"])
            value = values[spec["name"]]
            if spec["type"] == "address":
                value = Address(to_checksum_address(value))
            elif spec["type"] == "address[]":
                value = tuple(Address(to_checksum_address(v)) for v in value)
            elif isinstance(declared[name], str) and str(declared[name]) in _CONVERT:
                value = _CONVERT[str(declared[name])](value)
            kwargs[name] = value
        ref = LogRef(
            block_number=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            block_hash=_as_bytes(log["blockHash"]),
            tx_hash=_as_bytes(log["transactionHash"]),
        )
        return cls(log=ref, **kwargs)

    def decode_all(self, logs: Iterable[Mapping[str, Any]]) -> list[Event]:
        """The known events among ``logs``, in chain order, each proposal's two events joined."""
        decoded = [e for e in (self.decode(log) for log in logs) if e is not None]
        return _join_proposals(sorted(decoded, key=lambda e: (e.log.block_number, e.log.log_index)))
